package schema

import (
	"regexp"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

var userNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// User is a person who logs in with an e-mail address (or user name) and a password.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_name").Optional().Nillable().MaxLen(100).Match(userNamePattern),
		field.String("email").NotEmpty().MaxLen(254),
		field.String("full_name").Default("").MaxLen(200),
		field.String("password_hash").Sensitive().Default(""),
		field.Bool("system_admin").Default(false),
		field.Time("last_login").Optional().Nillable(),
		field.Bool("deleted").Default(false),
		// session_epoch is stored in each session at login; changing the password bumps it,
		// which ends every other session of the user on every instance.
		field.Int("session_epoch").Default(0),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Membership.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("keys", Key.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("permissions", Permission.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		// The controllers whose watchdog notices this user receives (many to many).
		edge.From("watching", ControllerStatus.Type).Ref("watchers"),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("email").Unique(),
		index.Fields("user_name").Unique(),
	}
}
