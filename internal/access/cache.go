package access

import (
	"maps"
	"sync"
	"time"
)

// viewerCache keeps, per instance, what authenticating a key and loading memberships read
// from the database, so a controller's steady stream of requests costs no identity
// queries. It is never stale by time: every change to keys, memberships, grants, users or
// resources that can shrink or grow access calls Invalidate on every instance (through
// the bus), and an entry loaded while an invalidation happened is not kept (gen).
type viewerCache struct {
	mu      sync.Mutex
	gen     uint64
	keys    map[string]*cachedKey // by key hash
	members map[int]map[int]bool  // user id -> organization id -> is admin
}

type cachedKey struct {
	viewer   Viewer    // key, user or controller, memberships
	lastUsed time.Time // when last_used_at was last written
}

// maxCachedKeys bounds the key cache; past it, it starts over (keys are cheap to reload).
const maxCachedKeys = 100_000

// EnableCache turns the identity cache on. Only do so where every access change reaches
// InvalidateCache on this instance (the server wires it to the bus).
func (a *Authorizer) EnableCache() {
	a.cache = &viewerCache{keys: map[string]*cachedKey{}, members: map[int]map[int]bool{}}
}

// DisableCache turns the identity cache off (when invalidations can no longer arrive).
func (a *Authorizer) DisableCache() {
	a.InvalidateCache()
	a.cacheOff.Store(true)
}

// InvalidateCache forgets everything cached; the next request reads the database.
func (a *Authorizer) InvalidateCache() {
	c := a.cache
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	c.keys = map[string]*cachedKey{}
	c.members = map[int]map[int]bool{}
	c.mu.Unlock()
}

func (c *viewerCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// key returns a copy of the cached viewer of a key hash, and whether last_used_at is due.
func (c *viewerCache) key(hash string, now time.Time) (*Viewer, bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.keys[hash]
	if e == nil {
		return nil, false, false
	}
	v := e.viewer
	due := now.Sub(e.lastUsed) >= lastUsedResolution
	if due {
		e.lastUsed = now
	}
	return &v, true, due
}

func (c *viewerCache) putKey(gen uint64, hash string, v *Viewer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // an invalidation happened while this was read: it may be stale
	}
	if len(c.keys) >= maxCachedKeys {
		c.keys = map[string]*cachedKey{}
	}
	c.keys[hash] = &cachedKey{viewer: *v, lastUsed: now}
}

func (c *viewerCache) memberships(userID int) (map[int]bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.members[userID]
	return m, ok
}

func (c *viewerCache) putMemberships(gen uint64, userID int, m map[int]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.members) >= maxCachedKeys {
		c.members = map[int]map[int]bool{}
	}
	c.members[userID] = maps.Clone(m)
}
