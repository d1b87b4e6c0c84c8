package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ControllerStatus is the liveness and watchdog state of one controller folder.
type ControllerStatus struct{ ent.Schema }

// Fields of the ControllerStatus.
func (ControllerStatus) Fields() []ent.Field {
	return []ent.Field{
		field.Int("controller_id"),
		field.Time("last_online_at").Optional().Nillable(),
		field.Time("last_watchdog_notice_at").Optional().Nillable(),
		field.JSON("status", map[string]any{}).Optional(),
		field.Int("watchdog_minutes").Default(0).NonNegative(),
	}
}

// Edges of the ControllerStatus.
func (ControllerStatus) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("controller", Resource.Type).Field("controller_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("watchers", User.Type),
	}
}

// Indexes of the ControllerStatus.
func (ControllerStatus) Indexes() []ent.Index {
	return []ent.Index{index.Fields("controller_id").Unique()}
}
