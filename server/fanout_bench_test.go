package server

// The live fan-out benchmark (issue 10): 1,000 subscribers on one folder while a sender
// steps its rate, against rhizoflex on each bus and, in the same run and with the same
// harness, against the machine's MQTT broker and NATS with 1,000 subscribers on one topic.
//
// rhizoflex runs as separate processes (the real binary, built at the start of the run),
// so server CPU and RSS are the server's alone, read from /proc like the brokers'. The
// 1,000 clients all live in the benchmark process on the same machine, so clients and
// servers share its cores; the client process CPU is reported beside the server's.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"

	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

// fanoutSettings are BenchmarkFanout's knobs, read from the environment so a quick run
// needs no code change.
type fanoutSettings struct {
	step        time.Duration // RHIZOFLEX_FANOUT_STEP, how long each rate is held (default 20s)
	rates       []int         // RHIZOFLEX_FANOUT_RATES, messages/s (default 10,20,50,100,200,500)
	subscribers int           // RHIZOFLEX_FANOUT_SUBSCRIBERS (default 1000)
	mqttURL     string        // RHIZOFLEX_TEST_MQTT (default tcp://127.0.0.1:1883)
}

func loadFanoutSettings(b *testing.B) fanoutSettings {
	b.Helper()
	s := fanoutSettings{
		step: 20 * time.Second, rates: []int{10, 20, 50, 100, 200, 500}, subscribers: 1000,
		mqttURL: "tcp://127.0.0.1:1883",
	}
	if v := os.Getenv("RHIZOFLEX_FANOUT_STEP"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("RHIZOFLEX_FANOUT_STEP=%q: want a positive duration such as 2s", v)
		}
		s.step = d
	}
	if v := os.Getenv("RHIZOFLEX_FANOUT_RATES"); v != "" {
		s.rates = nil
		for _, f := range strings.Split(v, ",") {
			r, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || r <= 0 {
				b.Fatalf("RHIZOFLEX_FANOUT_RATES=%q: want positive integers separated by commas", v)
			}
			s.rates = append(s.rates, r)
		}
	}
	if v := os.Getenv("RHIZOFLEX_FANOUT_SUBSCRIBERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("RHIZOFLEX_FANOUT_SUBSCRIBERS=%q: want a positive integer", v)
		}
		s.subscribers = n
	}
	if v := os.Getenv("RHIZOFLEX_TEST_MQTT"); v != "" {
		s.mqttURL = v
	}
	return s
}

// BenchmarkFanout steps the send rate against 1,000 subscribers per configuration and
// reports, per step, what arrived, how late, and what it cost the server. Each step is a
// sub-benchmark run once; its length is RHIZOFLEX_FANOUT_STEP, not -benchtime (keep
// -benchtime at or below the step, the default 1s is). See docs/BENCHMARKS.md.
func BenchmarkFanout(b *testing.B) {
	set := loadFanoutSettings(b)
	// Every client holds a socket in this process; Go raises the soft limit to the hard
	// one at start, so the hard limit is what counts.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(set.subscribers+256) {
		b.Fatalf("open-file limit %d is too low for %d subscribers: raise it (ulimit -n %d)", lim.Cur, set.subscribers, set.subscribers+1024)
	}
	binDir := b.TempDir()
	build := sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, "rhizoflex")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/rhizoflex/rhizoflex").CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build: %w\n%s", err, out)
		}
		return bin, nil
	})
	rhizoflex := func(dialect, busURL string, instances int) func(b *testing.B) fanoutTarget {
		return func(b *testing.B) fanoutTarget {
			bin, err := build()
			if err != nil {
				b.Fatal(err)
			}
			return startRhizoflexTarget(b, bin, dialect, busURL, instances)
		}
	}
	configs := []struct {
		name, what string
		open       func(b *testing.B) fanoutTarget
	}{
		{"rhizoflex-sqlite", "rhizoflex, one instance, in-process bus, SQLite", rhizoflex("sqlite", "", 1)},
		{"rhizoflex-postgres-notify-x2", "rhizoflex, two instances, PostgreSQL LISTEN/NOTIFY bus", rhizoflex("postgres", "", 2)},
		{"rhizoflex-nats-x2", "rhizoflex, two instances on PostgreSQL, NATS bus", rhizoflex("postgres", natsURL(), 2)},
		{mqttBroker, mqttBroker + " " + set.mqttURL + ", MQTT QoS 0 (paho.mqtt.golang)", func(b *testing.B) fanoutTarget { return openMQTTTarget(b, set.mqttURL) }},
		{"nats-direct", "NATS " + natsURL() + ", core publish/subscribe (nats.go)", func(b *testing.B) fanoutTarget { return openNATSTarget(b, natsURL()) }},
	}
	var tables []fanoutTable
	for _, c := range configs {
		b.Run(c.name, func(b *testing.B) {
			target := c.open(b)
			ctx, cancel := context.WithCancel(context.Background())
			r := &fanoutRun{ctx: ctx, target: target, set: set, base: time.Now()}
			// Registered last, so it runs first: subscribers go before their servers.
			b.Cleanup(func() {
				cancel()
				r.waitGone(15 * time.Second)
			})
			table := fanoutTable{name: c.name, what: c.what, loadBefore: loadAverage()}
			if err := r.ensure(); err != nil {
				b.Fatal(err)
			}
			// stopped is why the remaining steps are not run: the subscribers did not
			// all come back after an overloaded step (a backlog still draining).
			var stopped error
			for i, rate := range set.rates {
				var res *fanoutResult
				b.Run("rate="+strconv.Itoa(rate), func(b *testing.B) {
					// A step runs once: if the framework calls again for a larger b.N
					// (-benchtime above the step), it gets the same result.
					if res == nil {
						if stopped == nil {
							stopped = r.ensure()
						}
						if stopped != nil {
							res = &fanoutResult{Rate: rate, NotRun: stopped.Error()}
							table.rows = append(table.rows, *res)
						} else {
							res = new(fanoutResult)
							*res = r.step(i+1, rate)
							table.rows = append(table.rows, *res)
						}
					}
					if res.NotRun != "" {
						b.Skipf("not run: %s", res.NotRun)
					}
					res.report(b)
				})
			}
			table.loadAfter = loadAverage()
			tables = append(tables, table)
		})
	}
	// Straight to stdout: a parent benchmark's own log is shown only with -v.
	printFanout(os.Stdout, set, tables)
}

// fanoutTarget is one system under test: what the subscribers listen to and the sender
// publishes on.
type fanoutTarget interface {
	// subscribe connects subscriber i, ready to receive once it returns; recv gets each
	// message body it receives. The channel closes when the subscriber is gone (cut off,
	// disconnected or ctx ended).
	subscribe(ctx context.Context, i int, recv func(body []byte)) (<-chan struct{}, error)
	// publish sends message seq carrying mark.
	publish(ctx context.Context, seq int, mark []byte) error
	// senders is how many publishes may be in flight at once.
	senders() int
	// pids are the server processes whose CPU and RSS are reported.
	pids() []int
}

// fanoutRun drives one target: keeps its subscribers connected and runs the steps.
type fanoutRun struct {
	ctx    context.Context
	target fanoutTarget
	set    fanoutSettings
	base   time.Time // latencies are differences of monotonic readings since base
	subs   []*fanoutSub
	cur    atomic.Pointer[fanoutStats] // the step being measured
}

type fanoutSub struct {
	done <-chan struct{}
	warm atomic.Bool // got a warm-up message since the last ensure
}

func (r *fanoutRun) now() int64 { return int64(time.Since(r.base)) }

// recv is subscriber s's receipt: the latency is measured here, in the client, from the
// send time carried in the message.
func (r *fanoutRun) recv(s *fanoutSub) func([]byte) {
	return func(body []byte) {
		now := r.now()
		step, sent, ok := parseFanoutMark(body)
		switch {
		case !ok:
		case step == 0:
			s.warm.Store(true)
		default:
			if st := r.cur.Load(); st != nil && st.step == step {
				st.add(now - sent)
			}
		}
	}
}

// ensure (re)connects every subscriber that is gone (the first time: all of them) and
// waits until each has received a warm-up message, so a step starts with all of them
// listening.
func (r *fanoutRun) ensure() error {
	if r.subs == nil {
		r.subs = make([]*fanoutSub, r.set.subscribers)
	}
	var missing []int
	for i, s := range r.subs {
		if s == nil || isClosed(s.done) {
			missing = append(missing, i)
		}
	}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for _, i := range missing {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s := &fanoutSub{}
			done, err := r.target.subscribe(r.ctx, i, r.recv(s))
			if err != nil {
				mu.Lock()
				firstErr = cmpOr(firstErr, fmt.Errorf("subscriber %d: %w", i, err))
				mu.Unlock()
				return
			}
			s.done = done
			r.subs[i] = s
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for _, s := range r.subs {
		s.warm.Store(false)
	}
	// A backlog from the step before drains first; a publisher that lost its connection
	// gets the same 60 s to come back.
	deadline := time.Now().Add(60 * time.Second)
	var sendErr error
	for seq := 0; ; seq++ {
		if err := r.target.publish(r.ctx, seq, appendFanoutMark(nil, 0, r.now())); err != nil {
			sendErr = err
		}
		for range 25 {
			time.Sleep(20 * time.Millisecond)
			cold := 0
			for _, s := range r.subs {
				if !s.warm.Load() {
					cold++
				}
			}
			if cold == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				err := fmt.Errorf("%d of %d subscribers received no warm-up message within 60 s", cold, len(r.subs))
				if sendErr != nil {
					err = fmt.Errorf("%w; the last send failed: %w", err, sendErr)
				}
				return err
			}
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitGone waits (at most d) for every subscriber to be gone once the run's context ended.
func (r *fanoutRun) waitGone(d time.Duration) {
	timeout := time.After(d)
	for _, s := range r.subs {
		if s == nil {
			continue
		}
		select {
		case <-s.done:
		case <-timeout:
			return
		}
	}
}

func (r *fanoutRun) alive() int {
	n := 0
	for _, s := range r.subs {
		if !isClosed(s.done) {
			n++
		}
	}
	return n
}

// step sends at rate for the step duration from senders() workers, each stamping the
// time it sends, then waits for the deliveries to drain (until all arrived, nothing
// arrived for 2 s, or 10 s passed) and measures.
func (r *fanoutRun) step(id, rate int) fanoutResult {
	st := &fanoutStats{step: id}
	alive := r.alive()
	total := int(float64(rate) * r.set.step.Seconds())
	cpu0, self0 := processCPU(r.target.pids()), selfCPU()
	start := time.Now()
	r.cur.Store(st)
	defer r.cur.Store(nil)

	var sent, failed atomic.Int64
	var errOnce sync.Once
	var sendErr error
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range r.target.senders() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range jobs {
				if err := r.target.publish(r.ctx, seq, appendFanoutMark(nil, id, r.now())); err != nil {
					failed.Add(1)
					errOnce.Do(func() { sendErr = err })
					continue
				}
				sent.Add(1)
			}
		}()
	}
	// Messages still waiting for a free sender when the step ends are not sent: a rate
	// the senders cannot keep shows as a lower sent/s, not as a longer step.
	over := time.NewTimer(r.set.step)
	defer over.Stop()
schedule:
	for seq := range total {
		time.Sleep(time.Until(start.Add(time.Duration(seq) * time.Second / time.Duration(rate))))
		select {
		case jobs <- seq:
		case <-over.C:
			break schedule
		case <-r.ctx.Done():
			break schedule
		}
	}
	close(jobs)
	wg.Wait()
	sendTime := time.Since(start)
	time.Sleep(time.Until(start.Add(r.set.step))) // a step lasts at least its length

	expected := sent.Load() * int64(alive)
	last, lastChange := st.delivered.Load(), time.Now()
	for drainEnd := time.Now().Add(10 * time.Second); time.Now().Before(drainEnd); time.Sleep(10 * time.Millisecond) {
		d := st.delivered.Load()
		if d >= expected {
			break
		}
		if d != last {
			last, lastChange = d, time.Now()
		} else if time.Since(lastChange) > 2*time.Second {
			break
		}
	}
	wall := time.Since(start)
	cpu1, self1 := processCPU(r.target.pids()), selfCPU()
	res := fanoutResult{
		Rate: rate, Sent: sent.Load(), Failed: failed.Load(), SendErr: sendErr,
		SentRate: float64(sent.Load()) / max(sendTime, r.set.step).Seconds(), Alive: alive,
		Delivered: st.delivered.Load(), Expected: expected,
		Max:            float64(st.max.Load()) / 1e6,
		ServerCPU:      100 * (cpu1 - cpu0).Seconds() / wall.Seconds(),
		ClientCPU:      100 * (self1 - self0).Seconds() / wall.Seconds(),
		ServerRSS:      processRSS(r.target.pids()),
		CPUPerDelivery: float64((cpu1 - cpu0).Microseconds()) / math.Max(1, float64(st.delivered.Load())),
		CutOff:         alive - r.alive(),
	}
	// A bucket's upper edge may pass the largest latency seen.
	res.P50, res.P99 = min(st.quantile(0.50), res.Max), min(st.quantile(0.99), res.Max)
	res.Held = res.Failed == 0 && res.Delivered >= res.Expected && res.Expected > 0 &&
		res.P99 < 100 && res.SentRate >= 0.95*float64(rate)
	return res
}

// fanoutStats collects one step's deliveries: a count, the maximum and a histogram of
// 1 % wide logarithmic latency buckets from 1 µs (so p50 and p99 are within 1 %).
type fanoutStats struct {
	step      int
	delivered atomic.Int64
	max       atomic.Int64
	buckets   [2400]atomic.Int64
}

var fanoutBucketBase = math.Log(1.01)

func (s *fanoutStats) add(latency int64) {
	s.delivered.Add(1)
	for m := s.max.Load(); latency > m && !s.max.CompareAndSwap(m, latency); m = s.max.Load() {
	}
	i := 0
	if us := float64(latency) / 1e3; us >= 1 {
		i = min(int(math.Log(us)/fanoutBucketBase)+1, len(s.buckets)-1)
	}
	s.buckets[i].Add(1)
}

// quantile is the upper edge of the bucket holding the q-quantile, in milliseconds.
func (s *fanoutStats) quantile(q float64) float64 {
	n := s.delivered.Load()
	if n == 0 {
		return math.NaN()
	}
	want := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range s.buckets {
		seen += s.buckets[i].Load()
		if seen >= want {
			return math.Pow(1.01, float64(i)) / 1e3
		}
	}
	return math.Inf(1)
}

// The mark every message carries: `"m":"<step>.<send time in ns since base>"`, found in
// the received bytes without decoding them (the clients share the cores with the server,
// so they stay cheap).
var fanoutMarkKey = []byte(`"m":"`)

func appendFanoutMark(dst []byte, step int, sent int64) []byte {
	dst = strconv.AppendInt(dst, int64(step), 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, sent, 10)
}

func parseFanoutMark(body []byte) (step int, sent int64, ok bool) {
	i := bytes.Index(body, fanoutMarkKey)
	if i < 0 {
		return 0, 0, false
	}
	rest := body[i+len(fanoutMarkKey):]
	var v [2]int64
	k := 0
	for j, c := range rest {
		switch {
		case c >= '0' && c <= '9':
			v[k] = v[k]*10 + int64(c-'0')
		case c == '.' && k == 0 && j > 0:
			k = 1
		case c == '"' && k == 1:
			return int(v[0]), v[1], true
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// fanoutResult is one step's outcome.
type fanoutResult struct {
	Rate                int
	Sent, Failed        int64
	SendErr             error
	SentRate            float64
	Alive               int
	Delivered, Expected int64
	P50, P99, Max       float64 // ms
	ServerCPU           float64 // % of one core, all server processes
	CPUPerDelivery      float64 // server CPU µs per delivered message
	ServerRSS           float64 // MB, all server processes
	ClientCPU           float64 // % of one core, this process
	CutOff              int
	Held                bool   // nothing lost, p99 < 100 ms, the rate kept
	NotRun              string // why the step was not run
}

func (r fanoutResult) report(b *testing.B) {
	if r.SendErr != nil {
		b.Logf("%d of %d sends failed, the first: %v", r.Failed, r.Failed+r.Sent, r.SendErr)
	}
	b.ReportMetric(r.SentRate, "sent/s")
	b.ReportMetric(100*float64(r.Delivered)/math.Max(1, float64(r.Expected)), "delivered-%")
	b.ReportMetric(r.P50, "p50-ms")
	b.ReportMetric(r.P99, "p99-ms")
	b.ReportMetric(r.Max, "max-ms")
	b.ReportMetric(r.ServerCPU, "server-cpu-%")
	b.ReportMetric(r.CPUPerDelivery, "server-cpu-us/delivery")
	b.ReportMetric(r.ServerRSS, "server-rss-MB")
	b.ReportMetric(r.ClientCPU, "client-cpu-%")
	b.ReportMetric(float64(r.CutOff), "cut-off")
}

type fanoutTable struct {
	name, what            string
	loadBefore, loadAfter string // the machine's load average: others may be working too
	rows                  []fanoutResult
}

func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	return strings.Join(f[:min(3, len(f))], " ")
}

// printFanout writes a Markdown table per configuration and the comparison line.
func printFanout(w io.Writer, set fanoutSettings, tables []fanoutTable) {
	_, _ = fmt.Fprintf(w, "\nLive fan-out: %d subscribers, %s per step\n", set.subscribers, set.step)
	var held []string
	for _, t := range tables {
		_, _ = fmt.Fprintf(w, "\n%s (%s; load average %s before, %s after)\n\n", t.name, t.what, t.loadBefore, t.loadAfter)
		_, _ = fmt.Fprintln(w, "| rate/s | sent/s | delivered / expected | p50 ms | p99 ms | max ms | server CPU % | CPU µs / delivery | server RSS MB | client CPU % | cut off | held |")
		_, _ = fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range t.rows {
			if r.NotRun != "" {
				_, _ = fmt.Fprintf(w, "| %d | not run: %s |||||||||||\n", r.Rate, r.NotRun)
				continue
			}
			mark := "no"
			if r.Held {
				mark = "yes"
			}
			_, _ = fmt.Fprintf(w, "| %d | %.0f | %d / %d (%.2f %%) | %.1f | %.1f | %.1f | %.0f | %.1f | %.0f | %.0f | %d | %s |\n",
				r.Rate, r.SentRate, r.Delivered, r.Expected, 100*float64(r.Delivered)/math.Max(1, float64(r.Expected)),
				r.P50, r.P99, r.Max, r.ServerCPU, r.CPUPerDelivery, r.ServerRSS, r.ClientCPU, r.CutOff, mark)
		}
		held = append(held, fmt.Sprintf("%s %d/s", t.name, heldRate(t.rows)))
	}
	_, _ = fmt.Fprintf(w, "\nHighest rate held (every lower step too; nothing lost, p99 < 100 ms, the rate kept): %s\n",
		strings.Join(held, ", "))
}

// heldRate is the highest rate held with every lower step held too (0: none).
func heldRate(rows []fanoutResult) int {
	best := 0
	for _, r := range rows {
		if !r.Held {
			break
		}
		best = r.Rate
	}
	return best
}

// processCPU is the user+system CPU time of the processes so far (/proc/PID/stat, in
// clock ticks of 1/100 s, the Linux userspace value).
func processCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name may hold spaces; the fields after it are fixed.
		i := bytes.LastIndexByte(raw, ')')
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return total
}

// processRSS is the resident memory of the processes now, in MB.
func processRSS(pids []int) float64 {
	var kb int64
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				kb += n
			}
		}
	}
	return float64(kb) / 1024
}

// selfCPU is this process's user+system CPU time: the clients' cost.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// findProcess returns the id of a running process whose command name is comm (0: none).
func findProcess(comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(raw)) == comm {
			return pid
		}
	}
	return 0
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rhizoflexTarget is rhizoflex as separate server processes of the built binary on one
// database: subscribers are spread over the instances, sends go round-robin.
type rhizoflexTarget struct {
	urls  []string
	auth  string
	http  *http.Client
	procs []int
}

const fanoutSubscription = `{"id":"1","type":"subscribe","payload":{"query":"subscription { folderMessages(path: \"/lab/data\") { id type parameters } }"}}`

func startRhizoflexTarget(b *testing.B, bin, dialect, busURL string, instances int) *rhizoflexTarget {
	b.Helper()
	ctx := context.Background()
	dbURL := dbtest.URL(b, dialect)
	db, err := database.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	world := fixture.Build(b, db)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	t := &rhizoflexTarget{
		auth: "Bearer " + world.Keys["userkey"],
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	b.Cleanup(t.http.CloseIdleConnections)
	for range instances {
		url, pid := startRhizoflexProcess(b, bin, dbURL, busURL)
		t.urls = append(t.urls, url)
		t.procs = append(t.procs, pid)
	}
	return t
}

// startRhizoflexProcess runs `rhizoflex serve` on a free loopback port and waits until it
// is ready; it is stopped (SIGTERM, then SIGKILL) when b ends. env adds to its environment.
func startRhizoflexProcess(b *testing.B, bin, dbURL, busURL string, env ...string) (string, int) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	dir := b.TempDir()
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir // no stray rhizoflex.yaml
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"RHIZOFLEX_LISTEN=" + addr, "RHIZOFLEX_DATABASE_URL=" + dbURL, "RHIZOFLEX_DATA_DIR=" + dir,
		"RHIZOFLEX_BUS_URL=" + busURL, "RHIZOFLEX_LOG_LEVEL=warn", "RHIZOFLEX_SHUTDOWN_TIMEOUT=5s",
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
	})
	url := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, cmd.Process.Pid
			}
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			b.Fatalf("rhizoflex serve exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			b.Fatalf("rhizoflex serve not ready within 60 s:\n%s", out)
		}
	}
}

func (t *rhizoflexTarget) senders() int { return 32 }
func (t *rhizoflexTarget) pids() []int  { return t.procs }

// publish is sendMessage over HTTP with the user key, to the instances in turn.
func (t *rhizoflexTarget) publish(ctx context.Context, seq int, mark []byte) error {
	body := make([]byte, 0, 200)
	body = append(body, `{"query":"mutation($p: JSON) { sendMessage(path: \"/lab/data\", type: \"bench\", parameters: $p) { id } }","variables":{"p":{"m":"`...)
	body = append(body, mark...)
	body = append(body, `"}}}`...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.urls[seq%len(t.urls)]+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", t.auth)
	resp, err := t.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) {
		return fmt.Errorf("sendMessage: %d %s", resp.StatusCode, raw)
	}
	return nil
}

// subscribe opens one graphql-transport-ws connection with one folderMessages
// subscription. Frames are classified by their last "type" (gqlgen writes it after the
// payload) and never decoded whole.
func (t *rhizoflexTarget) subscribe(ctx context.Context, i int, recv func([]byte)) (<-chan struct{}, error) {
	url := "ws" + strings.TrimPrefix(t.urls[i%len(t.urls)], "http") + "/graphql"
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	init := `{"type":"connection_init","payload":{"Authorization":"` + t.auth + `"}}`
	if err := conn.Write(dialCtx, websocket.MessageText, []byte(init)); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	for {
		_, msg, err := conn.Read(dialCtx)
		if err != nil {
			_ = conn.CloseNow()
			return nil, err
		}
		if typ := frameType(msg); typ == "connection_ack" {
			break
		} else if typ != "ping" {
			_ = conn.CloseNow()
			return nil, fmt.Errorf("connection_init answered with %s", msg)
		}
	}
	if err := conn.Write(dialCtx, websocket.MessageText, []byte(fanoutSubscription)); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = conn.CloseNow() }()
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				return
			}
			switch frameType(msg) {
			case "next":
				if bytes.Contains(msg, []byte(`"errors"`)) {
					return // ended by the server, e.g. cut off as too slow
				}
				recv(msg)
			case "ping":
				if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`)); err != nil {
					return
				}
			case "complete", "error":
				return
			}
		}
	}()
	return done, nil
}

// frameType is the value of the last "type" key of a graphql-transport-ws frame.
func frameType(msg []byte) string {
	key := []byte(`"type":"`)
	i := bytes.LastIndex(msg, key)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return string(rest[:j])
	}
	return ""
}

// mqttBroker is the broker's name and its process's.
const mqttBroker = "mosquitto" //nolint:misspell // the broker, not the insect

// mqttTarget is an MQTT broker: one client connection per subscriber on one topic, QoS 0
// (at most once, like the websocket and core NATS), one publishing connection.
type mqttTarget struct {
	url, topic, id string
	pub            mqtt.Client
	pid            int
}

func openMQTTTarget(b *testing.B, url string) *mqttTarget {
	b.Helper()
	t := &mqttTarget{url: url, id: randomSuffix(), pid: findProcess(mqttBroker)}
	t.topic = "rhizoflex-fanout/" + t.id
	if t.pid == 0 {
		b.Logf("no %s process found: its CPU and RSS are not reported", mqttBroker)
	}
	pub, err := t.connect("pub", nil)
	if err != nil {
		b.Fatalf("MQTT broker %s: %v", url, err)
	}
	t.pub = pub
	b.Cleanup(func() { pub.Disconnect(100) })
	return t
}

// connect opens a client. A subscriber (lost set) stays down when its connection drops,
// so the harness sees it; the publisher reconnects by itself.
func (t *mqttTarget) connect(name string, lost func()) (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().AddBroker(t.url).SetClientID("rf-fanout-" + t.id + "-" + name).
		SetCleanSession(true).SetAutoReconnect(lost == nil).SetConnectRetry(false).
		SetConnectTimeout(30 * time.Second).SetKeepAlive(60 * time.Second).SetWriteTimeout(10 * time.Second)
	if lost != nil {
		opts.SetConnectionLostHandler(func(mqtt.Client, error) { lost() })
	}
	c := mqtt.NewClient(opts)
	if err := waitToken(c.Connect()); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return c, nil
}

func waitToken(tok mqtt.Token) error {
	if !tok.WaitTimeout(30 * time.Second) {
		return errors.New("no answer within 30 s")
	}
	return tok.Error()
}

func (t *mqttTarget) senders() int { return 4 }
func (t *mqttTarget) pids() []int {
	if t.pid == 0 {
		return nil
	}
	return []int{t.pid}
}

func (t *mqttTarget) publish(_ context.Context, _ int, mark []byte) error {
	return waitToken(t.pub.Publish(t.topic, 0, false, fanoutPayload(mark)))
}

func fanoutPayload(mark []byte) []byte {
	p := append([]byte(`{"m":"`), mark...)
	return append(p, `"}`...)
}

func (t *mqttTarget) subscribe(ctx context.Context, i int, recv func([]byte)) (<-chan struct{}, error) {
	done := make(chan struct{})
	var once sync.Once
	end := func() { once.Do(func() { close(done) }) }
	c, err := t.connect(strconv.Itoa(i), end)
	if err != nil {
		return nil, err
	}
	if err := waitToken(c.Subscribe(t.topic, 0, func(_ mqtt.Client, m mqtt.Message) { recv(m.Payload()) })); err != nil {
		c.Disconnect(0)
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	go func() {
		select {
		case <-ctx.Done():
			c.Disconnect(0)
			end()
		case <-done:
		}
	}()
	return done, nil
}

// natsTarget is the NATS server used directly: one connection per subscriber on one
// subject, one publishing connection.
type natsTarget struct {
	url, subject string
	pub          *nats.Conn
	pid          int
}

func openNATSTarget(b *testing.B, url string) *natsTarget {
	b.Helper()
	t := &natsTarget{url: url, subject: "rhizoflex-fanout." + randomSuffix(), pid: findProcess("nats-server")}
	if t.pid == 0 {
		b.Log("no nats-server process found: its CPU and RSS are not reported")
	}
	pub, err := nats.Connect(url, nats.Name("rhizoflex-fanout-pub"))
	if err != nil {
		b.Fatalf("NATS %s: %v", url, err)
	}
	t.pub = pub
	b.Cleanup(pub.Close)
	return t
}

func (t *natsTarget) senders() int { return 4 }
func (t *natsTarget) pids() []int {
	if t.pid == 0 {
		return nil
	}
	return []int{t.pid}
}

func (t *natsTarget) publish(_ context.Context, _ int, mark []byte) error {
	return t.pub.Publish(t.subject, fanoutPayload(mark))
}

func (t *natsTarget) subscribe(ctx context.Context, _ int, recv func([]byte)) (<-chan struct{}, error) {
	done := make(chan struct{})
	var once sync.Once
	end := func() { once.Do(func() { close(done) }) }
	nc, err := nats.Connect(t.url, nats.Name("rhizoflex-fanout-sub"), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { end() }))
	if err != nil {
		return nil, err
	}
	if _, err := nc.Subscribe(t.subject, func(m *nats.Msg) { recv(m.Data) }); err != nil {
		nc.Close()
		return nil, err
	}
	if err := nc.Flush(); err != nil { // the server has the subscription when this returns
		nc.Close()
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			nc.Close()
		case <-done:
		}
	}()
	return done, nil
}
