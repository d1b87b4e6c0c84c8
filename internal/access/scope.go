package access

import (
	"context"
	"fmt"
	"slices"

	"github.com/rhizoflex/rhizoflex/ent/permission"
	"github.com/rhizoflex/rhizoflex/ent/predicate"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// ReadScope is where the viewer may read, as LevelOn decides it: everything for system
// admins; the organizations the viewer belongs to (for a controller key, its controller's
// organization); and the subtrees granted to the user or to those organizations. Public
// grants count only with includePublic. Outside the organization a key is confined to,
// only public grants count, as in LevelOn. Memberships must be loaded (LoadMemberships).
func (a *Authorizer) ReadScope(ctx context.Context, v *Viewer, includePublic bool) (tree.Scope, error) {
	if v.IsSystemAdmin() {
		return tree.Scope{All: true}, nil
	}
	var s tree.Scope
	for id := range v.memberships {
		if v.InScope(id) {
			s.OrganizationIDs = append(s.OrganizationIDs, id)
		}
	}
	if c := v.Controller; c != nil && c.OrganizationID != nil && v.InScope(*c.OrganizationID) {
		s.OrganizationIDs = append(s.OrganizationIDs, *c.OrganizationID)
	}
	var who []predicate.Permission
	if includePublic {
		who = append(who, permission.GranteeTypeEQ(permission.GranteeTypePublic))
	}
	if v.User != nil {
		who = append(who, permission.And(permission.GranteeTypeEQ(permission.GranteeTypeUser), permission.UserID(v.User.ID)))
		if len(s.OrganizationIDs) > 0 {
			who = append(who, permission.And(permission.GranteeTypeEQ(permission.GranteeTypeOrganization),
				permission.OrganizationIDIn(s.OrganizationIDs...)))
		}
	}
	if len(who) > 0 {
		grants, err := a.client.Permission.Query().Where(permission.Or(who...)).WithResource().All(ctx)
		if err != nil {
			return tree.Scope{}, fmt.Errorf("read scope: grants: %w", err)
		}
		for _, g := range grants {
			r := g.Edges.Resource
			if r == nil || r.Deleted {
				continue
			}
			if g.GranteeType != permission.GranteeTypePublic && v.outsideKeyScope(r) {
				continue
			}
			s.Paths = append(s.Paths, r.Path)
		}
	}
	slices.Sort(s.OrganizationIDs)
	s.OrganizationIDs = slices.Compact(s.OrganizationIDs)
	slices.Sort(s.Paths)
	s.Paths = slices.Compact(s.Paths)
	return s, nil
}
