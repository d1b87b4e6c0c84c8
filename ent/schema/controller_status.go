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
		// Liveness: a controller is online while an instance holding its websocket keeps
		// heartbeat_at fresh (every instance sees it; a dead instance's controllers go
		// offline when the heartbeat ages out).
		field.Time("heartbeat_at").Optional().Nillable(),
		field.Time("last_connect_at").Optional().Nillable(),
		field.String("client_version").Optional().MaxLen(100),
		field.Time("last_watchdog_at").Optional().Nillable(),
		// watchdog_offline_notified is set when the offline notice went out and cleared
		// when the back-online notice did, so each goes out exactly once.
		field.Bool("watchdog_offline_notified").Default(false),
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
