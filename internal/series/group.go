package series

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// GroupOptions tune group commit.
type GroupOptions struct {
	// MaxValues ends a group when this many values wait (default 1000).
	MaxValues int
	// Linger is how long a lone request waits for company before it is committed (default
	// 1 ms). Requests that arrive while a commit runs join the next group without waiting.
	Linger time.Duration
	// Workers is how many groups commit at once (default 1 on SQLite, which has one
	// writer, and 2 on PostgreSQL).
	Workers int
}

// Group gathers concurrent small writes into one transaction: a request waits until the
// commit that holds its values, so an acknowledged value is stored, and a request whose
// values are refused fails alone. This is how many single-value writes a second become
// cheap: one transaction (and one fsync) carries many.
type Group struct {
	client *ent.Client
	opts   GroupOptions
	in     chan *groupRequest
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

type groupRequest struct {
	ctx      context.Context //nolint:containedctx // the request's own, for its checks
	items    []Item
	stored   []Stored
	itemErrs []ItemError
	err      error
	done     chan struct{}
}

// ErrGroupClosed is returned for writes after Close.
var ErrGroupClosed = errors.New("series: group commit is closed")

// NewGroup starts group commit over client; Close stops it.
func NewGroup(client *ent.Client, opts GroupOptions) *Group {
	if opts.MaxValues <= 0 {
		opts.MaxValues = 1000
	}
	if opts.Linger <= 0 {
		opts.Linger = time.Millisecond
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
		if isPostgres(context.Background(), client) {
			opts.Workers = 2
		}
	}
	g := &Group{client: client, opts: opts, in: make(chan *groupRequest, 4*opts.MaxValues), stop: make(chan struct{})}
	for range opts.Workers {
		g.wg.Add(1)
		go g.run()
	}
	return g
}

// Close stops the workers after the groups in progress (requests still queued fail with
// ErrGroupClosed).
func (g *Group) Close() {
	g.once.Do(func() {
		close(g.stop)
		g.wg.Wait()
		for {
			select {
			case r := <-g.in:
				r.err = ErrGroupClosed
				close(r.done)
			default:
				return
			}
		}
	})
}

// Store is series.Store through group commit: it returns after the transaction holding
// items committed (or failed). When ctx ends first it returns ctx's error; the values may
// still be stored then, as with any request whose answer is lost.
func (g *Group) Store(ctx context.Context, items []Item) ([]Stored, []ItemError, error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	r := &groupRequest{ctx: ctx, items: items, done: make(chan struct{})}
	select {
	case g.in <- r:
	case <-g.stop:
		return nil, nil, ErrGroupClosed
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	select {
	case <-r.done:
		return r.stored, r.itemErrs, r.err
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

func (g *Group) run() {
	defer g.wg.Done()
	for {
		var first *groupRequest
		select {
		case <-g.stop:
			return
		case first = <-g.in:
		}
		batch := []*groupRequest{first}
		n := len(first.items)
		drain := func() {
			for n < g.opts.MaxValues {
				select {
				case r := <-g.in:
					batch = append(batch, r)
					n += len(r.items)
				default:
					return
				}
			}
		}
		drain()
		if len(batch) == 1 && n < g.opts.MaxValues {
			// A lone request waits a moment for company.
			t := time.NewTimer(g.opts.Linger)
		linger:
			for n < g.opts.MaxValues {
				select {
				case r := <-g.in:
					batch = append(batch, r)
					n += len(r.items)
				case <-t.C:
					break linger
				}
			}
			t.Stop()
		}
		g.commit(batch)
	}
}

// commit checks each request on its own (refused items fail only their request), stores
// the rest in one transaction and answers every request. If the transaction fails, each
// request is retried alone, so one request's trouble does not fail the others.
func (g *Group) commit(batch []*groupRequest) {
	ctx := context.Background()
	pg := isPostgres(ctx, g.client)
	var rows []row
	attrs := map[int]Attributes{}
	seqs := map[int]*ent.Resource{}
	live := make([]*groupRequest, 0, len(batch))
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		p, err := prepare(r.ctx, g.client, r.items, i)
		switch {
		case err != nil:
			r.err = err
		case len(p.errs) > 0:
			r.itemErrs = p.errs
			r.err = fault.Wrap(errInvalidItems, fault.BadInput,
				"%d of %d items are invalid, nothing was stored; first: %s", len(p.errs), len(r.items), p.errs[0].Error())
		}
		if r.err != nil {
			close(r.done)
			continue
		}
		rows = append(rows, p.rows...)
		for id, a := range p.attrs {
			attrs[id] = a
		}
		for id, s := range p.seqs {
			seqs[id] = s
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	var kept []row
	var err error
	if pg && oneStatement(rows, attrs) {
		// One script in one round trip, which PostgreSQL runs as one transaction, instead
		// of BEGIN, the script and COMMIT in three.
		kept = rows
		err = store(ctx, g.client, rows, pg)
	} else {
		err = database.WithTx(ctx, g.client, func(tx *ent.Tx) error {
			var err error
			kept, err = commitRows(ctx, tx, rows, attrs, seqs, pg)
			return err
		})
	}
	if err != nil {
		if len(live) == 1 {
			live[0].err = conflictOf(err)
			close(live[0].done)
			return
		}
		for _, r := range live {
			r.stored, r.itemErrs, r.err = Store(r.ctx, g.client, r.items)
			close(r.done)
		}
		return
	}
	byReq := make(map[int][]row, len(live))
	for _, k := range kept {
		byReq[k.req] = append(byReq[k.req], k)
	}
	for i, r := range batch {
		if r.err != nil || r.itemErrs != nil {
			continue
		}
		select {
		case <-r.done:
			continue // answered already (its context ended before the group)
		default:
		}
		r.stored = storedOf(byReq[i], seqs)
		close(r.done)
	}
}

// oneStatement reports whether commitRows would do nothing for rows but store them as one
// PostgreSQL script (storeNumericPostgres): numbers at the server's time (nothing to
// replace, no repeated time) to sequences without min_storage_interval. Most single
// values from controllers are that.
func oneStatement(rows []row, attrs map[int]Attributes) bool {
	if anyInterval(attrs) {
		return false
	}
	for _, r := range rows {
		if r.kind != kindNum || r.given {
			return false
		}
	}
	return true
}
