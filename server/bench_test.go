package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// BenchmarkUpdateSequencesGraphQL: updateSequences with 1,000 values per call, through
// HTTP, GraphQL, the authorizer and the database (values/s), one client calling after
// the other.
func BenchmarkUpdateSequencesGraphQL(b *testing.B) { benchUpdateSequences(b, 1) }

// BenchmarkUpdateSequencesGraphQLConcurrent4: the same from 4 clients at once, each
// writing its own sequence, as several controllers uploading do.
func BenchmarkUpdateSequencesGraphQLConcurrent4(b *testing.B) { benchUpdateSequences(b, 4) }

func benchUpdateSequences(b *testing.B, clients int) {
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) {
			ts := newTestServer(b, d)
			admin := ts.login(b, "ladmin")
			for w := range clients {
				admin.do(b, fmt.Sprintf(`mutation { createSequence(input: {path: "/lab/data/b%d", dataType: NUMERIC, createParents: true}) { id } }`, w), nil).ok(b)
			}
			const perCall = 1000
			start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := ts.bearer(b, ts.world.Keys["userkey"])
					c.http.Transport = &http.Transport{}
					path := fmt.Sprintf("/lab/data/b%d", w)
					n := w * 1_000_000_000 // each client's own stretch of times
					var body []byte
					for next.Add(1) <= int64(b.N) {
						body, n = updateSequencesBody(body[:0], path, start, n, perCall)
						c.doBody(b, body).ok(b)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "values/s")
		})
	}
}

// updateSequencesBody appends the JSON body of one updateSequences call of count values
// to path, at start + n ms onwards, and returns it with the next n. It writes the JSON
// itself: what is measured is the server, and a controller's encoding runs on the
// controller (encoding/json through maps cost the in-process client about 8 % of the
// CPU the benchmark measured).
func updateSequencesBody(body []byte, path string, start time.Time, n, count int) ([]byte, int) {
	body = append(body, `{"query":"mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }","variables":{"v":[`...)
	for i := range count {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"path":"`...)
		body = append(body, path...)
		body = append(body, `","value":"`...)
		body = strconv.AppendInt(body, int64(n%1000), 10)
		body = append(body, `","timestamp":"`...)
		body = start.Add(time.Duration(n)*time.Millisecond).AppendFormat(body, time.RFC3339Nano)
		body = append(body, `"}`...)
		n++
	}
	return append(body, "]}}"...), n
}

// BenchmarkUpdateSequenceConcurrent32: single-value updateSequence calls from 32 clients at
// once, each on its own sequence and its own keep-alive connection, as fast as they go
// (req/s, p50 and p99 latency).
func BenchmarkUpdateSequenceConcurrent32(b *testing.B) { benchUpdateSequence(b, 0) }

// BenchmarkUpdateSequenceAt500rps: the same 32 clients, paced to 500 requests/s in all, for
// the latency at that load (DESIGN.md: p99 < 20 ms).
func BenchmarkUpdateSequenceAt500rps(b *testing.B) { benchUpdateSequence(b, 500) }

// BenchmarkUpdateSequenceAt1000rps: paced to 1,000 requests/s (issue 11: p99 < 10 ms on
// SQLite, < 20 ms on PostgreSQL).
func BenchmarkUpdateSequenceAt1000rps(b *testing.B) { benchUpdateSequence(b, 1000) }

func benchUpdateSequence(b *testing.B, rate int) {
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) {
			ts := newTestServer(b, d)
			admin := ts.login(b, "ladmin")
			const workers = 32
			for w := range workers {
				admin.do(b, fmt.Sprintf(`mutation { createSequence(input: {path: "/lab/data/s%d", dataType: NUMERIC, createParents: true}) { id } }`, w), nil).ok(b)
			}
			secret := ts.world.Keys["userkey"]
			var mu sync.Mutex
			var lat []time.Duration
			jobs := make(chan int)
			var wg, warm sync.WaitGroup
			warmStart := time.Now()
			for w := range workers {
				wg.Add(1)
				warm.Add(1)
				go func() {
					defer wg.Done()
					q := fmt.Sprintf(`mutation { updateSequence(path: "/lab/data/s%d", value: "1.5") { number } }`, w)
					// Each client keeps its own connection, as a controller does (the shared
					// default transport keeps only two idle connections per host, so 32
					// clients sharing it dialed a new connection for most requests).
					key := ts.bearer(b, secret)
					key.http.Transport = &http.Transport{}
					// One request before the clock starts: the connection, the key and the
					// path are then known, as on a server that has been running; the
					// figures are the steady state (the cold start is reported apart).
					key.do(b, q, nil).ok(b)
					warm.Done()
					for range jobs {
						t0 := time.Now()
						key.do(b, q, nil).ok(b)
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}()
			}
			warm.Wait()
			warmup := time.Since(warmStart)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if rate > 0 {
					// Request i is due at start + i/rate; a late one goes at once, so
					// the pace holds on average (a ticker drops the ticks it misses).
					if wait := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); wait > 0 {
						time.Sleep(wait)
					}
				}
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(warmup.Microseconds())/1000, "warmup-ms")
		})
	}
}
