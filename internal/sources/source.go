package sources

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/resource"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
)

// MaxListed bounds the sequences one list answer looks at.
const MaxListed = tree.MaxDescendants

// Source is one das data source: a numeric sequence.
type Source struct {
	ID  string // the sequence's path without the leading slash
	Res *ent.Resource
	// PublicBefore is set when the viewer sees the source only through its embargo
	// (series.AttrPublicAfter): they may read the values before this time, no others.
	PublicBefore time.Time
	// Vars are the sequences whose values the source carries, one <y> each: the sequence
	// itself, or the numeric sequences directly in a folder source, by name.
	Vars []*ent.Resource
}

// FolderAttr is the user attribute (true) that makes a folder one multi-variable source of
// the numeric sequences directly in it.
const FolderAttr = "das_source"

func isFolderSource(r *ent.Resource) bool {
	return r != nil && !r.Deleted && r.Type != tree.Sequence && r.UserAttributes[FolderAttr] == true
}

// Load returns r as a source: a numeric sequence, or a folder source with its sequences
// (NOT_FOUND when r is neither, or a folder source with no numeric sequence in it).
func (s *Service) Load(ctx context.Context, r *ent.Resource) (Source, error) {
	if r != nil && r.Type == tree.Sequence && IsSource(r) {
		return SourceOf(r), nil
	}
	if !isFolderSource(r) {
		return Source{}, fault.New(fault.NotFound, "no data source %s", strings.TrimPrefix(pathOf(r), "/"))
	}
	kids, err := s.Client.Resource.Query().
		Where(resource.ParentID(r.ID), resource.TypeEQ(resource.TypeSequence), resource.Deleted(false)).
		Order(ent.Asc(resource.FieldName)).Limit(maxVars + 1).All(ctx)
	if err != nil {
		return Source{}, fmt.Errorf("sequences of %s: %w", r.Path, err)
	}
	src := Source{ID: strings.TrimPrefix(r.Path, "/"), Res: r}
	for _, k := range kids {
		if IsSource(k) && len(src.Vars) < maxVars {
			src.Vars = append(src.Vars, k)
		}
	}
	if len(src.Vars) == 0 {
		return Source{}, fault.New(fault.NotFound, "no data source %s", src.ID)
	}
	return src, nil
}

// maxVars bounds the variables of a folder source (each is one query and one column).
const maxVars = 32

func pathOf(r *ent.Resource) string {
	if r == nil {
		return ""
	}
	return r.Path
}

// Embargoed returns src as seen by a viewer who may not read res but for its embargo:
// ok false when res has none.
func Embargoed(res *ent.Resource, now time.Time) (Source, bool) {
	after := series.AttributesOf(res).PublicAfter
	if after <= 0 || !IsSource(res) {
		return Source{}, false
	}
	src := SourceOf(res)
	src.PublicBefore = now.Add(-after).Truncate(time.Second)
	return src, true
}

// IsSource reports whether r can be served as a das source: a live numeric sequence.
func IsSource(r *ent.Resource) bool {
	return r != nil && !r.Deleted && r.Type == tree.Sequence && series.AttributesOf(r).DataType == tree.Numeric
}

// SourceOf returns the sequence r as a source (r must satisfy IsSource).
func SourceOf(r *ent.Resource) Source {
	return Source{ID: strings.TrimPrefix(r.Path, "/"), Res: r, Vars: []*ent.Resource{r}}
}

// Folder reports whether src is a folder source.
func (s Source) Folder() bool { return s.Res.Type != tree.Sequence }

// Units are the sequence's units as a das units string: "" when it has none, or when
// das2C could not parse them (they then only appear in the label).
func (s Source) Units() string {
	return unitsOK(s.RawUnits())
}

// RawUnits are the units as the sequence stores them.
func (s Source) RawUnits() string {
	return rawUnits(s.Res)
}

func rawUnits(r *ent.Resource) string {
	u, _ := r.SystemAttributes["units"].(string)
	return u
}

// Description is the one-line description of the source for lists and the dsdf.
func (s Source) Description() string {
	for _, k := range []string{"description", "title"} {
		if d, ok := s.Res.UserAttributes[k].(string); ok && strings.TrimSpace(d) != "" {
			return oneLine(d)
		}
	}
	if s.Folder() {
		names := make([]string, len(s.Vars))
		for i, v := range s.Vars {
			names[i] = v.Name
		}
		return oneLine("Sequences of " + s.Res.Path + ": " + strings.Join(names, ", "))
	}
	d := "Numeric sequence " + s.Res.Path
	if u := s.RawUnits(); u != "" {
		d += " [" + u + "]"
	}
	return oneLine(d)
}

// Title is the source's title user attribute, else its name.
func (s Source) Title() string { return varTitle(s.Res) }

func varTitle(r *ent.Resource) string {
	if t, ok := r.UserAttributes["title"].(string); ok && strings.TrimSpace(t) != "" {
		return oneLine(strings.ReplaceAll(t, "|", "/"))
	}
	return r.Name
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Service finds sources and reads their values.
type Service struct {
	Client *ent.Client
	Authz  *access.Authorizer
}

// Lookup returns the resource at the source id (nil and a NOT_FOUND error when nothing is
// there). It does not authorize.
func (s *Service) Lookup(ctx context.Context, id string) (*ent.Resource, error) {
	id = strings.Trim(id, "/")
	if id == "" {
		return nil, fault.New(fault.NotFound, "no data source %q", id)
	}
	return tree.ByPath(ctx, s.Client, "/"+id)
}

// List returns the sources v may read, sorted by id.
func (s *Service) List(ctx context.Context, v *access.Viewer) ([]Source, error) {
	seqs, err := s.Client.Resource.Query().
		Where(resource.TypeEQ(resource.TypeSequence), tree.NotDeleted()).
		Order(ent.Asc(resource.FieldPath)).
		Limit(MaxListed).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	folders, err := s.Client.Resource.Query().
		Where(resource.TypeNEQ(resource.TypeSequence), resource.Deleted(false)).
		Order(ent.Asc(resource.FieldPath)).
		Limit(MaxListed).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	var out []Source
	for _, r := range folders {
		if !isFolderSource(r) {
			continue
		}
		err := s.Authz.Require(ctx, v, r, access.Read)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		src, err := s.Load(ctx, r)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	for _, r := range seqs {
		if !IsSource(r) {
			continue
		}
		err := s.Authz.Require(ctx, v, r, access.Read)
		if fault.Is(err, fault.NotFound) {
			if src, ok := Embargoed(r, time.Now()); ok {
				out = append(out, src)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, SourceOf(r))
	}
	slices.SortFunc(out, func(a, b Source) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Coverage returns the times of the first and last values of src that its viewer may read
// (ok false when there are none).
func (s *Service) Coverage(ctx context.Context, src Source) (first, last time.Time, ok bool, err error) {
	q := func() *ent.RevisionQuery {
		ids := make([]int, len(src.Vars))
		for i, v := range src.Vars {
			ids[i] = v.ID
		}
		q := s.Client.Revision.Query().Where(revision.ResourceIDIn(ids...))
		if !src.PublicBefore.IsZero() {
			q = q.Where(revision.TimestampLT(src.PublicBefore.UnixMicro()))
		}
		return q
	}
	lo, err := q().Order(ent.Asc(revision.FieldTimestamp)).First(ctx)
	if ent.IsNotFound(err) {
		return time.Time{}, time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("first value of %s: %w", src.Res.Path, err)
	}
	hi, err := q().Order(ent.Desc(revision.FieldTimestamp)).First(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("last value of %s: %w", src.Res.Path, err)
	}
	return series.TimeOf(lo.Timestamp), series.TimeOf(hi.Timestamp), true, nil
}

// Read is one data request on a source: values in [Min, Max), bin-averaged to Bin seconds
// when Bin is positive and coarser than the data.
type Read struct {
	Min, Max dastime.Time
	Bin      float64
}

// Result says what a Stream call did.
type Result struct {
	Records int64 // records handed to the sink (before reduction)
	Reduced bool  // the reducer ran
	Started bool  // the stream header went to the sink
}

// epoch2000 is 2000-01-01T00:00:00Z in µs since 1970.
const epoch2000 = 946684800_000_000

// dasTimeOf converts a time.Time to a das time.
func dasTimeOf(t time.Time) dastime.Time {
	return dastime.Time(t.UnixNano() - 946684800e9)
}

// ToTime converts a das time to a time.Time (UTC).
func ToTime(t dastime.Time) time.Time {
	return time.Unix(946684800, int64(t)).UTC()
}

// Stream reads src's values in r's range into out, in time order and in constant memory.
// It writes the stream header and dataset only when the first value arrives, so an empty
// range leaves out untouched (Result.Started false) for the caller to answer with a
// no-data exception. A failure after the header was written is appended to the stream
// as a ServerError exception (unless ctx ended: nobody is listening) and returned. out is
// closed (flushed) when Started.
func (s *Service) Stream(ctx context.Context, src Source, r Read, out das.Sink, exceptionType func(string) string) (Result, error) {
	var res Result
	ds, err := Dataset(src)
	if err != nil {
		return res, err
	}
	sink := out
	var rec das.Record
	from, to := ToTime(r.Min), ToTime(r.Max)
	if !src.PublicBefore.IsZero() && to.After(src.PublicBefore) {
		to = src.PublicBefore // never past the embargo, whatever the caller checked
	}
	if w, ok := rollupWidth(from, r.Bin); ok && !src.Folder() {
		buckets, ok, err := series.SeriesAligned(ctx, s.Client, src.Res, from, to, w)
		if err != nil {
			return res, err
		}
		if ok && denser(buckets) {
			rr := r
			rr.Bin = w.Seconds()
			return s.streamBuckets(src, rr, ds, buckets, out)
		}
	}
	xs, ys := slots(ds)
	err = s.read(ctx, src, from, &to, func(ts []int64, vals [][]float64) error {
		if !res.Started {
			if r.Bin > 0 && coarser(r.Bin, ts) {
				red, err := reduce.New(out, reduce.Options{Width: r.Bin, Begin: r.Min, HasBegin: true})
				if err != nil {
					return err
				}
				sink, res.Reduced = red, true
			}
			res.Started = true
			if err := sink.Stream(StreamHeader(src, r)); err != nil {
				return err
			}
			if err := sink.Dataset(ds); err != nil {
				return err
			}
			rec.Reset(ds)
		}
		for i, t := range ts {
			rec.Floats[xs] = float64(t - epoch2000)
			for j, slot := range ys {
				rec.Floats[slot] = vals[j][i]
			}
			if err := sink.Record(&rec); err != nil {
				return err
			}
			res.Records++
		}
		return ctx.Err()
	})
	if !res.Started {
		return res, err
	}
	if err != nil && ctx.Err() == nil {
		_ = sink.Exception(&das.Exception{Type: exceptionType(das.ServerError), Message: "reading the values failed"})
	}
	if cerr := sink.Close(); err == nil && cerr != nil {
		err = cerr
	}
	// The reducer closes the writer it feeds; closing the writer twice only flushes again.
	if res.Reduced {
		_ = out.Close()
	}
	return res, err
}

// rollupWidth is the bin width a reduction to at most bin seconds from from uses when the
// rollups can answer it: whole buckets of the widest rollup no wider than bin, with from
// on that rollup's boundary. bin.time.max is the largest acceptable width, so narrower
// bins are allowed; with the widest fitting rollup they are never less than half of it.
func rollupWidth(from time.Time, bin float64) (time.Duration, bool) {
	lo := from.UnixMicro()
	for _, s := range series.RollupSeconds {
		if float64(s) > bin || lo%(s*1e6) != 0 {
			continue
		}
		n := math.Floor(bin / float64(s))
		return time.Duration(n) * time.Duration(s) * time.Second, true
	}
	return 0, false
}

// denser reports whether some bucket holds more than one value: binning then makes the
// answer smaller.
func denser(buckets []series.Bucket) bool {
	var n int64
	for _, b := range buckets {
		n += b.Count
	}
	return n > int64(len(buckets))
}

// streamBuckets answers a reduced request from the rollups: each bucket is exactly one
// reducer bin wide and aligned with it, so its mean, handed to the reducer as one record
// inside the bin, comes out as that bin's average, with the reducer's headers.
func (s *Service) streamBuckets(src Source, r Read, ds *das.Dataset, buckets []series.Bucket, out das.Sink) (Result, error) {
	res := Result{Reduced: true}
	if len(buckets) == 0 {
		return res, nil
	}
	red, err := reduce.New(out, reduce.Options{Width: r.Bin, Begin: r.Min, HasBegin: true})
	if err != nil {
		return res, err
	}
	res.Started = true
	err = red.Stream(StreamHeader(src, r))
	if err == nil {
		err = red.Dataset(ds)
	}
	var rec das.Record
	rec.Reset(ds)
	for _, b := range buckets {
		if err != nil {
			break
		}
		mid := b.Start.Add(b.End.Sub(b.Start) / 2)
		rec.Floats[0] = float64(mid.UnixMicro() - epoch2000)
		rec.Floats[1] = b.Mean
		err = red.Record(&rec)
		res.Records += b.Count
	}
	if cerr := red.Close(); err == nil {
		err = cerr
	}
	_ = out.Close()
	return res, err
}

// coarser reports whether bin seconds are wider than the mean spacing of the first chunk
// of values: reduction never makes an answer bigger.
func coarser(bin float64, ts []int64) bool {
	if len(ts) < 2 {
		return false
	}
	spacing := float64(ts[len(ts)-1]-ts[0]) / float64(len(ts)-1) / 1e6
	return bin > spacing
}

// slots are where the time and each variable's value go in a record of ds.
func slots(ds *das.Dataset) (x int, ys []int) {
	for _, d := range ds.Dims {
		switch d.Kind {
		case das.Coord:
			x = d.Vars[0].Slot
		case das.Data:
			ys = append(ys, d.Vars[0].Slot)
		}
	}
	return x, ys
}

// read calls fn with src's values from from on (to nil: no end) in chunks of at most
// series.ReadChunk rows: times (µs since 1970) and, per variable, the values at those
// times (fill where a variable has none). fn must not keep the slices.
func (s *Service) read(ctx context.Context, src Source, from time.Time, to *time.Time, fn func(ts []int64, vals [][]float64) error) error {
	ts := make([]int64, 0, series.ReadChunk)
	vals := make([][]float64, len(src.Vars))
	if len(src.Vars) == 1 {
		return series.ReadNumeric(ctx, s.Client, src.Vars[0], &from, to, func(chunk []series.Point) error {
			ts, vals[0] = ts[:0], vals[0][:0]
			for _, p := range chunk {
				ts = append(ts, p.Micros)
				vals[0] = append(vals[0], p.Value)
			}
			return fn(ts, vals)
		})
	}
	return s.readMerged(ctx, src.Vars, from, to, ts, vals, fn)
}

// readMerged merges the values of several sequences on their times: one reader per
// sequence (a chunk ahead at most, so memory stays bounded), one row per distinct time.
func (s *Service) readMerged(ctx context.Context, vars []*ent.Resource, from time.Time, to *time.Time,
	ts []int64, vals [][]float64, fn func(ts []int64, vals [][]float64) error,
) error {
	ctx, cancel := context.WithCancel(ctx)
	type feed struct {
		ch  chan []series.Point
		cur []series.Point
		err error
	}
	feeds := make([]*feed, len(vars))
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i, v := range vars {
		f := &feed{ch: make(chan []series.Point, 1)}
		feeds[i] = f
		wg.Go(func() {
			defer close(f.ch)
			f.err = series.ReadNumeric(ctx, s.Client, v, &from, to, func(c []series.Point) error {
				select {
				case f.ch <- slices.Clone(c):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		})
	}
	head := func(f *feed) bool {
		for len(f.cur) == 0 {
			c, ok := <-f.ch
			if !ok {
				return false
			}
			f.cur = c
		}
		return true
	}
	flush := func() error {
		if len(ts) == 0 {
			return nil
		}
		err := fn(ts, vals)
		ts = ts[:0]
		for j := range vals {
			vals[j] = vals[j][:0]
		}
		return err
	}
	for {
		first, any := int64(math.MaxInt64), false
		for _, f := range feeds {
			if head(f) {
				any = true
				first = min(first, f.cur[0].Micros)
			}
		}
		if !any {
			break
		}
		ts = append(ts, first)
		for j, f := range feeds {
			v := das.DefaultFill
			if len(f.cur) > 0 && f.cur[0].Micros == first {
				v, f.cur = f.cur[0].Value, f.cur[1:]
			}
			vals[j] = append(vals[j], v)
		}
		if len(ts) == series.ReadChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, f := range feeds { // every feed is closed: its err is written
		if f.err != nil {
			return f.err
		}
	}
	return ctx.Err()
}

// StreamHeader is the stream header of a data answer.
func StreamHeader(src Source, r Read) *das.Stream {
	props := das.Properties{
		{Name: "title", Value: src.Description()},
		{Name: "xLabel", Value: "Time (UTC)"},
		{Name: "yLabel", Value: yLabel(src)},
	}
	if r.Max > r.Min {
		props = append(props, das.Property{Name: "xCacheRange", Type: "datetimeRange",
			Value: string(dastime.AppendISO(nil, r.Min, 3)) + " to " + string(dastime.AppendISO(nil, r.Max, 3)), Units: "UTC"})
	}
	return &das.Stream{Version: "2.2", Props: props}
}

func yLabel(src Source) string {
	if src.Folder() {
		return src.Res.Name
	}
	l := src.Res.Name
	if u := src.RawUnits(); u != "" {
		l += " (" + u + ")"
	}
	return l
}

// unitsOK are units das2C can parse, else "" (they then only appear in labels).
func unitsOK(u string) string {
	if !das.UnitsOK(u) || strings.ContainsAny(u, "\"<>&") {
		return ""
	}
	return u
}

// Dataset is the one dataset of a source: X times as little-endian real8 us2000, one <y>
// of little-endian real8 values per variable, named after its sequence.
func Dataset(src Source) (*das.Dataset, error) {
	used := map[string]bool{}
	x := &das.Variable{Use: "center", Semantic: "datetime", Units: "us2000", Items: 1,
		Enc: das.Encoding{Kind: das.EncReal, Size: 8}, Epoch: dastime.US2000}
	dims := []*das.Dim{{Kind: das.Coord, Plane: das.PlaneX, PhysDim: "time", Axis: "x", Vars: []*das.Variable{x}}}
	vars := src.Vars
	if len(vars) == 0 {
		vars = []*ent.Resource{src.Res}
	}
	var first string
	for _, v := range vars {
		name := das.Identifier(v.Name, "value", false, used)
		used[name] = true
		if first == "" {
			first = name
		}
		y := &das.Variable{Use: "center", Semantic: "real", Units: unitsOK(rawUnits(v)), Items: 1,
			Enc: das.Encoding{Kind: das.EncReal, Size: 8}, FillVal: das.DefaultFill, Text: das.DefaultTextFormat}
		dims = append(dims, &das.Dim{Kind: das.Data, Plane: das.PlaneY, Name: name, Vars: []*das.Variable{y}})
	}
	name := first
	if src.Folder() {
		name = das.Identifier(src.Res.Name, "data", false, map[string]bool{})
	}
	ds := &das.Dataset{ID: 1, Name: name, Rank: 1, Shape: []int{-1}, Dims: dims}
	if err := ds.Layout(); err != nil {
		return nil, fmt.Errorf("dataset of %s: %w", src.Res.Path, err)
	}
	return ds, nil
}

// IsCanceled reports an error caused by the client going away.
func IsCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
