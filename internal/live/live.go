// Package live tells subscribers what just happened: folder messages, stored sequence
// values and access changes travel as events on the bus (internal/bus), the one way events
// move between instances. It defines the topics and event payloads, publishes after the
// domain packages commit, and turns bus subscriptions into per-viewer streams that
// re-check access whenever an access change is announced. It may import ent, internal/bus,
// internal/access, internal/series, internal/tree, internal/fault and the standard library.
package live

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/series"
)

// Topics. Paths go into topics whole, so a prefix subscription on "msg:/a/b/*" sees the
// folders below /a/b (never the sibling /a/bc).
const (
	messageTopicPrefix = "msg:"
	valueTopicPrefix   = "val:"
	// AccessTopic carries access changes (a key revoked, a membership removed, a grant
	// revoked, a password changed); every live stream re-checks its viewer on it.
	AccessTopic = "access"
)

func messageTopic(folderPath string) string { return messageTopicPrefix + folderPath }
func valueTopic(seqPath string) string      { return valueTopicPrefix + seqPath }

// Message is a folder message as it travels.
type Message struct {
	ID                 int            `json:"id"`
	FolderID           int            `json:"folderId"`
	FolderPath         string         `json:"folder"`
	Type               string         `json:"type"`
	Parameters         map[string]any `json:"parameters,omitempty"`
	Timestamp          time.Time      `json:"timestamp"`
	SenderUserID       *int           `json:"senderUserId,omitempty"`
	SenderControllerID *int           `json:"senderControllerId,omitempty"`
}

// Value is a stored sequence value as it travels. Image values carry no bytes (readers
// load them when asked), so events stay small.
type Value struct {
	SequenceID  int       `json:"sequenceId"`
	Path        string    `json:"path"`
	Timestamp   time.Time `json:"timestamp"`
	Num         *float64  `json:"num,omitempty"`
	Text        *string   `json:"text,omitempty"`
	ContentType string    `json:"contentType,omitempty"`
}

// Live publishes and subscribes on one bus.
type Live struct {
	bus    bus.Bus
	authz  *access.Authorizer
	client *ent.Client
	log    *slog.Logger
	// Recheck is how often a stream re-checks access even without an announced change
	// (a safety net: announcements are the fast path).
	Recheck time.Duration

	onAccess func()
	echoMu   sync.Mutex
	acks     map[string]chan string // nonce -> acknowledging origins
	alive    map[string]time.Time   // instance origin -> last heard
}

// New returns a Live over b.
func New(b bus.Bus, client *ent.Client, authz *access.Authorizer, log *slog.Logger) *Live {
	return &Live{bus: b, authz: authz, client: client, log: log, Recheck: time.Minute}
}

// Bus is the bus events travel on.
func (l *Live) Bus() bus.Bus { return l.bus }

// PublishMessage announces a stored message. A failure is logged, not returned: the
// message is stored and readable whatever happens to its announcement.
func (l *Live) PublishMessage(ctx context.Context, m Message) {
	l.publish(ctx, messageTopic(m.FolderPath), m)
}

// valueBatch is the event of one write's values of one sequence, in the order stored: one
// event per sequence and write, not one per value, so a batch of 1,000 values costs one
// encoding and one bus message.
type valueBatch struct {
	Values []Value `json:"values"`
}

// DecodeValues reads a value event (topic val:<path>) from the bus: the values of one
// sequence in the order stored; nil when the payload is not one.
func DecodeValues(payload []byte) []Value {
	var b valueBatch
	if err := json.Unmarshal(payload, &b); err != nil {
		return nil
	}
	return b.Values
}

// PublishValues announces stored values (call after the commit): one event per sequence,
// holding its values in the order stored.
func (l *Live) PublishValues(ctx context.Context, stored []series.Stored) {
	var order []*ent.Resource
	bySeq := map[int][]Value{}
	for _, s := range stored {
		if s.Sequence == nil {
			continue
		}
		vs, seen := bySeq[s.Sequence.ID]
		if !seen {
			order = append(order, s.Sequence)
			if len(order) == 1 {
				vs = make([]Value, 0, len(stored)) // most writes go to one sequence
			}
		}
		bySeq[s.Sequence.ID] = append(vs, Value{
			SequenceID: s.Sequence.ID, Path: s.Sequence.Path, Timestamp: s.Time,
			Num: s.Num, Text: s.Text, ContentType: s.ContentType,
		})
	}
	var buf []byte
	for _, seq := range order {
		vs := bySeq[seq.ID]
		if need := len(vs) * (96 + len(seq.Path)); cap(buf) < need {
			buf = make([]byte, 0, need) // about what a numeric value takes
		}
		buf = appendValueBatch(buf[:0], vs)
		l.publishBytes(ctx, valueTopic(seq.Path), buf)
	}
}

// AccessChanged announces that someone's access changed: every instance forgets its cached
// identities and every live stream re-checks its viewer. This instance's cache is cleared
// at once; then it waits (up to two seconds) until every running instance acknowledged
// the announcement, so the next request on any instance sees the change.
func (l *Live) AccessChanged(ctx context.Context, reason string) {
	if l.onAccess != nil {
		l.onAccess()
	}
	nonce := rand.Text()
	want := l.instances()
	acks := l.awaitAcks(nonce)
	defer l.forgetAcks(nonce)
	l.publish(ctx, AccessTopic, accessEvent{Reason: reason, Nonce: nonce})
	if l.onAccess == nil {
		return // nobody here watches: nothing to wait for
	}
	deadline := time.After(ackTimeout)
	got := map[string]bool{}
	for !covers(got, want) {
		select {
		case origin := <-acks:
			got[origin] = true
		case <-deadline:
			l.log.WarnContext(ctx, "live: not every instance acknowledged an access change", "want", len(want), "got", len(got))
			return
		case <-ctx.Done():
			return
		}
	}
}

// Topics of the acknowledged invalidation: each instance announces itself on
// instanceTopic every instanceBeat, and acknowledges every access event on ackTopic.
const (
	ackTopic      = "access-ack"
	instanceTopic = "instance"
	instanceBeat  = 5 * time.Second
	ackTimeout    = 2 * time.Second
)

type accessEvent struct {
	Reason string `json:"reason"`
	Nonce  string `json:"nonce"`
}

type ackEvent struct {
	Nonce  string `json:"nonce"`
	Origin string `json:"origin"`
}

func covers(got map[string]bool, want []string) bool {
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

// instances are the instances heard from within three beats (this one included).
func (l *Live) instances() []string {
	l.echoMu.Lock()
	defer l.echoMu.Unlock()
	out := []string{l.bus.Origin()}
	for origin, seen := range l.alive {
		if origin != l.bus.Origin() && time.Since(seen) < 3*instanceBeat {
			out = append(out, origin)
		}
	}
	return out
}

// WatchAccess calls onChange for every access change announced on any instance (and
// directly for this one's) and acknowledges it, until ctx ends; onLost if the watch
// breaks. The server uses it to invalidate the authorizer's cache (and to turn the cache
// off if the watch breaks). It also announces this instance to the others.
func (l *Live) WatchAccess(ctx context.Context, onChange, onLost func()) error {
	l.onAccess = onChange
	sub, err := l.bus.Subscribe(ctx, AccessTopic, ackTopic, instanceTopic)
	if err != nil {
		return err
	}
	origin := l.bus.Origin()
	l.publish(ctx, instanceTopic, map[string]string{"origin": origin})
	go func() {
		t := time.NewTicker(instanceBeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := l.bus.Publish(ctx, instanceTopic, []byte(`{"origin":"`+origin+`"}`)); errors.Is(err, bus.ErrClosed) {
					return
				}
			}
		}
	}()
	go func() {
		defer sub.Close()
		for e := range sub.C() {
			switch e.Topic {
			case AccessTopic:
				onChange()
				var m accessEvent
				if json.Unmarshal(e.Payload, &m) == nil && m.Nonce != "" {
					l.publish(ctx, ackTopic, ackEvent{Nonce: m.Nonce, Origin: origin})
				}
			case ackTopic:
				var m ackEvent
				if json.Unmarshal(e.Payload, &m) == nil {
					l.echoMu.Lock()
					if ch := l.acks[m.Nonce]; ch != nil {
						select {
						case ch <- m.Origin:
						default:
						}
					}
					l.echoMu.Unlock()
				}
			case instanceTopic:
				var m struct{ Origin string }
				if json.Unmarshal(e.Payload, &m) == nil && m.Origin != "" {
					l.echoMu.Lock()
					if l.alive == nil {
						l.alive = map[string]time.Time{}
					}
					_, known := l.alive[m.Origin]
					l.alive[m.Origin] = time.Now()
					l.echoMu.Unlock()
					if !known && m.Origin != origin {
						// A new instance: tell it about this one at once.
						l.publish(ctx, instanceTopic, map[string]string{"origin": origin})
					}
				}
			}
		}
		switch err := sub.Err(); {
		case err == nil || ctx.Err() != nil:
		case errors.Is(err, bus.ErrClosed):
			onLost() // the bus was replaced or is shutting down: no more invalidations
		default:
			// Cut off (too slow): stop caching rather than serve stale.
			l.log.Error("live: the access watch ended; identity caching is off", "err", err)
			onLost()
		}
	}()
	return nil
}

func (l *Live) awaitAcks(nonce string) <-chan string {
	ch := make(chan string, 64)
	l.echoMu.Lock()
	if l.acks == nil {
		l.acks = map[string]chan string{}
	}
	l.acks[nonce] = ch
	l.echoMu.Unlock()
	return ch
}

func (l *Live) forgetAcks(nonce string) {
	l.echoMu.Lock()
	delete(l.acks, nonce)
	l.echoMu.Unlock()
}

func (l *Live) publish(ctx context.Context, topic string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		l.log.WarnContext(ctx, "live: publish", "topic", topic, "err", err)
		return
	}
	l.publishBytes(ctx, topic, b)
}

// publishBytes publishes an encoded event; the bus does not keep payload after Publish
// returns.
func (l *Live) publishBytes(ctx context.Context, topic string, payload []byte) {
	if err := l.bus.Publish(context.WithoutCancel(ctx), topic, payload); err != nil {
		l.log.WarnContext(ctx, "live: publish", "topic", topic, "err", err)
	}
}

// Ended says why a stream ended; it is the last thing a stream reports.
type Ended struct{ Reason string }

func (e *Ended) Error() string { return e.Reason }

func endReason(err error) *Ended {
	switch {
	case errors.Is(err, bus.ErrSlowConsumer):
		return &Ended{Reason: "disconnected: the client was too slow to keep up with the updates"}
	case errors.Is(err, bus.ErrClosed):
		return &Ended{Reason: "the server is shutting down; reconnect"}
	}
	return &Ended{Reason: fmt.Sprintf("subscription ended: %v", err)}
}
