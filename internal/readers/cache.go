package readers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
)

// Cache serves reduced requests from blocks computed once per cache level
// (das-protocols.md 5.7): a block is one period (an hour, a day, ...) of one source and
// params set, reduced to the level's resolution with bins aligned to the block's start,
// stored as a das2 binary file under Dir. A missing block is computed from the reader
// once, however many requests want it at the same moment; a block whose period has not
// ended yet is computed for the request but never stored.
type Cache struct {
	Dir    string
	Runner *Runner
	Log    *slog.Logger
	Now    func() time.Time // default time.Now

	flight   singleflight.Group
	hits     atomic.Int64
	misses   atomic.Int64
	computed atomic.Int64
}

// CacheStats counts blocks: served from files (Hits), not found in files (Misses),
// and reader runs that computed one (Computed: fewer than Misses when requests shared).
type CacheStats struct {
	Hits, Misses, Computed int64
}

// HitRate is the share of blocks served from files.
func (s CacheStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Stats returns the counters since start.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Computed: c.computed.Load()}
}

// Choose picks the cache level for a request with params at resolution res (0: the
// reader's own resolution): same normalized params, a resolution no coarser than asked,
// and of those the coarsest. Reduction that the request needs beyond the level's is the
// caller's (a reducer in front of the sink).
func Choose(def *Definition, params string, res time.Duration) (CacheLevel, bool) {
	np := NormalizeParams(params)
	var best CacheLevel
	found := false
	for _, l := range def.CacheLevels {
		if l.Params != np || l.Resolution > res {
			continue
		}
		if !found || l.Resolution > best.Resolution {
			best, found = l, true
		}
	}
	return best, found
}

// Blocks returns the starts of the level's blocks that cover [start, end).
func Blocks(level CacheLevel, start, end time.Time) []time.Time {
	var out []time.Time
	for b := blockStart(level.Period, start); b.Before(end); b = nextBlock(level.Period, b) {
		out = append(out, b)
	}
	return out
}

func blockStart(period string, t time.Time) time.Time {
	t = t.UTC()
	switch period {
	case "persecond":
		return t.Truncate(time.Second)
	case "perminute":
		return t.Truncate(time.Minute)
	case "hourly":
		return t.Truncate(time.Hour)
	case "monthly":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func nextBlock(period string, b time.Time) time.Time {
	switch period {
	case "persecond":
		return b.Add(time.Second)
	case "perminute":
		return b.Add(time.Minute)
	case "hourly":
		return b.Add(time.Hour)
	case "monthly":
		return b.AddDate(0, 1, 0)
	}
	return b.AddDate(0, 0, 1)
}

// blockPath is where a block lives: DIR/<id>/<params>/<bin-60s|intrinsic>/<YYYY>/<MM>/<start>.d2s.
func (c *Cache) blockPath(def *Definition, level CacheLevel, b time.Time) string {
	res := "intrinsic"
	if level.Resolution > 0 {
		res = "bin-" + strconv.FormatFloat(level.Resolution.Seconds(), 'f', -1, 64) + "s"
	}
	layout := map[string]string{
		"persecond": "2006-01-02T15-04-05", "perminute": "2006-01-02T15-04", "hourly": "2006-01-02T15",
		"daily": "2006-01-02", "monthly": "2006-01",
	}[level.Period]
	return filepath.Join(c.Dir, filepath.FromSlash(def.ID), level.Params, res,
		b.Format("2006"), b.Format("01"), b.Format(layout)+".d2s")
}

// Serve writes the records of [start, end) at level into sink from the level's blocks,
// computing the missing ones: one stream header, each distinct dataset header once. It
// does not close sink. It returns the records written.
func (c *Cache) Serve(ctx context.Context, def *Definition, level CacheLevel, start, end time.Time, params string, sink das.Sink) (Result, error) {
	m := &merging{next: sink, min: DasTime(start), max: DasTime(end), seen: map[int][]byte{}}
	for _, b := range Blocks(level, start, end) {
		data, err := c.block(ctx, def, level, b, params)
		if err != nil {
			return Result{Records: m.records, Started: m.started}, err
		}
		if len(data) == 0 {
			continue // no data in the block
		}
		if _, err := convert.Decode(ctx, bytes.NewReader(data), m, nil); err != nil {
			return Result{Records: m.records, Started: m.started}, fmt.Errorf("cached block %s of %s: %w", b.Format(time.RFC3339), def.ID, err)
		}
	}
	return Result{Records: m.records, Started: m.started}, nil
}

// Fill computes and stores every finished block of [start, end) that is missing, and
// returns how many it computed.
func (c *Cache) Fill(ctx context.Context, def *Definition, level CacheLevel, start, end time.Time, params string) (int, error) {
	before := c.computed.Load()
	for _, b := range Blocks(level, start, end) {
		if _, err := c.block(ctx, def, level, b, params); err != nil {
			return int(c.computed.Load() - before), err
		}
	}
	return int(c.computed.Load() - before), nil
}

// block returns a block's bytes (empty: no data), from its file or computed.
func (c *Cache) block(ctx context.Context, def *Definition, level CacheLevel, b time.Time, params string) ([]byte, error) {
	path := c.blockPath(def, level, b)
	if data, err := os.ReadFile(path); err == nil {
		c.hits.Add(1)
		return data, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading cache block: %w", err)
	}
	c.misses.Add(1)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	finished := !nextBlock(level.Period, b).After(now())
	v, err, _ := c.flight.Do(path, func() (any, error) {
		// Another request may have stored it between our read and now.
		if data, err := os.ReadFile(path); err == nil {
			return data, nil
		}
		data, err := c.compute(context.WithoutCancel(ctx), def, level, b, params)
		if err != nil {
			return nil, err
		}
		if finished {
			if err := writeAtomic(path, data); err != nil {
				return nil, err
			}
		}
		return data, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil //nolint:forcetypeassert // the flight returns only []byte
}

// compute runs the reader for one block and reduces its output to the level. It runs
// without the request's cancellation (other requests may be waiting for the same block)
// but within the Runner's timeout.
func (c *Cache) compute(ctx context.Context, def *Definition, level CacheLevel, b time.Time, params string) ([]byte, error) {
	c.computed.Add(1)
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w, err := convert.NewWriter(bw, convert.Options{Format: convert.Das2})
	if err != nil {
		return nil, err
	}
	sink := w
	if level.Resolution > 0 {
		if sink, err = reduce.New(w, reduce.Options{Width: level.Resolution.Seconds(), Begin: DasTime(b), HasBegin: true}); err != nil {
			return nil, err
		}
	}
	req := Request{Start: ReaderTime(b), End: ReaderTime(nextBlock(level.Period, b)), Params: params, RequestID: "cache"}
	res, err := Stream(ctx, c.Runner, def, req, sink)
	if errors.Is(err, ErrNoOutput) || err == nil && res.Records == 0 {
		return []byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("computing cache block %s of %s: %w", b.Format(time.RFC3339), def.ID, err)
	}
	if err := sink.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".block-*")
	if err != nil {
		return fmt.Errorf("cache block: %w", err)
	}
	_, err = io.Copy(f, bytes.NewReader(data))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("storing cache block: %w", err)
	}
	return nil
}

// merging joins block streams into one: the first stream header, each dataset header
// once (a changed one again), records inside [min, max), no per-block no-data notes.
type merging struct {
	next     das.Sink
	min, max dastime.Time
	seen     map[int][]byte
	started  bool
	records  int64
	current  map[*das.Dataset]*das.Variable
}

func (m *merging) Stream(s *das.Stream) error {
	if m.started {
		return nil
	}
	m.started = true
	return m.next.Stream(s)
}

func (m *merging) Dataset(ds *das.Dataset) error {
	if m.current == nil {
		m.current = map[*das.Dataset]*das.Variable{}
	}
	m.current[ds] = ds.TimeVar()
	if prev, ok := m.seen[ds.ID]; ok && bytes.Equal(prev, ds.Raw) {
		return nil
	}
	m.seen[ds.ID] = append([]byte(nil), ds.Raw...)
	return m.next.Dataset(ds)
}

func (m *merging) Record(r *das.Record) error {
	if tv := m.current[r.DS]; tv != nil {
		if t, ok := r.Time(tv, 0); ok && (t < m.min || t >= m.max) {
			return nil
		}
	}
	m.records++
	return m.next.Record(r)
}

func (m *merging) Comment(c *das.Comment) error { return m.next.Comment(c) }

func (m *merging) Exception(e *das.Exception) error {
	if e.Type == das.NoDataInInterval || e.Type == "NoMatchingData" {
		return nil
	}
	return m.next.Exception(e)
}

func (m *merging) Close() error { return nil }
