package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
)

// liveness is what presence needs of the controller liveness store.
type liveness interface {
	Connected(ctx context.Context, controllerID int, clientVersion string) (time.Time, error)
	Disconnected(ctx context.Context, controllerID int, connectedAt time.Time) error
	KeepAlive(ctx context.Context, held func() []int)
}

// presence tracks the controllers whose keys hold a websocket open to this instance and
// keeps their heartbeat fresh in the database, so every instance sees them online; when
// this instance dies the heartbeats stop and they go offline within the liveness TTL.
type presence struct {
	store liveness
	log   *slog.Logger

	mu    sync.Mutex
	conns map[int]*held // controller id -> its websockets here
}

type held struct {
	n           int
	connectedAt time.Time
}

func newPresence(store liveness, log *slog.Logger) *presence {
	return &presence{store: store, log: log, conns: map[int]*held{}}
}

type presenceKey struct{}

// connect records that v's controller opened a websocket; the returned context marks the
// connection so that disconnect can undo it.
func (p *presence) connect(ctx context.Context, v *access.Viewer, clientVersion string) context.Context {
	if p == nil || v == nil || v.Controller == nil {
		return ctx
	}
	id := v.Controller.ID
	at, err := p.store.Connected(ctx, id, clientVersion)
	if err != nil {
		p.log.WarnContext(ctx, "controller connected", "controller", v.Controller.Path, "err", err)
	}
	p.mu.Lock()
	h := p.conns[id]
	if h == nil {
		h = &held{}
		p.conns[id] = h
	}
	h.n++
	h.connectedAt = at
	p.mu.Unlock()
	return context.WithValue(ctx, presenceKey{}, id)
}

// disconnect undoes connect when the websocket closes.
func (p *presence) disconnect(ctx context.Context) {
	id, ok := ctx.Value(presenceKey{}).(int)
	if p == nil || !ok {
		return
	}
	p.mu.Lock()
	h := p.conns[id]
	var at time.Time
	last := h != nil && h.n <= 1
	if h != nil {
		h.n--
		at = h.connectedAt
	}
	if last {
		delete(p.conns, id)
	}
	p.mu.Unlock()
	if last {
		if err := p.store.Disconnected(context.WithoutCancel(ctx), id, at); err != nil {
			p.log.Warn("controller disconnected", "controller", id, "err", err)
		}
	}
}

// run keeps the heartbeats of the controllers connected here fresh until ctx ends.
func (p *presence) run(ctx context.Context) {
	p.store.KeepAlive(ctx, func() []int {
		p.mu.Lock()
		defer p.mu.Unlock()
		ids := make([]int, 0, len(p.conns))
		for id := range p.conns {
			ids = append(ids, id)
		}
		return ids
	})
}
