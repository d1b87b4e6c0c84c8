// Package das is the in-memory model of a das stream (das2.2 or das3) shared by the
// readers, writers, reducers and converters under streams/: stream and dataset
// headers, records, comments and exceptions, and the Sink interface through which
// a decoded stream flows without being materialised.
//
// It imports only the standard library and streams/dastime.
package das

import (
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Format names the wire format a header was read from.
type Format int

// Formats.
const (
	FormatNone Format = iota
	FormatDas2
	FormatDas3
)

// Property is one stream, dataset or dimension property.
type Property struct {
	Name string
	// Type uses the das3 vocabulary (string, bool, integer, real, realRange, datetime,
	// datetimeRange, realArray, ...). Empty means string.
	Type  string
	Units string
	Value string
	// Das2Type is the das2.2 type prefix as read (String, Datum, double, ...), or ""
	// when the property did not come from das2.2 or had no prefix.
	Das2Type string
	// Untyped records a das2.2 property written without a prefix.
	Untyped bool
}

// Properties is an ordered property list.
type Properties []Property

// Get returns the named property.
func (ps Properties) Get(name string) (Property, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

// Set replaces the named property or appends it.
func (ps *Properties) Set(p Property) {
	for i := range *ps {
		if (*ps)[i].Name == p.Name {
			(*ps)[i] = p
			return
		}
	}
	*ps = append(*ps, p)
}

// Stream is the stream header.
type Stream struct {
	Version string // "2.2" or "3.0"
	Props   Properties
	// Raw is the header payload as read; writers of the same format emit it verbatim.
	Raw       []byte
	RawFormat Format
}

// DimKind distinguishes coordinates from data.
type DimKind int

// Dimension kinds.
const (
	Coord DimKind = iota
	Data
)

// Plane is the das2.2 plane element a dimension came from.
type Plane int

// das2.2 planes.
const (
	PlaneNone Plane = iota
	PlaneX
	PlaneY
	PlaneZ
	PlaneYScan
)

// TagForm says how a das2.2 yscan spelled its tags.
type TagForm int

// Tag forms.
const (
	TagsDefault  TagForm = iota // 0..nitems-1
	TagsList                    // yTags="a,b,c"
	TagsInterval                // yTagInterval (+ yTagMin)
)

// YTags are the das2.2 yscan tag attributes.
type YTags struct {
	Form     TagForm
	Units    string
	Values   []float64 // always filled, nitems long
	Text     string    // yTags attribute text (TagsList)
	Interval string    // yTagInterval text
	Min      string    // yTagMin text ("" when absent)
}

// Dim is a das3 physical dimension (<coord> or <data>), or a das2.2 plane.
type Dim struct {
	Kind    DimKind
	Plane   Plane // das2.2 origin, or PlaneNone
	PhysDim string
	Name    string
	Axis    string
	Props   Properties
	Vars    []*Variable
	YTags   YTags // PlaneYScan only
	// das3 attributes kept for regenerated headers.
	Frame      string
	Annotation string
}

// Source says where a variable's values come from.
type Source int

// Variable sources.
const (
	FromPacket Source = iota
	FromValues
	FromSequence
)

// Variable is one das3 <scalar> (or the value part of a das2.2 plane).
type Variable struct {
	Use      string
	Semantic string // real, integer, datetime, string
	Storage  string
	Index    string // das3 index text, e.g. "*;-"
	Units    string
	Source   Source
	Items    int // values per record (FromPacket) or header values
	Enc      Encoding
	Fill     string  // fill text as written ("" = none given)
	FillVal  float64 // effective fill (default -1e31)
	Text     TextFormat
	// FromValues: Values and their text; FromSequence: SeqMin/SeqInterval text + values.
	Values      []float64
	ValuesText  string
	SeqMin      string
	SeqInterval string
	// Slot is the first index of this variable's items in Record.Floats or Record.Ints.
	Slot int
	// Epoch is the time unit of a numeric time variable (NotEpoch otherwise).
	Epoch dastime.Epoch
	// Props are the variable's own <properties> (das3).
	Props Properties
	// Components > 0 makes this a das3 <vector>: each value along the index has
	// Components items (the fastest-varying), so Items counts every component.
	Components int
	System     string // vector system attribute ("" = cartesian)
	SysOrder   string // vector sysorder attribute ("" = natural order)
}

// IsVector reports whether v is a das3 <vector>.
func (v *Variable) IsVector() bool { return v.Components > 0 }

// ComponentName names component c of a vector after the direction sysorder gives
// it in the vector's system, in das2C's order (vector.c), spelled in ASCII.
func ComponentName(v *Variable, c int) string {
	dir := c
	if parts := strings.Split(v.SysOrder, ";"); len(parts) == v.Components {
		if d, err := strconv.Atoi(parts[c]); err == nil {
			dir = d
		}
	}
	names := map[string][3]string{
		"": {"x", "y", "z"}, "cartesian": {"x", "y", "z"}, "cylindrical": {"rho", "phi", "z"},
		"spherical": {"r", "theta", "phi"}, "centric": {"r", "phi", "theta"},
		"detic": {"phi", "theta", "a"}, "graphic": {"phi", "theta", "a"},
	}
	if n, ok := names[v.System]; ok && dir >= 0 && dir < 3 {
		return n[dir]
	}
	return "c" + strconv.Itoa(dir)
}

// IsTime reports whether values are instants.
func (v *Variable) IsTime() bool {
	return v.Semantic == "datetime" || v.Epoch != dastime.NotEpoch
}

// IsInt reports whether the values live in Record.Ints: integer encodings, and text
// times (stored as dastime.Time).
func (v *Variable) IsInt() bool {
	if v.Source != FromPacket {
		return false
	}
	switch v.Enc.Kind {
	case EncInt, EncUint:
		return true
	case EncText:
		return v.IsTime()
	}
	return false
}

// Dataset is a das2.2 packet header or a das3 dataset header.
type Dataset struct {
	ID    int
	Name  string
	Rank  int
	Shape []int // extents per index; -1 for '*'
	Plot  string
	Props Properties
	Dims  []*Dim
	// Raw is the header payload as read; writers of the same format emit it
	// verbatim when RawValid: the reader found nothing in it that a reference
	// reader refuses (otherwise writers generate a header that mends it).
	Raw       []byte
	RawFormat Format
	RawValid  bool

	// Computed by Layout.
	NFloat, NInt int
	WireBytes    int  // bytes of one record in its own encodings (fixed-width items only)
	VarLen       bool // some items are variable-length text: records vary in size
	packetVars   []*Variable
}

// PacketVars returns the packet-sourced variables in wire order (after Layout).
func (ds *Dataset) PacketVars() []*Variable { return ds.packetVars }

// Layout assigns record slots and computes the record size; call it after building
// or changing a dataset. It returns an error for impossible layouts (not for
// records larger than a packet: see CheckSize).
func (ds *Dataset) Layout() error {
	ds.NFloat, ds.NInt, ds.WireBytes, ds.VarLen = 0, 0, 0, false
	ds.packetVars = ds.packetVars[:0]
	for _, d := range ds.Dims {
		for _, v := range d.Vars {
			if v.Epoch == dastime.NotEpoch {
				v.Epoch = dastime.EpochOf(v.Units)
			}
			if v.Source != FromPacket {
				continue
			}
			if v.Items < 1 || v.Items > MaxItems {
				return &FormatError{Rule: "items", Msg: "variable " + d.Name + " has " + strconv.Itoa(v.Items) + " items"}
			}
			switch {
			case v.Enc.Var:
				if v.Enc.Kind != EncText {
					return &FormatError{Rule: "encoding", Msg: "variable " + d.Name + ": only text items can be variable-length"}
				}
				ds.VarLen = true
			case v.Enc.Size < 1:
				return &FormatError{Rule: "encoding", Msg: "variable " + d.Name + " has no encoding"}
			}
			if v.IsInt() {
				v.Slot = ds.NInt
				ds.NInt += v.Items
			} else {
				v.Slot = ds.NFloat
				ds.NFloat += v.Items
			}
			ds.WireBytes += v.Items * v.Enc.Size
			ds.packetVars = append(ds.packetVars, v)
		}
	}
	return nil
}

// CheckSize reports a record too large for a packet: what readers refuse (a
// dataset built in memory may be larger; the writers split its records).
func (ds *Dataset) CheckSize() error {
	if ds.WireBytes > MaxPacket {
		return &FormatError{Rule: "3.2 packet size", Msg: "record of " + strconv.Itoa(ds.WireBytes) + " bytes exceeds 262144"}
	}
	return nil
}

// TimeVar returns the first packet-sourced time coordinate, or nil.
func (ds *Dataset) TimeVar() *Variable {
	for _, d := range ds.Dims {
		if d.Kind != Coord {
			continue
		}
		for _, v := range d.Vars {
			if v.Source == FromPacket && v.IsTime() {
				return v
			}
		}
	}
	return nil
}

// DimOf returns the dimension holding v.
func (ds *Dataset) DimOf(v *Variable) *Dim {
	for _, d := range ds.Dims {
		for _, w := range d.Vars {
			if w == v {
				return d
			}
		}
	}
	return nil
}

// Clone returns a deep copy without Raw (so writers regenerate the header).
func (ds *Dataset) Clone() *Dataset {
	c := *ds
	c.Raw, c.RawFormat, c.RawValid = nil, FormatNone, false
	c.Shape = append([]int(nil), ds.Shape...)
	c.Props = append(Properties(nil), ds.Props...)
	c.packetVars = nil
	c.Dims = make([]*Dim, len(ds.Dims))
	for i, d := range ds.Dims {
		nd := *d
		nd.Props = append(Properties(nil), d.Props...)
		nd.Vars = make([]*Variable, len(d.Vars))
		for j, v := range d.Vars {
			nv := *v
			nv.Props = append(Properties(nil), v.Props...)
			nd.Vars[j] = &nv
		}
		c.Dims[i] = &nd
	}
	_ = c.Layout()
	return &c
}

// Record is one data packet's values. Readers reuse one Record per dataset: a Sink
// must not keep it (or its slices) after its Record method returns.
type Record struct {
	DS     *Dataset
	Floats []float64
	Ints   []int64
}

// Reset sizes the record for its dataset.
func (r *Record) Reset(ds *Dataset) {
	r.DS = ds
	if cap(r.Floats) < ds.NFloat {
		r.Floats = make([]float64, ds.NFloat)
	}
	r.Floats = r.Floats[:ds.NFloat]
	if cap(r.Ints) < ds.NInt {
		r.Ints = make([]int64, ds.NInt)
	}
	r.Ints = r.Ints[:ds.NInt]
}

// Time returns item i of time variable v as a dastime.Time.
func (r *Record) Time(v *Variable, i int) (dastime.Time, bool) {
	if v.IsInt() {
		x := r.Ints[v.Slot+i]
		if v.Enc.Kind == EncText {
			return dastime.Time(x), true
		}
		if v.Epoch == dastime.TT2000 {
			return dastime.FromTT2000(x), true
		}
		return dastime.FromFloat(v.Epoch, float64(x))
	}
	return dastime.FromFloat(v.Epoch, r.Floats[v.Slot+i])
}

// SetTime stores t as item i of time variable v in v's own units.
func (r *Record) SetTime(v *Variable, i int, t dastime.Time) {
	if v.IsInt() {
		switch {
		case v.Enc.Kind == EncText:
			r.Ints[v.Slot+i] = int64(t)
		case v.Epoch == dastime.TT2000:
			r.Ints[v.Slot+i] = dastime.ToTT2000(t)
		default:
			r.Ints[v.Slot+i] = int64(dastime.ToFloat(v.Epoch, t))
		}
		return
	}
	r.Floats[v.Slot+i] = dastime.ToFloat(v.Epoch, t)
}

// Float returns item i of v as a float64 (integers converted).
func (r *Record) Float(v *Variable, i int) float64 {
	if v.IsInt() {
		if v.Enc.Kind == EncUint {
			return float64(uint64(r.Ints[v.Slot+i]))
		}
		return float64(r.Ints[v.Slot+i])
	}
	return r.Floats[v.Slot+i]
}

// Comment is an out-of-band comment (progress, log).
type Comment struct {
	Type   string
	Source string
	Value  string
	// Raw is the payload as read, emitted verbatim by writers of RawFormat.
	Raw       []byte
	RawFormat Format
}

// Exception is an out-of-band exception; it normally ends a stream.
type Exception struct {
	Type      string
	Message   string
	Raw       []byte
	RawFormat Format
}

// Exception type names (das2.2 and das3 spellings).
const (
	NoDataInInterval = "NoDataInInterval"
	NoMatchingData   = "NoMatchingData"
	IllegalArgument  = "IllegalArgument"
	QueryError       = "QueryError"
	ServerError      = "ServerError"
)

// ExceptionType2 maps an exception type to its das2.2 spelling.
func ExceptionType2(t string) string {
	switch t {
	case NoMatchingData:
		return NoDataInInterval
	case QueryError:
		return IllegalArgument
	}
	return t
}

// ExceptionType3 maps an exception type to its das3 spelling.
func ExceptionType3(t string) string {
	switch t {
	case NoDataInInterval:
		return NoMatchingData
	case IllegalArgument:
		return QueryError
	}
	return t
}

// CrashCodecs is the number of record-varying variables (das2.2 planes) in one
// dataset that makes das2C (f394e6f, the reference reader of das3_csv, das3_cdf
// and das2py) abort when it frees the dataset: it takes its six-entry inline
// codec array for a heap one (dataset.c del_DasDs). Writers never produce it;
// readers report it.
const CrashCodecs = 6

// Limits shared by readers and writers (spec 3.2, 4.1).
const (
	MaxPacket = 262144
	MaxItems  = 249999
	MaxID     = 99
)

// DefaultFill is the das fill value when none is declared.
const DefaultFill = -1.0e31

// IsFill compares v with fill the way das2C does (relative tolerance 1e-5).
func IsFill(v, fill float64) bool {
	if fill != fill {
		return v != v
	}
	if fill == 0 {
		return v == 0
	}
	d := fill - v
	if d < 0 {
		d = -d
	}
	f := fill
	if f < 0 {
		f = -f
	}
	return d < 1e-5*f
}
