package schema

import (
	"regexp"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// resourceNamePattern is the name rule of DESIGN.md: letters, digits, dot, underscore,
// space and dash; no leading dot; at most 100 characters. Leading and trailing spaces are
// refused too, because they make paths ambiguous to people.
var resourceNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]([A-Za-z0-9._ -]{0,98}[A-Za-z0-9._-])?$`)

// ResourceNamePattern exposes the name rule so the domain layer reports the same rule.
func ResourceNamePattern() *regexp.Regexp { return resourceNamePattern }

// Resource is a node of the folder tree: a folder, organization folder, controller folder,
// file, sequence or app.
type Resource struct{ ent.Schema }

// Mixin of the Resource.
func (Resource) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Resource.
func (Resource) Fields() []ent.Field {
	return []ent.Field{
		field.Int("parent_id").Optional().Nillable(),
		field.Int("organization_id").Optional().Nillable(),
		field.String("name").NotEmpty().MaxLen(100).Match(resourceNamePattern),
		field.Enum("type").Values("folder", "organization_folder", "controller_folder", "file", "sequence", "app"),
		// path is stored (denormalised) so a lookup by path is one indexed query.
		field.String("path").NotEmpty().MaxLen(4096),
		field.JSON("system_attributes", map[string]any{}).Optional(),
		field.JSON("user_attributes", map[string]any{}).Optional(),
		field.Time("last_revision_at").Optional().Nillable(),
		field.Bool("deleted").Default(false),
		field.Time("deleted_at").Optional().Nillable(),
	}
}

// Edges of the Resource.
func (Resource) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Resource.Type).Annotations(entsql.OnDelete(entsql.Restrict)).
			From("parent").Field("parent_id").Unique(),
		edge.From("organization", Organization.Type).Ref("resources").Field("organization_id").Unique(),
		edge.To("permissions", Permission.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("messages", Message.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Resource.
func (Resource) Indexes() []ent.Index {
	live := entsql.IndexWhere("deleted = false")
	return []ent.Index{
		// A deleted resource's path and name can be reused: uniqueness covers live rows only.
		index.Fields("path").Unique().Annotations(live),
		index.Fields("parent_id", "name").Unique().Annotations(live),
		index.Fields("organization_id"),
	}
}
