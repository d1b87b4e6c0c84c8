// Package reduce bin-averages das streams in time (spec 6.2 das2_bin_avgsec and
// 6.3 das2_bin_peakavgsec) as a das.Sink between a reader and a writer: per
// packet ID, fill-aware, bin centers, bins floor((t - origin)/width) aligned to
// a start time (records before it land in bins before it), optional
// min/max/count planes, in O(1) memory per packet ID. NaN values count as
// missing, like fill. It imports only the standard library and the streams
// model packages.
package reduce

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Options select the bins and the extra planes.
type Options struct {
	Width    float64      // bin width in seconds, > 0
	Begin    dastime.Time // bin origin when HasBegin (else the first record's time)
	HasBegin bool
	Min      bool // add NAME.min planes (use="min" in das3)
	Max      bool // add NAME.max planes (use="max")
	Count    bool // add NAME.count planes (use="count")
}

// ErrWidth reports a bin width that is not positive.
var ErrWidth = errors.New("reduce: bin width must be > 0 seconds")

// acc is the running state of one output item.
type acc struct {
	sum      float64
	n        float64
	min, max float64
}

type state struct {
	in, out  *das.Dataset
	x        *das.Variable // input time variable
	outX     *das.Variable
	srcs     []*das.Variable // reduced input variables
	avg      []*das.Variable // matching output variables
	ops      []op            // how each is reduced
	mins     []*das.Variable
	maxs     []*das.Variable
	counts   []*das.Variable
	fills    []float64 // per item
	accs     []acc     // per item
	rec      das.Record
	open     bool
	bin      int64
	openedAt int // order of opening, for flushing
}

// Reducer is a das.Sink that forwards bin averages to the next Sink.
type Reducer struct {
	next   das.Sink
	opt    Options
	w      float64 // width in us
	t0     float64 // us2000
	haveT0 bool
	ids    [das.MaxID + 1]*state
	seq    int
}

// New returns a Reducer writing to next.
func New(next das.Sink, opt Options) (*Reducer, error) {
	if !(opt.Width > 0) || math.IsInf(opt.Width, 0) {
		return nil, ErrWidth
	}
	r := &Reducer{next: next, opt: opt, w: opt.Width * 1e6}
	if opt.HasBegin {
		r.t0, r.haveT0 = opt.Begin.US2000(), true
	}
	return r, nil
}

// Stream updates xTagWidth, xCacheResolution and xCacheResInfo (spec 6.2 step 6).
func (r *Reducer) Stream(s *das.Stream) error {
	out := &das.Stream{Version: s.Version, Props: append(das.Properties(nil), s.Props...)}
	das2 := s.RawFormat == das.FormatDas2 || s.Version == "2.2"
	w := r.opt.Width
	in, ok := s.Props.Seconds("xTagWidth")
	if !ok || in < w {
		out.Props.Set(secondsProp("xTagWidth", w, das2))
	}
	res := w
	if ok && in > w {
		res = in
	}
	out.Props.Set(secondsProp("xCacheResolution", res, das2))
	info := das.Property{Name: "xCacheResInfo", Value: " (" + das.FormatSeconds(w) + " Averages)"}
	if das2 {
		info.Das2Type = "String"
	}
	out.Props.Set(info)
	return r.next.Stream(out)
}

func secondsProp(name string, v float64, das2 bool) das.Property {
	p := das.Property{Name: name, Type: "real", Units: "s", Value: strconv.FormatFloat(v, 'g', -1, 64)}
	if das2 {
		p.Das2Type = "Datum"
	}
	return p
}

// Dataset builds the reduced header: X in us2000 (text times stay text), averaged
// values as reals, and the requested extra planes after the originals.
func (r *Reducer) Dataset(ds *das.Dataset) error {
	if old := r.ids[ds.ID]; old != nil && old.open {
		if err := r.emit(old); err != nil {
			return err
		}
	}
	x := ds.TimeVar()
	if x == nil {
		return fmt.Errorf("reduce: dataset %d has no time coordinate to bin on", ds.ID)
	}
	out := ds.Clone()
	st := &state{in: ds, out: out, x: x}
	inVars := ds.PacketVars()
	outVars := out.PacketVars()
	// das2.2 planes get valid unique names first: NAME.min/NAME.max and their
	// source property derive from them.
	used := map[string]bool{}
	for _, d := range out.Dims {
		if d.Plane != das.PlaneNone && d.Plane != das.PlaneX {
			d.Name = das.Identifier(d.Name, "plane", true, used)
		}
	}
	// Clone keeps variable order: pair input and output by position.
	var extraDims []*das.Dim
	for i, v := range inVars {
		o := outVars[i]
		if v == x {
			st.outX = o
			if o.Enc.Kind != das.EncText && o.Epoch != dastime.TT2000 {
				o.Units, o.Epoch = "us2000", dastime.US2000
				if o.Enc.Kind != das.EncReal || o.Enc.Size != 8 {
					o.Enc = das.Encoding{Kind: das.EncReal, Size: 8, BigEndian: o.Enc.BigEndian}
					o.Storage = "double"
				}
			}
			continue
		}
		switch {
		case o.Enc.Kind == das.EncInt || o.Enc.Kind == das.EncUint:
			o.Enc, o.Storage = das.Encoding{Kind: das.EncReal, Size: 8}, "double"
		case o.Enc.Kind == das.EncText && !o.Enc.Var && o.Enc.Size < 9 && !o.IsTime():
			// A mean needs more room than a narrow integer field: 7 digits.
			o.Enc, o.Storage, o.Text = das.Encoding{Kind: das.EncText, Size: 14}, "double", das.TextFormat{Conv: 'e', Digits: 6}
		}
		if o.IsTime() {
			continue // only the binning time is reduced; other times are dropped below
		}
		d := out.DimOf(o)
		op := opOf(d, o)
		st.srcs = append(st.srcs, v)
		st.avg = append(st.avg, o)
		st.ops = append(st.ops, op)
		extra := func(use, op string) *das.Variable {
			nv := *o
			nv.Use = use
			if use == "count" {
				nv.Fill, nv.FillVal = "", das.DefaultFill
			}
			if d.Plane != das.PlaneNone {
				// das2.2: a new plane NAME.min / NAME.max after the originals.
				nd := &das.Dim{Kind: das.Data, Plane: d.Plane, Name: d.Name + "." + use, YTags: d.YTags, Vars: []*das.Variable{&nv}}
				nv.Use = "center"
				nd.Props = das.Properties{
					{Name: "operation", Value: op, Das2Type: "String"},
					{Name: "source", Value: d.Name, Das2Type: "String"},
				}
				extraDims = append(extraDims, nd)
			} else {
				d.Vars = append(d.Vars, &nv)
			}
			return &nv
		}
		// Extra statistics are of averaged values only, and never a second
		// variable of one role in a das3 dimension (das2C refuses that).
		want := func(on bool, use string) bool { return on && op == opMean && !hasUse(d, use) }
		if d.Plane != das.PlaneNone && want(r.opt.Min || r.opt.Max || r.opt.Count, "") {
			d.Props.Set(das.Property{Name: "operation", Value: "BIN_AVG", Das2Type: "String"})
			d.Props.Set(das.Property{Name: "source", Value: d.Name, Das2Type: "String"})
		}
		var mn, mx, ct *das.Variable
		if want(r.opt.Min, "min") {
			mn = extra("min", "BIN_MIN")
		}
		if want(r.opt.Max, "max") {
			mx = extra("max", "BIN_MAX")
		}
		if want(r.opt.Count, "count") {
			ct = extra("count", "BIN_COUNT")
		}
		st.mins, st.maxs, st.counts = append(st.mins, mn), append(st.maxs, mx), append(st.counts, ct)
	}
	// Drop record-varying times other than X (they cannot be averaged).
	for _, d := range out.Dims {
		kept := d.Vars[:0]
		for _, v := range d.Vars {
			if v.Source == das.FromPacket && v.IsTime() && v != st.outX {
				continue
			}
			kept = append(kept, v)
		}
		d.Vars = kept
	}
	out.Dims = append(out.Dims, extraDims...)
	// No packet-size limit here: the writers split records too large for one.
	if err := out.Layout(); err != nil {
		return fmt.Errorf("reduce: dataset %d: %w", ds.ID, err)
	}
	n := 0
	for _, v := range st.srcs {
		n += v.Items
	}
	st.accs = make([]acc, n)
	st.fills = make([]float64, n)
	k := 0
	for _, v := range st.srcs {
		for i := 0; i < v.Items; i++ {
			st.fills[k] = v.FillVal
			k++
		}
	}
	st.reset()
	st.rec.Reset(out)
	r.ids[ds.ID] = st
	return r.next.Dataset(out)
}

// op is how a variable's values in a bin become the bin's value.
type op int

const (
	opMean op = iota
	opMin     // a minimum stays the minimum: das3 use="min", das2.2 BIN_MIN
	opMax     // use="max", BIN_MAX
	opSum     // use="count", BIN_COUNT
)

// opOf reads how a variable was made: a reduced stream reduced again keeps its
// minima minimal and its maxima maximal (das2C averages them).
func opOf(d *das.Dim, v *das.Variable) op {
	role := v.Use
	if d.Plane != das.PlaneNone {
		p, _ := d.Props.Get("operation")
		role = map[string]string{"BIN_MIN": "min", "BIN_MAX": "max", "BIN_COUNT": "count"}[p.Value]
	}
	switch role {
	case "min":
		return opMin
	case "max":
		return opMax
	case "count":
		return opSum
	}
	return opMean
}

// hasUse reports whether a das3 dimension already has a variable of role use.
func hasUse(d *das.Dim, use string) bool {
	if d.Plane != das.PlaneNone || use == "" {
		return false
	}
	for _, v := range d.Vars {
		if v.Use == use {
			return true
		}
	}
	return false
}

func (st *state) reset() {
	for i := range st.accs {
		st.accs[i] = acc{min: math.Inf(1), max: math.Inf(-1)}
	}
}

// Record adds one record to its packet ID's open bin, emitting the previous bin
// when the record falls in another one.
func (r *Reducer) Record(rec *das.Record) error {
	st := r.ids[rec.DS.ID]
	if st == nil || st.in != rec.DS {
		return fmt.Errorf("reduce: record for undefined dataset %d", rec.DS.ID)
	}
	var t float64
	if st.x.Enc.Kind == das.EncReal && st.x.Epoch == dastime.US2000 {
		t = rec.Floats[st.x.Slot]
	} else {
		tt, ok := rec.Time(st.x, 0)
		if !ok {
			return fmt.Errorf("reduce: time value in %q out of range", st.x.Units)
		}
		t = tt.US2000()
	}
	if math.IsNaN(t) {
		return nil
	}
	if !r.haveT0 {
		r.t0, r.haveT0 = t, true
	}
	// Every bin is one width wide, before the origin too: floor, where das2C's
	// C conversion truncates toward zero and so makes [t0-w, t0+w) one bin.
	bin := int64(math.Floor((t - r.t0) / r.w))
	if st.open && bin != st.bin {
		if err := r.emit(st); err != nil {
			return err
		}
	}
	if !st.open {
		st.open, st.bin = true, bin
		r.seq++
		st.openedAt = r.seq
	}
	k := 0
	accs := st.accs
	for _, v := range st.srcs {
		if v.IsInt() {
			for i := 0; i < v.Items; i++ {
				add(&accs[k], rec.Float(v, i), st.fills[k])
				k++
			}
			continue
		}
		vals := rec.Floats[v.Slot : v.Slot+v.Items]
		fill := v.FillVal
		a := accs[k : k+len(vals)]
		for i, x := range vals {
			add(&a[i], x, fill)
		}
		k += len(vals)
	}
	return nil
}

func add(a *acc, x, fill float64) {
	if x != x || das.IsFill(x, fill) {
		return
	}
	a.sum += x
	a.n++
	if x < a.min {
		a.min = x
	}
	if x > a.max {
		a.max = x
	}
}

// emit writes the open bin of st.
func (r *Reducer) emit(st *state) error {
	st.open = false
	center := r.t0 + (float64(st.bin)+0.5)*r.w
	out := &st.rec
	if st.outX.Enc.Kind == das.EncReal && st.outX.Epoch == dastime.US2000 {
		out.Floats[st.outX.Slot] = center
	} else {
		out.SetTime(st.outX, 0, dastime.Time(math.Round(center*1e3)))
	}
	k := 0
	for j, v := range st.srcs {
		o, mn, mx, ct := st.avg[j], st.mins[j], st.maxs[j], st.counts[j]
		fill := v.FillVal
		for i := 0; i < v.Items; i++ {
			a := &st.accs[k]
			k++
			switch {
			case a.n == 0:
				out.Floats[o.Slot+i] = fill
			case st.ops[j] == opMin:
				out.Floats[o.Slot+i] = a.min
			case st.ops[j] == opMax:
				out.Floats[o.Slot+i] = a.max
			case st.ops[j] == opSum:
				out.Floats[o.Slot+i] = a.sum
			default:
				out.Floats[o.Slot+i] = a.sum / a.n
			}
			if mn != nil {
				out.Floats[mn.Slot+i] = pick(a.n > 0, a.min, fill)
			}
			if mx != nil {
				out.Floats[mx.Slot+i] = pick(a.n > 0, a.max, fill)
			}
			if ct != nil {
				out.Floats[ct.Slot+i] = a.n
			}
			*a = acc{min: math.Inf(1), max: math.Inf(-1)}
		}
	}
	return r.next.Record(out)
}

func pick(ok bool, v, fill float64) float64 {
	if ok {
		return v
	}
	return fill
}

// flushAll emits every open bin in the order the bins were opened.
func (r *Reducer) flushAll() error {
	for {
		var first *state
		for _, st := range r.ids {
			if st != nil && st.open && (first == nil || st.openedAt < first.openedAt) {
				first = st
			}
		}
		if first == nil {
			return nil
		}
		if err := r.emit(first); err != nil {
			return err
		}
	}
}

// Comment passes comments through.
func (r *Reducer) Comment(c *das.Comment) error { return r.next.Comment(c) }

// Exception flushes the open bins, then passes the exception on.
func (r *Reducer) Exception(e *das.Exception) error {
	if err := r.flushAll(); err != nil {
		return err
	}
	return r.next.Exception(e)
}

// Close flushes the open bins and closes the next Sink.
func (r *Reducer) Close() error {
	err := r.flushAll()
	if cerr := r.next.Close(); err == nil {
		err = cerr
	}
	return err
}
