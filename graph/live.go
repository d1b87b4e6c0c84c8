package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/graph/model"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/messages"
	"github.com/rhizoflex/rhizoflex/internal/series"
)

// A subscription that the server ends (access revoked, consumer too slow) must tell the
// client why. gqlgen completes a subscription silently when its channel closes, so the
// forwarder first sends a nil item, which makes one last response, and SubscriptionEnds
// puts the reason into that response's errors.

type endHolder struct {
	mu  sync.Mutex
	err error
}

type endKey struct{}

// SubscriptionEnds is a handler extension that carries the reason a subscription was
// ended by the server into its last response, as an error with a code.
type SubscriptionEnds struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = SubscriptionEnds{}

// ExtensionName implements graphql.HandlerExtension.
func (SubscriptionEnds) ExtensionName() string { return "SubscriptionEnds" }

// Validate implements graphql.HandlerExtension.
func (SubscriptionEnds) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation gives each operation a place for its end reason.
func (SubscriptionEnds) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, endKey{}, &endHolder{}))
}

// InterceptResponse replaces the errors of the response that follows a server-ended
// subscription with the reason.
func (SubscriptionEnds) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	if e := serverEnded(ctx); e != nil {
		resp.Errors = gqlerror.List{e}
	}
	return resp
}

// serverEnded is the error telling why the server ended the subscription of ctx, or nil.
func serverEnded(ctx context.Context) *gqlerror.Error {
	h, _ := ctx.Value(endKey{}).(*endHolder)
	if h == nil {
		return nil
	}
	h.mu.Lock()
	err := h.err
	h.mu.Unlock()
	if err == nil {
		return nil
	}
	e := gqlerror.Errorf("%s", err.Error())
	code := fault.Forbidden
	if fe := (*fault.Error)(nil); errors.As(err, &fe) {
		code = fe.Code
	}
	e.Extensions = map[string]any{"code": string(code)}
	return e
}

// forward copies a live stream into the channel gqlgen reads, converting each item; when
// the server ends the stream it records the reason and sends one nil item.
func forward[T any, U any](ctx context.Context, s *live.Stream[T], conv func(T) *U) <-chan *U {
	out := make(chan *U)
	go func() {
		defer close(out)
		for item := range s.C() {
			select {
			case out <- conv(item):
			case <-ctx.Done():
				return
			}
		}
		err := s.Err()
		if err == nil {
			return
		}
		h, _ := ctx.Value(endKey{}).(*endHolder)
		if h == nil {
			return
		}
		h.mu.Lock()
		h.err = err
		h.mu.Unlock()
		select {
		case out <- nil:
		case <-ctx.Done():
		}
	}()
	return out
}

func messageOf(m live.Message) *ent.Message { return messages.FromEvent(m) }

func valueOf(v live.Value) *live.Value { return &v }

// messageConnection pages messages with id cursors.
func messageConnection(ms []*ent.Message, more, after bool) *model.MessageConnection {
	edges, info := page(ms, func(m *ent.Message) string { return encodeCursor(m.ID) },
		func(n *ent.Message, c string) *model.MessageEdge { return &model.MessageEdge{Node: n, Cursor: c} }, more, after)
	return &model.MessageConnection{Edges: edges, PageInfo: info}
}

// readableOrNil loads resource id and returns it when the viewer may read it, else nil (not
// an error: a reference to something hidden or gone is shown as none).
func (r *Resolver) readableOrNil(ctx context.Context, id int) (*ent.Resource, error) {
	res, err := r.Client.Resource.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load resource: %w", err)
	}
	if res.Deleted {
		return nil, nil
	}
	if denied := r.Authz.Require(ctx, viewer(ctx), res, access.Read); denied != nil {
		return nil, nil //nolint:nilerr // hidden: shown as none, not as an error
	}
	return res, nil
}

// storeValues stores values and announces what was stored. A single value's refusal is
// its own error; a batch's lists every refused item.
func (r *Resolver) storeValues(ctx context.Context, items []series.Item, single bool) error {
	store := series.Store
	if single && r.Group != nil {
		// Single values go through group commit: many requests, one transaction.
		store = func(ctx context.Context, _ *ent.Client, items []series.Item) ([]series.Stored, []series.ItemError, error) {
			return r.Group.Store(ctx, items)
		}
	}
	stored, itemErrs, err := store(ctx, r.Client, items)
	if err != nil {
		if single && len(itemErrs) == 1 {
			return fault.Wrap(err, itemErrs[0].Code, "%s", itemErrs[0].Message)
		}
		return withItemErrors(err, itemErrs)
	}
	if r.Live != nil {
		r.Live.PublishValues(ctx, stored)
	}
	return nil
}

// accessChanged announces, after a successful change (err nil), that someone's access
// may have shrunk, so live subscriptions re-check at once on every instance.
func (r *Resolver) accessChanged(ctx context.Context, err error, reason string) {
	if err == nil && r.Live != nil {
		r.Live.AccessChanged(ctx, reason)
	}
}
