package tree_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func build(t *testing.T, db *database.DB, paths map[string]tree.Type) {
	t.Helper()
	ctx := context.Background()
	if _, err := account.CreateOrganization(ctx, db.Client, "lab", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := account.CreateOrganization(ctx, db.Client, "other", ""); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	for _, p := range keys {
		if _, err := tree.Create(ctx, db.Client, tree.CreateParams{Path: p, Type: paths[p]}); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}
}

func paths(rs []*ent.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Path
	}
	return out
}

func mustGet(t *testing.T, db *database.DB, p string) *ent.Resource {
	t.Helper()
	r, err := tree.ByPath(context.Background(), db.Client, p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return r
}

func TestChildrenDescendantsAncestors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		build(t, db, map[string]tree.Type{
			"/lab/a_b": tree.Folder, "/lab/a_b/x": tree.Sequence, "/lab/a_b/x2": tree.File, "/lab/a_b/sub": tree.Folder,
			"/lab/a_b/sub/deep": tree.Sequence, "/lab/aXb": tree.Folder, "/lab/aXb/y": tree.Sequence,
		})
		folder := mustGet(t, db, "/lab/a_b")
		page, err := tree.Children(ctx, db.Client, folder, tree.ChildrenQuery{First: 2})
		if err != nil || !slices.Equal(paths(page.Resources), []string{"/lab/a_b/sub", "/lab/a_b/x"}) || !page.HasNext {
			t.Fatalf("first page: %v %v %v", paths(page.Resources), page.HasNext, err)
		}
		page, err = tree.Children(ctx, db.Client, folder, tree.ChildrenQuery{First: 2, After: tree.Cursor(page.Resources[1])})
		if err != nil || !slices.Equal(paths(page.Resources), []string{"/lab/a_b/x2"}) || page.HasNext {
			t.Fatalf("second page: %v %v %v", paths(page.Resources), page.HasNext, err)
		}
		seq := tree.Sequence
		page, _ = tree.Children(ctx, db.Client, folder, tree.ChildrenQuery{First: 10, Type: &seq})
		if !slices.Equal(paths(page.Resources), []string{"/lab/a_b/x"}) {
			t.Fatalf("type filter: %v", paths(page.Resources))
		}
		page, _ = tree.Children(ctx, db.Client, folder, tree.ChildrenQuery{First: 10, Filter: "X"})
		if !slices.Equal(paths(page.Resources), []string{"/lab/a_b/x", "/lab/a_b/x2"}) {
			t.Fatalf("name filter: %v", paths(page.Resources))
		}
		if _, err := tree.Children(ctx, db.Client, folder, tree.ChildrenQuery{First: 5000}); !fault.Is(err, fault.BadInput) {
			t.Fatalf("oversized page: %v", err)
		}
		// LIKE wildcards in names are literal: /lab/aXb/y is not below /lab/a_b.
		d, err := tree.Descendants(ctx, db.Client, folder, 1)
		if err != nil || !slices.Equal(paths(d), []string{"/lab/a_b/sub", "/lab/a_b/x", "/lab/a_b/x2"}) {
			t.Fatalf("descendants depth 1: %v %v", paths(d), err)
		}
		d, _ = tree.Descendants(ctx, db.Client, folder, 2)
		if len(d) != 4 {
			t.Fatalf("descendants depth 2: %v", paths(d))
		}
		a, err := tree.Ancestors(ctx, db.Client, mustGet(t, db, "/lab/a_b/sub/deep"))
		if err != nil || !slices.Equal(paths(a), []string{"/lab", "/lab/a_b", "/lab/a_b/sub"}) {
			t.Fatalf("ancestors: %v %v", paths(a), err)
		}
	})
}

func TestRenameMoveDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		build(t, db, map[string]tree.Type{
			"/lab/src": tree.Folder, "/lab/src/s": tree.Sequence, "/lab/src/sub": tree.Folder, "/lab/src/sub/f": tree.File,
			"/lab/dst": tree.Folder, "/lab/dst/taken": tree.Folder, "/other/box": tree.Folder,
		})
		src := mustGet(t, db, "/lab/src")
		if _, err := tree.Rename(ctx, db.Client, src, "dst"); !fault.Is(err, fault.Conflict) {
			t.Fatalf("rename onto an existing name: %v", err)
		}
		if _, err := tree.Rename(ctx, db.Client, src, "bad/name"); !fault.Is(err, fault.BadInput) {
			t.Fatalf("rename to a bad name: %v", err)
		}
		renamed, err := tree.Rename(ctx, db.Client, src, "source")
		if err != nil || renamed.Path != "/lab/source" {
			t.Fatalf("rename: %+v %v", renamed, err)
		}
		if got := mustGet(t, db, "/lab/source/sub/f"); got.Name != "f" {
			t.Fatalf("subtree path not rewritten: %+v", got)
		}
		if _, err := tree.ByPath(ctx, db.Client, "/lab/src/s"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("old path still resolves: %v", err)
		}
		if _, err := tree.Move(ctx, db.Client, renamed, mustGet(t, db, "/lab/source/sub")); !fault.Is(err, fault.BadInput) {
			t.Fatalf("move into own subtree: %v", err)
		}
		if _, err := tree.Move(ctx, db.Client, renamed, mustGet(t, db, "/lab/source/s")); !fault.Is(err, fault.BadInput) {
			t.Fatalf("move into a sequence: %v", err)
		}
		moved, err := tree.Move(ctx, db.Client, renamed, mustGet(t, db, "/other/box"))
		if err != nil || moved.Path != "/other/box/source" {
			t.Fatalf("move: %+v %v", moved, err)
		}
		other, _ := account.OrganizationByName(ctx, db.Client, "other")
		deep := mustGet(t, db, "/other/box/source/sub/f")
		if deep.OrganizationID == nil || *deep.OrganizationID != other.ID || *moved.OrganizationID != other.ID {
			t.Fatal("organization not updated for a subtree moved across organizations")
		}

		var purged []int
		if err := tree.Delete(ctx, db.Client, moved, func(_ context.Context, ids []int) error { purged = ids; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(purged) != 4 {
			t.Fatalf("purge got %d resources, want 4", len(purged))
		}
		for _, p := range []string{"/other/box/source", "/other/box/source/sub/f"} {
			if _, err := tree.ByPath(ctx, db.Client, p); !fault.Is(err, fault.NotFound) {
				t.Fatalf("%s survived deletion: %v", p, err)
			}
		}
		if _, err := tree.Create(ctx, db.Client, tree.CreateParams{Path: "/other/box/source/sub", Type: tree.Folder, CreateParents: true}); err != nil {
			t.Fatalf("reuse of deleted names: %v", err)
		}
		if err := tree.Delete(ctx, db.Client, mustGet(t, db, "/lab"), nil); !fault.Is(err, fault.BadInput) {
			t.Fatalf("deleting an organization folder: %v", err)
		}
	})
}

func TestUpdateAttributes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		build(t, db, map[string]tree.Type{"/lab/s": tree.Sequence})
		r := mustGet(t, db, "/lab/s")
		r, err := tree.UpdateAttributes(ctx, db.Client, r, map[string]any{"color": "red"}, map[string]any{"units": "V", "min": 0.0}, nil)
		if err != nil || r.UserAttributes["color"] != "red" || r.SystemAttributes["units"] != "V" {
			t.Fatalf("update: %+v %v", r, err)
		}
		r, err = tree.UpdateAttributes(ctx, db.Client, r, nil, map[string]any{"min": nil}, nil)
		if err != nil || r.UserAttributes["color"] != "red" || r.SystemAttributes["units"] != "V" {
			t.Fatalf("merge: %+v %v", r, err)
		}
		if _, ok := r.SystemAttributes["min"]; ok {
			t.Fatal("nil did not remove a setting")
		}
		minutes := 15
		if _, err := tree.UpdateAttributes(ctx, db.Client, r, nil, nil, &minutes); !fault.Is(err, fault.BadInput) {
			t.Fatalf("watchdog on a sequence: %v", err)
		}
		ctrl, err := tree.CreateController(ctx, db.Client, "/lab/ctrl", false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tree.UpdateAttributes(ctx, db.Client, ctrl, nil, nil, &minutes); err != nil {
			t.Fatal(err)
		}
		st, err := db.Client.ControllerStatus.Query().Only(ctx)
		if err != nil || st.WatchdogMinutes != 15 {
			t.Fatalf("watchdog: %+v %v", st, err)
		}
	})
}
