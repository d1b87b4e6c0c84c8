package bus_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/bus"
)

// testBuffer is large enough that a test subscriber can fall behind by every event a
// test publishes without being cut off.
const testBuffer = 4096

// checkTwoInstances publishes 1,000 events round-robin through a and b (two instances of
// one cluster bus) on four topics and checks that every subscriber on either instance
// gets each event it matches exactly once, from the right origin, in publish order per
// publisher and topic.
func checkTwoInstances(t *testing.T, a, b bus.Bus) {
	t.Helper()
	const total, topics = 1000, 4
	instances := map[string]bus.Bus{"a": a, "b": b}
	type reader struct {
		name   string
		sub    *bus.Subscription
		wantOf func(i int) bool
	}
	var readers []reader
	for name, inst := range instances {
		readers = append(readers,
			reader{name + " prefix", subscribe(t, inst, "test:/x/*"), func(int) bool { return true }},
			reader{name + " exact", subscribe(t, inst, "test:/x/1", "test:/x/end"), func(i int) bool { return i%topics == 1 }},
		)
	}

	type result struct {
		events []bus.Event
		err    error
	}
	results := make([]result, len(readers))
	var wg sync.WaitGroup
	for k, r := range readers {
		wg.Go(func() {
			// Read until the end marker of both publishers: each follows its publisher's
			// events, so everything is in by then.
			ends := 0
			timeout := time.After(2 * wait)
			for ends < 2 {
				select {
				case e, ok := <-r.sub.C():
					if !ok {
						results[k].err = fmt.Errorf("%s ended: %w", r.name, r.sub.Err())
						return
					}
					if e.Topic == "test:/x/end" {
						ends++
						continue
					}
					results[k].events = append(results[k].events, e)
				case <-timeout:
					results[k].err = fmt.Errorf("%s: timed out with %d events", r.name, len(results[k].events))
					return
				}
			}
		})
	}

	for i := range total {
		from := "a"
		if i%2 == 1 {
			from = "b"
		}
		topic := "test:/x/" + strconv.Itoa(i%topics)
		publish(t, instances[from], topic, from+" "+strconv.Itoa(i))
	}
	publish(t, a, "test:/x/end", "a")
	publish(t, b, "test:/x/end", "b")
	wg.Wait()

	for k, r := range readers {
		if results[k].err != nil {
			t.Fatal(results[k].err)
		}
		seen := make(map[int]bool)
		last := make(map[string]int) // publisher and topic -> last index
		for _, e := range results[k].events {
			from, num, _ := strings.Cut(string(e.Payload), " ")
			i, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("%s: bad payload %q", r.name, e.Payload)
			}
			if seen[i] {
				t.Fatalf("%s: event %d twice", r.name, i)
			}
			seen[i] = true
			if e.Origin != instances[from].Origin() {
				t.Fatalf("%s: event %d has origin %q, want %s's %q", r.name, i, e.Origin, from, instances[from].Origin())
			}
			if want := "test:/x/" + strconv.Itoa(i%topics); e.Topic != want {
				t.Fatalf("%s: event %d on %s, want %s", r.name, i, e.Topic, want)
			}
			key := from + e.Topic
			if prev, ok := last[key]; ok && prev > i {
				t.Fatalf("%s: from %s on %s, event %d after %d", r.name, from, e.Topic, i, prev)
			}
			last[key] = i
		}
		for i := range total {
			if r.wantOf(i) && !seen[i] {
				t.Fatalf("%s: event %d lost (%d received)", r.name, i, len(results[k].events))
			}
			if !r.wantOf(i) && seen[i] {
				t.Fatalf("%s: event %d is not for it", r.name, i)
			}
		}
	}
}

// waitForProbe publishes probes through from until to's subscriber gets one: it proves a
// transport works again after an outage (probes sent during the outage may be lost).
func waitForProbe(t *testing.T, from bus.Bus, sub *bus.Subscription, topic string) {
	t.Helper()
	deadline := time.After(2 * wait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		// Publishing may fail while the broker is away; keep trying.
		_ = from.Publish(t.Context(), topic, []byte("probe "+strconv.Itoa(n)))
		select {
		case e, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if strings.HasPrefix(string(e.Payload), "probe ") {
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatal("no probe arrived after the outage")
		}
	}
}

// checkInOrder publishes n events through from and expects them, in order, on sub.
func checkInOrder(t *testing.T, from bus.Bus, sub *bus.Subscription, topic string, n int) {
	t.Helper()
	for i := range n {
		publish(t, from, topic, "after "+strconv.Itoa(i))
	}
	for i := 0; i < n; {
		e := next(t, sub)
		if strings.HasPrefix(string(e.Payload), "probe ") {
			continue // a late probe
		}
		if want := "after " + strconv.Itoa(i); string(e.Payload) != want {
			t.Fatalf("got %q, want %q", e.Payload, want)
		}
		i++
	}
}
