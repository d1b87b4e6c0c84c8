package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Revision is one stored value of a sequence or one version of a file.
type Revision struct{ ent.Schema }

// Fields of the Revision.
func (Revision) Fields() []ent.Field {
	return []ent.Field{
		// resource_id is the sequence or file the value belongs to. It is deliberately not
		// a foreign key: PostgreSQL checks one per inserted row (a lookup and a row lock on
		// resources), which was over a third of its CPU when storing values (docs/
		// BENCHMARKS.md). Resource rows are not removed while they hold values: deleting
		// a resource marks its row deleted and then purges its values (tree.Delete), and
		// the one row ever removed, an organization's empty folder, takes its values with
		// it (account.DeleteOrganization). ARCHITECTURE.md says more.
		field.Int("resource_id"),
		// timestamp is microseconds since 1970-01-01 UTC; an integer keeps µs precision
		// for any date and makes range scans on (resource_id, timestamp) cheap.
		field.Int64("timestamp"),
		field.Float("num").Optional().Nillable(),
		field.Text("text").Optional().Nillable(),
		field.Bytes("data").Optional(),
		field.String("blob_key").Optional().Nillable().MaxLen(512),
		field.Int64("size").Default(0).NonNegative(),
		field.String("sha256").Optional().Nillable().MaxLen(64),
		field.String("content_type").Optional().Nillable().MaxLen(200),
		field.Int("author_user_id").Optional().Nillable(),
		field.Int("author_controller_id").Optional().Nillable(),
	}
}

// Edges of the Revision.
func (Revision) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("author_user", User.Type).Field("author_user_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
		edge.To("author_controller", Resource.Type).Field("author_controller_id").Unique().
			Annotations(entsql.OnDelete(entsql.SetNull)),
	}
}

// Indexes of the Revision.
func (Revision) Indexes() []ent.Index {
	// Unique: a value written again at the same (sequence, timestamp) replaces the first
	// (retried writes are idempotent); file revisions get distinct timestamps. On
	// PostgreSQL the index also carries num, so reading a sequence's values for a das
	// stream is an index-only scan (SQLite has no INCLUDE and ignores it).
	return []ent.Index{index.Fields("resource_id", "timestamp").Unique().
		Annotations(entsql.IncludeColumns("num"))}
}
