package tree

import (
	"context"
	"fmt"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/predicate"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// Scope is a set of resources: everything, or the resources of some organizations plus
// some subtrees (a resource and everything below it). The authorizer says what a viewer's
// scope is (access.Authorizer.ReadScope).
type Scope struct {
	All             bool
	OrganizationIDs []int
	Paths           []string
}

// Empty reports whether the scope holds no resource.
func (s Scope) Empty() bool { return !s.All && len(s.OrganizationIDs) == 0 && len(s.Paths) == 0 }

// MaxRecent bounds one Recent answer.
const MaxRecent = 200

// Recent returns the live resources of scope, most recently changed first: by the time of
// their newest value or revision, else of their last change.
func Recent(ctx context.Context, client *ent.Client, scope Scope, limit int) ([]*ent.Resource, error) {
	if limit < 1 || limit > MaxRecent {
		return nil, fault.New(fault.BadInput, "first must be between 1 and %d", MaxRecent)
	}
	if scope.Empty() {
		return []*ent.Resource{}, nil
	}
	q := client.Resource.Query().Where(NotDeleted())
	if !scope.All {
		var in []predicate.Resource
		if len(scope.OrganizationIDs) > 0 {
			in = append(in, resource.OrganizationIDIn(scope.OrganizationIDs...))
		}
		for _, p := range scope.Paths {
			in = append(in, resource.Path(p), Below(p))
		}
		q = q.Where(resource.Or(in...))
	}
	rs, err := q.Order(func(s *entsql.Selector) {
		s.OrderExpr(entsql.Expr(fmt.Sprintf("COALESCE(%s, %s) DESC",
			s.C(resource.FieldLastRevisionAt), s.C(resource.FieldUpdatedAt))))
	}, ent.Desc(resource.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("recently changed resources: %w", err)
	}
	return rs, nil
}
