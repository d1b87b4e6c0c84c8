package tree_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// countLookups counts the resource queries of client.
func countLookups(client *ent.Client) *atomic.Int64 {
	var n atomic.Int64
	client.Resource.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			n.Add(1)
			return next.Query(ctx, q)
		})
	}))
	return &n
}

// The path cache answers repeated lookups without the database, and every committed
// rename, move, settings change and delete (through ChangeHook) makes the next lookup
// read the database again; creating a resource and setting last_revision_at do not.
func TestPathCacheFollowsChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		build(t, db, map[string]tree.Type{"/lab/a": tree.Folder, "/lab/b": tree.Folder, "/lab/a/s": tree.Sequence})
		cache := tree.NewPathCache()
		var changes atomic.Int64
		db.Client.Resource.Use(tree.ChangeHook(func(context.Context) { changes.Add(1); cache.Invalidate() }))
		lookups := countLookups(db.Client)

		s, err := cache.ByPath(ctx, db.Client, "/lab/a/s")
		if err != nil {
			t.Fatal(err)
		}
		if s.LastRevisionAt == nil || !s.LastRevisionAt.Equal(tree.UnknownLastRevision) {
			t.Fatalf("a cached lookup carries last_revision_at %v, want the unknown mark", s.LastRevisionAt)
		}
		before := lookups.Load()
		if again, err := cache.ByPath(ctx, db.Client, "/lab/a/s/"); err != nil || again.ID != s.ID {
			t.Fatalf("second lookup: %v %v", again, err)
		}
		if lookups.Load() != before {
			t.Fatal("a repeated lookup read the database")
		}

		// Neither a new resource nor a value's last_revision_at is a change.
		if _, err := tree.Create(ctx, db.Client, tree.CreateParams{Path: "/lab/a/t", Type: tree.Sequence}); err != nil {
			t.Fatal(err)
		}
		if err := db.Client.Resource.UpdateOneID(s.ID).SetLastRevisionAt(time.Now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if changes.Load() != 0 {
			t.Fatalf("%d changes announced for a create and last_revision_at", changes.Load())
		}

		s, err = tree.UpdateAttributes(ctx, db.Client, s, nil, map[string]any{"max": 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := cache.ByPath(ctx, db.Client, "/lab/a/s"); err != nil || got.SystemAttributes["max"] == nil {
			t.Fatalf("after a settings change: %v %v", got, err)
		}
		r, err := tree.Rename(ctx, db.Client, s, "r")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cache.ByPath(ctx, db.Client, "/lab/a/s"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("old path after a rename: %v", err)
		}
		b, err := tree.ByPath(ctx, db.Client, "/lab/b")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cache.ByPath(ctx, db.Client, "/lab/a/r"); err != nil { // cache it again
			t.Fatal(err)
		}
		if _, err := tree.Move(ctx, db.Client, r, b); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.ByPath(ctx, db.Client, "/lab/a/r"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("old path after a move: %v", err)
		}
		moved, err := cache.ByPath(ctx, db.Client, "/lab/b/r")
		if err != nil || moved.ID != s.ID {
			t.Fatalf("new path after a move: %v %v", moved, err)
		}
		if err := tree.Delete(ctx, db.Client, moved, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.ByPath(ctx, db.Client, "/lab/b/r"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("path after a delete: %v", err)
		}
		if changes.Load() < 4 {
			t.Fatalf("%d changes announced for a settings change, a rename, a move and a delete", changes.Load())
		}
	})
}

// A lookup that an invalidation overtakes is answered but not kept: the next lookup reads
// the database again.
func TestPathCacheDropsLookupsOvertakenByAChange(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	build(t, db, map[string]tree.Type{"/lab/s": tree.Sequence})
	cache := tree.NewPathCache()
	lookups := countLookups(db.Client)
	var during atomic.Bool
	db.Client.Resource.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			if during.Load() {
				cache.Invalidate() // a change committed while the lookup ran
			}
			return next.Query(ctx, q)
		})
	}))
	ctx := context.Background()
	during.Store(true)
	if _, err := cache.ByPath(ctx, db.Client, "/lab/s"); err != nil {
		t.Fatal(err)
	}
	during.Store(false)
	before := lookups.Load()
	if _, err := cache.ByPath(ctx, db.Client, "/lab/s"); err != nil {
		t.Fatal(err)
	}
	if lookups.Load() == before {
		t.Fatal("a lookup overtaken by an invalidation was kept")
	}
	before = lookups.Load()
	if _, err := cache.ByPath(ctx, db.Client, "/lab/s"); err != nil {
		t.Fatal(err)
	}
	if lookups.Load() != before {
		t.Fatal("an undisturbed lookup was not kept")
	}
	cache.Disable()
	if _, err := cache.ByPath(ctx, db.Client, "/lab/s"); err != nil {
		t.Fatal(err)
	}
	before = lookups.Load()
	if _, err := cache.ByPath(ctx, db.Client, "/lab/s"); err != nil || lookups.Load() == before {
		t.Fatalf("a disabled cache answered from memory (%v)", err)
	}
}

// Cached and Keep, the batch form: what is kept is returned by the next Cached (with the
// last revision time unknown, as ByPath), nothing is kept across an invalidation or into
// a disabled cache, and a nil cache holds nothing.
func TestPathCacheKeepsBatchLookups(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	build(t, db, map[string]tree.Type{"/lab/a": tree.Sequence, "/lab/b": tree.Sequence})
	ctx := context.Background()
	a, err := tree.ByPath(ctx, db.Client, "/lab/a")
	if err != nil {
		t.Fatal(err)
	}
	cache := tree.NewPathCache()
	found, gen := cache.Cached([]string{"/lab/a", "/lab/b"})
	if len(found) != 0 {
		t.Fatalf("an empty cache found %v", found)
	}
	cache.Keep(gen, map[string]*ent.Resource{"/lab/a": a})
	found, gen = cache.Cached([]string{"/lab/a", "/lab/b"})
	if got := found["/lab/a"]; got == nil || got.ID != a.ID || !got.LastRevisionAt.Equal(tree.UnknownLastRevision) || found["/lab/b"] != nil {
		t.Fatalf("after Keep: %v", found)
	}
	found["/lab/a"].Name = "changed by the caller"
	if again, _ := cache.Cached([]string{"/lab/a"}); again["/lab/a"].Name != "a" {
		t.Fatalf("a caller changed the cached copy: %q", again["/lab/a"].Name)
	}
	cache.Invalidate()
	cache.Keep(gen, map[string]*ent.Resource{"/lab/a": a})
	if found, _ := cache.Cached([]string{"/lab/a"}); len(found) != 0 {
		t.Fatal("a lookup overtaken by an invalidation was kept")
	}
	_, gen = cache.Cached(nil)
	cache.Disable()
	cache.Keep(gen, map[string]*ent.Resource{"/lab/a": a})
	if found, _ := cache.Cached([]string{"/lab/a"}); len(found) != 0 {
		t.Fatal("a disabled cache kept a lookup")
	}
	var none *tree.PathCache
	none.Keep(0, map[string]*ent.Resource{"/lab/a": a})
	if found, _ := none.Cached([]string{"/lab/a"}); len(found) != 0 {
		t.Fatal("a nil cache found something")
	}
}
