package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// BusPayload holds an event body too large for a PostgreSQL NOTIFY (8,000 bytes): the
// notification carries its id and every listening instance reads it back. Rows are
// deleted after a short while by the bus itself.
type BusPayload struct{ ent.Schema }

// Fields of the BusPayload.
func (BusPayload) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.Bytes("payload"),
		field.Time("created_at").Default(time.Now),
	}
}

// Indexes of the BusPayload.
func (BusPayload) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at")}
}
