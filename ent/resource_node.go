package ent

// IsNode marks Resource as a Relay Node for the GraphQL schema (hand-written, not generated).
func (*Resource) IsNode() {}

// GetID returns the resource ID (Relay Node).
func (r *Resource) GetID() int { return r.ID }
