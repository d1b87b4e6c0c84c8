package access_test

import (
	"slices"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// recentNames lists the fixture resources (by name) among the viewer's recently changed
// resources.
func recentNames(t *testing.T, db *database.DB, authz *access.Authorizer, v *access.Viewer, includePublic bool) []string {
	t.Helper()
	scope, err := authz.ReadScope(t.Context(), v, includePublic)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := tree.Recent(t.Context(), db.Client, scope, tree.MaxRecent)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		for _, f := range fixture.Resources {
			if f.Path == r.Path {
				out = append(out, f.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// The read scope lists what the authorizer lets each viewer read: with public grants
// exactly the matrix's readable cells; without them the same less what only the public
// grant opens. Another organization's resources never appear.
func TestReadScopeRecent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := fixture.Build(t, db)
		authz := access.NewAuthorizer(db.Client)
		lab := []string{"ctrl-seq", "lab-file", "lab-folder", "lab-seq"}
		other := []string{"other-file", "other-folder", "other-seq", "public-folder", "public-seq"}
		withoutPublic := map[string][]string{
			"sys": nil, "ladmin": lab, "lmember": lab, "userkey": lab, "ctrlkey": lab,
			"omember": other, "anonymous": nil,
		}
		for name, expected := range fixture.Expected {
			v := viewerFor(t, authz, w, name)
			var readable []string
			for n, l := range expected {
				if l >= access.Read {
					readable = append(readable, n)
				}
			}
			slices.Sort(readable)
			if got := recentNames(t, db, authz, v, true); !slices.Equal(got, readable) {
				t.Errorf("%s with public grants: %v, want %v", name, got, readable)
			}
			want := withoutPublic[name]
			if name == "sys" {
				want = readable
			}
			if got := recentNames(t, db, authz, v, false); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}

		// A grant to a person opens that subtree of another organization, nothing beside it.
		omember := viewerFor(t, authz, w, "omember")
		data, err := tree.ByPath(t.Context(), db.Client, "/other/data")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := authz.Grant(t.Context(), omember, data, access.Grantee{UserID: &w.Users["lmember"].ID}, access.Read); err != nil {
			t.Fatal(err)
		}
		got := recentNames(t, db, authz, viewerFor(t, authz, w, "lmember"), false)
		want := []string{"ctrl-seq", "lab-file", "lab-folder", "lab-seq", "other-file", "other-folder", "other-seq"}
		if !slices.Equal(got, want) {
			t.Errorf("lmember after a grant on /other/data: %v, want %v", got, want)
		}
	})
}
