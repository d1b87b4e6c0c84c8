package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Rollup is the aggregate of a numeric sequence's values in one fixed time bucket, kept at
// ingest so that downsampled series and das reductions over millions of values read only
// a few thousand rows.
type Rollup struct{ ent.Schema }

// Fields of the Rollup.
func (Rollup) Fields() []ent.Field {
	return []ent.Field{
		field.Int("resource_id"),
		// bucket_seconds is the bucket width; bucket_start is the bucket's start in µs since
		// 1970 UTC, a multiple of bucket_seconds*1e6.
		field.Int("bucket_seconds"),
		field.Int64("bucket_start"),
		field.Int64("count"),
		field.Float("sum"),
		field.Float("min"),
		field.Float("max"),
	}
}

// Edges of the Rollup.
func (Rollup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("resource", Resource.Type).Field("resource_id").Unique().Required().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Rollup.
func (Rollup) Indexes() []ent.Index {
	return []ent.Index{index.Fields("resource_id", "bucket_seconds", "bucket_start").Unique()}
}
