package series

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Item is one value to store.
type Item struct {
	Path     string        // the sequence's path; used when Resource is nil
	Resource *ent.Resource // an already resolved (and authorized) sequence
	// Value by data type: numeric: float64, any integer, json.Number or a numeric string;
	// text: string or UTF-8 []byte; json: a JSON document as string, []byte or
	// json.RawMessage, or any other Go value (marshalled); image: JPEG or PNG bytes as
	// []byte or a standard base64 string.
	Value any
	// Time is when the value was measured (µs precision, years 1 to 9999), used as given;
	// nil means the server's time (see ServerTime).
	Time *time.Time
	// ServerTime says Time was just taken from ServerTime (the caller needs the time
	// before storing): like a nil Time, it is not looked up for a value to replace.
	ServerTime bool
}

// ItemError says why one item of a batch was refused.
type ItemError struct {
	Index   int
	Code    fault.Code
	Message string
}

func (e ItemError) Error() string { return fmt.Sprintf("item %d: %s", e.Index, e.Message) }

// MaxImageBytes bounds an image value stored in the revision row.
const MaxImageBytes = 8 << 20

// Chunk sizes of the multi-row statements. Numeric rows are all literals; text and image
// rows bind one parameter each, and modernc SQLite matches $N parameters by scanning the
// argument list, so those chunks stay small.
const (
	numericChunk = 1000
	textChunk    = 200
	imageChunk   = 16
	rollupChunk  = 500
	pathChunk    = 500
)

var errInvalidItems = errors.New("invalid items")

type rowKind uint8

const (
	kindNum rowKind = iota
	kindText
	kindData
)

type row struct {
	rid   int
	ts    int64
	req   int  // which request of a group commit the row came from
	given bool // ts came with the value (it may replace a stored one)
	kind  rowKind
	num   float64
	text  string
	data  []byte
	ctype string
}

// Update stores one value of seq at time at (nil: the server's time).
func Update(ctx context.Context, client *ent.Client, seq *ent.Resource, value any, at *time.Time) error {
	if err := requireSequence(seq); err != nil {
		return err
	}
	errs, err := UpdateMany(ctx, client, []Item{{Resource: seq, Value: value, Time: at}})
	if len(errs) > 0 {
		return fault.Wrap(err, errs[0].Code, "%s", errs[0].Message)
	}
	return err
}

// Append stores values of seq (each with its Num or Text set) in one transaction.
func Append(ctx context.Context, client *ent.Client, seq *ent.Resource, values []Value) error {
	if err := requireSequence(seq); err != nil {
		return err
	}
	items := make([]Item, len(values))
	for i, v := range values {
		items[i] = Item{Resource: seq, Time: &v.Time}
		switch {
		case v.Num != nil:
			items[i].Value = *v.Num
		case v.Text != nil:
			items[i].Value = *v.Text
		case v.Data != nil:
			items[i].Value = v.Data
		}
	}
	errs, err := UpdateMany(ctx, client, items)
	if len(errs) > 0 {
		return fault.Wrap(err, errs[0].Code, "%s", errs[0].Error())
	}
	return err
}

// UpdateMany validates and stores items in one transaction: all or nothing. When any item
// is refused it returns every item's error (index, code, message) and a BAD_USER_INPUT
// error, and stores nothing. Values closer than the sequence's min_storage_interval to
// the previous stored value are skipped (not an error); the first value is always kept.
// A value at a (sequence, timestamp) that already holds one replaces it, so a retried
// write stores nothing twice; within one batch the last such item wins. Values without a
// time get distinct server times (ServerTime). Rollups and Resource.last_revision_at are
// updated in the same transaction.
func UpdateMany(ctx context.Context, client *ent.Client, items []Item) ([]ItemError, error) {
	_, itemErrs, err := Store(ctx, client, items)
	return itemErrs, err
}

// Stored is one value as it was stored, for those who tell others about it (the live
// updates): the sequence, the time and the value (images: content type only).
type Stored struct {
	Sequence    *ent.Resource
	Time        time.Time
	Num         *float64
	Text        *string
	ContentType string
}

// Store is UpdateMany that also returns what was stored, in the order stored (values
// dropped by min_storage_interval and earlier values of a repeated time are not in it).
func Store(ctx context.Context, client *ent.Client, items []Item) ([]Stored, []ItemError, error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	pg := isPostgres(ctx, client)
	var itemErrs []ItemError
	var stored []Stored
	attempt := func(lookUpAll bool) error {
		return database.WithTx(ctx, client, func(tx *ent.Tx) error {
			p, err := prepare(ctx, tx.Client(), items, 0)
			if err != nil {
				return err
			}
			if itemErrs = p.errs; len(itemErrs) > 0 {
				return fault.Wrap(errInvalidItems, fault.BadInput,
					"%d of %d items are invalid, nothing was stored; first: %s", len(itemErrs), len(items), itemErrs[0].Error())
			}
			seqs := p.seqs
			if lookUpAll {
				seqs = nil // look up every given time, whatever the sequences say
			}
			rows, err := commitRows(ctx, tx, p.rows, p.attrs, seqs, pg)
			if err != nil {
				return err
			}
			stored = storedOf(rows, p.seqs)
			return nil
		})
	}
	err := attempt(false)
	if isUniqueViolation(err) {
		// The sequence as the caller read it was older than what is stored (a retry with
		// a resource read before the first try): try again looking every time up.
		err = attempt(true)
	}
	if err != nil {
		return nil, itemErrs, conflictOf(err)
	}
	return stored, nil, nil
}

// conflictOf turns a unique violation into CONFLICT: only a value written at the same
// microsecond of the same sequence by another instance gets there (one instance never
// hands out a server time twice).
func conflictOf(err error) error {
	if isUniqueViolation(err) {
		return fault.Wrap(err, fault.Conflict, "another write stored a value of the same sequence at the same time; retry")
	}
	return err
}

// prepared is a request's items resolved and checked: rows to store (tagged with req),
// or the items' errors.
type prepared struct {
	rows  []row
	attrs map[int]Attributes
	seqs  map[int]*ent.Resource
	errs  []ItemError
}

// prepare resolves and checks items; it stores nothing.
func prepare(ctx context.Context, c *ent.Client, items []Item, req int) (prepared, error) {
	p := prepared{attrs: map[int]Attributes{}, seqs: map[int]*ent.Resource{}}
	seqs, err := resolve(ctx, c, items)
	if err != nil {
		return p, err
	}
	p.rows = make([]row, 0, len(items))
	for i, it := range items {
		seq := seqs[i]
		if seq.err != nil {
			p.errs = append(p.errs, ItemError{Index: i, Code: fault.CodeOf(seq.err), Message: fault.SafeMessage(seq.err)})
			continue
		}
		a, ok := p.attrs[seq.res.ID]
		if !ok {
			a = AttributesOf(seq.res)
			p.attrs[seq.res.ID] = a
		}
		p.seqs[seq.res.ID] = seq.res
		r, err := convert(seq.res, a, it)
		if err != nil {
			p.errs = append(p.errs, ItemError{Index: i, Code: fault.CodeOf(err), Message: fault.SafeMessage(err)})
			continue
		}
		r.req = req
		p.rows = append(p.rows, r)
	}
	return p, nil
}

// commitRows stores checked rows in tx: min_storage_interval, the last of a repeated time,
// replacements, rollups, last_revision_at. It returns the rows stored.
func commitRows(ctx context.Context, tx *ent.Tx, rows []row, attrs map[int]Attributes, seqs map[int]*ent.Resource, pg bool) ([]row, error) {
	rows, err := applyMinInterval(ctx, tx, rows, attrs)
	if err != nil {
		return nil, err
	}
	rows = lastWins(rows)
	seqs, err = freshLastRevisions(ctx, tx, rows, seqs)
	if err != nil {
		return nil, err
	}
	replaced, err := deleteReplaced(ctx, tx, rows, seqs, pg)
	if err != nil {
		return nil, err
	}
	if err := store(ctx, tx, rows, pg); err != nil {
		return nil, err
	}
	if err := rebuildReplaced(ctx, tx, replaced); err != nil {
		return nil, err
	}
	return rows, nil
}

// freshLastRevisions reads, in tx, last_revision_at of the sequences that rows with a
// given time go to and whose copy does not know it (tree.UnknownLastRevision: sequences
// from the write path's cache), in one query, so appending to them stays free of
// per-value look-ups (deleteReplaced). It returns seqs with those entries replaced by
// copies (cached resources are shared and never changed); a nil seqs stays nil.
func freshLastRevisions(ctx context.Context, tx *ent.Tx, rows []row, seqs map[int]*ent.Resource) (map[int]*ent.Resource, error) {
	var ids []int
	seen := map[int]bool{}
	for _, r := range rows {
		s := seqs[r.rid]
		if !r.given || s == nil || seen[r.rid] || s.LastRevisionAt == nil || !s.LastRevisionAt.Equal(tree.UnknownLastRevision) {
			continue
		}
		seen[r.rid] = true
		ids = append(ids, r.rid)
	}
	if len(ids) == 0 {
		return seqs, nil
	}
	fresh, err := tx.Resource.Query().Where(resource.IDIn(ids...)).
		Select(resource.FieldID, resource.FieldLastRevisionAt).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read last_revision_at: %w", err)
	}
	out := maps.Clone(seqs)
	for _, f := range fresh {
		cp := *out[f.ID]
		cp.LastRevisionAt = f.LastRevisionAt
		out[f.ID] = &cp
	}
	return out, nil
}

func storedOf(rows []row, seqs map[int]*ent.Resource) []Stored {
	out := make([]Stored, len(rows))
	for i, r := range rows {
		s := Stored{Sequence: seqs[r.rid], Time: TimeOf(r.ts)}
		switch r.kind {
		case kindNum:
			s.Num = &rows[i].num
		case kindText:
			s.Text = &rows[i].text
		case kindData:
			s.ContentType = r.ctype
		}
		out[i] = s
	}
	return out
}

type resolved struct {
	res *ent.Resource
	err error
}

// resolve finds each item's sequence, looking paths up in a few IN queries.
func resolve(ctx context.Context, c *ent.Client, items []Item) ([]resolved, error) {
	out := make([]resolved, len(items))
	clean := make([]string, len(items))
	var paths []string
	seen := map[string]bool{}
	for i, it := range items {
		if it.Resource != nil {
			out[i].res = it.Resource
			continue
		}
		p, err := tree.CleanPath(it.Path)
		if err != nil {
			out[i].err = err
			continue
		}
		clean[i] = p
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	byPath := make(map[string]*ent.Resource, len(paths))
	for start := 0; start < len(paths); start += pathChunk {
		found, err := c.Resource.Query().
			Where(resource.PathIn(paths[start:min(start+pathChunk, len(paths))]...), tree.NotDeleted()).
			All(ctx)
		if err != nil {
			return nil, fmt.Errorf("look up sequences: %w", err)
		}
		for _, r := range found {
			byPath[r.Path] = r
		}
	}
	for i := range items {
		if out[i].res != nil || out[i].err != nil {
			continue
		}
		if r := byPath[clean[i]]; r != nil {
			out[i].res = r
		} else {
			out[i].err = fault.New(fault.NotFound, "no resource at %s", clean[i])
		}
	}
	for i := range out {
		if out[i].res != nil && out[i].res.Type != tree.Sequence {
			out[i].err = fault.New(fault.BadInput, "%s is not a sequence", out[i].res.Path)
		}
	}
	return out, nil
}

var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// convert validates one value against its sequence and turns it into a row.
func convert(seq *ent.Resource, a Attributes, it Item) (row, error) {
	r := row{rid: seq.ID}
	if it.Time != nil {
		if it.Time.Before(minTime) || !it.Time.Before(maxTime) {
			return r, fault.New(fault.BadInput, "time %s of %s is outside years 1 to 9999", it.Time.UTC().Format(time.RFC3339Nano), seq.Path)
		}
		r.ts, r.given = Micros(*it.Time), !it.ServerTime
	} else {
		r.ts = serverClock.next()
	}
	switch a.DataType {
	case tree.Numeric:
		f, ok := number(it.Value)
		if !ok {
			return r, fault.New(fault.BadInput, "%s takes numbers; %s is not a number", seq.Path, describe(it.Value))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return r, fault.New(fault.BadInput, "%s takes finite numbers, not %v", seq.Path, f)
		}
		if a.Min != nil && f < *a.Min {
			return r, fault.New(fault.BadInput, "%v is below the minimum %v of %s", f, *a.Min, seq.Path)
		}
		if a.Max != nil && f > *a.Max {
			return r, fault.New(fault.BadInput, "%v is above the maximum %v of %s", f, *a.Max, seq.Path)
		}
		r.kind, r.num = kindNum, f
	case tree.Text:
		s, ok := textOf(it.Value)
		if !ok {
			return r, fault.New(fault.BadInput, "%s takes text; got %s", seq.Path, describe(it.Value))
		}
		if err := checkText(s); err != nil {
			return r, fault.Wrap(err, fault.BadInput, "%s: %s", seq.Path, err.Error())
		}
		r.kind, r.text = kindText, s
	case tree.JSON:
		s, err := jsonOf(it.Value)
		if err != nil {
			return r, fault.Wrap(err, fault.BadInput, "%s takes JSON: %s", seq.Path, err.Error())
		}
		if err := checkText(s); err != nil {
			return r, fault.Wrap(err, fault.BadInput, "%s: %s", seq.Path, err.Error())
		}
		r.kind, r.text = kindText, s
	case tree.Image:
		b, err := imageOf(it.Value)
		if err != nil {
			return r, fault.Wrap(err, fault.BadInput, "%s takes JPEG or PNG images: %s", seq.Path, err.Error())
		}
		r.kind, r.data, r.ctype = kindData, b, http.DetectContentType(b)
	default:
		return r, fault.New(fault.BadInput, "%s has the unknown data type %q", seq.Path, a.DataType)
	}
	return r, nil
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("a %T", v)
}

func textOf(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

var (
	errNotUTF8 = errors.New("text is not valid UTF-8")
	errNUL     = errors.New("text contains a NUL character")
	errNotJSON = errors.New("not a valid JSON document")
	errImage   = errors.New("not a JPEG or PNG image")
	errTooBig  = errors.New("image is too large")
)

// checkText refuses what PostgreSQL's text type cannot hold, on both databases alike.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errNotUTF8
	}
	if strings.IndexByte(s, 0) >= 0 {
		return errNUL
	}
	return nil
}

func jsonOf(v any) (string, error) {
	var raw []byte
	switch j := v.(type) {
	case string:
		raw = []byte(j)
	case []byte:
		raw = j
	case json.RawMessage:
		raw = j
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("marshal %T: %w", v, err)
		}
		raw = b
	}
	if !json.Valid(raw) {
		return "", errNotJSON
	}
	return string(raw), nil
}

func imageOf(v any) ([]byte, error) {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		d, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			return nil, fmt.Errorf("decode base64: %w", err)
		}
		b = d
	default:
		return nil, errImage
	}
	if len(b) > MaxImageBytes {
		return nil, errTooBig
	}
	switch http.DetectContentType(b) {
	case "image/jpeg", "image/png":
		return b, nil
	}
	return nil, errImage
}

// applyMinInterval drops values that follow the previous stored value of their sequence
// by less than its min_storage_interval. Values older than the last stored one (back
// fill) are kept.
func applyMinInterval(ctx context.Context, q queryer, rows []row, attrs map[int]Attributes) ([]row, error) {
	last := map[int]int64{}
	for id, a := range attrs {
		if a.MinStorageInterval <= 0 {
			continue
		}
		var ts *int64
		rs, err := q.QueryContext(ctx, `SELECT max("timestamp") FROM revisions WHERE resource_id = $1`, id)
		if err != nil {
			return nil, fmt.Errorf("read last timestamp: %w", err)
		}
		for rs.Next() {
			if err := rs.Scan(&ts); err != nil {
				_ = rs.Close()
				return nil, fmt.Errorf("read last timestamp: %w", err)
			}
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return nil, fmt.Errorf("read last timestamp: %w", err)
		}
		if ts != nil {
			last[id] = *ts
		}
	}
	if len(last) == 0 && !anyInterval(attrs) {
		return rows, nil
	}
	kept := rows[:0]
	for _, r := range rows {
		iv := attrs[r.rid].MinStorageInterval.Microseconds()
		if iv > 0 {
			prev, seen := last[r.rid]
			if seen && r.ts >= prev && r.ts-prev < iv {
				continue
			}
			if !seen || r.ts > prev {
				last[r.rid] = r.ts
			}
		}
		kept = append(kept, r)
	}
	return kept, nil
}

func anyInterval(attrs map[int]Attributes) bool {
	for _, a := range attrs {
		if a.MinStorageInterval > 0 {
			return true
		}
	}
	return false
}

// store inserts the rows, upserts the rollups of numeric rows and advances
// last_revision_at, in an order (rollup keys and resource ids sorted) that keeps
// concurrent PostgreSQL writers from deadlocking. On PostgreSQL (pg) the numeric rows,
// rollups and last_revision_at go in one round trip (storeNumericPostgres).
func store(ctx context.Context, q queryer, rows []row, pg bool) error {
	var nums, texts, datas []row
	latest := map[int]int64{}
	allNum := true
	for _, r := range rows {
		allNum = allNum && r.kind == kindNum
		if t, ok := latest[r.rid]; !ok || r.ts > t {
			latest[r.rid] = r.ts
		}
	}
	if allNum {
		nums = rows // the usual batch: no copy
	} else {
		for _, r := range rows {
			switch r.kind {
			case kindNum:
				nums = append(nums, r)
			case kindText:
				texts = append(texts, r)
			case kindData:
				datas = append(datas, r)
			}
		}
	}
	ids := make([]int, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if pg {
		if err := insertBound(ctx, q, texts, textChunk); err != nil {
			return err
		}
		if err := insertBound(ctx, q, datas, imageChunk); err != nil {
			return err
		}
		return storeNumericPostgres(ctx, q, nums, ids, latest)
	}
	if err := insertNumeric(ctx, q, nums); err != nil {
		return err
	}
	if err := insertBound(ctx, q, texts, textChunk); err != nil {
		return err
	}
	if err := insertBound(ctx, q, datas, imageChunk); err != nil {
		return err
	}
	keys, aggs := aggregate(nums)
	if err := upsertRollups(ctx, q, keys, aggs); err != nil {
		return err
	}
	for _, id := range ids {
		t := TimeOf(latest[id])
		if _, err := q.ExecContext(ctx,
			`UPDATE resources SET last_revision_at = $1 WHERE id = $2 AND (last_revision_at IS NULL OR last_revision_at < $1)`,
			t, id); err != nil {
			return fmt.Errorf("update last revision time of sequence %d: %w", id, err)
		}
	}
	return nil
}

func insertNumeric(ctx context.Context, q queryer, rows []row) error {
	args := make([]any, 0, 3*min(len(rows), sqliteNumericChunk))
	for start := 0; start < len(rows); start += sqliteNumericChunk {
		chunk := rows[start:min(start+sqliteNumericChunk, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, int64(r.rid), r.ts, r.num)
		}
		if _, err := q.ExecContext(ctx, sqliteInsertNumeric(len(chunk)), args...); err != nil {
			return fmt.Errorf("insert %d numeric values: %w", len(chunk), err)
		}
	}
	return nil
}

// sqliteNumericChunk is how many numeric rows one SQLite INSERT carries. The values are
// bound, not written into the text: a full chunk is then always the same statement, which
// each connection prepares once (database.stmtcache), where a VALUES list of literals was
// parsed anew for every batch (a tenth of a batch's CPU). Binding costs the driver more
// per value the more parameters a statement has ($N names far more than ?), so chunks
// are small: 1,000 values in `BenchmarkUpdateMany1000` took 4.1 ms as one literal
// statement, 2.8 ms in chunks of 32, 3.6 ms of 128, 5.1 ms of 500.
const sqliteNumericChunk = 32

// sqliteInsertTexts are the INSERT statements of 1 to sqliteNumericChunk rows.
var sqliteInsertTexts = func() []string {
	texts := make([]string, sqliteNumericChunk+1)
	var b strings.Builder
	b.WriteString(`INSERT INTO revisions (resource_id, "timestamp", num, size) VALUES `)
	for n := 1; n <= sqliteNumericChunk; n++ {
		if n > 1 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,8)")
		texts[n] = b.String()
	}
	return texts
}()

func sqliteInsertNumeric(n int) string { return sqliteInsertTexts[n] }

// insertBound inserts text or image rows, binding only the user-supplied text or bytes.
func insertBound(ctx context.Context, q queryer, rows []row, chunkSize int) error {
	var b strings.Builder
	for start := 0; start < len(rows); start += chunkSize {
		chunk := rows[start:min(start+chunkSize, len(rows))]
		args := make([]any, 0, len(chunk))
		b.Reset()
		b.WriteString(`INSERT INTO revisions (resource_id, "timestamp", text, data, content_type, size) VALUES `)
		for i, r := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			litInt(&b, int64(r.rid))
			b.WriteByte(',')
			litInt(&b, r.ts)
			p := "$" + fmt.Sprint(i+1)
			if r.kind == kindText {
				args = append(args, r.text)
				b.WriteString("," + p + ",NULL,NULL,")
				litInt(&b, int64(len(r.text)))
			} else {
				args = append(args, r.data)
				// The content type is one of the two sniffed constants, never user text.
				b.WriteString(",NULL," + p + ",'" + r.ctype + "',")
				litInt(&b, int64(len(r.data)))
			}
			b.WriteByte(')')
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert %d values: %w", len(chunk), err)
		}
	}
	return nil
}
