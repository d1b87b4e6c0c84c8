package access

import (
	"context"
	"fmt"

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

// RefreshError says why a viewer is no longer valid, in words for the viewer.
type RefreshError struct{ Reason string }

func (e *RefreshError) Error() string { return e.Reason }

// Refresh re-reads who v is, for long-lived connections: its key (revoked since?), its
// user (deleted, or password changed since, which ends sessions) and its memberships. It
// returns a fresh viewer, a *RefreshError when v is no longer valid, or a database error.
func (a *Authorizer) Refresh(ctx context.Context, v *Viewer) (*Viewer, error) {
	fresh := &Viewer{}
	if v.Key != nil {
		k, err := a.client.Key.Get(ctx, v.Key.ID)
		if ent.IsNotFound(err) || (err == nil && k.RevokedAt != nil) {
			return nil, &RefreshError{Reason: "the API key was revoked"}
		}
		if err != nil {
			return nil, fmt.Errorf("refresh key: %w", err)
		}
		fresh.Key = k
	}
	if v.Controller != nil {
		c, err := a.client.Resource.Get(ctx, v.Controller.ID)
		if ent.IsNotFound(err) || (err == nil && c.Deleted) {
			return nil, &RefreshError{Reason: "the controller was deleted"}
		}
		if err != nil {
			return nil, fmt.Errorf("refresh controller: %w", err)
		}
		fresh.Controller = c
	}
	if v.User != nil {
		u, err := a.client.User.Get(ctx, v.User.ID)
		if ent.IsNotFound(err) || (err == nil && u.Deleted) {
			return nil, &RefreshError{Reason: "the account was deleted"}
		}
		if err != nil {
			return nil, fmt.Errorf("refresh user: %w", err)
		}
		if v.Key == nil && u.SessionEpoch != v.User.SessionEpoch {
			return nil, &RefreshError{Reason: "the password was changed; sign in again"}
		}
		fresh.User = u
	}
	if err := a.LoadMemberships(ctx, fresh); err != nil {
		return nil, err
	}
	return fresh, nil
}

// SignedIn makes v (the viewer of the request that just signed in) the person u for the
// rest of the request, so fields selected under the login mutation resolve as u.
func (a *Authorizer) SignedIn(ctx context.Context, v *Viewer, u *ent.User) error {
	v.User, v.Key, v.Controller = u, nil, nil
	return a.LoadMemberships(ctx, v)
}
