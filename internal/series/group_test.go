package series_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Many concurrent single-value writes through group commit: every acknowledged value is
// stored, once, with rollups that match.
func TestGroupCommitStoresEveryAcknowledgedValue(t *testing.T) {
	for _, serverTime := range []bool{false, true} {
		// Server times are the one-statement path on PostgreSQL (oneStatement).
		t.Run(map[bool]string{false: "given times", true: "server times"}[serverTime], func(t *testing.T) {
			groupCommitStoresEveryAcknowledgedValue(t, serverTime)
		})
	}
}

func groupCommitStoresEveryAcknowledgedValue(t *testing.T, serverTime bool) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		seqs := make([]*ent.Resource, 4)
		for i := range seqs {
			seqs[i] = newSeq(t, c, "s"+string(rune('a'+i)), tree.Numeric, nil)
		}
		g := series.NewGroup(c, series.GroupOptions{})
		t.Cleanup(g.Close)
		const writers, each = 32, 25
		var wg sync.WaitGroup
		var mu sync.Mutex
		acked := map[int]int{}
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seq := seqs[w%len(seqs)]
				for i := range each {
					at := base.Add(time.Duration(w*each+i) * time.Second)
					if serverTime {
						at = series.ServerTime()
					}
					stored, _, err := g.Store(t.Context(), []series.Item{{Resource: seq, Value: float64(i), Time: &at, ServerTime: serverTime}})
					if err != nil {
						t.Errorf("writer %d value %d: %v", w, i, err)
						return
					}
					if len(stored) != 1 || !stored[0].Time.Equal(at) || stored[0].Sequence.ID != seq.ID {
						t.Errorf("writer %d value %d: stored %+v", w, i, stored)
					}
					mu.Lock()
					acked[seq.ID]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, seq := range seqs {
			rs := revisions(t, c, seq.ID)
			if len(rs) != acked[seq.ID] {
				t.Errorf("sequence %s: %d values stored, %d acknowledged", seq.Path, len(rs), acked[seq.ID])
			}
			checkRollups(t, c, seq.ID)
			// last_revision_at follows the newest value.
			fresh, err := c.Resource.Get(t.Context(), seq.ID)
			if err != nil || len(rs) == 0 || fresh.LastRevisionAt == nil || series.Micros(*fresh.LastRevisionAt) != rs[len(rs)-1].Timestamp {
				t.Errorf("sequence %s: last_revision_at %v after %d values (%v)", seq.Path, fresh.LastRevisionAt, len(rs), err)
			}
		}
	})
}

// A refused value fails only its own request, not the others of its group.
func TestGroupCommitBadValueFailsAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := db.Client
		newOrg(t, c)
		num := newSeq(t, c, "num", tree.Numeric, map[string]any{"max": 100.0})
		// A long linger makes the three requests one group.
		g := series.NewGroup(c, series.GroupOptions{Linger: 300 * time.Millisecond, Workers: 1})
		t.Cleanup(g.Close)
		values := []any{1.0, 500.0, "warm", 2.0}
		errs := make([]error, len(values))
		var wg sync.WaitGroup
		for i, v := range values {
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := base.Add(time.Duration(i) * time.Second)
				_, _, errs[i] = g.Store(context.Background(), []series.Item{{Resource: num, Value: v, Time: &at}})
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[3] != nil {
			t.Fatalf("good values failed: %v, %v", errs[0], errs[3])
		}
		if !fault.Is(errs[1], fault.BadInput) || !fault.Is(errs[2], fault.BadInput) {
			t.Fatalf("bad values: %v, %v", errs[1], errs[2])
		}
		rs := revisions(t, c, num.ID)
		if len(rs) != 2 || *rs[0].Num != 1 || *rs[1].Num != 2 {
			t.Fatalf("stored %d values", len(rs))
		}
		checkRollups(t, c, num.ID)
	})
}
