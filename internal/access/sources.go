package access

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/organization"
)

// SourceRule is one alternative of a reader source's readAccess list (a DSDF's
// `readAccess = AGE:1y|GROUP:name|USER:email`); any rule that holds grants the read.
type SourceRule struct {
	Kind string        // "AGE", "GROUP" or "USER"
	Name string        // GROUP: organization name; USER: e-mail address
	Age  time.Duration // AGE: data older than this is public
}

// SourceDecision is what a viewer may read of a reader source.
type SourceDecision struct {
	// All: every time range. Otherwise only data ending at or before PublicBefore.
	All          bool
	PublicBefore time.Time
}

// Allows reports whether a request for data ending at end may be served.
func (d SourceDecision) Allows(end time.Time) bool {
	return d.All || !d.PublicBefore.IsZero() && !end.After(d.PublicBefore)
}

// Visible reports whether the source exists for the viewer at all (some range may be read).
func (d SourceDecision) Visible() bool { return d.All || !d.PublicBefore.IsZero() }

// SourceAccess decides a reader source read for v at time now. No rules: public. System
// admins read everything. GROUP holds for members of the named organization (a key
// confined to another organization is not a member), USER for the user with that e-mail
// (not through a key confined to an organization: reader sources belong to none), AGE
// opens data older than its age to anyone.
func (a *Authorizer) SourceAccess(ctx context.Context, v *Viewer, rules []SourceRule, now time.Time) (SourceDecision, error) {
	if len(rules) == 0 || v.IsSystemAdmin() {
		return SourceDecision{All: true}, nil
	}
	var d SourceDecision
	for _, r := range rules {
		switch r.Kind {
		case "AGE":
			if t := now.Add(-r.Age); t.After(d.PublicBefore) {
				d.PublicBefore = t
			}
		case "USER":
			if v != nil && v.User != nil && v.keyOrganization() == nil && strings.EqualFold(v.User.Email, r.Name) {
				return SourceDecision{All: true}, nil
			}
		case "GROUP":
			if v == nil || v.User == nil {
				continue
			}
			org, err := a.client.Organization.Query().Where(organization.Name(r.Name)).Only(ctx)
			if ent.IsNotFound(err) {
				continue
			}
			if err != nil {
				return SourceDecision{}, fmt.Errorf("source access: organization %q: %w", r.Name, err)
			}
			if v.IsMember(org.ID) {
				return SourceDecision{All: true}, nil
			}
		}
	}
	return d, nil
}
