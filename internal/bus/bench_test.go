package bus_test

import (
	"sync"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/bus"
)

// BenchmarkHubFanOut publishes to 1,000 subscribers of one topic, each drained by its own
// goroutine, as 1,000 live views of one folder would be. One op is one published event
// (1,000 deliveries); the publisher waits for every reader after each batch of 64 so that
// none is cut off, which makes this end-to-end throughput, not just the send loop.
func BenchmarkHubFanOut(b *testing.B) {
	for _, c := range []struct{ name, pattern string }{
		{"exact", "folder:/org/site/station"},
		{"prefix", "folder:/org/*"},
	} {
		b.Run(c.name, func(b *testing.B) {
			const subscribers, batch = 1000, 64
			h, err := bus.NewHub(bus.Options{Buffer: 256})
			if err != nil {
				b.Fatal(err)
			}
			var batchDone, readers sync.WaitGroup
			for range subscribers {
				s, err := h.Subscribe(b.Context(), c.pattern)
				if err != nil {
					b.Fatal(err)
				}
				readers.Go(func() {
					n := 0
					for range s.C() {
						if n++; n%batch == 0 {
							batchDone.Done()
						}
					}
				})
			}
			payload := make([]byte, 200)
			ctx := b.Context()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%batch == 0 {
					batchDone.Add(subscribers)
				}
				if err := h.Publish(ctx, "folder:/org/site/station", payload); err != nil {
					b.Fatal(err)
				}
				if i%batch == batch-1 {
					batchDone.Wait()
				}
			}
			b.ReportMetric(float64(b.N)*subscribers/b.Elapsed().Seconds(), "deliveries/s")
			_ = h.Close()
			readers.Wait()
		})
	}
}
