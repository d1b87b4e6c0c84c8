package tree_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Subtree operations match paths byte for byte on both databases: names that differ only
// in case, or by a character SQL LIKE treats as a wildcard, are different subtrees.
func TestSubtreesAreExactOnEveryDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		for _, org := range []string{"omega", "OMEGA", "o_ega", "oXega"} {
			if _, err := account.CreateOrganization(ctx, c, org, ""); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{
			"/omega/proj", "/OMEGA/proj", "/OMEGA/proj/secret.txt", "/o_ega/proj", "/oXega/proj", "/oXega/proj/x",
			"/omega/data", "/omega/Data", "/omega/Data/keep", "/omega/data_1", "/omega/dataX1", "/omega/dataX1/keep",
		} {
			typ := tree.Folder
			if p == "/OMEGA/proj/secret.txt" || p == "/oXega/proj/x" || p == "/omega/Data/keep" || p == "/omega/dataX1/keep" {
				typ = tree.File
			}
			if _, err := tree.Create(ctx, c, tree.CreateParams{Path: p, Type: typ}); err != nil {
				t.Fatalf("create %s: %v", p, err)
			}
		}
		all := func() []string {
			rs, err := c.Resource.Query().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				if !r.Deleted {
					out = append(out, r.Path)
				}
			}
			slices.Sort(out)
			return out
		}
		// Descendants: only the exact subtree.
		for _, tc := range []struct {
			path string
			want []string
		}{
			{"/omega", []string{"/omega/Data", "/omega/Data/keep", "/omega/data", "/omega/dataX1", "/omega/dataX1/keep", "/omega/data_1", "/omega/proj"}},
			{"/o_ega", []string{"/o_ega/proj"}},
			{"/omega/data", nil},
			{"/omega/data_1", nil},
		} {
			got, err := tree.Descendants(ctx, c, mustGet(t, db, tc.path), 10)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(paths(got), tc.want) {
				t.Errorf("descendants of %s: %v, want %v", tc.path, paths(got), tc.want)
			}
		}
		before := all()
		// Rename moves only the renamed subtree.
		if _, err := tree.Rename(ctx, c, mustGet(t, db, "/omega/proj"), "proj2"); err != nil {
			t.Fatal(err)
		}
		if _, err := tree.Rename(ctx, c, mustGet(t, db, "/o_ega/proj"), "p"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/OMEGA/proj/secret.txt", "/oXega/proj/x"} {
			if _, err := tree.ByPath(ctx, c, p); err != nil {
				t.Errorf("%s was moved by a rename elsewhere: %v", p, err)
			}
		}
		// Move likewise.
		if _, err := tree.Move(ctx, c, mustGet(t, db, "/omega/data"), mustGet(t, db, "/omega/proj2")); err != nil {
			t.Fatal(err)
		}
		if _, err := tree.ByPath(ctx, c, "/omega/Data/keep"); err != nil {
			t.Errorf("/omega/Data/keep moved with /omega/data: %v", err)
		}
		// Delete likewise.
		if err := tree.Delete(ctx, c, mustGet(t, db, "/omega/proj2/data"), nil); err != nil {
			t.Fatal(err)
		}
		if err := tree.Delete(ctx, c, mustGet(t, db, "/omega/data_1"), nil); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/omega/Data/keep", "/omega/dataX1/keep", "/OMEGA/proj/secret.txt"} {
			if _, err := tree.ByPath(ctx, c, p); err != nil {
				t.Errorf("%s deleted with another subtree: %v", p, err)
			}
		}
		after := all()
		want := []string{}
		for _, p := range before {
			switch p {
			case "/omega/proj":
				p = "/omega/proj2"
			case "/o_ega/proj":
				p = "/o_ega/p"
			case "/omega/data", "/omega/data_1":
				continue
			}
			want = append(want, p)
		}
		slices.Sort(want)
		if !slices.Equal(after, want) {
			t.Fatalf("tree after rename, move and delete:\n%v\nwant\n%v", after, want)
		}
	})
}

// Names with LIKE's escape and wildcard characters are refused outright, on both databases.
func TestNamesWithWildcardsAreRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := account.CreateOrganization(ctx, db.Client, "lab", ""); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a%b", `a\b`, "%", `\`} {
			_, err := tree.Create(ctx, db.Client, tree.CreateParams{Path: "/lab/" + name, Type: tree.Folder})
			if !fault.Is(err, fault.BadInput) {
				t.Errorf("name %q: %v, want BAD_USER_INPUT", name, err)
			}
			if _, err := account.CreateOrganization(ctx, db.Client, name, ""); !fault.Is(err, fault.BadInput) {
				t.Errorf("organization %q: %v, want BAD_USER_INPUT", name, err)
			}
		}
	})
}
