package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// SourceHealth is the last self-check of one reader source: its example range requested
// in every output format and verified (rhizoflex sources selfcheck, and the cluster job).
type SourceHealth struct{ ent.Schema }

// Fields of the SourceHealth.
func (SourceHealth) Fields() []ent.Field {
	return []ent.Field{
		field.String("source").NotEmpty().MaxLen(500).Unique(),
		field.Bool("ok"),
		field.Time("checked_at").Default(time.Now),
		field.Int64("latency_ms").NonNegative(),
		// error is the first failure, "" when ok.
		field.String("error").Default("").MaxLen(2000),
		// formats holds one result per output format (selfcheck.FormatResult).
		field.JSON("formats", []map[string]any{}),
	}
}
