package access

import (
	"context"

	"github.com/rhizoflex/rhizoflex/ent"
)

// Viewer is who is asking: a signed-in user, a key acting as a user or as a controller, or
// nobody (anonymous).
type Viewer struct {
	// User is the person, or the user a user key acts as; nil for controllers and anonymous.
	User *ent.User
	// Key is the API key the request authenticated with, if any.
	Key *ent.Key
	// Controller is the controller folder a controller key acts as, if any.
	Controller *ent.Resource

	// memberships maps organization ID to "is org admin"; filled by
	// Authorizer.LoadMemberships.
	memberships map[int]bool
}

// IsSystemAdmin reports whether the viewer is a system admin signed in as a person. A key
// never has system-admin powers, not even a key acting as a system admin: a leaked or
// delegated key must not be able to create users, organizations or admins.
func (v *Viewer) IsSystemAdmin() bool {
	return v != nil && v.Key == nil && v.User != nil && v.User.SystemAdmin
}

// keyOrganization is the organization a key is confined to, or nil (no key, or a personal
// key of a user, which acts within that user's memberships).
func (v *Viewer) keyOrganization() *int {
	if v == nil || v.Key == nil {
		return nil
	}
	return v.Key.OrganizationID
}

// InScope reports whether organization orgID is within what the viewer's key may see:
// always for people and personal keys, only its own organization for a confined key.
func (v *Viewer) InScope(orgID int) bool {
	org := v.keyOrganization()
	return org == nil || *org == orgID
}

// outsideKeyScope reports whether r lies outside the organization the viewer's key is
// confined to; there the key is only as good as an anonymous viewer.
func (v *Viewer) outsideKeyScope(r *ent.Resource) bool {
	org := v.keyOrganization()
	return org != nil && (r.OrganizationID == nil || *r.OrganizationID != *org)
}

// IsMember reports whether the viewer's user belongs to the organization.
func (v *Viewer) IsMember(orgID int) bool {
	_, ok := v.memberships[orgID]
	return ok
}

// orgLevel is the level organization membership gives: write for members, admin for org
// admins.
func (v *Viewer) orgLevel(orgID int) Level {
	isAdmin, ok := v.memberships[orgID]
	switch {
	case !ok:
		return None
	case isAdmin:
		return Admin
	default:
		return Write
	}
}

// Anonymous reports whether nobody is signed in.
func (v *Viewer) Anonymous() bool { return v == nil || (v.User == nil && v.Controller == nil) }

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer of ctx; an anonymous viewer when there is none.
func ViewerFrom(ctx context.Context) *Viewer {
	if v, ok := ctx.Value(viewerKey{}).(*Viewer); ok && v != nil {
		return v
	}
	return &Viewer{}
}
