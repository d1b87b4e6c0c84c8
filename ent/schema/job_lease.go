package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// JobLease makes a periodic background job (retention, trimming, watchdog) run once per
// cluster: an instance claims the named job by moving next_run_at forward in one
// conditional UPDATE; the instances that lose the race skip that round.
type JobLease struct{ ent.Schema }

// Fields of the JobLease.
func (JobLease) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty().MaxLen(100),
		field.String("holder").Default("").MaxLen(200),
		field.Time("next_run_at").Default(time.Now),
		field.Time("last_run_at").Optional().Nillable(),
	}
}
