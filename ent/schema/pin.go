package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Pin provisions a controller that has no key yet (the original hub's PIN flow,
// docs/RHIZO.md): the controller asks for a PIN and polls it with a secret code; a person
// enters the PIN for a controller folder; the controller then receives a key once. Only
// the SHA-256 of the code is stored.
type Pin struct{ ent.Schema }

// Fields of the Pin.
func (Pin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("pin").Range(1000, 9999),
		field.String("code_hash").NotEmpty().Sensitive().MaxLen(64),
		field.Time("created_at").Immutable(),
		field.Time("entered_at").Optional().Nillable(),
		field.Int("user_id").Optional().Nillable(),
		field.Int("controller_id").Optional().Nillable(),
		field.Bool("key_created").Default(false),
	}
}

// Edges of the Pin.
func (Pin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("controller", Resource.Type).Field("controller_id").Unique().Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Pin.
func (Pin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("pin"), index.Fields("created_at")}
}
