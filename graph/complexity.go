package graph

import (
	"time"

	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/graph/generated"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Bounds assumed for lists with no argument that limits them: what a deployment holds in
// practice, not a hard limit (those have arguments).
const (
	assumedListSize = 100
	maxPathDepth    = 50
)

// Complexity weighs every list field by the most items it can return, so that the
// complexity limit (query_complexity) bounds the objects one request loads: a list counts
// 1 plus its selection times that size. Fields not listed here count 1 plus their
// selection (gqlgen's default).
func Complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	list := func(n, child int) int { return 1 + n*max(child, 1) }
	page := func(first *int, def, maxSize int) int {
		if first == nil {
			return def
		}
		return min(max(*first, 0), maxSize)
	}
	c.Resource.Children = func(child int, first *int, _ *string, _ *resource.Type, _ *string) int {
		return list(page(first, 100, tree.MaxPageSize), child)
	}
	c.Resource.Descendants = func(child int, _ *int) int {
		// depth narrows what is returned, not what is read: up to MaxDescendants rows.
		return list(tree.MaxDescendants, child)
	}
	c.Resource.Ancestors = func(child int) int { return list(maxPathDepth, child) }
	c.Resource.Values = func(child int, _, _ *time.Time, first, last *int, _, _ *string) int {
		n := series.DefaultPageSize
		if first != nil || last != nil {
			n = max(page(first, 0, series.MaxPageSize), page(last, 0, series.MaxPageSize))
		}
		return list(n, child)
	}
	c.Resource.Series = func(child int, _, _ *time.Time, maxPoints *int) int {
		return list(page(maxPoints, 1000, series.MaxSeriesPoints), child)
	}
	c.Resource.Revisions = func(child int, first *int, _ *string) int {
		return list(page(first, files.DefaultPageSize, files.MaxPageSize), child)
	}
	c.Resource.Permissions = func(child int) int { return list(assumedListSize, child) }
	c.Query.Users = func(child int, first *int, _ *string) int { return list(page(first, 50, 500), child) }
	c.Query.RecentResources = func(child int, first *int, _ *bool) int {
		return list(page(first, 20, tree.MaxRecent), child)
	}
	c.Query.Keys = func(child int, _ *string) int { return list(assumedListSize, child) }
	c.Query.Organizations = func(child int) int { return list(assumedListSize, child) }
	c.Organization.Members = func(child int) int { return list(assumedListSize, child) }
	c.User.Memberships = func(child int) int { return list(assumedListSize, child) }
	return c
}
