// Package series stores and reads sequence values (time series of numbers, text, images
// and JSON). It may import ent, internal/tree, internal/database, internal/fault and streams.
package series

import (
	"context"
	"fmt"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Value is one sequence value. Exactly one of Num and Text is set.
type Value struct {
	Time time.Time
	Num  *float64
	Text *string
}

// Micros converts a time to the stored timestamp (µs since 1970 UTC).
func Micros(t time.Time) int64 { return t.UnixMicro() }

// insertChunk bounds one multi-row INSERT well below SQLite's bound-parameter limit.
const insertChunk = 1000

// Append stores values of the sequence seq in one transaction with multi-row inserts.
func Append(ctx context.Context, client *ent.Client, seq *ent.Resource, values []Value) error {
	if seq.Type != tree.Sequence {
		return fault.New(fault.BadInput, "%s is not a sequence", seq.Path)
	}
	if len(values) == 0 {
		return nil
	}
	return database.WithTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		last := values[0].Time
		for start := 0; start < len(values); start += insertChunk {
			end := min(start+insertChunk, len(values))
			builders := make([]*ent.RevisionCreate, 0, end-start)
			for _, v := range values[start:end] {
				b := c.Revision.Create().SetResourceID(seq.ID).SetTimestamp(Micros(v.Time))
				switch {
				case v.Num != nil:
					b.SetNum(*v.Num).SetSize(8)
				case v.Text != nil:
					b.SetText(*v.Text).SetSize(int64(len(*v.Text)))
				}
				if v.Time.After(last) {
					last = v.Time
				}
				builders = append(builders, b)
			}
			if err := c.Revision.CreateBulk(builders...).Exec(ctx); err != nil {
				return fmt.Errorf("store values of %s: %w", seq.Path, err)
			}
		}
		if err := c.Resource.UpdateOneID(seq.ID).SetLastRevisionAt(last).Exec(ctx); err != nil {
			return fmt.Errorf("update %s: %w", seq.Path, err)
		}
		return nil
	})
}
