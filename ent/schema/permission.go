package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Permission grants a user, an organization or the public access to a resource subtree.
type Permission struct{ ent.Schema }

// Mixin of the Permission.
func (Permission) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Permission.
func (Permission) Fields() []ent.Field {
	return []ent.Field{
		field.Int("resource_id"),
		field.Enum("grantee_type").Values("user", "organization", "public"),
		field.Int("user_id").Optional().Nillable(),
		field.Int("organization_id").Optional().Nillable(),
		field.Enum("level").Values("read", "write", "admin"),
	}
}

// Edges of the Permission.
func (Permission) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("resource", Resource.Type).Ref("permissions").Field("resource_id").Unique().Required(),
		edge.From("user", User.Type).Ref("permissions").Field("user_id").Unique(),
		edge.From("organization", Organization.Type).Ref("permissions").Field("organization_id").Unique(),
	}
}

// Indexes of the Permission.
func (Permission) Indexes() []ent.Index {
	return []ent.Index{index.Fields("resource_id"), index.Fields("user_id"), index.Fields("organization_id")}
}
