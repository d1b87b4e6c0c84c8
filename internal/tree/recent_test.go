package tree_test

import (
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func TestRecent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		build(t, db, map[string]tree.Type{
			"/lab/a": tree.Folder, "/lab/a/seq": tree.Sequence, "/lab/a/deep": tree.Folder, "/lab/a/deep/f": tree.File,
			"/lab/b": tree.Folder, "/other/x": tree.Sequence,
		})
		// A value or revision counts over the last change; without one the last change counts.
		now := time.Now()
		db.Client.Resource.Update().Where(resource.Path("/lab/a/seq")).SetLastRevisionAt(now.Add(time.Hour)).ExecX(ctx)
		db.Client.Resource.Update().Where(resource.Path("/lab/a/deep/f")).SetLastRevisionAt(now.Add(30 * time.Minute)).ExecX(ctx)
		db.Client.Resource.Update().Where(resource.Path("/other/x")).SetLastRevisionAt(now.Add(2 * time.Hour)).ExecX(ctx)
		lab := mustGet(t, db, "/lab")

		rs, err := tree.Recent(ctx, db.Client, tree.Scope{OrganizationIDs: []int{*lab.OrganizationID}}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if got := paths(rs); len(got) != 3 || got[0] != "/lab/a/seq" || got[1] != "/lab/a/deep/f" {
			t.Errorf("lab, newest 3: %v", got)
		}
		for _, p := range paths(rs) {
			if p == "/other/x" {
				t.Errorf("another organization's resource in the lab's list: %v", paths(rs))
			}
		}

		// A subtree: the resource and what is below it, not its siblings.
		rs, err = tree.Recent(ctx, db.Client, tree.Scope{Paths: []string{"/lab/a/deep"}}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := paths(rs); len(got) != 2 || got[0] != "/lab/a/deep/f" || got[1] != "/lab/a/deep" {
			t.Errorf("subtree /lab/a/deep: %v", got)
		}

		// Deleted resources and an empty scope list nothing; the limit is checked.
		db.Client.Resource.Update().Where(resource.Path("/lab/a/deep/f")).SetDeleted(true).ExecX(ctx)
		rs, err = tree.Recent(ctx, db.Client, tree.Scope{Paths: []string{"/lab/a/deep"}}, 10)
		if err != nil || len(rs) != 1 {
			t.Errorf("after delete: %v, %v", paths(rs), err)
		}
		if rs, err := tree.Recent(ctx, db.Client, tree.Scope{}, 10); err != nil || len(rs) != 0 {
			t.Errorf("empty scope: %v, %v", paths(rs), err)
		}
		if _, err := tree.Recent(ctx, db.Client, tree.Scope{All: true}, tree.MaxRecent+1); err == nil {
			t.Error("a limit above MaxRecent is accepted")
		}
		rs, err = tree.Recent(ctx, db.Client, tree.Scope{All: true}, 1)
		if err != nil || len(rs) != 1 || rs[0].Path != "/other/x" {
			t.Errorf("everything, newest: %v, %v", paths(rs), err)
		}
	})
}
