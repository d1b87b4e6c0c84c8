package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OutgoingMessage records one e-mail or text message the server sent (or refused to send)
// on behalf of a controller, a user or itself (watchdog, password reset): who, to whom,
// when, and the result. Organization admins can read their organization's records.
type OutgoingMessage struct{ ent.Schema }

// Fields of the OutgoingMessage.
func (OutgoingMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Optional().Nillable(),
		field.Int("controller_id").Optional().Nillable(),
		field.Int("user_id").Optional().Nillable(),
		field.Enum("kind").Values("email", "text"),
		field.JSON("recipients", []string{}),
		field.String("subject").Default("").MaxLen(1000),
		field.Text("body").Default(""),
		// result: sent, failed (error says why) or throttled (not attempted).
		field.Enum("result").Values("sent", "failed", "throttled"),
		field.String("error").Default("").MaxLen(1000),
		field.Time("created_at").Default(time.Now),
	}
}

// Edges of the OutgoingMessage.
func (OutgoingMessage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization", Organization.Type).Field("organization_id").Unique().
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("controller", Resource.Type).Field("controller_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("user", User.Type).Field("user_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the OutgoingMessage.
func (OutgoingMessage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "created_at"),
		index.Fields("controller_id", "created_at"),
	}
}
