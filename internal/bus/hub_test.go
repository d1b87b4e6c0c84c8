package bus_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/bus"
)

// wait is how long a test waits for something that should happen at once: long enough to
// never fire on a slow machine, so it only turns a hang into a failure.
const wait = 30 * time.Second

func newHub(t *testing.T, opts bus.Options) *bus.Hub {
	t.Helper()
	h, err := bus.NewHub(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func subscribe(t *testing.T, b bus.Bus, patterns ...string) *bus.Subscription {
	t.Helper()
	s, err := b.Subscribe(t.Context(), patterns...)
	if err != nil {
		t.Fatalf("subscribe %q: %v", patterns, err)
	}
	return s
}

func publish(t *testing.T, b bus.Bus, topic, payload string) {
	t.Helper()
	if err := b.Publish(t.Context(), topic, []byte(payload)); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

// next receives one event or fails the test.
func next(t *testing.T, s *bus.Subscription) bus.Event {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return e
	case <-time.After(wait):
		t.Fatal("no event")
	}
	return bus.Event{}
}

// buffered takes an event that must already be buffered: the hub delivers before Publish
// returns.
func buffered(t *testing.T, s *bus.Subscription) bus.Event {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return e
	default:
		t.Fatal("no event buffered")
	}
	return bus.Event{}
}

// ended waits for the subscription's channel to close, returning what was still buffered.
func ended(t *testing.T, s *bus.Subscription) []bus.Event {
	t.Helper()
	var rest []bus.Event
	timeout := time.After(wait)
	for {
		select {
		case e, ok := <-s.C():
			if !ok {
				return rest
			}
			rest = append(rest, e)
		case <-timeout:
			t.Fatal("subscription did not end")
		}
	}
}

// empty reports whether nothing is buffered for s: since the hub delivers before Publish
// returns, this proves an event was not routed to s.
func empty(s *bus.Subscription) bool { return len(s.C()) == 0 }

func TestHubFanOut(t *testing.T) {
	h := newHub(t, bus.Options{})
	subs := make([]*bus.Subscription, 1000)
	for i := range subs {
		subs[i] = subscribe(t, h, "folder:/org/a")
	}
	other := subscribe(t, h, "folder:/org/b")
	for i := range 100 {
		publish(t, h, "folder:/org/a", strconv.Itoa(i))
	}
	for _, s := range subs {
		for i := range 100 {
			e := buffered(t, s)
			if string(e.Payload) != strconv.Itoa(i) || e.Topic != "folder:/org/a" || e.Origin != h.Origin() {
				t.Fatalf("event %d: got %+v", i, e)
			}
		}
		if !empty(s) {
			t.Fatal("more events than published")
		}
	}
	if !empty(other) {
		t.Fatal("an event reached another topic's subscriber")
	}
}

// A subscriber that stops reading is cut off when its buffer is full, while 100 others
// receive everything. The publisher sends in batches smaller than a buffer and waits for
// the readers after each, so only the stalled subscriber can ever fall behind.
func TestSlowConsumerCutOff(t *testing.T) {
	const buffer, batch, total, readers = 16, 8, 1000, 100
	h := newHub(t, bus.Options{Buffer: buffer})
	slow := subscribe(t, h, "seq:/org/x")

	var (
		batchDone sync.WaitGroup
		finished  sync.WaitGroup
		mu        sync.Mutex
		failures  []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	for r := range readers {
		s := subscribe(t, h, "seq:/org/x")
		finished.Add(1)
		go func() {
			defer finished.Done()
			for i := range total {
				e, ok := <-s.C()
				if !ok {
					fail("reader %d cut off after %d events: %v", r, i, s.Err())
					return
				}
				if got := string(e.Payload); got != strconv.Itoa(i) {
					fail("reader %d: event %d is %q", r, i, got)
				}
				if i%batch == batch-1 {
					batchDone.Done()
				}
			}
		}()
	}

	for i := 0; i < total; i += batch {
		batchDone.Add(readers)
		for j := i; j < i+batch; j++ {
			publish(t, h, "seq:/org/x", strconv.Itoa(j))
		}
		waitFor(t, &batchDone)
		mu.Lock()
		if len(failures) > 0 {
			t.Fatal(failures)
		}
		mu.Unlock()
	}
	waitFor(t, &finished)
	if len(failures) > 0 {
		t.Fatal(failures)
	}

	rest := ended(t, slow)
	if len(rest) != buffer {
		t.Fatalf("slow subscriber kept %d events, want its buffer of %d", len(rest), buffer)
	}
	for i, e := range rest {
		if string(e.Payload) != strconv.Itoa(i) {
			t.Fatalf("slow subscriber event %d is %q", i, e.Payload)
		}
	}
	if !errors.Is(slow.Err(), bus.ErrSlowConsumer) {
		t.Fatalf("slow subscriber ended with %v, want ErrSlowConsumer", slow.Err())
	}
}

// waitFor waits for wg, failing the test instead of hanging.
func waitFor(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("timed out waiting")
	}
}

func TestPrefixSubscriptions(t *testing.T) {
	h := newHub(t, bus.Options{})
	below := subscribe(t, h, "folder:/a/b/*")
	folder := subscribe(t, h, "folder:/a/b", "folder:/a/b/*") // the folder and everything below
	all := subscribe(t, h, "folder:*")

	cases := []struct {
		topic         string
		below, folder bool
	}{
		{"folder:/a/b/c", true, true},
		{"folder:/a/b/c/d", true, true},
		{"folder:/a/b", false, true},
		{"folder:/a/bc", false, false},   // a sibling sharing the name's start
		{"folder:/a/bc/d", false, false}, // below that sibling
		{"folder:/a", false, false},
	}
	for _, c := range cases {
		publish(t, h, c.topic, c.topic)
		for _, s := range []struct {
			name string
			sub  *bus.Subscription
			want bool
		}{{"below", below, c.below}, {"folder", folder, c.folder}, {"all", all, true}} {
			if !s.want {
				if !empty(s.sub) {
					t.Errorf("%s received %s", s.name, c.topic)
				}
				continue
			}
			if e := next(t, s.sub); e.Topic != c.topic {
				t.Errorf("%s: got %s, want %s", s.name, e.Topic, c.topic)
			}
		}
	}
	publish(t, h, "seq:/a/b/c", "x")
	if !empty(below) || !empty(folder) || !empty(all) {
		t.Error("a folder subscription received a sequence topic")
	}
}

// A subscription matching an event through several patterns gets it once.
func TestOverlappingPatternsDeliverOnce(t *testing.T) {
	h := newHub(t, bus.Options{})
	s := subscribe(t, h, "folder:/a/b/c", "folder:/a/*", "folder:/a/b/*", "folder:*", "folder:/a/b/c")
	publish(t, h, "folder:/a/b/c", "1")
	publish(t, h, "folder:/a/b/c", "2")
	if e := next(t, s); string(e.Payload) != "1" {
		t.Fatalf("got %q", e.Payload)
	}
	if e := next(t, s); string(e.Payload) != "2" {
		t.Fatalf("got %q", e.Payload)
	}
	if !empty(s) {
		t.Fatal("event delivered twice")
	}
	// Ending it removes it from every table at once.
	s.Close()
	if rest := ended(t, s); len(rest) != 0 || s.Err() != nil {
		t.Fatalf("after Close: %d events, err %v", len(rest), s.Err())
	}
	publish(t, h, "folder:/a/b/c", "3")
}

func TestBadTopics(t *testing.T) {
	h := newHub(t, bus.Options{})
	for _, p := range []string{"", "*", "folder:/a/b*", "a*b", "folder:/a/**", "bad\x00topic", "\xff:"} {
		if _, err := h.Subscribe(t.Context(), p); !errors.Is(err, bus.ErrBadTopic) {
			t.Errorf("subscribe %q: %v, want ErrBadTopic", p, err)
		}
	}
	if _, err := h.Subscribe(t.Context()); !errors.Is(err, bus.ErrBadTopic) {
		t.Errorf("subscribe without topics: %v", err)
	}
	for _, topic := range []string{"", "a*", "a\x00", "\xff", string(make([]byte, bus.MaxTopicLen+1))} {
		if err := h.Publish(t.Context(), topic, nil); !errors.Is(err, bus.ErrBadTopic) {
			t.Errorf("publish %q: %v, want ErrBadTopic", topic, err)
		}
	}
	if _, err := bus.NewHub(bus.Options{Origin: "has space"}); err == nil {
		t.Error("origin with a space accepted")
	}
}

func TestSubscriptionEnds(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		h := newHub(t, bus.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		s, err := h.Subscribe(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		publish(t, h, "t", "before")
		cancel()
		rest := ended(t, s)
		if len(rest) != 1 || !errors.Is(s.Err(), context.Canceled) {
			t.Fatalf("got %d events, err %v", len(rest), s.Err())
		}
		publish(t, h, "t", "after") // no subscriber left, no panic on a closed channel
	})
	t.Run("hub closed", func(t *testing.T) {
		h := newHub(t, bus.Options{})
		s := subscribe(t, h, "t", "u/*")
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		ended(t, s)
		if !errors.Is(s.Err(), bus.ErrClosed) {
			t.Fatalf("err %v, want ErrClosed", s.Err())
		}
		if err := h.Publish(t.Context(), "t", nil); !errors.Is(err, bus.ErrClosed) {
			t.Fatalf("publish after close: %v", err)
		}
		if _, err := h.Subscribe(t.Context(), "t"); !errors.Is(err, bus.ErrClosed) {
			t.Fatalf("subscribe after close: %v", err)
		}
		s.Close() // harmless after the end
	})
}

func TestPublishKeepsItsOwnCopy(t *testing.T) {
	h := newHub(t, bus.Options{})
	s := subscribe(t, h, "t")
	payload := []byte("abc")
	if err := h.Publish(t.Context(), "t", payload); err != nil {
		t.Fatal(err)
	}
	payload[0] = 'X'
	if e := next(t, s); string(e.Payload) != "abc" {
		t.Fatalf("payload changed under the subscriber: %q", e.Payload)
	}
}

// Subscribing and unsubscribing while others publish: run with -race.
func TestHubConcurrentUse(t *testing.T) {
	h := newHub(t, bus.Options{Buffer: 4})
	ctx, stopPublishing := context.WithCancel(t.Context())
	var publishers, subscribers sync.WaitGroup
	for p := range 4 {
		topics := []string{fmt.Sprintf("t:/%d/0", p), fmt.Sprintf("t:/%d/1", p), fmt.Sprintf("t:/%d/2", p)}
		publishers.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				_ = h.Publish(ctx, topics[i%3], nil)
				runtime.Gosched()
			}
		})
	}
	for range 4 {
		subscribers.Go(func() {
			for range 100 {
				s, err := h.Subscribe(t.Context(), "t:/1/1", "t:/2/*", "t:*")
				if err != nil {
					t.Error(err)
					return
				}
				for range 3 {
					<-s.C() // an event, or the close of a subscriber cut off as too slow
				}
				s.Close()
			}
		})
	}
	waitFor(t, &subscribers)
	stopPublishing()
	waitFor(t, &publishers)
}

// A subscription with its own buffer takes a burst the hub's default buffer would have
// cut it off for.
func TestSubscribeBuffer(t *testing.T) {
	const buffer, burst = 4, 100
	h := newHub(t, bus.Options{Buffer: buffer})
	small := subscribe(t, h, "val:*")
	big, err := bus.SubscribeBuffer(t.Context(), h, burst, "val:*")
	if err != nil {
		t.Fatal(err)
	}
	for i := range burst {
		publish(t, h, "val:/s"+strconv.Itoa(i), strconv.Itoa(i))
	}
	for i := range burst {
		e, ok := <-big.C()
		if !ok || string(e.Payload) != strconv.Itoa(i) {
			t.Fatalf("event %d: %q %v (%v)", i, e.Payload, ok, big.Err())
		}
	}
	if err := big.Err(); err != nil {
		t.Fatalf("the big buffer's subscription ended: %v", err)
	}
	n := 0
	for range small.C() {
		n++
	}
	if n != buffer || !errors.Is(small.Err(), bus.ErrSlowConsumer) {
		t.Fatalf("the default buffer's subscription got %d events and %v; want %d and a cut-off", n, small.Err(), buffer)
	}
}
