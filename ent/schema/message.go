package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Message is addressed to a folder; clients subscribed to the folder receive it.
type Message struct{ ent.Schema }

// Fields of the Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Int("folder_id"),
		field.Int("sender_user_id").Optional().Nillable(),
		field.Int("sender_controller_id").Optional().Nillable(),
		field.String("type").NotEmpty().MaxLen(40),
		field.JSON("parameters", map[string]any{}).Optional(),
		field.Time("timestamp").Default(time.Now),
	}
}

// Edges of the Message.
func (Message) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("folder", Resource.Type).Ref("messages").Field("folder_id").Unique().Required(),
		edge.To("sender_user", User.Type).Field("sender_user_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("sender_controller", Resource.Type).Field("sender_controller_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Message.
func (Message) Indexes() []ent.Index {
	// timestamp alone: the retention job deletes by age across all folders.
	return []ent.Index{index.Fields("folder_id", "timestamp"), index.Fields("timestamp")}
}
