package access_test

import (
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

// readAccess rules of reader sources, for every kind of viewer, as an attacker would try
// them: other organizations, confined keys, names that differ in case.
func TestSourceAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		year := 365 * 24 * time.Hour
		group := []access.SourceRule{{Kind: "GROUP", Name: "lab"}}
		user := []access.SourceRule{{Kind: "USER", Name: "LMember@example.com"}}
		aged := []access.SourceRule{{Kind: "AGE", Age: year}, {Kind: "GROUP", Name: "lab"}}
		upper := []access.SourceRule{{Kind: "GROUP", Name: "LAB"}}
		cases := []struct {
			viewer string
			rules  []access.SourceRule
			all    bool
			before time.Time
		}{
			{"anonymous", nil, true, time.Time{}},
			{"anonymous", group, false, time.Time{}},
			{"anonymous", aged, false, now.Add(-year)},
			{"sys", group, true, time.Time{}},
			{"lmember", group, true, time.Time{}},
			{"ladmin", group, true, time.Time{}},
			{"omember", group, false, time.Time{}},
			{"omember", aged, false, now.Add(-year)},
			{"lmember", upper, false, time.Time{}},
			{"lmember", user, true, time.Time{}},
			{"ladmin", user, false, time.Time{}},
			{"userkey", group, true, time.Time{}}, // a personal key acts as lmember
			{"userkey", user, true, time.Time{}},
			{"ctrlkey", group, false, time.Time{}}, // a controller is no member
			{"ctrlkey", user, false, time.Time{}},
		}
		for _, c := range cases {
			v := viewerFor(t, authz, w, c.viewer)
			d, err := authz.SourceAccess(ctx, v, c.rules, now)
			if err != nil {
				t.Fatal(err)
			}
			if d.All != c.all || !d.PublicBefore.Equal(c.before) {
				t.Errorf("%s %v: %+v, want all=%v before=%v", c.viewer, c.rules, d, c.all, c.before)
			}
		}
		// AGE opens only old data.
		d, _ := authz.SourceAccess(ctx, viewerFor(t, authz, w, "anonymous"), aged, now)
		if !d.Visible() || !d.Allows(now.Add(-2*year)) || d.Allows(now.Add(-year/2)) {
			t.Errorf("age decision %+v", d)
		}
		if d, _ := authz.SourceAccess(ctx, viewerFor(t, authz, w, "anonymous"), group, now); d.Visible() || d.Allows(now.Add(-100*year)) {
			t.Errorf("group decision for anonymous %+v", d)
		}
	})
}
