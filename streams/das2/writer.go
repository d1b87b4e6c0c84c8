package das2

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// WriterOptions tune a Writer.
type WriterOptions struct {
	// FlushEvery flushes after this many records (0: only after headers, out-of-band
	// packets and Close).
	FlushEvery int
	// Text writes every plane as text (timeN / asciiN), like das2_ascii.
	Text bool
	// TimeFrac is the number of fractional-second digits of text times (0 means the
	// default 3; negative means none).
	TimeFrac int
	// SigDigits is the number of significant digits of text values (2..17, default 7).
	SigDigits int
}

type plane struct {
	kind  das.Plane
	name  string
	xName string
	props das.Properties
	tags  das.YTags
	src   *das.Variable
	lo    int // first item of src this plane writes
	out   *das.Variable
}

// part is one output packet ID an input dataset writes its records to; a record
// too large for one packet is split across several parts (all with the X value).
type part struct {
	id     int
	fields []das.Field
}

type writeState struct {
	parts []part
}

// Writer writes a das2.2 stream; it is a das.Sink.
//
// Every stream it writes is one das2C, das2java and das_verify accept: packets
// never exceed 262144 bytes (records that would are split across packet IDs by
// item ranges), equal packet descriptors share one ID, IDs are not redefined
// while one is free, and every plane has a unique valid name.
type Writer struct {
	bw      *bufio.Writer
	opt     WriterOptions
	started bool
	ids     [das.MaxID + 1]*writeState // by input dataset ID
	out     das.OutIDs
	loose   [das.MaxID + 1]string // das2C's key of the header under each output ID
	buf     []byte
	pending int
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer, opt WriterOptions) *Writer {
	switch {
	case opt.TimeFrac == 0:
		opt.TimeFrac = 3
	case opt.TimeFrac < 0:
		opt.TimeFrac = 0
	}
	if opt.TimeFrac > 9 {
		opt.TimeFrac = 9
	}
	if opt.SigDigits == 0 {
		opt.SigDigits = 7
	}
	opt.SigDigits = min(max(opt.SigDigits, 2), 17)
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), opt: opt, buf: make([]byte, 0, 4096)}
}

func (w *Writer) writeHeader(id string, xml []byte) error {
	if len(xml) == 0 || len(xml) > das.MaxPacket-1 {
		return fmt.Errorf("das2: header of %d bytes is outside 1..262143", len(xml))
	}
	w.buf = append(w.buf[:0], '[')
	w.buf = append(w.buf, id...)
	w.buf = append(w.buf, ']')
	w.buf = appendLen6(w.buf, len(xml))
	w.buf = append(w.buf, xml...)
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("das2: write header: %w", err)
	}
	return w.flush()
}

func appendLen6(dst []byte, n int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < 6; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func (w *Writer) flush() error {
	w.pending = 0
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("das2: flush: %w", err)
	}
	return nil
}

// Stream writes the [00] header.
func (w *Writer) Stream(s *das.Stream) error {
	if w.started {
		return fmt.Errorf("das2: second stream header")
	}
	w.started = true
	if s.RawFormat == das.FormatDas2 && len(s.Raw) > 0 {
		return w.writeHeader("00", s.Raw)
	}
	var b strings.Builder
	if len(s.Props) == 0 {
		b.WriteString("<stream version=\"2.2\" />\n")
	} else {
		b.WriteString("<stream version=\"2.2\">\n")
		writeProps(&b, s.Props, "  ")
		b.WriteString("</stream>\n")
	}
	return w.writeHeader("00", []byte(b.String()))
}

func writeProps(b *strings.Builder, ps das.Properties, indent string) {
	b.WriteString(indent)
	b.WriteString("<properties")
	for _, p := range ps {
		n, v := p.Das2Attr()
		b.WriteString("\n" + indent + "  " + n + "=\"" + das.EscapeAttr(v) + "\"")
	}
	b.WriteString(" />\n")
}

// packetSpec is a header to write, the fields of its records and its keys.
type packetSpec struct {
	xml           []byte
	fields        []das.Field
	strict, loose string
}

// Dataset writes the packet header(s) of a dataset: one [NN] header, or several
// when a record does not fit one packet; none when an equal header is already in
// the stream (its ID is reused).
func (w *Writer) Dataset(ds *das.Dataset) error {
	if !w.started {
		return fmt.Errorf("das2: dataset before the stream header")
	}
	if ds.ID < 1 || ds.ID > das.MaxID {
		return fmt.Errorf("das2: packet ID %d outside 1..99", ds.ID)
	}
	raw := ds.RawFormat == das.FormatDas2 && len(ds.Raw) > 0 && ds.RawValid && (!w.opt.Text || allText(ds)) && 4+ds.WireBytes <= das.MaxPacket
	specs, err := w.specs(ds, raw, false)
	if err != nil {
		return err
	}
	if w.looseClash(specs) {
		// das2C would take a header for one already in the stream that differs
		// only in yTagInterval tags: spell every part's tags out as yTags lists.
		if specs, err = w.specs(ds, false, true); err != nil {
			return err
		}
	}
	if old := w.ids[ds.ID]; old != nil {
		for _, p := range old.parts {
			w.out.Release(p.id)
		}
	}
	st := &writeState{}
	w.ids[ds.ID] = st
	for _, sp := range specs {
		id, found := w.out.Find(sp.strict)
		if !found {
			if id, err = w.out.Take(ds.ID, sp.strict); err != nil {
				return fmt.Errorf("das2: %w", err)
			}
			w.loose[id] = sp.loose
			if err := w.writeHeader(fmt.Sprintf("%02d", id), sp.xml); err != nil {
				return err
			}
		}
		w.out.Hold(id)
		st.parts = append(st.parts, part{id: id, fields: sp.fields})
	}
	return nil
}

// specs builds the headers of a dataset: its own when raw is set, else
// generated ones (split by pack; with lists set, every yscan's tags as a list).
func (w *Writer) specs(ds *das.Dataset, raw, lists bool) ([]packetSpec, error) {
	var specs []packetSpec
	if raw {
		specs = []packetSpec{{xml: ds.Raw, fields: das.FieldsOf(ds.PacketVars())}}
	} else {
		planes, err := w.planes(ds)
		if err != nil {
			return nil, err
		}
		if lists {
			for i := range planes {
				if planes[i].kind == das.PlaneYScan {
					planes[i].tags = listTags(planes[i].tags)
				}
			}
		}
		packets, err := pack(ds, planes)
		if err != nil {
			return nil, err
		}
		for _, pk := range packets {
			sp := packetSpec{xml: packetXML(ds, pk)}
			for _, p := range pk {
				sp.fields = append(sp.fields, das.Field{Src: p.src, Out: p.out, Lo: p.lo})
			}
			specs = append(specs, sp)
		}
	}
	for i := range specs {
		root, err := das.ParseXML(specs[i].xml)
		if err != nil {
			return nil, fmt.Errorf("das2: packet header: %w", err)
		}
		specs[i].strict, specs[i].loose = descriptorKey(root, true), descriptorKey(root, false)
	}
	return specs, nil
}

// looseClash reports whether a spec would be a header das2C takes for another
// one in the stream (or in the same dataset) while not being the same header.
func (w *Writer) looseClash(specs []packetSpec) bool {
	for i, sp := range specs {
		if _, same := w.out.Find(sp.strict); same {
			continue
		}
		for id := 1; id <= das.MaxID; id++ {
			if w.loose[id] == sp.loose {
				return true
			}
		}
		for _, o := range specs[:i] {
			if o.loose == sp.loose && o.strict != sp.strict {
				return true
			}
		}
	}
	return false
}

// listTags spells tags out as a yTags list.
func listTags(t das.YTags) das.YTags {
	if t.Form == das.TagsList {
		return t
	}
	parts := make([]string, len(t.Values))
	for i, f := range t.Values {
		parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	t.Form, t.Text, t.Interval, t.Min = das.TagsList, strings.Join(parts, ","), "", ""
	return t
}

func allText(ds *das.Dataset) bool {
	for _, v := range ds.PacketVars() {
		if v.Enc.Kind != das.EncText || v.Enc.Var {
			return false
		}
	}
	return true
}

// planes maps a dataset onto das2.2 planes: <x> first, then one <y> per scalar
// variable (one per component of a vector) and one <yscan> per rank-2 variable.
// Plane names are made valid and unique.
func (w *Writer) planes(ds *das.Dataset) ([]plane, error) {
	var ps []plane
	x := ds.TimeVar()
	if x == nil {
		for _, d := range ds.Dims {
			if d.Kind == das.Coord && len(d.Vars) > 0 && d.Vars[0].Source == das.FromPacket && !d.Vars[0].IsVector() {
				x = d.Vars[0]
				break
			}
		}
	}
	if x == nil {
		return nil, fmt.Errorf("das2: dataset %d has no record-varying coordinate for <x>", ds.ID)
	}
	xd := ds.DimOf(x)
	xp := plane{kind: das.PlaneX, src: x}
	if xd.Plane == das.PlaneX {
		xp.xName = xd.Name
	}
	ps = append(ps, xp)
	used := map[string]bool{}
	// Each dimension's base name: valid and unique, the name its planes derive from
	// (and das2C's source property groups them by).
	bases, baseUsed := map[*das.Dim]string{}, map[string]bool{}
	for _, d := range ds.Dims {
		if d == xd {
			continue
		}
		name := d.Name
		for _, alt := range []string{d.PhysDim, ds.Name} {
			if name == "" {
				name = alt
			}
		}
		bases[d] = das.Identifier(name, "plane", d.Plane != das.PlaneNone, baseUsed)
	}
	for _, d := range ds.Dims {
		base := bases[d]
		for _, v := range d.Vars {
			if v.Source != das.FromPacket || v == x {
				continue
			}
			p := plane{kind: das.PlaneY, name: base, src: v, props: append(das.Properties(nil), d.Props...)}
			if d.Plane != das.PlaneNone {
				p.kind, p.tags = d.Plane, d.YTags
				if p.kind == das.PlaneX {
					p.kind = das.PlaneY
				}
			} else {
				// das2C groups planes by their source property and takes the role of
				// each from its operation (dataset_hdr2.c): only min and max have one.
				switch {
				case v.IsVector() && v.Use != "" && v.Use != "center":
					p.name = base + "_" + v.Use
				case v.IsVector():
				case v.Use == "min" || v.Use == "max":
					p.name = base + "." + v.Use
					p.props.Set(das.Property{Name: "source", Value: base, Das2Type: "String"})
					p.props.Set(das.Property{Name: "operation", Value: "BIN_" + strings.ToUpper(v.Use), Das2Type: "String"})
				case v.Use != "" && v.Use != "center":
					p.name = base + "_" + v.Use
				case hasMinMax(d):
					p.props.Set(das.Property{Name: "source", Value: base, Das2Type: "String"})
				}
				for i := range p.props {
					if p.props[i].Name == "label" {
						p.props[i].Name = "yLabel"
					}
				}
				if v.Items > 1 && !v.IsVector() {
					p.kind = das.PlaneYScan
					p.tags = tagsFor(ds, v)
					for i := range p.props {
						if p.props[i].Name == "yLabel" {
							p.props[i].Name = "zLabel"
						}
					}
				}
				if v.Fill != "" {
					fn := "yFill"
					if p.kind == das.PlaneYScan {
						fn = "zFill"
					}
					p.props.Set(das.Property{Name: fn, Type: "real", Value: v.Fill, Das2Type: "double"})
				}
			}
			if v.IsVector() {
				if v.Items != v.Components {
					return nil, fmt.Errorf("das2: vector %q varies along an inner index: das2.2 has no plane for it", d.Name)
				}
				// One <y> per component, named after its direction.
				for c := 0; c < v.Components; c++ {
					cp := p
					cp.name = das.Identifier(p.name+"_"+das.ComponentName(v, c), "plane"+strconv.Itoa(len(ps)), true, used)
					cp.lo = c
					ps = append(ps, cp)
				}
				continue
			}
			p.name = das.Identifier(p.name, "plane"+strconv.Itoa(len(ps)), true, used)
			ps = append(ps, p)
		}
	}
	for i := range ps {
		out, err := w.outVar(ps[i].src, ps[i].kind == das.PlaneX)
		if err != nil {
			return nil, err
		}
		if ps[i].src.IsVector() {
			out.Items, out.Components = 1, 0
		}
		ps[i].out = out
	}
	return ps, nil
}

// hasMinMax reports whether a das3 dimension has scalar min or max variables.
func hasMinMax(d *das.Dim) bool {
	for _, v := range d.Vars {
		if (v.Use == "min" || v.Use == "max") && !v.IsVector() {
			return true
		}
	}
	return false
}

// tagsFor finds the yTags of a rank-2 variable: a header-valued coordinate with as
// many values as the variable has items.
func tagsFor(ds *das.Dataset, v *das.Variable) das.YTags {
	for _, d := range ds.Dims {
		if d.Kind != das.Coord {
			continue
		}
		for _, c := range d.Vars {
			if c.Source == das.FromPacket || len(c.Values) != v.Items {
				continue
			}
			t := das.YTags{Units: c.Units, Values: c.Values}
			if c.Source == das.FromSequence {
				t.Form, t.Interval, t.Min = das.TagsInterval, c.SeqInterval, c.SeqMin
				if i := strings.LastIndexByte(t.Interval, ';'); i >= 0 {
					t.Interval = t.Interval[i+1:]
				}
			} else {
				t.Form = das.TagsList
				parts := make([]string, len(c.Values))
				for i, f := range c.Values {
					parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
				}
				t.Text = strings.Join(parts, ",")
			}
			return t
		}
	}
	vals := make([]float64, v.Items)
	for i := range vals {
		vals[i] = float64(i)
	}
	return das.YTags{Values: vals}
}

// outVar decides the das2.2 encoding of a variable.
func (w *Writer) outVar(src *das.Variable, isX bool) (*das.Variable, error) {
	out := *src
	time := src.IsTime()
	text := src.Enc.Kind == das.EncText
	// Text widths das2C refuses (ascii < 9 or > 24, time < 5 or > 31) and
	// variable-length das3 items are written again in a width it reads.
	badWidth := text && (src.Enc.Var || (time && (src.Enc.Size < 5 || src.Enc.Size > 31)) ||
		(!time && (src.Enc.Size < 9 || src.Enc.Size > 24)))
	switch {
	case (w.opt.Text && !text) || badWidth:
		if time {
			n := 19
			if w.opt.TimeFrac > 0 {
				n += 1 + w.opt.TimeFrac
			}
			out.Enc = das.Encoding{Kind: das.EncText, Size: n + 1}
			out.Text = das.TextFormat{}
			out.Units = "us2000"
		} else {
			out.Enc = das.Encoding{Kind: das.EncText, Size: w.opt.SigDigits + 7}
			out.Text = das.TextFormat{Conv: 'e', Digits: w.opt.SigDigits - 1}
		}
	case text:
		if time && (src.Units == "UTC" || src.Units == "") {
			out.Units = "us2000"
		}
	case src.Enc.Kind == das.EncInt || src.Enc.Kind == das.EncUint:
		out.Enc = das.Encoding{Kind: das.EncReal, Size: 8}
		if time {
			out.Units = "us2000"
		}
	}
	if time && out.Enc.Kind == das.EncReal && src.Epoch == dastime.TT2000 {
		out.Units = "us2000"
	}
	if time && isX && out.Enc.Kind == das.EncReal && out.Enc.Size == 4 {
		out.Enc.Size = 8
	}
	out.Epoch = dastime.EpochOf(out.Units)
	if time && out.Enc.Kind == das.EncText {
		out.Epoch = dastime.NotEpoch
	}
	if _, ok := out.Enc.Das2Name(time); !ok {
		return nil, fmt.Errorf("das2: encoding %s/%d cannot be written in das2.2", out.Enc.Das3Name(), out.Enc.Size)
	}
	return &out, nil
}

// pack spreads the planes over packets, each with the X plane. The <y> and <z>
// planes go together, and every set of <yscan> planes with equal tags into
// packets of their own: das2C reads the <y> planes of a packet with a <yscan> as
// the reference of its tags, and the tags of a packet's first <yscan> as those
// of every other (dataset_hdr2.c). Within that, planes are packed in order so
// that every data packet stays within 262144 bytes (tag included) and every
// header within 262143; a <yscan> too wide for the room left is split by item
// ranges (each part with its own y tags).
func pack(ds *das.Dataset, planes []plane) ([][]plane, error) {
	x := planes[0]
	groups := [][]plane{{x}}
	scans := map[string]int{} // tag key -> group
	for _, p := range planes[1:] {
		if p.kind != das.PlaneYScan {
			groups[0] = append(groups[0], p)
			continue
		}
		key := p.tags.Units + "|" + fmt.Sprint(p.tags.Values)
		g, ok := scans[key]
		if !ok {
			g = len(groups)
			scans[key] = g
			groups = append(groups, []plane{x})
		}
		groups[g] = append(groups[g], p)
	}
	if len(groups[0]) == 1 && len(groups) > 1 {
		groups = groups[1:]
	}
	var packets [][]plane
	for _, g := range groups {
		pk, err := packGroup(ds, g)
		if err != nil {
			return nil, err
		}
		for _, p := range pk {
			packets = append(packets, avoidSix(p)...)
		}
	}
	return packets, nil
}

// das2C (f394e6f) frees a small-vector array of a dataset with exactly six
// codecs, one per plane, and aborts (del_DasDs, DASDS_LOC_ENC_SZ): every das3
// tool and das2py's loader crash on such a packet. avoidSix moves the last plane,
// with the planes that share its source, into a packet of its own.
func avoidSix(p []plane) [][]plane {
	if len(p) != das.CrashCodecs {
		return [][]plane{p}
	}
	cut := len(p) - 1
	src := sourceOf(p[cut])
	for src != "" && cut > 1 && sourceOf(p[cut-1]) == src {
		cut--
	}
	if cut == 1 { // one source group: split it after NAME (role groups stay whole)
		cut = 2
	}
	rest := append([]plane{p[0]}, p[cut:]...)
	return [][]plane{p[:cut], rest}
}

func sourceOf(p plane) string {
	s, _ := p.props.Get("source")
	return s.Value
}

// packGroup packs one group of planes (X first): the <y> planes in order, as
// many per packet as fit; a group of <yscan> planes with equal tags whole if it
// fits, else cut into item ranges, every part with the same range of each yscan
// (so NAME.min and NAME.max parts travel with their NAME part).
func packGroup(ds *das.Dataset, planes []plane) ([][]plane, error) {
	x := planes[0]
	xBytes := x.out.Items * x.out.Enc.Size
	// Header room: the header with every yscan's tags an empty yTags list bounds
	// every part's (each tag then adds its text and a comma).
	bare := make([]plane, len(planes))
	copy(bare, planes)
	for i := range bare {
		if bare[i].kind == das.PlaneYScan {
			bare[i].tags = das.YTags{Form: das.TagsList, Units: bare[i].tags.Units}
		}
	}
	hdrRoom := das.MaxPacket - 1 - len(packetXML(ds, bare))
	dataRoom := das.MaxPacket - 4 - xBytes
	if hdrRoom < 64 || dataRoom < 1 {
		return nil, fmt.Errorf("das2: dataset %d: headers and X leave no room for values", ds.ID)
	}
	if planes[len(planes)-1].kind != das.PlaneYScan {
		var packets [][]plane
		cur, left := []plane{x}, dataRoom
		for _, p := range planes[1:] {
			size := p.out.Items * p.out.Enc.Size
			if size > left && len(cur) > 1 {
				packets, cur, left = append(packets, cur), []plane{x}, dataRoom
			}
			if size > left {
				return nil, fmt.Errorf("das2: plane %q of %d bytes does not fit a packet", p.name, size)
			}
			cur, left = append(cur, p), left-size
		}
		return append(packets, cur), nil
	}
	scans := planes[1:]
	n := scans[0].out.Items
	perItem, listed := 0, 0
	for _, p := range scans {
		perItem += p.out.Enc.Size
		if p.tags.Form == das.TagsList {
			listed += len(p.tags.Text) + 1
		}
	}
	if n*perItem <= dataRoom && listed <= hdrRoom/2 {
		return [][]plane{planes}, nil
	}
	// Split: each part lists its tags in every yscan's header. Count at least
	// tagBytes per tag: das2C writes a header it read again with its own tag
	// format (ascii12) into a 262144-byte buffer, so ours must leave it room.
	const tagBytes = 16
	tagText := strings.Split(listTags(scans[0].tags).Text, ",")
	var packets [][]plane
	for lo := 0; lo < n; {
		k, hdr := 0, 0
		for lo+k < n && (k+1)*perItem <= dataRoom {
			c := max(len(tagText[lo+k])+1, tagBytes) * len(scans)
			if hdr+c > hdrRoom {
				break
			}
			hdr += c
			k++
		}
		if k == 0 {
			return nil, fmt.Errorf("das2: plane %q: one item does not fit a packet", scans[0].name)
		}
		part := []plane{x}
		for _, p := range scans {
			part = append(part, slicePlane(p, lo, k, tagText))
		}
		packets = append(packets, part)
		lo += k
	}
	return packets, nil
}

// slicePlane returns items lo..lo+k of a <yscan> plane, its tags as a yTags list
// (tagText: every tag of the plane as text).
func slicePlane(p plane, lo, k int, tagText []string) plane {
	if lo == 0 && k == p.out.Items {
		return p
	}
	out := *p.out
	out.Items = k
	s := p
	s.out, s.lo = &out, p.lo+lo
	// Parts carry their tags as yTags lists: das2C does not compare interval tags,
	// so parts differing only in yTagMin would look like one descriptor to it.
	s.tags = das.YTags{Form: das.TagsList, Units: p.tags.Units, Values: p.tags.Values[lo : lo+k],
		Text: strings.Join(tagText[lo:lo+k], ",")}
	return s
}

func packetXML(ds *das.Dataset, planes []plane) []byte {
	var b strings.Builder
	b.WriteString("<packet>\n")
	if len(ds.Props) > 0 && ds.RawFormat != das.FormatDas3 {
		writeProps(&b, ds.Props, "  ")
	}
	for _, p := range planes {
		typ, _ := p.out.Enc.Das2Name(p.out.IsTime())
		switch p.kind {
		case das.PlaneX:
			b.WriteString("  <x type=\"" + typ + "\"")
			if p.xName != "" {
				b.WriteString(" name=\"" + das.EscapeAttr(p.xName) + "\"")
			}
			b.WriteString(" units=\"" + das.EscapeAttr(p.out.Units) + "\"")
		case das.PlaneY, das.PlaneZ:
			el := "y"
			if p.kind == das.PlaneZ {
				el = "z"
			}
			b.WriteString("  <" + el + " type=\"" + typ + "\" name=\"" + das.EscapeAttr(p.name) + "\" units=\"" + das.EscapeAttr(p.out.Units) + "\"")
		case das.PlaneYScan:
			b.WriteString("  <yscan type=\"" + typ + "\" name=\"" + das.EscapeAttr(p.name) + "\" nitems=\"" + strconv.Itoa(p.out.Items) + "\"")
			b.WriteString(" yUnits=\"" + das.EscapeAttr(p.tags.Units) + "\" zUnits=\"" + das.EscapeAttr(p.out.Units) + "\"")
			switch p.tags.Form {
			case das.TagsList:
				b.WriteString(" yTags=\"" + das.EscapeAttr(p.tags.Text) + "\"")
			case das.TagsInterval:
				b.WriteString(" yTagInterval=\"" + das.EscapeAttr(p.tags.Interval) + "\"")
				if p.tags.Min != "" {
					b.WriteString(" yTagMin=\"" + das.EscapeAttr(p.tags.Min) + "\"")
				}
			default:
				// The default tags 0..n-1, spelled out: das2C writes unspelled tags
				// as a list, which for wide yscans overflows its header buffer.
				b.WriteString(" yTagInterval=\"1\" yTagMin=\"0\"")
			}
		}
		if len(p.props) == 0 {
			b.WriteString(" />\n")
			continue
		}
		b.WriteString(">\n")
		writeProps(&b, p.props, "    ")
		el := map[das.Plane]string{das.PlaneX: "x", das.PlaneY: "y", das.PlaneZ: "z", das.PlaneYScan: "yscan"}[p.kind]
		b.WriteString("  </" + el + ">\n")
	}
	b.WriteString("</packet>\n")
	return []byte(b.String())
}

// Record writes the :NN: data packet(s) of one record.
func (w *Writer) Record(rec *das.Record) error {
	st := w.ids[rec.DS.ID]
	if st == nil {
		return fmt.Errorf("das2: record for undefined packet ID %d", rec.DS.ID)
	}
	for i := range st.parts {
		p := &st.parts[i]
		b := append(w.buf[:0], ':', byte('0'+p.id/10), byte('0'+p.id%10), ':')
		b, err := das.AppendRecord(b, p.fields, rec)
		w.buf = b
		if err != nil {
			return err
		}
		if _, err := w.bw.Write(b); err != nil {
			return fmt.Errorf("das2: write record: %w", err)
		}
	}
	if w.opt.FlushEvery > 0 {
		w.pending++
		if w.pending >= w.opt.FlushEvery {
			return w.flush()
		}
	}
	return nil
}

// Comment writes an [xx] comment.
func (w *Writer) Comment(c *das.Comment) error {
	if !w.started {
		return fmt.Errorf("das2: comment before the stream header")
	}
	if c.RawFormat == das.FormatDas2 && len(c.Raw) > 0 {
		return w.writeHeader("xx", c.Raw)
	}
	s := "<comment type=\"" + das.EscapeAttr(c.Type) + "\" value=\"" + das.EscapeAttr(c.Value) +
		"\" source=\"" + das.EscapeAttr(c.Source) + "\"/>\n"
	return w.writeHeader("xx", []byte(s))
}

// Exception writes an [xx] exception. A stream header is written first if none was.
func (w *Writer) Exception(e *das.Exception) error {
	if !w.started {
		if err := w.Stream(&das.Stream{Version: "2.2"}); err != nil {
			return err
		}
	}
	if e.RawFormat == das.FormatDas2 && len(e.Raw) > 0 {
		return w.writeHeader("xx", e.Raw)
	}
	s := "<exception type=\"" + das.EscapeAttr(das.ExceptionType2(e.Type)) + "\" message=\"" +
		das.EscapeAttr(e.Message) + "\" />\n"
	return w.writeHeader("xx", []byte(s))
}

// Close flushes buffered output.
func (w *Writer) Close() error { return w.flush() }

// WriteError writes a complete error body (spec 2.6): a bare stream header and one
// exception.
func WriteError(wr io.Writer, typ, msg string) error {
	w := NewWriter(wr, WriterOptions{})
	if err := w.Exception(&das.Exception{Type: typ, Message: msg}); err != nil {
		return err
	}
	return w.Close()
}
