package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Session is one row of the scs session store; the same schema serves SQLite and
// PostgreSQL.
type Session struct{ ent.Schema }

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("token").NotEmpty().Sensitive().MaxLen(64),
		field.Bytes("data"),
		field.Time("expiry"),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("token").Unique(), index.Fields("expiry")}
}
