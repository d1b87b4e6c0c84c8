package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Key is an API key. It acts as a user or as a controller. Only the SHA-256 of the secret
// is stored; the prefix is kept so people can tell keys apart.
type Key struct{ ent.Schema }

// Fields of the Key.
func (Key) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Optional().Nillable(),
		field.Int("access_as_user_id").Optional().Nillable(),
		field.Int("access_as_controller_id").Optional().Nillable(),
		field.String("name").NotEmpty().MaxLen(100),
		field.String("prefix").NotEmpty().MaxLen(32),
		field.String("hash").NotEmpty().Sensitive().MaxLen(64),
		field.Int("created_by_id"),
		field.Time("created_at").Immutable(),
		field.Int("revoked_by_id").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
	}
}

// Edges of the Key.
func (Key) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("keys").Field("organization_id").Unique(),
		edge.From("access_as_user", User.Type).Ref("keys").Field("access_as_user_id").Unique(),
		edge.To("access_as_controller", Resource.Type).Field("access_as_controller_id").Unique().
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("created_by", User.Type).Field("created_by_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Restrict)),
		edge.To("revoked_by", User.Type).Field("revoked_by_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Key.
func (Key) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("hash").Unique(),
		index.Fields("organization_id"),
	}
}
