package dastest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Value is one item a random stream carries: the record's time (whole
// milliseconds since 2000-01-01), the units of its variable, its tag along the
// inner index ("" for scalars and vector components) and the value.
type Value struct {
	MS    int64
	Units string
	Tag   string
	V     float64
}

// Key prints v the way round-trip tests compare values: 7 significant digits,
// the precision of the text encodings the writers use by default.
func (v Value) Key() string {
	return strconv.FormatInt(v.MS, 10) + "|" + v.Units + "|" + v.Tag + "|" + FormatValue(v.V)
}

// FormatValue prints x with 7 significant digits (NaN as NaN).
func FormatValue(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return strconv.FormatFloat(x, 'e', 6, 64)
}

// RandomStream builds a das2.2 or das3 stream from seed, independently of the
// streams packages' writers, and lists the values it carries. Streams have 1 to 3
// datasets (das2.2 ones sometimes with equal descriptors), 1 to 6 interleaved
// records each, every encoding of the two formats (binary reals and integers in
// both byte orders, fixed and variable-length text, every time form), scalars,
// spectra with listed, interval or default tags, das3 vectors, and names present
// or absent. With large set, one dataset has a spectrum of 30,000 to 60,000
// 4-byte items (records of up to 240,008 bytes).
func RandomStream(seed uint64, large bool) ([]byte, []Value) {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), large: large}
	if g.r.IntN(2) == 0 {
		return g.das2(), g.vals
	}
	return g.das3(), g.vals
}

type gen struct {
	r     *rand.Rand
	large bool
	vals  []Value
}

// field is one variable of a generated dataset.
type field struct {
	enc      string // das2 type or das3 encoding
	width    int    // bytes per item; 0 for variable-length text
	term     byte   // das3 valTerm (0: whitespace)
	items    int
	units    string
	tags     []string // per item ("" for scalars)
	time     bool     // the time coordinate
	epoch    string   // units of a numeric time
	doy      bool     // das2 time22: day-of-year text
	ints     bool     // integer encoding
	unsigned bool
	narrow   bool // fixed text too narrow for an exponent: integers
}

func (g *gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

// number returns a value that every encoding of f holds exactly and that prints
// exactly in 7 significant digits.
func (g *gen) number(f *field) float64 {
	switch {
	case f.ints:
		lim := map[int]int64{1: 127, 2: 32767, 4: 1000000, 8: 1000000}[f.width]
		if f.unsigned {
			if f.width == 1 {
				return float64(g.r.Int64N(256))
			}
			return float64(g.r.Int64N(lim + 1))
		}
		return float64(g.r.Int64N(2*lim+1) - lim)
	case f.narrow:
		return float64(g.r.IntN(19999) - 9999)
	case f.width == 0 || f.width >= 14 || strings.Contains(f.enc, "real"):
		if g.r.IntN(15) == 0 {
			return -1e31 // the default fill
		}
		return float64(g.r.IntN(79999)-39999) / 4
	}
	// Fixed text with few digits: a mantissa of width-7 significant digits.
	sig := min(f.width-7, 6)
	m := g.r.IntN(int(math.Pow10(sig))) - int(math.Pow10(sig))/2
	x, _ := strconv.ParseFloat(fmt.Sprintf("%de%d", m, g.r.IntN(7)-3), 64)
	return x
}

// text prints x for a text field of f (fixed: right-aligned in width-1 bytes).
func (g *gen) text(f *field, x float64) string {
	if f.width == 0 {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	if f.narrow {
		return fmt.Sprintf("%*d", f.width-1, int(x))
	}
	return fmt.Sprintf("%*.*e", f.width-1, f.width-8, x)
}

func timeText(ms int64, doy bool, frac int) string {
	t := dastime.Time(ms * 1e6)
	if doy {
		return string(dastime.AppendDOY(nil, t, frac))
	}
	return string(dastime.AppendISO(nil, t, frac))
}

// appendTime encodes record time ms (since 2000) for f.
func appendTime(b []byte, f *field, ms int64, be bool) []byte {
	t := dastime.Time(ms * 1e6)
	switch f.epoch {
	case "TT2000":
		return appendUint(b, uint64(dastime.ToTT2000(t)), 8, be)
	case "us2000", "t2000", "t1970", "mj1958":
		x := dastime.ToFloat(dastime.EpochOf(f.epoch), t)
		return appendUint(b, math.Float64bits(x), 8, be)
	}
	return b
}

func appendUint(b []byte, u uint64, n int, be bool) []byte {
	switch {
	case n == 1:
		return append(b, byte(u))
	case n == 2 && be:
		return binary.BigEndian.AppendUint16(b, uint16(u))
	case n == 2:
		return binary.LittleEndian.AppendUint16(b, uint16(u))
	case n == 4 && be:
		return binary.BigEndian.AppendUint32(b, uint32(u))
	case n == 4:
		return binary.LittleEndian.AppendUint32(b, uint32(u))
	case be:
		return binary.BigEndian.AppendUint64(b, u)
	}
	return binary.LittleEndian.AppendUint64(b, u)
}

// appendItem encodes value x of a binary field.
func appendItem(b []byte, f *field, x float64, be bool) []byte {
	switch {
	case f.ints:
		return appendUint(b, uint64(int64(x)), f.width, be)
	case f.width == 4:
		return appendUint(b, uint64(math.Float32bits(float32(x))), 4, be)
	}
	return appendUint(b, math.Float64bits(x), 8, be)
}

func hdr22(id, xml string) []byte {
	return []byte(fmt.Sprintf("[%s]%06d%s", id, len(xml), xml))
}

func tag3(t, id string, payload []byte) []byte {
	return append([]byte(fmt.Sprintf("|%s|%s|%d|", t, id, len(payload))), payload...)
}

// dataset is a generated dataset: its header, fields and record times.
type dataset struct {
	id     int
	hdr    string
	fields []*field
	ms     int64
}

// records interleaves 1-6 records of each dataset, calling rec for each.
func (g *gen) records(dss []*dataset, rec func(ds *dataset, ms int64)) {
	left := make([]int, len(dss))
	for i := range left {
		left[i] = 1 + g.r.IntN(6)
	}
	for {
		var open []int
		for i, n := range left {
			if n > 0 {
				open = append(open, i)
			}
		}
		if len(open) == 0 {
			return
		}
		i := open[g.r.IntN(len(open))]
		left[i]--
		ds := dss[i]
		ds.ms += int64(1 + g.r.IntN(90000))
		rec(ds, ds.ms)
	}
}

func (g *gen) das2() []byte {
	out := hdr22("00", "<stream version=\"2.2\"><properties String:title=\"random das2.2\" /></stream>\n")
	n := 1 + g.r.IntN(3)
	var dss []*dataset
	bigAt := -1
	if g.large {
		bigAt = g.r.IntN(n)
	}
	for i := 0; i < n; i++ {
		ds := &dataset{id: 1 + g.r.IntN(99), ms: 757382400000 + g.r.Int64N(1e9)}
		for taken(dss, ds.id) {
			ds.id = 1 + g.r.IntN(99)
		}
		if i > 0 && bigAt < 0 && g.r.IntN(3) == 0 {
			// The same layout under another ID (as d22_time_encodings has).
			ds.hdr, ds.fields = dss[0].hdr, dss[0].fields
		} else {
			ds.hdr, ds.fields = g.packet22(i == bigAt)
		}
		dss = append(dss, ds)
		out = append(out, hdr22(fmt.Sprintf("%02d", ds.id), ds.hdr)...)
	}
	g.records(dss, func(ds *dataset, ms int64) {
		b := []byte(fmt.Sprintf(":%02d:", ds.id))
		for k, f := range ds.fields {
			be := strings.HasPrefix(f.enc, "sun")
			if f.time {
				if f.width > 0 && !strings.Contains(f.enc, "real") {
					frac := f.width - 1 - 20 // YYYY-MM-DDTHH:MM:SS.
					if f.doy {
						frac += 2 // YYYY-DDDTHH:MM:SS.
					}
					b = append(b, fmt.Sprintf("%-*s", f.width-1, timeText(ms, f.doy, frac))...)
					b = append(b, sep(k == len(ds.fields)-1))
				} else {
					b = appendTime(b, f, ms, be)
				}
				continue
			}
			for i := 0; i < f.items; i++ {
				x := g.number(f)
				if strings.HasPrefix(f.enc, "ascii") {
					b = append(b, g.text(f, x)...)
					b = append(b, sep(k == len(ds.fields)-1 && i == f.items-1))
					x, _ = strconv.ParseFloat(strings.TrimSpace(g.text(f, x)), 64)
				} else {
					if f.width == 4 {
						x = float64(float32(x))
					}
					b = appendItem(b, f, x, be)
				}
				g.vals = append(g.vals, Value{MS: ms, Units: f.units, Tag: f.tags[i], V: x})
			}
		}
		out = append(out, b...)
	})
	return out
}

func taken(dss []*dataset, id int) bool {
	for _, d := range dss {
		if d.id == id {
			return true
		}
	}
	return false
}

func sep(last bool) byte {
	if last {
		return '\n'
	}
	return ' '
}

var units = []string{"nT", "V/m", "V**2 m**-2 Hz**-1", "", "counts", "cm**-3"}

// packet22 generates a das2.2 packet header: an <x> and 1-3 planes.
func (g *gen) packet22(big bool) (string, []*field) {
	x := &field{time: true, items: 1}
	var b strings.Builder
	b.WriteString("<packet>\n")
	switch g.r.IntN(6) {
	case 0:
		x.enc, x.width, x.epoch = "little_endian_real8", 8, "us2000"
	case 1:
		x.enc, x.width, x.epoch = "sun_real8", 8, "t2000"
	case 2:
		x.enc, x.width, x.epoch = "little_endian_real8", 8, "t1970"
	case 3:
		x.enc, x.width, x.epoch = "sun_real8", 8, "mj1958"
	case 4:
		x.enc, x.width, x.epoch = "time24", 24, "us2000"
	default:
		x.enc, x.width, x.epoch, x.doy = "time22", 22, "us2000", true
	}
	fmt.Fprintf(&b, "  <x type=\"%s\" units=\"%s\" />\n", x.enc, x.epoch)
	fields := []*field{x}
	nplanes := 1 + g.r.IntN(3)
	named := g.r.IntN(4) != 0
	haveScan := false
	for p := 0; p < nplanes; p++ {
		f := &field{items: 1, units: g.pick(units...)}
		scan := !haveScan && (big || g.r.IntN(3) == 0)
		if scan {
			haveScan = true
			f.items = 2 + g.r.IntN(7)
			if big {
				f.items = 30000 + g.r.IntN(30001)
			}
		}
		switch {
		case big && scan:
			f.enc, f.width = "little_endian_real4", 4
		default:
			switch g.r.IntN(5) {
			case 0:
				f.enc, f.width = "little_endian_real4", 4
			case 1:
				f.enc, f.width = "sun_real4", 4
			case 2:
				f.enc, f.width = "little_endian_real8", 8
			case 3:
				f.enc, f.width = "sun_real8", 8
			default:
				f.width = 10 + g.r.IntN(15)
				f.enc = "ascii" + strconv.Itoa(f.width)
			}
		}
		name := ""
		if named {
			name = fmt.Sprintf(" name=\"p%d\"", p)
		}
		if !scan {
			f.tags = []string{""}
			fmt.Fprintf(&b, "  <y type=\"%s\"%s units=\"%s\" />\n", f.enc, name, f.units)
			fields = append(fields, f)
			continue
		}
		tagUnits := g.pick("Hz", "kHz", "eV")
		tagAttr := ""
		f.tags = make([]string, f.items)
		switch g.r.IntN(3) {
		case 0: // a yTags list
			vs := make([]string, f.items)
			for i := range vs {
				v := float64(i*3+1) * 0.5
				vs[i] = strconv.FormatFloat(v, 'g', -1, 64)
				f.tags[i] = vs[i]
			}
			tagAttr = " yTags=\"" + strings.Join(vs, ",") + "\""
			if big {
				// A 60,000-tag list would not fit a header: use an interval.
				tagAttr = ""
				f.tags = nil
			}
		case 1: // interval and minimum
			tagAttr = " yTagInterval=\"0.25\" yTagMin=\"7.5\""
			for i := range f.tags {
				f.tags[i] = strconv.FormatFloat(7.5+float64(i)*0.25, 'g', -1, 64)
			}
		}
		if f.tags == nil || tagAttr == "" {
			f.tags = make([]string, f.items)
			for i := range f.tags {
				f.tags[i] = strconv.Itoa(i)
			}
			tagAttr = ""
		}
		fmt.Fprintf(&b, "  <yscan type=\"%s\"%s nitems=\"%d\" yUnits=\"%s\" zUnits=\"%s\"%s />\n",
			f.enc, name, f.items, tagUnits, f.units, tagAttr)
		fields = append(fields, f)
	}
	b.WriteString("</packet>\n")
	return b.String(), fields
}

func (g *gen) das3() []byte {
	out := tag3("Sx", "", []byte("\n<stream type=\"das-basic-stream\" version=\"3.0\">\n  <properties>\n    <p name=\"title\">random das3</p>\n  </properties>\n</stream>\n"))
	n := 1 + g.r.IntN(3)
	bigAt := -1
	if g.large {
		bigAt = g.r.IntN(n)
	}
	var dss []*dataset
	for i := 0; i < n; i++ {
		ds := &dataset{id: 1 + g.r.IntN(99), ms: 757382400000 + g.r.Int64N(1e9)}
		for taken(dss, ds.id) {
			ds.id = 1 + g.r.IntN(99)
		}
		ds.hdr, ds.fields = g.dataset3(i == bigAt)
		dss = append(dss, ds)
		out = append(out, tag3("Hx", strconv.Itoa(ds.id), []byte(ds.hdr))...)
	}
	g.records(dss, func(ds *dataset, ms int64) {
		var b []byte
		for k, f := range ds.fields {
			last := k == len(ds.fields)-1
			be := strings.HasPrefix(f.enc, "BE")
			if f.time {
				switch {
				case f.enc != "utf8":
					b = appendTime(b, f, ms, be)
				case f.width == 0:
					b = append(append(b, timeText(ms, false, 3)...), sep(last))
				default:
					b = append(append(b, timeText(ms, false, 3)...), sep(last))
				}
				continue
			}
			for i := 0; i < f.items; i++ {
				x := g.number(f)
				switch {
				case f.enc != "utf8":
					if f.width == 4 && !f.ints {
						x = float64(float32(x))
					}
					b = appendItem(b, f, x, be)
				case f.width == 0 && f.term != 0:
					item := g.text(f, x)
					if g.r.IntN(8) == 0 {
						item, x = "", -1e31 // an empty item is the fill value
					}
					b = append(b, fmt.Sprintf(" %s %c", item, f.term)...)
				case f.width == 0:
					b = append(append(b, g.text(f, x)...), sep(last && i == f.items-1))
				default:
					b = append(append(b, g.text(f, x)...), sep(last && i == f.items-1))
					x, _ = strconv.ParseFloat(strings.TrimSpace(g.text(f, x)), 64)
				}
				g.vals = append(g.vals, Value{MS: ms, Units: f.units, Tag: f.tags[i], V: x})
			}
		}
		out = append(out, tag3("Pd", strconv.Itoa(ds.id), b)...)
	})
	return out
}

// dataset3 generates a das3 dataset header: a time coordinate, for rank 2 a
// header coordinate, and 1-3 data dimensions.
func (g *gen) dataset3(big bool) (string, []*field) {
	rank2 := big || g.r.IntN(2) == 0
	inner := 2 + g.r.IntN(7)
	if big {
		inner = 30000 + g.r.IntN(30001)
	}
	named := g.r.IntN(3) != 0
	nameAttr := func(s string) string {
		if named {
			return " name=\"" + s + "\""
		}
		return ""
	}
	idx1, shape := "*", "*"
	if rank2 {
		idx1, shape = "*;-", "*;"+strconv.Itoa(inner)
	}
	var b strings.Builder
	rank := 1
	if rank2 {
		rank = 2
	}
	fmt.Fprintf(&b, "\n<dataset name=\"ds\" rank=\"%d\" index=\"%s\">\n", rank, shape)
	x := &field{time: true, items: 1}
	switch g.r.IntN(5) {
	case 0:
		x.enc, x.width, x.epoch = "LEreal", 8, "us2000"
	case 1:
		x.enc, x.width, x.epoch = "BEreal", 8, "t2000"
	case 2:
		x.enc, x.width, x.epoch = "LEint", 8, "TT2000"
	case 3:
		x.enc, x.width = "utf8", 24
	default:
		x.enc, x.width = "utf8", 0
	}
	storage := map[string]string{"LEreal": "double", "BEreal": "double", "LEint": "long", "utf8": "struct"}[x.enc]
	tunits := x.epoch
	if tunits == "" {
		tunits = "UTC"
	}
	fmt.Fprintf(&b, "  <coord physDim=\"time\"%s axis=\"x\">\n    <scalar use=\"center\" semantic=\"datetime\" storage=\"%s\" index=\"%s\" units=\"%s\">\n      <packet numItems=\"1\" itemBytes=\"%s\" encoding=\"%s\" />\n    </scalar>\n  </coord>\n",
		nameAttr("time"), storage, idx1, tunits, itemBytes(x.width), x.enc)
	fields := []*field{x}
	var tags []string
	if rank2 {
		tags = make([]string, inner)
		if big || g.r.IntN(2) == 0 {
			for i := range tags {
				tags[i] = strconv.FormatFloat(12.5+float64(i)*12.5, 'g', -1, 64)
			}
			fmt.Fprintf(&b, "  <coord physDim=\"frequency\"%s axis=\"y\">\n    <scalar use=\"center\" semantic=\"real\" storage=\"double\" index=\"-;%d\" units=\"Hz\">\n      <sequence minval=\"12.5\" interval=\"12.5\" />\n    </scalar>\n  </coord>\n",
				nameAttr("frequency"), inner)
		} else {
			for i := range tags {
				tags[i] = strconv.FormatFloat(float64(i*i)+0.5, 'g', -1, 64)
			}
			fmt.Fprintf(&b, "  <coord physDim=\"energy\"%s axis=\"y\">\n    <scalar use=\"center\" semantic=\"real\" storage=\"double\" index=\"-;%d\" units=\"eV\">\n      <values>%s</values>\n    </scalar>\n  </coord>\n",
				nameAttr("energy"), inner, strings.Join(tags, " "))
		}
	}
	ndims := 1 + g.r.IntN(3)
	for d := 0; d < ndims; d++ {
		kind := g.r.IntN(3) // 0 scalar, 1 spectrum (rank 2), 2 vector
		switch {
		case big && d == 0:
			kind = 1
		case big && kind == 1:
			kind = 0 // one wide spectrum fills the record
		}
		if kind == 1 && !rank2 {
			kind = 0
		}
		fmt.Fprintf(&b, "  <data physDim=\"%s\"%s>\n", g.pick("", "B", "E", "density"), nameAttr("d"+strconv.Itoa(d)))
		nvars := 1
		if kind == 0 && g.r.IntN(4) == 0 {
			nvars = 3 // center, min, max
		}
		for v := 0; v < nvars; v++ {
			f := &field{units: g.pick(units...), items: 1}
			g.encoding3(f, big && kind == 1)
			el, extra, idx := "scalar", "", idx1
			switch kind {
			case 1:
				f.items, idx = inner, "*;"+strconv.Itoa(inner)
				f.tags = tags
			case 2:
				c := 2 + g.r.IntN(2)
				f.items = c
				extra = fmt.Sprintf(" components=\"%d\" system=\"%s\"", c, g.pick("cartesian", "cylindrical", "spherical"))
				if c == 3 && g.r.IntN(2) == 0 {
					extra += " sysorder=\"2;0;1\""
				}
				el = "vector"
			}
			if f.tags == nil {
				f.tags = make([]string, f.items)
			}
			use := []string{"center", "min", "max"}[v]
			sem := "real"
			if f.ints {
				sem = "integer"
			}
			term, fill := "", ""
			if f.term != 0 {
				term = fmt.Sprintf(" valTerm=\"%c\"", f.term)
			}
			if !f.ints {
				fill = " fill=\"-1.0e+31\""
			}
			fmt.Fprintf(&b, "    <%s use=\"%s\" semantic=\"%s\" storage=\"%s\" index=\"%s\" units=\"%s\"%s>\n      <packet numItems=\"%d\" itemBytes=\"%s\" encoding=\"%s\"%s%s />\n    </%s>\n",
				el, use, sem, storage3(f), idx, f.units, extra, f.items, itemBytes(f.width), f.enc, term, fill, el)
			fields = append(fields, f)
		}
		b.WriteString("  </data>\n")
	}
	b.WriteString("</dataset>\n")
	return b.String(), fields
}

func itemBytes(w int) string {
	if w == 0 {
		return "*"
	}
	return strconv.Itoa(w)
}

// encoding3 picks a das3 encoding for a data variable.
func (g *gen) encoding3(f *field, big bool) {
	if big {
		f.enc, f.width = "LEreal", 4
		return
	}
	switch g.r.IntN(9) {
	case 0:
		f.enc, f.width = g.pick("LEreal", "BEreal"), 4
	case 1:
		f.enc, f.width = g.pick("LEreal", "BEreal"), 8
	case 2:
		f.enc, f.width, f.ints = g.pick("byte", "ubyte"), 1, true
		f.unsigned = f.enc == "ubyte"
	case 3:
		f.enc, f.width, f.ints = g.pick("LEint", "BEint"), 1<<(1+g.r.IntN(3)), true
	case 4:
		f.enc, f.width, f.ints, f.unsigned = g.pick("LEuint", "BEuint"), 1<<(1+g.r.IntN(3)), true, true
	case 5:
		f.enc, f.width = "utf8", 9+g.r.IntN(16)
	case 6:
		f.enc, f.width, f.narrow = "utf8", 6, true
	case 7:
		f.enc, f.width = "utf8", 0
	default:
		f.enc, f.width, f.term = "utf8", 0, ';'
	}
}

func storage3(f *field) string {
	switch {
	case f.ints:
		s := map[int]string{1: "byte", 2: "short", 4: "int", 8: "long"}[f.width]
		if f.unsigned {
			s = "u" + s
		}
		return s
	case f.enc == "utf8" || f.width == 8:
		return "double"
	}
	return "float"
}
