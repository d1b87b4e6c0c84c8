package series

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func rangeEdgeSQL(rid int, lo, hi int64, desc bool) string {
	order := `"timestamp"`
	if desc {
		order += " DESC"
	}
	return fmt.Sprintf(`SELECT "timestamp" FROM revisions WHERE resource_id = %d AND "timestamp" >= (%d) AND "timestamp" < (%d) ORDER BY %s LIMIT 1`,
		rid, lo, hi, order)
}

func deleteRangeSQL(rid int, lo, hi int64) string {
	return fmt.Sprintf(`DELETE FROM revisions WHERE resource_id = %d AND "timestamp" >= (%d) AND "timestamp" < (%d)`, rid, lo, hi)
}

// DeleteRange deletes seq's values in [from, to) (nil: unbounded) and, in the same
// transaction, recomputes the rollups of the affected buckets and last_revision_at. It
// returns the number of values deleted.
func DeleteRange(ctx context.Context, client *ent.Client, seq *ent.Resource, from, to *time.Time) (int64, error) {
	if err := requireSequence(seq); err != nil {
		return 0, err
	}
	lo, hi := bounds(from, to)
	var n int64
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		first, ok, err := scanOneInt(ctx, tx, rangeEdgeSQL(seq.ID, lo, hi, false))
		if err != nil || !ok {
			return err
		}
		last, _, err := scanOneInt(ctx, tx, rangeEdgeSQL(seq.ID, lo, hi, true))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, deleteRangeSQL(seq.ID, first, last+1))
		if err != nil {
			return fmt.Errorf("delete values: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("delete values: %w", err)
		}
		if err := rebuildRollups(ctx, tx, seq.ID, first, last+1); err != nil {
			return err
		}
		return resetLastRevision(ctx, tx, seq.ID)
	})
	if err != nil {
		return 0, fmt.Errorf("delete values of %s: %w", seq.Path, err)
	}
	return n, nil
}

// resetLastRevision sets last_revision_at to the newest remaining value's time (NULL when
// none remains).
func resetLastRevision(ctx context.Context, q queryer, rid int) error {
	last, ok, err := scanOneInt(ctx, q, firstTsSQL(rid, true))
	if err != nil {
		return err
	}
	var t *time.Time
	if ok {
		tt := TimeOf(last)
		t = &tt
	}
	if _, err := q.ExecContext(ctx, `UPDATE resources SET last_revision_at = $1 WHERE id = $2`, t, rid); err != nil {
		return fmt.Errorf("update last revision time: %w", err)
	}
	return nil
}

// trimCutSQL finds the newest value beyond the keep newest ones.
func trimCutSQL(rid int, keep int64) string {
	return fmt.Sprintf(`SELECT "timestamp", id FROM revisions WHERE resource_id = %d ORDER BY "timestamp" DESC, id DESC LIMIT 1 OFFSET %d`, rid, keep)
}

func trimDeleteSQL(rid int, cut cursor) string {
	return fmt.Sprintf(`DELETE FROM revisions WHERE resource_id = %d AND "timestamp" <= (%d) AND ("timestamp" < (%d) OR id <= %d)`,
		rid, cut.ts, cut.ts, cut.id)
}

// Trim enforces max_history on every live sequence that sets it: only the newest
// max_history values are kept. Each sequence is trimmed in its own transaction, rollups
// included. It returns the number of values deleted.
func Trim(ctx context.Context, client *ent.Client) (int64, error) {
	seqs, err := client.Resource.Query().
		Where(resource.TypeEQ(tree.Sequence), tree.NotDeleted(),
			func(s *entsql.Selector) {
				s.Where(sqljson.HasKey(s.C(resource.FieldSystemAttributes), sqljson.Path(AttrMaxHistory)))
			}).
		All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list sequences with a history limit: %w", err)
	}
	var total int64
	for _, seq := range seqs {
		keep := AttributesOf(seq).MaxHistory
		if keep <= 0 {
			continue
		}
		n, err := trimOne(ctx, client, seq.ID, keep)
		total += n
		if err != nil {
			return total, fmt.Errorf("trim %s: %w", seq.Path, err)
		}
	}
	return total, nil
}

func trimOne(ctx context.Context, client *ent.Client, rid int, keep int64) (int64, error) {
	var n int64
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		rows, err := tx.QueryContext(ctx, trimCutSQL(rid, keep))
		if err != nil {
			return fmt.Errorf("find cut: %w", err)
		}
		var cut cursor
		found := rows.Next()
		if found {
			err = rows.Scan(&cut.ts, &cut.id)
		}
		if err := firstErr(err, rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("find cut: %w", err)
		}
		if !found {
			return nil
		}
		first, _, err := scanOneInt(ctx, tx, firstTsSQL(rid, false))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, trimDeleteSQL(rid, cut))
		if err != nil {
			return fmt.Errorf("delete values: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("delete values: %w", err)
		}
		return rebuildRollups(ctx, tx, rid, first, cut.ts+1)
	})
	return n, err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// RunTrimmer runs Trim now and then every interval until ctx is done, logging what it
// deleted and any error (a failed round is retried at the next tick). Trimming is
// idempotent, so several server instances may run it at once.
func RunTrimmer(ctx context.Context, client *ent.Client, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		start := time.Now()
		n, err := Trim(ctx, client)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			log.ErrorContext(ctx, "series trim failed", "err", err, "deleted", n)
		case n > 0:
			log.InfoContext(ctx, "series trimmed", "deleted", n, "took", time.Since(start))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
