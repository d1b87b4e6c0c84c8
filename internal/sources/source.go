package sources

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
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

// SourceOf returns r as a source (r must satisfy IsSource).
func SourceOf(r *ent.Resource) Source {
	return Source{ID: strings.TrimPrefix(r.Path, "/"), Res: r}
}

// Units are the sequence's units as a das units string: "" when it has none, or when
// das2C could not parse them (they then only appear in the label).
func (s Source) Units() string {
	u := s.RawUnits()
	if !das.UnitsOK(u) || strings.ContainsAny(u, "\"<>&") {
		return ""
	}
	return u
}

// RawUnits are the units as the sequence stores them.
func (s Source) RawUnits() string {
	u, _ := s.Res.SystemAttributes["units"].(string)
	return u
}

// Description is the one-line description of the source for lists and the dsdf.
func (s Source) Description() string {
	for _, k := range []string{"description", "title"} {
		if d, ok := s.Res.UserAttributes[k].(string); ok && strings.TrimSpace(d) != "" {
			return oneLine(d)
		}
	}
	d := "Numeric sequence " + s.Res.Path
	if u := s.RawUnits(); u != "" {
		d += " [" + u + "]"
	}
	return oneLine(d)
}

// Title is the sequence's title user attribute, else its name.
func (s Source) Title() string {
	if t, ok := s.Res.UserAttributes["title"].(string); ok && strings.TrimSpace(t) != "" {
		return oneLine(strings.ReplaceAll(t, "|", "/"))
	}
	return s.Res.Name
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
		Where(resource.TypeEQ(resource.TypeSequence), resource.Deleted(false)).
		Order(ent.Asc(resource.FieldPath)).
		Limit(MaxListed).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	var out []Source
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
	return out, nil
}

// Coverage returns the times of the first and last values of src that its viewer may read
// (ok false when there are none).
func (s *Service) Coverage(ctx context.Context, src Source) (first, last time.Time, ok bool, err error) {
	q := func() *ent.RevisionQuery {
		q := s.Client.Revision.Query().Where(revision.ResourceID(src.Res.ID))
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
	if r.Bin > 0 {
		buckets, ok, err := series.SeriesAligned(ctx, s.Client, src.Res, from, to, time.Duration(math.Round(r.Bin*1e9)))
		if err != nil {
			return res, err
		}
		if ok && denser(buckets) {
			return s.streamBuckets(src, r, ds, buckets, out)
		}
	}
	err = series.ReadNumeric(ctx, s.Client, src.Res, &from, &to, func(chunk []series.Point) error {
		if !res.Started {
			if r.Bin > 0 && coarser(r.Bin, chunk) {
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
		for _, p := range chunk {
			rec.Floats[0] = float64(p.Micros - epoch2000)
			rec.Floats[1] = p.Value
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
func coarser(bin float64, chunk []series.Point) bool {
	if len(chunk) < 2 {
		return false
	}
	spacing := float64(chunk[len(chunk)-1].Micros-chunk[0].Micros) / float64(len(chunk)-1) / 1e6
	return bin > spacing
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
	l := src.Res.Name
	if u := src.RawUnits(); u != "" {
		l += " (" + u + ")"
	}
	return l
}

// Dataset is the one dataset of a source: X times as little-endian real8 us2000, one <y>
// of little-endian real8 values named after the sequence.
func Dataset(src Source) (*das.Dataset, error) {
	name := das.Identifier(src.Res.Name, "value", false, map[string]bool{})
	x := &das.Variable{Use: "center", Semantic: "datetime", Units: "us2000", Items: 1,
		Enc: das.Encoding{Kind: das.EncReal, Size: 8}, Epoch: dastime.US2000}
	y := &das.Variable{Use: "center", Semantic: "real", Units: src.Units(), Items: 1,
		Enc: das.Encoding{Kind: das.EncReal, Size: 8}, FillVal: das.DefaultFill, Text: das.DefaultTextFormat}
	ds := &das.Dataset{ID: 1, Name: name, Rank: 1, Shape: []int{-1}, Dims: []*das.Dim{
		{Kind: das.Coord, Plane: das.PlaneX, PhysDim: "time", Axis: "x", Vars: []*das.Variable{x}},
		{Kind: das.Data, Plane: das.PlaneY, Name: name, Vars: []*das.Variable{y}},
	}}
	if err := ds.Layout(); err != nil {
		return nil, fmt.Errorf("dataset of %s: %w", src.Res.Path, err)
	}
	return ds, nil
}

// IsCanceled reports an error caused by the client going away.
func IsCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
