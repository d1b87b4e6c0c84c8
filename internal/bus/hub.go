package bus

import (
	"context"
	"sync"
)

// Hub routes events to the subscribers of this instance. On its own it is the in-process
// Bus; the cluster transports use one for local delivery.
//
// One mutex guards the routing tables and every delivery, so an event reaches its
// subscribers in the order Publish was called, a subscriber matching an event through
// several patterns gets it once, and a subscription never receives after it ended.
// Delivery to a subscriber is a non-blocking channel send, so holding the lock costs
// microseconds even with thousands of subscribers.
type Hub struct {
	origin string
	buffer int

	mu     sync.Mutex
	exact  map[string][]*Subscription
	prefix map[string][]*Subscription
	stamp  uint64 // counts deliveries; Subscription.stamp dedupes within one
	closed bool
}

// NewHub returns an in-process bus.
func NewHub(opts Options) (*Hub, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Hub{
		origin: opts.Origin,
		buffer: opts.Buffer,
		exact:  make(map[string][]*Subscription),
		prefix: make(map[string][]*Subscription),
	}, nil
}

// Origin returns the id this hub puts on the events it publishes.
func (h *Hub) Origin() string { return h.origin }

// Publish delivers payload to this instance's subscribers of topic.
func (h *Hub) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ValidTopic(topic); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return h.deliver(Event{Topic: topic, Payload: clone(payload), Origin: h.origin})
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Subscribe starts a subscription; see Bus.Subscribe.
func (h *Hub) Subscribe(ctx context.Context, patterns ...string) (*Subscription, error) {
	return h.SubscribeBuffer(ctx, h.buffer, patterns...)
}

// SubscribeBuffer is Subscribe with its own buffer of n events (the hub's when n <= 0),
// for a consumer that takes bursts, such as a bridge to another protocol.
func (h *Hub) SubscribeBuffer(ctx context.Context, n int, patterns ...string) (*Subscription, error) {
	if len(patterns) == 0 {
		return nil, ErrBadTopic
	}
	if n <= 0 {
		n = h.buffer
	}
	s := &Subscription{hub: h, c: make(chan Event, n)}
	for _, p := range patterns {
		t, isPrefix, err := parsePattern(p)
		if err != nil {
			return nil, err
		}
		list := &s.topics
		if isPrefix {
			list = &s.prefixes
		}
		if !contains(*list, t) {
			*list = append(*list, t)
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	for _, t := range s.topics {
		h.exact[t] = append(h.exact[t], s)
	}
	for _, t := range s.prefixes {
		h.prefix[t] = append(h.prefix[t], s)
	}
	// AfterFunc never calls its function synchronously, so registering under the lock is
	// safe; it keeps stopCtx visible to every path that ends the subscription.
	s.stopCtx = context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	return s, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Close ends every subscription with ErrClosed; later calls to Publish and Subscribe fail
// with ErrClosed.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	for _, table := range []map[string][]*Subscription{h.exact, h.prefix} {
		for _, subs := range table {
			for _, s := range append([]*Subscription(nil), subs...) {
				h.endLocked(s, ErrClosed)
			}
		}
	}
	return nil
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// deliver sends e to every matching subscriber, cutting off those whose buffer is full.
func (h *Hub) deliver(e Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	h.stamp++
	var slow []*Subscription
	if subs := h.exact[e.Topic]; len(subs) > 0 {
		slow = h.sendAll(subs, e, slow)
	}
	if len(h.prefix) > 0 {
		// A prefix ends at a separator, so the candidates are the topic's prefixes that
		// end at one: one map lookup per separator, no allocation.
		for i := range len(e.Topic) {
			if isSep(e.Topic[i]) {
				if subs := h.prefix[e.Topic[:i+1]]; len(subs) > 0 {
					slow = h.sendAll(subs, e, slow)
				}
			}
		}
	}
	for _, s := range slow {
		h.endLocked(s, ErrSlowConsumer)
	}
	return nil
}

func (h *Hub) sendAll(subs []*Subscription, e Event, slow []*Subscription) []*Subscription {
	for _, s := range subs {
		if s.stamp == h.stamp {
			continue
		}
		s.stamp = h.stamp
		select {
		case s.c <- e:
		default:
			slow = append(slow, s)
		}
	}
	return slow
}

// wants reports whether an event on topic would reach any subscriber, so a transport can
// skip decoding and fetching what nobody here reads.
func (h *Hub) wants(topic string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.exact[topic]) > 0 {
		return true
	}
	if len(h.prefix) == 0 {
		return false
	}
	for i := range len(topic) {
		if isSep(topic[i]) && len(h.prefix[topic[:i+1]]) > 0 {
			return true
		}
	}
	return false
}

// endLocked removes s from the routing tables and closes its channel; h.mu is held.
func (h *Hub) endLocked(s *Subscription, err error) {
	if s.done {
		return
	}
	s.done = true
	s.err = err
	for _, t := range s.topics {
		h.exact[t] = remove(h.exact[t], s)
		if len(h.exact[t]) == 0 {
			delete(h.exact, t)
		}
	}
	for _, t := range s.prefixes {
		h.prefix[t] = remove(h.prefix[t], s)
		if len(h.prefix[t]) == 0 {
			delete(h.prefix, t)
		}
	}
	close(s.c)
	if s.stopCtx != nil {
		s.stopCtx()
	}
}

// remove deletes s from subs in place; order does not matter.
func remove(subs []*Subscription, s *Subscription) []*Subscription {
	for i, x := range subs {
		if x == s {
			last := len(subs) - 1
			subs[i] = subs[last]
			subs[last] = nil
			return subs[:last]
		}
	}
	return subs
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	hub      *Hub
	c        chan Event
	topics   []string
	prefixes []string

	// Guarded by hub.mu.
	stamp   uint64
	done    bool
	err     error
	stopCtx func() bool
}

// C delivers the events. It is closed when the subscription ends; Err then says why.
func (s *Subscription) C() <-chan Event { return s.c }

// Err reports why the subscription ended: ErrSlowConsumer, ErrClosed, the context's
// error, or nil while it runs and after Close.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription. Events already buffered stay readable from C.
func (s *Subscription) Close() { s.end(nil) }

func (s *Subscription) end(err error) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.endLocked(s, err)
}
