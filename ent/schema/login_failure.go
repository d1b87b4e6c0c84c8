package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LoginFailure is one failed login, counted per account and per client address by the
// login limiter. Kept in the database so that every instance counts the same failures: N
// instances do not give an attacker N times the budget.
type LoginFailure struct{ ent.Schema }

// Fields of the LoginFailure.
func (LoginFailure) Fields() []ent.Field {
	return []ent.Field{
		// key is "account:<login>" or "addr:<client address>".
		field.String("key").NotEmpty().MaxLen(300),
		field.Time("at").Default(time.Now),
	}
}

// Indexes of the LoginFailure.
func (LoginFailure) Indexes() []ent.Index {
	return []ent.Index{index.Fields("key", "at"), index.Fields("at")}
}
