package tree

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
)

// PathCache keeps, per instance, the live resources the write path looked up by path, so
// a controller's steady stream of single values costs no lookup. Like the identity cache
// (internal/access) it is never stale by time: every committed change to a resource
// (ChangeHook, on every instance through the bus) calls Invalidate, and an entry read
// while an invalidation happened is not kept (gen).
//
// A cached resource's LastRevisionAt is not the stored one (values are written all the
// time, on every instance, without touching the cache): it is UnknownLastRevision, so a
// writer looks up every given time it may replace instead of trusting a stale copy.
// Use the cache for writing values only, never to show a resource.
type PathCache struct {
	mu      sync.Mutex
	gen     uint64
	off     bool
	entries map[string]*ent.Resource // by clean path
}

// UnknownLastRevision is the LastRevisionAt of a cached resource: later than any value's
// time (years 1 to 9999), so nothing is assumed to be newer than what is stored.
var UnknownLastRevision = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// maxCachedPaths bounds the cache; past it, it starts over (a lookup is cheap to redo).
const maxCachedPaths = 100_000

// NewPathCache returns an empty cache. Only use it where every resource change reaches
// Invalidate on this instance (the server wires ChangeHook and the bus to it).
func NewPathCache() *PathCache {
	return &PathCache{entries: map[string]*ent.Resource{}}
}

// Invalidate forgets everything cached; the next lookup reads the database.
func (c *PathCache) Invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// Disable forgets everything and caches nothing from now on (when invalidations can no
// longer arrive).
func (c *PathCache) Disable() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	c.off = true
	clear(c.entries)
	c.mu.Unlock()
}

// ByPath is ByPath through the cache: the live resource at path, with LastRevisionAt set
// to UnknownLastRevision. A nil cache reads the database every time.
func (c *PathCache) ByPath(ctx context.Context, client *ent.Client, path string) (*ent.Resource, error) {
	if c == nil {
		return byPathForWrite(ctx, client, path)
	}
	clean, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	hit, gen := c.copyOf(clean), c.gen
	c.mu.Unlock()
	if hit != nil {
		return hit, nil
	}
	r, err := byPathForWrite(ctx, client, clean)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.keep(gen, clean, r)
	c.mu.Unlock()
	return r, nil
}

// Cached returns copies of the cached resources among paths (clean paths), as ByPath
// would, and the generation to pass to Keep with what is read for the others. A nil
// cache holds nothing.
func (c *PathCache) Cached(paths []string) (map[string]*ent.Resource, uint64) {
	found := make(map[string]*ent.Resource, len(paths))
	if c == nil {
		return found, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range paths {
		if hit := c.copyOf(p); hit != nil {
			found[p] = hit
		}
	}
	return found, c.gen
}

// Keep caches live resources read from the database by their paths after Cached
// returned gen, unless something changed since.
func (c *PathCache) Keep(gen uint64, read map[string]*ent.Resource) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, r := range read {
		c.keep(gen, p, r)
	}
}

// copyOf is a copy of the entry of a clean path, or nil; c.mu is held.
func (c *PathCache) copyOf(path string) *ent.Resource {
	hit := c.entries[path]
	if hit == nil {
		return nil
	}
	cp := *hit
	return &cp
}

// keep caches a copy of r at path, with its last revision time unknown, if nothing
// changed since gen (then nothing committed in between can be missing from r); c.mu is
// held.
func (c *PathCache) keep(gen uint64, path string, r *ent.Resource) {
	if gen != c.gen || c.off {
		return
	}
	if len(c.entries) >= maxCachedPaths {
		clear(c.entries)
	}
	cp := *r
	last := UnknownLastRevision
	cp.LastRevisionAt = &last
	c.entries[path] = &cp
}

func byPathForWrite(ctx context.Context, client *ent.Client, path string) (*ent.Resource, error) {
	r, err := ByPath(ctx, client, path)
	if err != nil {
		return nil, err
	}
	last := UnknownLastRevision
	r.LastRevisionAt = &last
	return r, nil
}

// ChangeHook is an ent hook on Resource mutations that calls changed after every change
// that can make a cached lookup by path wrong, once it is committed (at once outside a
// transaction, on commit inside one). Creating a resource cannot (the cache holds only
// resources that exist, and a path has one live resource), nor can a change of
// last_revision_at alone (cached copies do not carry it); every other update and every
// delete does. Raw SQL on resources must only ever set last_revision_at.
func ChangeHook(changed func(ctx context.Context)) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil || !affectsPaths(m) {
				return v, err
			}
			rm, ok := m.(*ent.ResourceMutation)
			if !ok {
				changed(ctx)
				return v, nil
			}
			if tx, inTx := rm.Tx(); inTx == nil {
				tx.OnCommit(func(next ent.Committer) ent.Committer {
					return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
						if err := next.Commit(ctx, tx); err != nil {
							return err
						}
						changed(ctx)
						return nil
					})
				})
				return v, nil
			}
			changed(ctx) // not in a transaction: already committed
			return v, nil
		})
	}
}

// affectsPaths reports whether a resource mutation can change what a cached lookup by
// path returns.
func affectsPaths(m ent.Mutation) bool {
	if m.Op().Is(ent.OpCreate) {
		return false
	}
	if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
		return true // deletes
	}
	ignored := []string{resource.FieldLastRevisionAt, resource.FieldUpdatedAt}
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if !slices.Contains(ignored, f) {
			return true
		}
	}
	// Edge changes (parent, organization) are changes too.
	return len(m.AddedEdges()) > 0 || len(m.RemovedEdges()) > 0 || len(m.ClearedEdges()) > 0
}
