package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Organization owns one organization folder (its name is the folder name) and everything
// below it.
type Organization struct{ ent.Schema }

// Mixin of the Organization.
func (Organization) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Match(resourceNamePattern),
		field.String("full_name").Default("").MaxLen(200),
		field.JSON("settings", map[string]any{}).Optional(),
		field.Int("folder_id").Optional().Nillable(),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("folder", Resource.Type).Field("folder_id").Unique().
			Annotations(entsql.OnDelete(entsql.Restrict)),
		edge.To("memberships", Membership.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("resources", Resource.Type).Annotations(entsql.OnDelete(entsql.Restrict)),
		edge.To("keys", Key.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("permissions", Permission.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Organization.
func (Organization) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name").Unique()}
}
