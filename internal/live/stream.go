package live

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Stream is one viewer's live subscription. C delivers events until the stream ends;
// then Err says why (nil when the subscriber went away itself).
type Stream[T any] struct {
	c   chan T
	mu  sync.Mutex
	err error
}

// C delivers the events; it is closed when the stream ends.
func (s *Stream[T]) C() <-chan T { return s.c }

// Err is why the stream ended (an *Ended), or nil.
func (s *Stream[T]) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Stream[T]) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// MessageFilter selects the messages of a folder stream.
type MessageFilter struct {
	Types           []string // empty: all types
	IncludeChildren bool     // also messages to any folder below, made before or after
}

// FolderMessages streams the messages sent to folder (and below it, with
// IncludeChildren) to viewer v, in send order per folder, except those v's own controller
// sent. The caller has checked read access; the stream re-checks it on every announced
// access change and every Recheck, and ends with a reason when it is gone.
func (l *Live) FolderMessages(ctx context.Context, v *access.Viewer, folder *ent.Resource, f MessageFilter) (*Stream[Message], error) {
	patterns := []string{messageTopic(folder.Path)}
	if f.IncludeChildren {
		patterns = append(patterns, messageTopic(folder.Path)+"/*")
	}
	return run(ctx, l, v, folder, patterns, func(topic string, payload []byte) []Message {
		var m Message
		if err := json.Unmarshal(payload, &m); err != nil {
			return nil
		}
		if len(f.Types) > 0 && !slices.Contains(f.Types, m.Type) {
			return nil
		}
		if v.Controller != nil && m.SenderControllerID != nil && *m.SenderControllerID == v.Controller.ID {
			return nil // not back to the controller that sent it
		}
		return []Message{m}
	})
}

// SequenceUpdates streams each value stored in seq, or, for a folder, in every sequence
// directly in it.
func (l *Live) SequenceUpdates(ctx context.Context, v *access.Viewer, res *ent.Resource) (*Stream[Value], error) {
	pattern := valueTopic(res.Path)
	folder := res.Type != tree.Sequence
	if folder {
		pattern += "/*"
	}
	return run(ctx, l, v, res, []string{pattern}, func(topic string, payload []byte) []Value {
		vs := DecodeValues(payload)
		if len(vs) == 0 || folder && tree.ParentPath(vs[0].Path) != res.Path {
			return nil // nothing, or deeper than directly in the folder
		}
		return vs
	})
}

// run subscribes to patterns and the access topic and forwards, in order, the items decode
// returns for each event (none: the event is not for this stream). The
// forwarder blocks while the consumer is busy; the bus buffers behind it and cuts the
// subscription off when that buffer is full, so a slow consumer never holds up the
// publishers or grows memory without bound.
func run[T any](ctx context.Context, l *Live, v *access.Viewer, res *ent.Resource, patterns []string,
	decode func(topic string, payload []byte) []T,
) (*Stream[T], error) {
	sub, err := l.bus.Subscribe(ctx, append(patterns, AccessTopic)...)
	if err != nil {
		return nil, err
	}
	s := &Stream[T]{c: make(chan T)}
	go func() {
		defer close(s.c)
		defer sub.Close()
		recheck := time.NewTicker(l.Recheck)
		defer recheck.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-recheck.C:
				if err := l.stillAllowed(ctx, v, res); err != nil {
					s.end(err)
					return
				}
			case e, ok := <-sub.C():
				if !ok {
					if sub.Err() != nil && ctx.Err() == nil {
						s.end(endReason(sub.Err()))
					}
					return
				}
				if e.Topic == AccessTopic {
					if err := l.stillAllowed(ctx, v, res); err != nil {
						s.end(err)
						return
					}
					continue
				}
				for _, item := range decode(e.Topic, e.Payload) {
					select {
					case s.c <- item:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return s, nil
}

// stillAllowed re-reads the viewer and the resource and says, if read access is gone,
// why, in words for the subscriber. Database trouble keeps the stream (it is not a
// revocation); the next check decides.
func (l *Live) stillAllowed(ctx context.Context, v *access.Viewer, res *ent.Resource) error {
	fresh, err := l.authz.Refresh(ctx, v)
	if err != nil {
		if ended, ok := err.(*access.RefreshError); ok { //nolint:errorlint // returned unwrapped by Refresh
			return &Ended{Reason: ended.Reason}
		}
		l.log.WarnContext(ctx, "live: re-check access", "err", err)
		return nil
	}
	current, err := l.client.Resource.Get(ctx, res.ID)
	if ent.IsNotFound(err) || (err == nil && (current.Deleted || current.Path != res.Path)) {
		return &Ended{Reason: res.Path + " was deleted, renamed or moved"}
	}
	if err != nil {
		l.log.WarnContext(ctx, "live: re-check access", "err", err)
		return nil
	}
	level, err := l.authz.LevelOn(ctx, fresh, current)
	if err != nil {
		l.log.WarnContext(ctx, "live: re-check access", "err", err)
		return nil
	}
	if level >= access.Read {
		return nil
	}
	if org := current.OrganizationID; org != nil && v.IsMember(*org) && !fresh.IsMember(*org) {
		return &Ended{Reason: "your membership of the organization was removed"}
	}
	return &Ended{Reason: "your access to " + res.Path + " was revoked"}
}
