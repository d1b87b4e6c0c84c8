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
	echoes   map[string]chan struct{}
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

// PublishValues announces stored values (call after the commit).
func (l *Live) PublishValues(ctx context.Context, stored []series.Stored) {
	for _, s := range stored {
		if s.Sequence == nil {
			continue
		}
		l.publish(ctx, valueTopic(s.Sequence.Path), Value{
			SequenceID: s.Sequence.ID, Path: s.Sequence.Path, Timestamp: s.Time,
			Num: s.Num, Text: s.Text, ContentType: s.ContentType,
		})
	}
}

// AccessChanged announces that someone's access changed: every instance forgets its cached
// identities and every live stream re-checks its viewer. This instance's cache is cleared
// at once; then it waits (up to a second) until the announcement came back through the
// bus, which is when the other instances have it too, so a request that follows on
// another instance sees the change.
func (l *Live) AccessChanged(ctx context.Context, reason string) {
	if l.onAccess != nil {
		l.onAccess()
	}
	nonce := rand.Text()
	wait := l.awaitEcho(nonce)
	l.publish(ctx, AccessTopic, map[string]string{"reason": reason, "nonce": nonce})
	select {
	case <-wait:
	case <-time.After(time.Second):
		l.log.WarnContext(ctx, "live: an access change did not come back through the bus within a second")
	case <-ctx.Done():
	}
	l.forgetEcho(nonce)
}

// WatchAccess calls onChange for every access change announced on any instance (and
// directly for this one's), until ctx ends; onLost if the watch breaks. The server uses it
// to invalidate the authorizer's cache (and to turn the cache off if the watch breaks).
func (l *Live) WatchAccess(ctx context.Context, onChange, onLost func()) error {
	l.onAccess = onChange
	sub, err := l.bus.Subscribe(ctx, AccessTopic)
	if err != nil {
		return err
	}
	go func() {
		defer sub.Close()
		for e := range sub.C() {
			onChange()
			var m struct{ Nonce string }
			if json.Unmarshal(e.Payload, &m) == nil && m.Nonce != "" {
				l.echoMu.Lock()
				if ch := l.echoes[m.Nonce]; ch != nil {
					close(ch)
					delete(l.echoes, m.Nonce)
				}
				l.echoMu.Unlock()
			}
		}
		if err := sub.Err(); err != nil && ctx.Err() == nil {
			// Cut off (too slow, or the bus closed): stop caching rather than serve stale.
			l.log.Error("live: the access watch ended; identity caching is off", "err", err)
			onLost()
		}
	}()
	return nil
}

func (l *Live) awaitEcho(nonce string) <-chan struct{} {
	ch := make(chan struct{})
	l.echoMu.Lock()
	if l.echoes == nil {
		l.echoes = map[string]chan struct{}{}
	}
	l.echoes[nonce] = ch
	l.echoMu.Unlock()
	if l.onAccess == nil {
		close(ch) // nobody watches: nothing to wait for
		l.echoMu.Lock()
		delete(l.echoes, nonce)
		l.echoMu.Unlock()
	}
	return ch
}

func (l *Live) forgetEcho(nonce string) {
	l.echoMu.Lock()
	delete(l.echoes, nonce)
	l.echoMu.Unlock()
}

func (l *Live) publish(ctx context.Context, topic string, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = l.bus.Publish(context.WithoutCancel(ctx), topic, b)
	}
	if err != nil {
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
