// Package series stores and reads sequence values (time series of numbers, text, images
// and JSON): batched ingest with validation and rollups, cursor pages, downsampled series,
// range deletes, history trimming and a bounded-memory reader for the das streams.
// It may import ent, internal/tree, internal/database, internal/fault and streams.
//
// Timestamps are stored as µs since 1970 UTC (int64), so every date from year 1 to 9999
// keeps µs precision. The statements are written once for both databases: placeholders
// are $N (PostgreSQL, and modernc SQLite binds $N by ordinal), identifiers are double
// quoted, and the bulk statements carry numbers as literals formatted by strconv (never
// user text), which keeps parsing and binding linear in the batch size. The one exception
// is PostgreSQL ingest of numbers (postgres.go): columns as array literals expanded by
// unnest, and the revision, rollup and last_revision_at statements in one round trip.
package series

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// System attribute keys read by this package (besides tree's data_type, units and
// decimal_places).
const (
	AttrDataType           = "data_type"
	AttrMin                = "min"
	AttrMax                = "max"
	AttrMaxHistory         = "max_history"          // newest values kept; 0 or absent: all
	AttrMinStorageInterval = "min_storage_interval" // seconds; 0 or absent: store every value
	AttrPublicAfter        = "public_after"         // seconds; values older are public on the das endpoints
)

// Value is one sequence value. Writers set Time and exactly one of Num and Text (Append);
// readers get ID, Time and the field of the sequence's data type (Data and ContentType for
// images).
type Value struct {
	ID          int64
	Time        time.Time
	Num         *float64
	Text        *string
	Data        []byte
	ContentType string
}

// Attributes are the ingest-relevant system attributes of a sequence.
type Attributes struct {
	DataType           string   // tree.Numeric (default), tree.Text, tree.Image or tree.JSON
	Min, Max           *float64 // inclusive bounds of numeric values
	MaxHistory         int64    // newest values kept by Trim; 0: unlimited
	MinStorageInterval time.Duration
	// PublicAfter > 0: values older than this are readable by anyone (the das embargo).
	PublicAfter time.Duration
}

// AttributesOf reads the attributes of a sequence. Numbers may be float64 (decoded JSON),
// integers (attributes set in process) or numeric strings.
func AttributesOf(r *ent.Resource) Attributes {
	a := Attributes{DataType: tree.Numeric}
	sa := r.SystemAttributes
	if s, ok := sa[AttrDataType].(string); ok && s != "" {
		a.DataType = s
	}
	if f, ok := number(sa[AttrMin]); ok {
		a.Min = &f
	}
	if f, ok := number(sa[AttrMax]); ok {
		a.Max = &f
	}
	if f, ok := number(sa[AttrMaxHistory]); ok && f > 0 {
		a.MaxHistory = int64(f)
	}
	if f, ok := number(sa[AttrMinStorageInterval]); ok && f > 0 {
		a.MinStorageInterval = time.Duration(f * float64(time.Second))
	}
	if f, ok := number(sa[AttrPublicAfter]); ok && f > 0 {
		a.PublicAfter = time.Duration(f * float64(time.Second))
	}
	return a
}

// number converts the numeric forms a JSON attribute or an ingested value can take.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}

// Micros converts a time to the stored timestamp (µs since 1970 UTC).
func Micros(t time.Time) int64 { return t.UnixMicro() }

// TimeOf converts a stored timestamp to a UTC time.
func TimeOf(micros int64) time.Time { return time.UnixMicro(micros).UTC() }

// queryer is what both *ent.Client and *ent.Tx offer for raw statements (feature
// sql/execquery).
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func requireSequence(seq *ent.Resource) error {
	if seq == nil {
		return fault.New(fault.BadInput, "no sequence given")
	}
	if seq.Type != tree.Sequence {
		return fault.New(fault.BadInput, "%s is not a sequence", seq.Path)
	}
	return nil
}

func requireNumeric(seq *ent.Resource) error {
	if err := requireSequence(seq); err != nil {
		return err
	}
	if dt := AttributesOf(seq).DataType; dt != tree.Numeric {
		return fault.New(fault.BadInput, "%s holds %s values, not numbers", seq.Path, dt)
	}
	return nil
}

// bounds turns an optional [from, to) into stored timestamps; nil is unbounded. A given
// time is always used as given, year 1 included: "absent" is nil, never the zero time.
func bounds(from, to *time.Time) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if from != nil {
		lo = Micros(*from)
	}
	if to != nil {
		hi = Micros(*to)
	}
	return lo, hi
}

// floorDiv divides rounding toward negative infinity, so buckets before 1970 align too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// alignDown returns the largest multiple of step <= t.
func alignDown(t, step int64) int64 { return floorDiv(t, step) * step }

// alignUp returns the smallest multiple of step >= t.
func alignUp(t, step int64) int64 {
	d := alignDown(t, step)
	if d == t {
		return t
	}
	return d + step
}

// cursor is the position of a value in time order.
type cursor struct {
	ts int64
	id int64
}

const cursorPrefix = "v1:"

// Cursor returns the opaque page cursor of a value read from the database.
func Cursor(v Value) string {
	return encodeCursor(cursor{ts: Micros(v.Time), id: v.ID})
}

func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString(
		[]byte(cursorPrefix + strconv.FormatInt(c.ts, 10) + ":" + strconv.FormatInt(c.id, 10)))
}

var errBadCursor = errors.New("malformed cursor")

func decodeCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fault.Wrap(err, fault.BadInput, "invalid cursor %q", s)
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	ts, id, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return cursor{}, fault.Wrap(errBadCursor, fault.BadInput, "invalid cursor %q", s)
	}
	c := cursor{}
	if c.ts, err = strconv.ParseInt(ts, 10, 64); err != nil {
		return cursor{}, fault.Wrap(err, fault.BadInput, "invalid cursor %q", s)
	}
	if c.id, err = strconv.ParseInt(id, 10, 64); err != nil {
		return cursor{}, fault.Wrap(err, fault.BadInput, "invalid cursor %q", s)
	}
	return c, nil
}

// lit formats numbers for the bulk statements; only strconv output reaches SQL text.
func litInt(b *strings.Builder, v int64) { b.WriteString(strconv.FormatInt(v, 10)) }

// litFloat always writes an exponent so both databases read a floating-point literal.
func litFloat(b *strings.Builder, v float64) { b.WriteString(strconv.FormatFloat(v, 'e', -1, 64)) }

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
