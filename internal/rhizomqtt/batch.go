package rhizomqtt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Batching: a thousand controllers each publishing a value a second would otherwise cost
// a thousand folder look-ups (the publish check), a thousand sequence look-ups and a
// thousand store requests a second, one after another on each connection's read loop.
// Instead, look-ups that arrive together share one query (lookups), and values that
// arrive together share one look-up query, one round of access checks and one
// group-commit call (ingest). Nothing is cached between batches: every decision reads
// the tree and the grants as they are, so a revoked key, a removed grant or a moved
// folder counts from the next batch on, a few milliseconds later at most. Each
// connection still waits for its own message, so a client's messages keep their order.

const (
	// lookupMax is the most paths one look-up query asks for.
	lookupMax = 500
	// ingestMax ends a batch of values at this many; ingestLinger is how long the first
	// value of a batch waits for company.
	ingestMax    = 1000
	ingestLinger = 2 * time.Millisecond
	// queueLen bounds the requests waiting for a batch; further senders wait (their
	// connections stop being read), nothing is dropped.
	queueLen = 4096
	// lookupWorkers run look-up queries at once.
	lookupWorkers = 2
)

var errClosed = errors.New("mqtt broker closed")

type lookupReq struct {
	paths []string
	found map[string]*ent.Resource
	err   error
	done  chan struct{}
}

// lookup returns the live resources at clean paths (missing ones are absent from the
// map), in one query shared with whoever else looks up at the same moment.
func (b *Broker) lookup(ctx context.Context, paths []string) (map[string]*ent.Resource, error) {
	r := &lookupReq{paths: paths, done: make(chan struct{})}
	select {
	case b.lookups <- r:
	case <-b.ctx.Done():
		return nil, errClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("look up %d paths: %w", len(paths), ctx.Err())
	}
	select {
	case <-r.done:
		return r.found, r.err
	case <-b.ctx.Done():
		return nil, errClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("look up %d paths: %w", len(paths), ctx.Err())
	}
}

// runLookups answers look-ups: whatever waits when a query starts goes into it.
func (b *Broker) runLookups(ctx context.Context) {
	for {
		var first *lookupReq
		select {
		case <-ctx.Done():
			return
		case first = <-b.lookups:
		}
		batch := []*lookupReq{first}
		n := len(first.paths)
	drain:
		for n < lookupMax {
			select {
			case r := <-b.lookups:
				batch = append(batch, r)
				n += len(r.paths)
			default:
				break drain
			}
		}
		seen := make(map[string]bool, n)
		paths := make([]string, 0, n)
		for _, r := range batch {
			for _, p := range r.paths {
				if !seen[p] {
					seen[p] = true
					paths = append(paths, p)
				}
			}
		}
		found, err := b.queryPaths(ctx, paths)
		for _, r := range batch {
			r.err = err
			if err == nil {
				r.found = make(map[string]*ent.Resource, len(r.paths))
				for _, p := range r.paths {
					if res := found[p]; res != nil {
						r.found[p] = res
					}
				}
			}
			close(r.done)
		}
	}
}

func (b *Broker) queryPaths(ctx context.Context, paths []string) (map[string]*ent.Resource, error) {
	found := make(map[string]*ent.Resource, len(paths))
	for start := 0; start < len(paths); start += lookupMax {
		rs, err := b.opts.Client.Resource.Query().
			Where(resource.PathIn(paths[start:min(start+lookupMax, len(paths))]...), tree.NotDeleted()).
			All(ctx)
		if err != nil {
			return nil, fmt.Errorf("look up %d paths: %w", len(paths), err)
		}
		for _, r := range rs {
			found[r.Path] = r
		}
	}
	return found, nil
}

// sequences finds the live resources at paths (clean) to write values to: from the path
// cache, and the rest in one look-up, which the cache then keeps.
func (b *Broker) sequences(ctx context.Context, paths []string) (map[string]*ent.Resource, error) {
	found, gen := b.opts.Paths.Cached(paths)
	var missing []string
	for _, p := range paths {
		if found[p] == nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return found, nil
	}
	read, err := b.lookup(ctx, missing)
	if err != nil {
		return nil, err
	}
	b.opts.Paths.Keep(gen, read)
	for p, r := range read {
		found[p] = r
	}
	return found, nil
}

// ingestReq is one message's values, stored as far as its sender may write them.
type ingestReq struct {
	v     *access.Viewer
	topic string
	items []series.Item
	done  chan struct{}
}

// store stores the items the viewer may write (others are skipped, as the original hub
// did) in a batch with other connections' values, and returns once they are stored and
// announced (or refused).
func (b *Broker) store(ctx context.Context, v *access.Viewer, topic string, items []series.Item) {
	if len(items) == 0 {
		return
	}
	r := &ingestReq{v: v, topic: topic, items: items, done: make(chan struct{})}
	select {
	case b.ingest <- r:
	case <-b.ctx.Done():
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-r.done:
	case <-b.ctx.Done():
	case <-ctx.Done():
	}
}

// collect gathers ingest requests into batches (up to ingestMax values, the first
// waiting at most ingestLinger) and hands them to one storing goroutine, in order; while
// a batch is stored the next one gathers.
func (b *Broker) collect(ctx context.Context, batches chan<- []*ingestReq) {
	defer close(batches)
	for {
		var first *ingestReq
		select {
		case <-ctx.Done():
			return
		case first = <-b.ingest:
		}
		batch := []*ingestReq{first}
		n := len(first.items)
		t := time.NewTimer(ingestLinger)
	gather:
		for n < ingestMax {
			select {
			case r := <-b.ingest:
				batch = append(batch, r)
				n += len(r.items)
			case <-t.C:
				break gather
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		t.Stop()
		select {
		case batches <- batch:
		case <-ctx.Done():
			return
		}
	}
}

func (b *Broker) storeBatches(ctx context.Context, batches <-chan []*ingestReq) {
	for batch := range batches {
		b.storeBatch(ctx, batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// storeBatch looks up every sequence of the batch in one query, keeps the items their
// senders may write, stores them in one group-commit call and announces them.
func (b *Broker) storeBatch(ctx context.Context, batch []*ingestReq) {
	var paths []string
	for _, r := range batch {
		for i, it := range r.items {
			p, err := tree.CleanPath(it.Path)
			if err != nil {
				continue
			}
			r.items[i].Path = p
			paths = append(paths, p)
		}
	}
	found, err := b.sequences(ctx, paths)
	if err != nil {
		b.opts.Log.WarnContext(ctx, "mqtt: values not stored", "values", len(paths), "err", err)
		return
	}
	type decision struct {
		v   *access.Viewer
		seq int
	}
	allowed := map[decision]bool{}
	var kept []series.Item
	var from []*ingestReq // the request of each kept item
	for _, r := range batch {
		for _, it := range r.items {
			seq := found[it.Path]
			if seq == nil || seq.Type != tree.Sequence {
				continue
			}
			d := decision{r.v, seq.ID}
			ok, known := allowed[d]
			if !known {
				ok = b.opts.Authz.Require(ctx, r.v, seq, access.Write) == nil
				allowed[d] = ok
			}
			if !ok {
				continue
			}
			it.Resource = seq
			kept = append(kept, it)
			from = append(from, r)
		}
	}
	if len(kept) == 0 {
		return
	}
	stored, itemErrs, err := b.opts.Store(ctx, kept)
	if err != nil && len(itemErrs) > 0 {
		// Some values do not fit their sequences: say which, store the others.
		bad := make(map[int]bool, len(itemErrs))
		for _, e := range itemErrs {
			bad[e.Index] = true
			b.opts.Log.InfoContext(ctx, "mqtt: value refused", "topic", from[e.Index].topic, "path", kept[e.Index].Path, "err", e.Message)
		}
		rest := kept[:0]
		for i, it := range kept {
			if !bad[i] {
				rest = append(rest, it)
			}
		}
		kept = rest
		if len(kept) == 0 {
			return
		}
		stored, itemErrs, err = b.opts.Store(ctx, kept)
	}
	if err != nil {
		// The batch failed as a whole: store each value alone, so one value's trouble
		// does not cost the others.
		b.opts.Log.InfoContext(ctx, "mqtt: batch refused, storing its values one by one", "values", len(kept), "errors", len(itemErrs), "err", err)
		stored = stored[:0]
		for _, it := range kept {
			s, _, err := b.opts.Store(ctx, []series.Item{it})
			if err != nil {
				b.opts.Log.InfoContext(ctx, "mqtt: value refused", "path", it.Path, "err", err)
				continue
			}
			stored = append(stored, s...)
		}
	}
	b.opts.Live.PublishValues(ctx, stored)
}
