package sources

import (
	"context"
	"errors"
	"fmt"

	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/streams/das"
)

// Follow is the live tail (follow=1): it writes the stream and dataset headers at once,
// then src's values from r.Min on, then every value stored in src afterwards as updates
// delivers it, flushing after each, until ctx ends (the client left) or the
// updates end (access lost: an exception is appended and the reason returned). A value
// whose time is not after the last one written is skipped: a live tail is in time
// order. updates must have been subscribed before Follow is called, so nothing stored
// while the history is read is missed.
func (s *Service) Follow(ctx context.Context, src Source, r Read, sink das.Sink, updates *live.Stream[live.Value], exceptionType func(string) string) error {
	ds, err := Dataset(src)
	if err != nil {
		return err
	}
	if err := sink.Stream(StreamHeader(src, Read{Min: r.Min})); err != nil {
		return err
	}
	if err := sink.Dataset(ds); err != nil {
		return err
	}
	if err := sink.Close(); err != nil { // Close flushes: the client sees the stream begin
		return err
	}
	var rec das.Record
	rec.Reset(ds)
	xs, ys := slots(ds)
	index := map[int]int{} // sequence id -> variable
	for j, v := range src.Vars {
		index[v.ID] = j
	}
	last := int64(-1 << 63)
	write := func(micros int64) error {
		rec.Floats[xs] = float64(micros - epoch2000)
		last = micros
		return sink.Record(&rec)
	}
	from := ToTime(r.Min)
	err = s.read(ctx, src, from, nil, func(ts []int64, vals [][]float64) error {
		for i, t := range ts {
			for j, slot := range ys {
				rec.Floats[slot] = vals[j][i]
			}
			if err := write(t); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err == nil {
		err = sink.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the client left
		}
		_ = sink.Exception(&das.Exception{Type: exceptionType(das.ServerError), Message: "reading the values failed"})
		_ = sink.Close()
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case v, ok := <-updates.C():
			if !ok {
				end := updates.Err()
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if end == nil {
					return nil
				}
				var ended *live.Ended
				msg := "the live stream ended"
				if errors.As(end, &ended) {
					msg += ": " + ended.Reason
				}
				_ = sink.Exception(&das.Exception{Type: exceptionType(das.ServerError), Message: msg})
				_ = sink.Close()
				return fmt.Errorf("follow %s: %w", src.ID, end)
			}
			j, ok := index[v.SequenceID]
			t := v.Timestamp.UnixMicro()
			// Variables of a folder source share times: an equal time is a new row.
			if !ok || v.Num == nil || t < last || (t == last && !src.Folder()) || v.Timestamp.Before(from) {
				continue
			}
			for k, slot := range ys {
				rec.Floats[slot] = das.DefaultFill
				if k == j {
					rec.Floats[slot] = *v.Num
				}
			}
			if err := write(t); err != nil {
				return err
			}
			if err := sink.Close(); err != nil {
				return err
			}
		}
	}
}
