package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/graph/model"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readable resolves path and checks read access; hidden resources are NOT_FOUND.
func (r *Resolver) readable(ctx context.Context, path string) (*ent.Resource, error) {
	res, err := tree.ByPath(ctx, r.Client, path)
	if err != nil {
		return nil, err
	}
	if err := r.Authz.Require(ctx, viewer(ctx), res, access.Read); err != nil {
		return nil, err
	}
	return res, nil
}

// visibleOrganization resolves an organization the viewer belongs to (any, for system
// admins). One the viewer does not belong to gets the answer a missing one gets.
func (r *Resolver) visibleOrganization(ctx context.Context, name string) (*ent.Organization, error) {
	org, err := account.OrganizationByName(ctx, r.Client, name)
	if err != nil {
		return nil, err
	}
	if v := viewer(ctx); !v.IsSystemAdmin() && !v.IsMember(org.ID) {
		return nil, account.ErrNoOrganization(name)
	}
	return org, nil
}

// keyUser resolves the user a new key is to act as. Only that user or a system admin may
// name one; that is decided before any lookup, so the answer never tells whether an
// account exists.
func (r *Resolver) keyUser(ctx context.Context, email string) (int, error) {
	v := viewer(ctx)
	if !v.IsSystemAdmin() && (v.User == nil || !strings.EqualFold(strings.TrimSpace(email), v.User.Email)) {
		return 0, fault.New(fault.Forbidden, "only that user (or a system admin) may create a key acting as them")
	}
	u, err := account.UserByEmail(ctx, r.Client, email)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// orgAndUser resolves an organization the viewer administers and a user by e-mail. With
// member set the user must belong to the organization, and an unknown address gets the
// same answer as a non-member, so managing members never tells whether an account exists.
func (r *Resolver) orgAndUser(ctx context.Context, orgName, email string, member bool) (*ent.Organization, *ent.User, error) {
	org, err := r.visibleOrganization(ctx, orgName)
	if err != nil {
		return nil, nil, err
	}
	if err := r.Authz.RequireOrgAdmin(viewer(ctx), org.ID); err != nil {
		return nil, nil, err
	}
	u, err := account.UserByEmail(ctx, r.Client, email)
	if member {
		ok := false
		if err == nil {
			ok, err = account.IsMember(ctx, r.Client, org.ID, u.ID)
		}
		if err == nil && !ok || fault.Is(err, fault.NotFound) {
			return nil, nil, fault.New(fault.NotFound, "%s is not a member of %s", email, org.Name)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return org, u, nil
}

// requireMember allows members of the organization and system admins.
func (r *Resolver) requireMember(v *access.Viewer, orgID int) error {
	if v.IsSystemAdmin() || v.IsMember(orgID) {
		return nil
	}
	if v.Anonymous() {
		return fault.New(fault.Unauthenticated, "sign in first")
	}
	return fault.New(fault.Forbidden, "members only")
}

// grantee resolves a GranteeInput.
func (r *Resolver) grantee(ctx context.Context, in model.GranteeInput) (access.Grantee, error) {
	var g access.Grantee
	if in.UserEmail != nil {
		u, err := account.UserByEmail(ctx, r.Client, *in.UserEmail)
		if err != nil {
			return g, err
		}
		g.UserID = &u.ID
	}
	if in.Organization != nil {
		org, err := account.OrganizationByName(ctx, r.Client, *in.Organization)
		if err != nil {
			return g, err
		}
		g.OrganizationID = &org.ID
	}
	g.Public = in.Public != nil && *in.Public
	return g, nil
}

type remoteAddrKey struct{}

// WithRemoteAddr records the client address for login rate limiting.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, addr)
}

// RemoteAddr is the client address recorded by WithRemoteAddr.
func RemoteAddr(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey{}).(string)
	return s
}

// inScope drops the organizations outside the viewer's key scope (a key confined to one
// organization sees only that one).
func inScope(ctx context.Context, orgs []*ent.Organization, err error) ([]*ent.Organization, error) {
	if err != nil {
		return nil, err
	}
	v := viewer(ctx)
	return slices.DeleteFunc(orgs, func(o *ent.Organization) bool { return !v.InScope(o.ID) }), nil
}

// membershipsInScope drops the memberships outside the viewer's key scope.
func membershipsInScope(ctx context.Context, ms []*ent.Membership, err error) ([]*ent.Membership, error) {
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	v := viewer(ctx)
	return slices.DeleteFunc(ms, func(m *ent.Membership) bool { return !v.InScope(m.OrganizationID) }), nil
}
