package server

// The rhizo MQTT load benchmark (issue 15): many controllers, each publishing one "s,"
// line a second to its own folder over MQTT-over-websocket, while one observer subscribed
// to every controller's topic times the "d," line that comes back after the value is
// stored. The value sent is the send time in µs, so the latency needs no bookkeeping.
// Clients and server share this process and the machine's cores.

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkRhizoMQTT: RHIZOFLEX_RHIZO_CONTROLLERS (default 1000) controllers for
// RHIZOFLEX_RHIZO_SECONDS (default 60) seconds, on each database.
func BenchmarkRhizoMQTT(b *testing.B) {
	controllers, seconds := envInt("RHIZOFLEX_RHIZO_CONTROLLERS", 1000), envInt("RHIZOFLEX_RHIZO_SECONDS", 60)
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) {
			ts := newTestServer(b, d)
			ctx := context.Background()
			lmember := &access.Viewer{User: ts.world.Users["lmember"]}
			if err := ts.app.authz.LoadMemberships(ctx, lmember); err != nil {
				b.Fatal(err)
			}
			keys := make([]string, controllers)
			for i := range controllers {
				path := "/lab/bench/c" + strconv.Itoa(i)
				if _, err := tree.CreateController(ctx, ts.db.Client, path, true); err != nil {
					b.Fatal(err)
				}
				if _, err := tree.Create(ctx, ts.db.Client, tree.CreateParams{Path: path + "/v", Type: tree.Sequence,
					SystemAttributes: map[string]any{"data_type": tree.Numeric}}); err != nil {
					b.Fatal(err)
				}
				var err error
				if _, keys[i], err = ts.app.authz.CreateKeyAsOperator(ctx, access.NewKey{Name: "bench", AsControllerPath: path, RhizoFormat: true}, lmember.User.ID); err != nil {
					b.Fatal(err)
				}
			}
			var mu sync.Mutex
			var latencies []time.Duration
			observer, err := ts.mqtt(b, "key", ts.world.Keys["userkey"])
			if err != nil {
				b.Fatal(err)
			}
			observer.c.AddRoute("#", func(_ mqtt.Client, m mqtt.Message) {
				line := string(m.Payload())
				if !strings.HasPrefix(line, "d,v,") {
					return
				}
				sent, err := strconv.ParseInt(line[strings.LastIndexByte(line, ',')+1:], 10, 64)
				if err == nil {
					mu.Lock()
					latencies = append(latencies, time.Since(time.UnixMicro(sent)))
					mu.Unlock()
				}
			})
			for i := range controllers {
				observer.subscribe("lab/bench/c" + strconv.Itoa(i))
			}
			clients := make([]*mqttClient, controllers)
			for i := range controllers {
				if clients[i], err = ts.mqtt(b, "key", keys[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Spread the controllers over the second.
					time.Sleep(time.Duration(i) * time.Second / time.Duration(controllers))
					tick := time.NewTicker(time.Second)
					defer tick.Stop()
					for s := range seconds {
						now := time.Now()
						line := "s,v," + now.UTC().Format("2006-01-02T15:04:05.000000") + " Z," + strconv.FormatInt(now.UnixMicro(), 10)
						c.c.Publish("lab/bench/c"+strconv.Itoa(i), 0, false, line).Wait()
						if s < seconds-1 {
							<-tick.C
						}
					}
				}()
			}
			wg.Wait()
			want := controllers * seconds
			deadline := time.Now().Add(30 * time.Second)
			for {
				mu.Lock()
				n := len(latencies)
				mu.Unlock()
				if n >= want || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			seqIDs, err := ts.db.Client.Resource.Query().Where(resource.Name("v")).IDs(ctx)
			if err != nil {
				b.Fatal(err)
			}
			stored, err := ts.db.Client.Revision.Query().Where(revision.ResourceIDIn(seqIDs...)).Count(ctx)
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			slices.Sort(latencies)
			got := len(latencies)
			p := func(q float64) time.Duration {
				if got == 0 {
					return 0
				}
				return latencies[min(got-1, int(q*float64(got)))]
			}
			b.Logf("%s: %d controllers x %d s = %d values in %s; stored %d; d, lines %d; latency p50 %s p99 %s max %s",
				d, controllers, seconds, want, elapsed.Round(time.Millisecond), stored, got, p(0.5), p(0.99), p(1))
			mu.Unlock()
			st := ts.app.mqtt.Stats()
			b.Logf("undelivered: bridge queue %d, bridge cut-offs %d, client queue %d", st.BridgeDropped, st.BridgeCutOffs, st.ClientDropped)
			b.ReportMetric(float64(stored), "stored")
			b.ReportMetric(float64(got), "d_lines")
			b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99_ms")
			if stored < want {
				b.Errorf("stored %d of %d values", stored, want)
			}
		})
	}
}
