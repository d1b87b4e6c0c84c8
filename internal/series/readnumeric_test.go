package series

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// TestReadWindows reads a sequence with gaps of several days through many small windows
// and several workers: every value arrives once, in time order, whatever the plan (also
// when the rollups the plan comes from are gone), and a callback error stops the readers.
func TestReadWindows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		c := db.Client
		if _, err := account.CreateOrganization(ctx, c, "lab", ""); err != nil {
			t.Fatal(err)
		}
		seq, err := tree.Create(ctx, c, tree.CreateParams{Path: "/lab/w", Type: tree.Sequence,
			SystemAttributes: tree.SequenceAttributes(tree.Numeric, "", 1)})
		if err != nil {
			t.Fatal(err)
		}
		// 4 bursts of 3,000 values 7 s apart (about 6 hours each), 3 days between bursts.
		t0 := time.Date(2025, 7, 1, 0, 30, 0, 0, time.UTC)
		var want []int64
		var items []Item
		for burst := range 4 {
			start := t0.Add(time.Duration(burst) * 72 * time.Hour)
			for i := range 3000 {
				at := start.Add(time.Duration(i) * 7 * time.Second)
				items = append(items, Item{Resource: seq, Value: float64(len(want)), Time: new(at)})
				want = append(want, at.UnixMicro())
			}
		}
		if errs, err := UpdateMany(ctx, c, items); err != nil {
			t.Fatal(errs, err)
		}
		check := func(t *testing.T, windows []window, lo, hi int64) {
			t.Helper()
			next := 0
			for next < len(want) && want[next] < lo {
				next++
			}
			err := readWindows(ctx, c, seq.ID, windows, func(chunk []Point) error {
				for _, p := range chunk {
					if next >= len(want) || p.Micros != want[next] || p.Value != float64(next) {
						t.Fatalf("point %v at position %d is out of order or unexpected", p, next)
					}
					next++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			end := next
			for end < len(want) && want[end] < hi {
				end++
			}
			if next != end {
				t.Fatalf("read up to value %d, want %d", next, end)
			}
		}
		all := func(lo, hi int64) {
			t.Run("plan", func(t *testing.T) {
				windows, err := planWindows(ctx, c, seq.ID, lo, hi, 500)
				if err != nil {
					t.Fatal(err)
				}
				if len(windows) < 10 {
					t.Fatalf("%d windows for 12,000 values at 500 a window", len(windows))
				}
				if windows[0].lo != lo || windows[len(windows)-1].hi != hi {
					t.Fatalf("windows do not cover the range: %d..%d", windows[0].lo, windows[len(windows)-1].hi)
				}
				for i := 1; i < len(windows); i++ {
					if windows[i].lo != windows[i-1].hi || windows[i].lo >= windows[i].hi {
						t.Fatalf("window %d does not follow window %d: %+v %+v", i, i-1, windows[i-1], windows[i])
					}
				}
				check(t, windows, lo, hi)
			})
		}
		all(math.MinInt64, math.MaxInt64)
		all(want[1234], want[9876])
		t.Run("callback error", func(t *testing.T) {
			windows, err := planWindows(ctx, c, seq.ID, math.MinInt64, math.MaxInt64, 500)
			if err != nil {
				t.Fatal(err)
			}
			stop := errors.New("client went away")
			calls := 0
			err = readWindows(ctx, c, seq.ID, windows, func([]Point) error { calls++; return stop })
			if !errors.Is(err, stop) || calls != 1 {
				t.Fatalf("error %v after %d calls, want the callback's after 1", err, calls)
			}
		})
		t.Run("canceled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(ctx)
			err := ReadNumeric(ctx, c, seq, nil, nil, func([]Point) error { cancel(); return nil })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("canceled read: %v", err)
			}
		})
		t.Run("without rollups", func(t *testing.T) {
			if _, err := db.SQL.ExecContext(ctx, `DELETE FROM rollups`); err != nil {
				t.Fatal(err)
			}
			windows, err := planWindows(ctx, c, seq.ID, math.MinInt64, math.MaxInt64, 500)
			if err != nil || len(windows) != 1 {
				t.Fatalf("plan without rollups: %d windows, %v", len(windows), err)
			}
			check(t, windows, math.MinInt64, math.MaxInt64)
		})
	})
}
