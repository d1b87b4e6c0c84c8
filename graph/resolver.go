// Package graph holds the GraphQL resolvers: each checks access through internal/access and
// makes one call into the internal/ domain layer. It may import ent, internal/* and
// graph/generated, graph/model; never server.
package graph

import (
	"github.com/rhizoflex/rhizoflex/ent"
)

// Resolver is the root resolver; its fields are the dependencies resolvers share.
type Resolver struct {
	Client  *ent.Client
	Version string
}
