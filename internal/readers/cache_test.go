package readers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
)

// genReader is the example reader (waveform, one value a second) run through the test
// binary, which appends each run's arguments to the returned file.
func genReader(t *testing.T, product string, levels ...CacheLevel) (*Definition, string) {
	t.Helper()
	runs := filepath.Join(t.TempDir(), "runs.log")
	def := withSwitch(&Definition{ID: "example/" + product, File: filepath.Join(t.TempDir(), "x.dsdf"),
		Reader: []string{os.Args[0], "gen", runs, product}, Format: Das2, Reducible: true, CacheLevels: levels})
	return def, runs
}

func runLines(t *testing.T, runs string) []string {
	t.Helper()
	b, err := os.ReadFile(runs)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func csvSink(t *testing.T, buf *bytes.Buffer) das.Sink {
	t.Helper()
	w, err := convert.NewWriter(buf, convert.Options{Format: convert.CSV})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestStreamReaderOutcomes(t *testing.T) {
	r, _ := newRunner(t)
	def, _ := genReader(t, "waveform")
	var buf bytes.Buffer
	sink := csvSink(t, &buf)
	res, err := Stream(context.Background(), r, def, Request{Start: "2024-01-01T00:00:00", End: "2024-01-01T00:00:10"}, sink)
	if err != nil || res.Records != 10 || !res.Started {
		t.Fatalf("Stream = %+v, %v", res, err)
	}
	_ = sink.Close()
	if lines := strings.Count(buf.String(), "\n"); lines != 11 {
		t.Fatalf("csv has %d lines:\n%s", lines, buf.String())
	}

	// Failure after the headers: started, with the exit status.
	res, err = Stream(context.Background(), r, def, Request{Start: "2024-01-01", End: "2024-01-02", Params: "--fail"}, csvSink(t, new(bytes.Buffer)))
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || !res.Started {
		t.Fatalf("failing reader: %+v, %v", res, err)
	}
	// Failure before any output.
	res, err = Stream(context.Background(), r, def, Request{Start: "2024-01-01", End: "2024-01-02", Params: "--bogus"}, csvSink(t, new(bytes.Buffer)))
	if !errors.As(err, &ee) || ee.Code != 2 || res.Started || !strings.Contains(err.Error(), `unknown parameter "--bogus"`) {
		t.Fatalf("refusing reader: %+v, %v", res, err)
	}
	if _, err := Stream(context.Background(), r, withSwitch(testReader(t, "empty")), Request{Start: "a", End: "b"}, csvSink(t, new(bytes.Buffer))); !errors.Is(err, ErrNoOutput) {
		t.Fatalf("empty reader: %v", err)
	}
	var bad *BadOutputError
	if _, err := Stream(context.Background(), r, withSwitch(testReader(t, "garbage")), Request{Start: "a", End: "b"}, csvSink(t, new(bytes.Buffer))); !errors.As(err, &bad) {
		t.Fatalf("garbage reader: %v", err)
	}
}

func TestCacheComputesBlocksOnceAndServesThemWarm(t *testing.T) {
	r, _ := newRunner(t)
	r.MaxRunning = 4
	level := CacheLevel{Resolution: time.Minute, Period: "hourly", Params: "_noparam"}
	def, runs := genReader(t, "waveform", level)
	c := &Cache{Dir: t.TempDir(), Runner: r, Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }}
	start, end := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)

	serve := func() string {
		var buf bytes.Buffer
		sink := csvSink(t, &buf)
		res, err := c.Serve(context.Background(), def, level, start, end, "", sink)
		if err != nil {
			t.Error(err)
			return ""
		}
		if res.Records != 180 {
			t.Errorf("served %d records, want 180 one-minute bins", res.Records)
		}
		_ = sink.Close()
		return buf.String()
	}
	// Cold, 20 identical requests at once: each block is computed once.
	outs := make([]string, 20)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() { outs[i] = serve() })
	}
	wg.Wait()
	for i := range outs {
		if outs[i] != outs[0] {
			t.Fatalf("request %d got other bytes", i)
		}
	}
	if got := runLines(t, runs); len(got) != 3 {
		t.Fatalf("the reader ran %d times for 3 blocks: %q", len(got), got)
	}
	if st := c.Stats(); st.Computed != 3 {
		t.Fatalf("stats %+v", st)
	}
	// Warm: only files are read.
	before := c.Stats()
	if warm := serve(); warm != outs[0] {
		t.Fatal("the warm answer differs from the cold one")
	}
	if got := runLines(t, runs); len(got) != 3 {
		t.Fatalf("a warm request ran the reader: %q", got)
	}
	if st := c.Stats(); st.Hits-before.Hits != 3 || st.Computed != 3 {
		t.Fatalf("warm stats %+v (before %+v)", st, before)
	}

	// The same bytes as reducing the reader's output directly (das2 binary keeps the
	// reader's real4 values, so both paths carry the same bits).
	das2Of := func(fill func(das.Sink)) []byte {
		var buf bytes.Buffer
		w, err := convert.NewWriter(&buf, convert.Options{Format: convert.Das2})
		if err != nil {
			t.Fatal(err)
		}
		fill(w)
		return buf.Bytes()
	}
	direct := das2Of(func(w das.Sink) {
		red, err := reduce.New(w, reduce.Options{Width: 60, Begin: DasTime(start), HasBegin: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Stream(context.Background(), r, def, Request{Start: ReaderTime(start), End: ReaderTime(end)}, red); err != nil {
			t.Fatal(err)
		}
		_ = red.Close()
	})
	cached := das2Of(func(w das.Sink) {
		if _, err := c.Serve(context.Background(), def, level, start, end, "", w); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
	})
	if !bytes.Equal(direct, cached) || len(cached) < 1000 {
		t.Fatalf("cached answer (%d bytes) differs from the direct reduction (%d bytes)", len(cached), len(direct))
	}

	// A part of a block: only the asked records.
	var part bytes.Buffer
	sink := csvSink(t, &part)
	res, err := c.Serve(context.Background(), def, level, start.Add(30*time.Minute), start.Add(90*time.Minute), "", sink)
	if err != nil || res.Records != 60 {
		t.Fatalf("partial range: %+v, %v", res, err)
	}
}

func TestCacheDoesNotStoreAnOngoingBlock(t *testing.T) {
	r, _ := newRunner(t)
	level := CacheLevel{Resolution: time.Minute, Period: "hourly", Params: "_noparam"}
	def, runs := genReader(t, "waveform", level)
	now := time.Date(2024, 1, 1, 1, 30, 0, 0, time.UTC)
	c := &Cache{Dir: t.TempDir(), Runner: r, Now: func() time.Time { return now }}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 2 {
		if _, err := c.Serve(context.Background(), def, level, start, now, "", csvSink(t, new(bytes.Buffer))); err != nil {
			t.Fatal(err)
		}
	}
	// The finished hour ran once; the ongoing hour ran for each request.
	if got := runLines(t, runs); len(got) != 3 {
		t.Fatalf("reader runs %q", got)
	}
	if _, err := os.Stat(c.blockPath(def, level, start)); err != nil {
		t.Fatalf("finished block not stored: %v", err)
	}
	if _, err := os.Stat(c.blockPath(def, level, start.Add(time.Hour))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ongoing block stored: %v", err)
	}
}

func TestChooseLevel(t *testing.T) {
	def := &Definition{CacheLevels: []CacheLevel{
		{Resolution: 0, Period: "hourly", Params: "_noparam"},
		{Resolution: time.Minute, Period: "daily", Params: "_noparam"},
		{Resolution: time.Hour, Period: "monthly", Params: "_noparam"},
		{Resolution: time.Hour, Period: "monthly", Params: "_hfr"},
	}}
	for _, c := range []struct {
		params string
		res    time.Duration
		want   time.Duration
		ok     bool
	}{
		{"", 0, 0, true},
		{"", 30 * time.Second, 0, true},
		{"", 10 * time.Minute, time.Minute, true},
		{"", 2 * time.Hour, time.Hour, true},
		{"-hfr", 2 * time.Hour, time.Hour, true},
		{"-hfr", time.Minute, 0, false},
		{"-lfr", time.Hour, 0, false},
	} {
		l, ok := Choose(def, c.params, c.res)
		if ok != c.ok || ok && l.Resolution != c.want {
			t.Errorf("Choose(%q, %v) = %+v, %v", c.params, c.res, l, ok)
		}
	}
}

func TestBlocks(t *testing.T) {
	l := CacheLevel{Period: "monthly"}
	got := Blocks(l, time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if len(got) != 2 || got[0] != time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) || got[1] != time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("monthly blocks %v", got)
	}
	if n := len(Blocks(CacheLevel{Period: "daily"}, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))); n != 366 {
		t.Fatalf("daily blocks of 2024: %d", n)
	}
}
