package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/membership"
	"github.com/rhizoflex/rhizoflex/ent/permission"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Level is an access level; higher levels include the lower ones.
type Level int

// The access levels.
const (
	None Level = iota
	Read
	Write
	Admin
)

func (l Level) String() string {
	switch l {
	case Read:
		return "read"
	case Write:
		return "write"
	case Admin:
		return "admin"
	default:
		return "none"
	}
}

// ParseLevel parses "read", "write" or "admin".
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "read":
		return Read, nil
	case "write":
		return Write, nil
	case "admin":
		return Admin, nil
	}
	return None, fault.New(fault.BadInput, "unknown access level %q (read, write or admin)", s)
}

// Authorizer is THE place that decides who may do what. Every entry point (GraphQL, stream
// URLs, file downloads, websockets, subscriptions) asks it. It reads grants from the
// database on each decision, so a revoked grant or key takes effect on the next request on
// every instance.
type Authorizer struct {
	client *ent.Client
	cache  *viewerCache // nil: read the database every time
	// cacheOff turns a set cache off for good (its invalidations stopped arriving).
	cacheOff atomic.Bool
}

// NewAuthorizer returns the authorizer over client.
func NewAuthorizer(client *ent.Client) *Authorizer { return &Authorizer{client: client} }

// LevelOn returns the viewer's access level on resource r:
//
//   - system admins: admin everywhere;
//   - organization members: write in their organization, admin for org admins;
//   - a controller key: write inside its controller folder, read elsewhere in its
//     organization;
//   - explicit grants on r or an ancestor (to the user, to an organization the user is a
//     member of, or to the public) add their level; a public grant is all an anonymous
//     viewer gets;
//   - a key confined to an organization (every controller key, and user keys made for
//     one) is, outside that organization, only as good as an anonymous viewer; no key is
//     ever a system admin.
func (a *Authorizer) LevelOn(ctx context.Context, v *Viewer, r *ent.Resource) (Level, error) {
	if v.outsideKeyScope(r) {
		v = &Viewer{}
	}
	level := baseLevel(v, r)
	if level == Admin {
		return level, nil
	}
	granted, err := a.grantLevel(ctx, v, r)
	if err != nil {
		return None, err
	}
	return max(level, granted), nil
}

// baseLevel is what the viewer's own standing gives, without reading grants: system admin,
// organization membership, controller scope.
func baseLevel(v *Viewer, r *ent.Resource) Level {
	if v.outsideKeyScope(r) {
		return None
	}
	if v.IsSystemAdmin() {
		return Admin
	}
	level := None
	if r.OrganizationID != nil {
		level = max(level, v.orgLevel(*r.OrganizationID))
	}
	if c := v.Controller; c != nil {
		if r.ID == c.ID || strings.HasPrefix(r.Path, c.Path+"/") {
			level = max(level, Write)
		} else if c.OrganizationID != nil && r.OrganizationID != nil && *c.OrganizationID == *r.OrganizationID {
			level = max(level, Read)
		}
	}
	return level
}

// grantLevel is the highest explicit Permission on r or its ancestors that applies to v.
func (a *Authorizer) grantLevel(ctx context.Context, v *Viewer, r *ent.Resource) (Level, error) {
	paths := ancestorPaths(r.Path)
	ids, err := a.client.Resource.Query().
		Where(resource.PathIn(paths...), tree.NotDeleted()).IDs(ctx)
	if err != nil {
		return None, fmt.Errorf("authorize: ancestors of %s: %w", r.Path, err)
	}
	preds := permission.Or(permission.GranteeTypeEQ(permission.GranteeTypePublic))
	if v.User != nil {
		orgIDs := make([]int, 0, len(v.memberships))
		for id := range v.memberships {
			orgIDs = append(orgIDs, id)
		}
		preds = permission.Or(
			permission.GranteeTypeEQ(permission.GranteeTypePublic),
			permission.And(permission.GranteeTypeEQ(permission.GranteeTypeUser), permission.UserID(v.User.ID)),
			permission.And(permission.GranteeTypeEQ(permission.GranteeTypeOrganization), permission.OrganizationIDIn(orgIDs...)),
		)
	}
	grants, err := a.client.Permission.Query().
		Where(permission.ResourceIDIn(ids...), preds).
		Select(permission.FieldLevel).Strings(ctx)
	if err != nil {
		return None, fmt.Errorf("authorize: grants on %s: %w", r.Path, err)
	}
	level := None
	for _, g := range grants {
		l, err := ParseLevel(g)
		if err == nil {
			level = max(level, l)
		}
	}
	return level, nil
}

func ancestorPaths(path string) []string {
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i])
		}
	}
	return append(out, path)
}

// Require returns nil when v has at least level on r. When the viewer may not even read r,
// it returns NOT_FOUND with the message a missing resource at r.Path gives (tree.ByPath),
// for every viewer, anonymous included: a hidden resource and a missing one look the same.
// Callers that found r by something other than its path (an id) must not pass that
// message on. When the viewer may read r but needs more, it returns FORBIDDEN.
func (a *Authorizer) Require(ctx context.Context, v *Viewer, r *ent.Resource, level Level) error {
	if baseLevel(v, r) >= level {
		return nil // no grant can matter: skip the database
	}
	have, err := a.LevelOn(ctx, v, r)
	if err != nil {
		return err
	}
	if have >= level {
		return nil
	}
	if have == None {
		return fault.Wrap(ErrHidden, fault.NotFound, "no resource at %s", r.Path)
	}
	return fault.New(fault.Forbidden, "%s access to %s is required", level, r.Path)
}

// ErrHidden is the cause of the NOT_FOUND error for a resource that exists but that the
// viewer may not read.
var ErrHidden = errors.New("hidden from the viewer")

// RequireOrgAdmin allows system admins and admins of the organization (human users only
// when humanOnly is set).
func (a *Authorizer) RequireOrgAdmin(v *Viewer, orgID int) error {
	if v.IsSystemAdmin() || v.orgLevel(orgID) == Admin {
		return nil
	}
	if v.Anonymous() {
		return fault.New(fault.Unauthenticated, "sign in first")
	}
	return fault.New(fault.Forbidden, "organization admin rights are required")
}

// RequireSystemAdmin allows only system admins.
func (a *Authorizer) RequireSystemAdmin(v *Viewer) error {
	if v.IsSystemAdmin() {
		return nil
	}
	if v.Anonymous() {
		return fault.New(fault.Unauthenticated, "sign in first")
	}
	return fault.New(fault.Forbidden, "system admin rights are required")
}

// RequireHuman allows only a person signed in with a session (not a key): keys cannot
// create or revoke keys or change passwords.
func (a *Authorizer) RequireHuman(v *Viewer) error {
	if v.User != nil && v.Key == nil {
		return nil
	}
	if v.Anonymous() {
		return fault.New(fault.Unauthenticated, "sign in first")
	}
	return fault.New(fault.Forbidden, "only a signed-in person may do this, not an API key")
}

// LoadMemberships fills the viewer's organization memberships (once per request); a key
// confined to an organization sees only its membership there.
func (a *Authorizer) LoadMemberships(ctx context.Context, v *Viewer) error {
	v.memberships = map[int]bool{}
	if v.User == nil {
		return nil
	}
	all, err := a.userMemberships(ctx, v.User.ID)
	if err != nil {
		return err
	}
	org := v.keyOrganization()
	for id, admin := range all {
		if org == nil || *org == id {
			v.memberships[id] = admin
		}
	}
	return nil
}

// userMemberships maps organization id to "is admin" for every membership of userID,
// from the cache when it has them.
func (a *Authorizer) userMemberships(ctx context.Context, userID int) (map[int]bool, error) {
	var gen uint64
	cache := a.activeCache()
	if cache != nil {
		if m, ok := cache.memberships(userID); ok {
			return m, nil
		}
		gen = cache.generation()
	}
	ms, err := a.client.Membership.Query().Where(membership.UserID(userID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load memberships: %w", err)
	}
	out := make(map[int]bool, len(ms))
	for _, m := range ms {
		out[m.OrganizationID] = m.IsAdmin
	}
	if cache != nil {
		cache.putMemberships(gen, userID, out)
	}
	return out, nil
}

// activeCache is the identity cache, or nil when there is none or it was turned off.
func (a *Authorizer) activeCache() *viewerCache {
	if a.cache == nil || a.cacheOff.Load() {
		return nil
	}
	return a.cache
}
