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
	Connected(ctx context.Context, controllerID int, clientVersion string) error
	Heartbeat(ctx context.Context, controllerIDs ...int) error
	Disconnected(ctx context.Context, controllerID int) error
}

// presence tracks the controllers whose keys hold a websocket open to this instance and
// keeps their heartbeat fresh in the database, so every instance sees them online; when
// this instance dies the heartbeats stop and they go offline within the liveness TTL.
type presence struct {
	store    liveness
	log      *slog.Logger
	interval time.Duration

	mu     sync.Mutex
	counts map[int]int // controller id -> open websockets here
}

func newPresence(store liveness, interval time.Duration, log *slog.Logger) *presence {
	return &presence{store: store, log: log, interval: interval, counts: map[int]int{}}
}

type presenceKey struct{}

// connect records that v's controller opened a websocket; the returned context marks the
// connection so that disconnect can undo it.
func (p *presence) connect(ctx context.Context, v *access.Viewer, clientVersion string) context.Context {
	if p == nil || v == nil || v.Controller == nil {
		return ctx
	}
	id := v.Controller.ID
	p.mu.Lock()
	p.counts[id]++
	p.mu.Unlock()
	if err := p.store.Connected(ctx, id, clientVersion); err != nil {
		p.log.WarnContext(ctx, "controller connected", "controller", v.Controller.Path, "err", err)
	}
	return context.WithValue(ctx, presenceKey{}, id)
}

// disconnect undoes connect when the websocket closes.
func (p *presence) disconnect(ctx context.Context) {
	id, ok := ctx.Value(presenceKey{}).(int)
	if p == nil || !ok {
		return
	}
	p.mu.Lock()
	p.counts[id]--
	last := p.counts[id] <= 0
	if last {
		delete(p.counts, id)
	}
	p.mu.Unlock()
	if last {
		if err := p.store.Disconnected(context.WithoutCancel(ctx), id); err != nil {
			p.log.Warn("controller disconnected", "controller", id, "err", err)
		}
	}
}

// run refreshes the heartbeats of the connected controllers every interval until ctx ends.
func (p *presence) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			ids := make([]int, 0, len(p.counts))
			for id := range p.counts {
				ids = append(ids, id)
			}
			p.mu.Unlock()
			if len(ids) == 0 {
				continue
			}
			if err := p.store.Heartbeat(ctx, ids...); err != nil && ctx.Err() == nil {
				p.log.Warn("controller heartbeats", "controllers", len(ids), "err", err)
			}
		}
	}
}
