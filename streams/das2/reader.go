// Package das2 reads and writes das2.2 streams (spec section 3): binary and text,
// streaming, one packet at a time. It imports only the standard library and the
// das model packages under streams/.
package das2

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// ReaderOptions tune Decode.
type ReaderOptions struct {
	// Check receives rule violations that do not stop decoding (spec section 7).
	Check das.CheckFunc
}

type readState struct {
	ds       *das.Dataset
	vars     []*das.Variable
	rec      das.Record
	inferred bool
}

type reader struct {
	br      *bufio.Reader
	off     int64
	sink    das.Sink
	check   das.CheckFunc
	stream  *das.Stream
	ids     [das.MaxID + 1]*readState
	keys    [das.MaxID + 1]string // descriptorKey of each defined ID
	packets int64
	faults  int // violations so far: a header that adds none may be copied
	// inflate is set once a compressed stream's header has been read.
	inflate bool
}

// Decode reads a das2.2 stream from r and feeds sink until EOF. It does not call
// sink.Close. Errors in the stream are *das.FormatError with the byte offset.
func Decode(ctx context.Context, r io.Reader, sink das.Sink, opt ReaderOptions) error {
	rd := &reader{br: bufio.NewReaderSize(r, das.MaxPacket+64), sink: sink, check: opt.Check}
	return rd.run(ctx)
}

func (r *reader) violate(off int64, rule, msg string) {
	r.faults++
	if r.check != nil {
		r.check(das.Violation{Offset: off, Rule: rule, Msg: msg})
	}
}

func (r *reader) fail(off int64, rule, msg string, err error) error {
	return &das.FormatError{Offset: off, Rule: rule, Msg: msg, Err: err}
}

func (r *reader) run(ctx context.Context) error {
	for {
		if r.packets&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tag, err := r.br.Peek(4)
		if len(tag) == 0 && errors.Is(err, io.EOF) {
			if r.packets == 0 {
				return r.fail(0, "7.1 empty stream", "stream contains no packets", nil)
			}
			return nil
		}
		if len(tag) < 4 {
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("das2: read at offset %d: %w", r.off, err)
			}
			return r.fail(r.off, "3.1 packet boundary", "stream ends inside a packet tag", nil)
		}
		start := r.off
		switch {
		case tag[0] == '[' && tag[3] == ']':
			err = r.header(tag[1], tag[2])
		case tag[0] == ':' && tag[3] == ':':
			err = r.data(tag[1], tag[2])
		default:
			return r.fail(start, "3.1 packet tag", fmt.Sprintf("unknown bytes % x where a packet tag should start", tag), nil)
		}
		if err != nil {
			return err
		}
		r.packets++
	}
}

func twoDigits(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

func (r *reader) header(a, b byte) error {
	start := r.off
	var id int
	if a == 'x' && b == 'x' {
		id = -1
	} else if n, ok := twoDigits(a, b); ok {
		id = n
	} else {
		return r.fail(start, "3.2 header ID", fmt.Sprintf("header ID %q is neither 00-99 nor xx", []byte{a, b}), nil)
	}
	if r.packets == 0 && id != 0 {
		return r.fail(start, "7.1 first packet", "stream does not start with a [00] stream header", nil)
	}
	hd, err := r.br.Peek(10)
	if len(hd) < 10 {
		return r.truncated(start, err)
	}
	n := 0
	digits := 0
	for i := 4; i < 10; i++ {
		c := hd[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
			digits++
		case c == ' ' && digits == 0:
		default:
			return r.fail(start+4, "3.2 header length", fmt.Sprintf("length field %q is not 6 decimal digits", hd[4:10]), nil)
		}
	}
	if n == 0 {
		return r.fail(start+4, "3.2 header length", "zero-length header", nil)
	}
	if n > das.MaxPacket-1 {
		return r.fail(start+4, "3.2 header length", fmt.Sprintf("header of %d bytes exceeds 262143", n), nil)
	}
	if hd[4] == ' ' {
		r.violate(start+4, "3.2 header length", "length padded with spaces instead of zeros")
	}
	full, err := r.br.Peek(10 + n)
	if len(full) < 10+n {
		return r.truncated(start, err)
	}
	raw := append([]byte(nil), full[10:]...)
	if _, err := r.br.Discard(10 + n); err != nil {
		return fmt.Errorf("das2: %w", err)
	}
	r.off += int64(10 + n)
	root, err := das.ParseXML(raw)
	if err != nil {
		return r.fail(start+10, "7.2 header XML", "header is not well-formed XML", err)
	}
	switch {
	case id == 0:
		return r.streamHeader(start, root, raw)
	case id > 0:
		return r.packetHeader(start, id, root, raw)
	default:
		return r.oob(start, root, raw)
	}
}

func (r *reader) truncated(start int64, err error) error {
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("das2: read at offset %d: %w", start, err)
	}
	return r.fail(start, "7.1 truncated packet", "stream ends inside a packet", nil)
}

func (r *reader) streamHeader(start int64, root *das.Element, raw []byte) error {
	if r.stream != nil {
		return r.fail(start, "3.2 stream header", "second [00] stream header", nil)
	}
	if root.Name == "exception" {
		// Old servers put the exception in [00]: das2C rejects it; deliver it anyway.
		r.violate(start, "3.10 exception placement", "<exception> inside the [00] stream header")
		r.stream = &das.Stream{Version: "2.2"}
		if err := r.sink.Stream(r.stream); err != nil {
			return err
		}
		t, _ := root.Attr("type")
		m, _ := root.Attr("message")
		return r.sink.Exception(&das.Exception{Type: t, Message: m})
	}
	if root.Name != "stream" {
		return r.fail(start+10, "3.4 stream header", fmt.Sprintf("root element <%s>, want <stream>", root.Name), nil)
	}
	s := &das.Stream{Raw: raw, RawFormat: das.FormatDas2}
	if v, ok := root.Attr("version"); ok {
		s.Version = v
		if v != "2.2" {
			r.violate(start, "3.4 stream version", fmt.Sprintf("version %q, want 2.2", v))
		}
	} else {
		s.Version = "2.2"
		r.violate(start, "3.4 stream version", "no version attribute")
	}
	if c, ok := root.Attr("compression"); ok && c != "none" {
		if c != "deflate" && c != "zlib" {
			return r.fail(start+10, "3.12 compression", fmt.Sprintf("compression %q is not supported", c), nil)
		}
		// Everything after this header is one zlib stream (das2C io.c). Writers
		// never compress, so they must not copy this header.
		r.violate(start, "3.12 compression", fmt.Sprintf("compression %q: das_verify's schema wants zlib, das2C deflate; use HTTP compression instead", c))
		s.Raw, s.RawFormat = nil, das.FormatNone
		r.inflate = true
	}
	for _, ch := range root.Children {
		if ch.Name != "properties" {
			if len(ch.Attrs) > 0 {
				r.violate(start, "3.4 stream children", fmt.Sprintf("unknown element <%s> in <stream>", ch.Name))
			}
			continue
		}
		s.Props = append(s.Props, r.props(start, ch)...)
	}
	r.stream = s
	if err := r.sink.Stream(s); err != nil {
		return err
	}
	if r.inflate {
		r.br = bufio.NewReaderSize(&das.Inflater{Src: r.br}, das.MaxPacket+64)
	}
	return nil
}

func (r *reader) props(start int64, el *das.Element) das.Properties {
	ps := make(das.Properties, 0, len(el.Attrs))
	for _, a := range el.Attrs {
		p, known := das.ParseDas2Property(a.Name.Space, a.Name.Local, a.Value)
		if !known {
			r.violate(start, "3.5 property type", fmt.Sprintf("unknown property type %q", a.Name.Space))
		}
		if !das.ValidPropName(a.Name.Local) {
			r.violate(start, "3.5 property name", fmt.Sprintf("property name %q is not [a-zA-Z][a-zA-Z0-9_]*", a.Name.Local))
		}
		if (p.Type == "realRange" || p.Type == "datetimeRange") && strings.Contains(p.Value, " to ") {
			hi := p.Value[strings.Index(p.Value, " to ")+4:]
			if hi == "" || (hi[0] != '+' && hi[0] != '-' && (hi[0] < '0' || hi[0] > '9')) {
				r.violate(start, "3.5 range value", fmt.Sprintf("range %q: the upper bound must be concrete", p.Value))
			}
		}
		ps = append(ps, p)
	}
	return ps
}

func (r *reader) packetHeader(start int64, id int, root *das.Element, raw []byte) error {
	if root.Name != "packet" {
		return r.fail(start+10, "3.6 packet header", fmt.Sprintf("root element <%s>, want <packet>", root.Name), nil)
	}
	if r.ids[id] != nil {
		r.violate(start, "3.2 packet ID reuse", fmt.Sprintf("packet ID %02d redefined", id))
	}
	key := descriptorKey(root, false)
	r.keys[id] = ""
	for other, k := range r.keys {
		if k == key {
			r.violate(start, "3.2 duplicate packet descriptor", fmt.Sprintf("packet ID %02d repeats the descriptor of ID %02d (das2C: already part of the stream)", id, other))
			break
		}
	}
	faults := r.faults
	ds := &das.Dataset{ID: id, Rank: 1, Shape: []int{-1}, Raw: raw, RawFormat: das.FormatDas2}
	var xVar *das.Variable
	names := map[string]bool{}
	haveZ, haveYScan := false, false
	for _, ch := range root.Children {
		if ch.Name == "properties" {
			ds.Props = append(ds.Props, r.props(start, ch)...)
			continue
		}
		var plane das.Plane
		switch ch.Name {
		case "x":
			plane = das.PlaneX
		case "y":
			plane = das.PlaneY
		case "z":
			plane = das.PlaneZ
			haveZ = true
		case "yscan":
			plane = das.PlaneYScan
			haveYScan = true
		default:
			return r.fail(start+10, "3.6 plane element", fmt.Sprintf("unknown plane element <%s>", ch.Name), nil)
		}
		typ, ok := ch.Attr("type")
		if !ok {
			return r.fail(start+10, "3.7 plane type", fmt.Sprintf("<%s> has no type", ch.Name), nil)
		}
		enc, isTime, ok := das.ParseDas2Encoding(typ)
		if !ok {
			return r.fail(start+10, "3.7 plane type", fmt.Sprintf("unknown encoding %q", typ), nil)
		}
		if typ == "double" || typ == "float" {
			r.violate(start, "3.7 plane type", fmt.Sprintf("encoding alias %q", typ))
		}
		if enc.Kind == das.EncText {
			if isTime && (enc.Size < 5 || enc.Size > 31) {
				r.violate(start, "3.7 timeN width", fmt.Sprintf("%s outside time5..time31", typ))
			}
			if !isTime && (enc.Size < 9 || enc.Size > 24) {
				r.violate(start, "3.7 asciiN width", fmt.Sprintf("%s outside ascii9..ascii24", typ))
			}
		}
		name, _ := ch.Attr("name")
		for _, ua := range [...]string{"units", "yUnits", "zUnits"} {
			if u, ok := ch.Attr(ua); ok && !das.UnitsOK(u) {
				r.violate(start, "3.8 units", fmt.Sprintf("<%s> %s %q is not parseable by das2C", ch.Name, ua, u))
			}
		}
		d := &das.Dim{Plane: plane, Name: name}
		v := &das.Variable{Use: "center", Semantic: "real", Items: 1, Enc: enc, Text: das.DefaultTextFormat}
		if isTime {
			v.Text = das.TextFormat{}
		}
		for _, pc := range ch.Children {
			if pc.Name == "properties" {
				d.Props = append(d.Props, r.props(start, pc)...)
			}
		}
		switch plane {
		case das.PlaneX:
			if xVar != nil {
				r.violate(start, "3.6.1 x plane", "more than one <x> plane")
			}
			d.Kind, d.Axis = das.Coord, "x"
			units, ok := ch.Attr("units")
			if !ok && !isTime {
				r.violate(start, "3.6.1 x units", "binary <x> without units")
			}
			if !ok && isTime {
				r.violate(start, "3.6.1 x units", "timeN <x> without units (us2000 assumed)")
			}
			v.Units = units
			if isTime || dastime.EpochOf(units) != dastime.NotEpoch || units == "UTC" {
				v.Semantic = "datetime"
				d.PhysDim = "time"
				if enc.Kind == das.EncText {
					v.Storage = "struct"
				}
			}
			if xVar == nil {
				xVar = v
			}
		case das.PlaneY, das.PlaneZ:
			d.Kind = das.Data
			units, ok := ch.Attr("units")
			if !ok {
				r.violate(start, "3.6.2 plane units", fmt.Sprintf("<%s name=%q> without units", ch.Name, name))
			}
			v.Units = units
			if isTime {
				v.Semantic = "datetime"
			}
			fillNames := []string{"yFill", "fill"}
			if plane == das.PlaneZ {
				fillNames = []string{"zFill", "fill"}
			}
			v.Fill, v.FillVal = das.FillFor(fillNames, d.Props, ds.Props, r.stream.Props)
		case das.PlaneYScan:
			d.Kind = das.Data
			ni, ok := ch.Attr("nitems")
			n, err := strconv.Atoi(strings.TrimSpace(ni))
			if !ok || err != nil || n < 1 || n > das.MaxItems {
				return r.fail(start+10, "3.6.4 nitems", fmt.Sprintf("yscan %q: nitems %q is not 1..249999", name, ni), nil)
			}
			v.Items = n
			zu, ok := ch.Attr("zUnits")
			if !ok {
				r.violate(start, "3.6.4 zUnits", fmt.Sprintf("yscan %q without zUnits", name))
			}
			v.Units = zu
			yu, ok := ch.Attr("yUnits")
			if !ok {
				r.violate(start, "3.6.4 yUnits", fmt.Sprintf("yscan %q without yUnits", name))
			}
			tags, err := r.yTags(start, ch, n)
			if err != nil {
				return err
			}
			tags.Units = yu
			d.YTags = tags
			v.Fill, v.FillVal = das.FillFor([]string{"zFill", "fill"}, d.Props, ds.Props, r.stream.Props)
			if ds.Rank == 1 {
				ds.Rank, ds.Shape = 2, []int{-1, n}
			}
		}
		if plane != das.PlaneX {
			if !das.ValidPlaneName(name) {
				r.violate(start, "3.6 plane name", fmt.Sprintf("<%s> name %q is empty or not [a-zA-Z][a-zA-Z0-9_.]*", ch.Name, name))
			} else if names[name] {
				r.violate(start, "3.6 plane name", fmt.Sprintf("duplicate plane name %q", name))
			}
			names[name] = true
			if ds.Name == "" {
				ds.Name = name
			}
		}
		d.Vars = []*das.Variable{v}
		ds.Dims = append(ds.Dims, d)
	}
	if haveZ && haveYScan {
		r.violate(start, "3.6.3 z with yscan", "<z> and <yscan> in one packet")
	}
	r.checkPlanes(start, ds)
	if len(ds.Dims) == das.CrashCodecs {
		r.violate(start, "das2C six planes", "a packet of exactly 6 planes makes das2C's das3 tools and das2py abort (dataset.c del_DasDs)")
	}
	if xVar == nil {
		r.violate(start, "3.6.1 x plane", "packet without an <x> plane")
	} else if ds.Dims[0].Plane != das.PlaneX {
		r.violate(start, "3.6 plane order", "<x> is not the first plane")
	}
	for _, d := range ds.Dims {
		idx := "*"
		if ds.Rank == 2 {
			if d.Plane == das.PlaneYScan {
				idx = "*;" + strconv.Itoa(d.Vars[0].Items)
			} else {
				idx = "*;-"
			}
		}
		d.Vars[0].Index = idx
	}
	err := ds.Layout()
	if err == nil {
		err = ds.CheckSize()
	}
	if err != nil {
		var fe *das.FormatError
		if errors.As(err, &fe) {
			fe.Offset = start
		}
		return err
	}
	ds.RawValid = r.faults == faults
	st := &readState{ds: ds, vars: ds.PacketVars()}
	st.rec.Reset(ds)
	r.ids[id] = st
	r.keys[id] = key
	return r.sink.Dataset(ds)
}

// checkPlanes applies the rules on a packet's planes as a whole: the order the
// 2.2 schema requires (<x>, <y>*, <z>*, <yscan>*), and what das2C's das3 model
// (das3_csv, das3_cdf) makes of <y> and <yscan> planes together: the <y> values
// become the reference of the first yscan's tags, which every yscan then shares.
func (r *reader) checkPlanes(start int64, ds *das.Dataset) {
	rank := map[das.Plane]int{das.PlaneX: 0, das.PlaneY: 1, das.PlaneZ: 2, das.PlaneYScan: 3}
	var first *das.Dim
	last := 0
	for _, d := range ds.Dims {
		if rank[d.Plane] < last {
			r.violate(start, "3.6 plane order", "planes are not in the schema's order <x>, <y>, <z>, <yscan>")
			break
		}
		last = rank[d.Plane]
	}
	for _, d := range ds.Dims {
		if d.Plane != das.PlaneYScan {
			continue
		}
		if first == nil {
			first = d
			continue
		}
		if d.YTags.Units != first.YTags.Units || !slices.Equal(d.YTags.Values, first.YTags.Values) {
			r.violate(start, "3.6.4 yscan tags", fmt.Sprintf("yscans %q and %q in one packet have different tags (das2C gives every yscan the first one's)", first.Name, d.Name))
		}
	}
	if first == nil {
		return
	}
	for _, d := range ds.Dims {
		if d.Plane == das.PlaneY && d.Vars[0].Units != first.YTags.Units {
			r.violate(start, "3.6.4 y with yscan", fmt.Sprintf("<y> %q with a <yscan>: das2C reads its values as the reference of the tags, but its units %q are not the tags' %q", d.Name, d.Vars[0].Units, first.YTags.Units))
		}
	}
}

func (r *reader) yTags(start int64, ch *das.Element, n int) (das.YTags, error) {
	var t das.YTags
	t.Values = make([]float64, n)
	if _, ok := ch.Attr("yTagMax"); ok {
		r.violate(start, "3.6.4 yTagMax", "yTagMax is rejected by the 2.2 schema")
	}
	if s, ok := ch.Attr("yTags"); ok {
		t.Form, t.Text = das.TagsList, s
		parts := strings.Split(s, ",")
		if len(parts) != n {
			return t, r.fail(start+10, "3.6.4 yTags", fmt.Sprintf("%d yTags for nitems=%d", len(parts), n), nil)
		}
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return t, r.fail(start+10, "3.6.4 yTags", fmt.Sprintf("yTag %q is not a number", p), nil)
			}
			t.Values[i] = f
		}
		return t, nil
	}
	if s, ok := ch.Attr("yTagInterval"); ok {
		t.Form, t.Interval = das.TagsInterval, s
		iv, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return t, r.fail(start+10, "3.6.4 yTagInterval", fmt.Sprintf("yTagInterval %q is not a number", s), nil)
		}
		if iv <= 0 {
			r.violate(start, "3.6.4 yTagInterval", "yTagInterval must be > 0")
		}
		var min float64
		if m, ok := ch.Attr("yTagMin"); ok {
			t.Min = m
			min, err = strconv.ParseFloat(strings.TrimSpace(m), 64)
			if err != nil {
				return t, r.fail(start+10, "3.6.4 yTagMin", fmt.Sprintf("yTagMin %q is not a number", m), nil)
			}
		}
		for i := range t.Values {
			t.Values[i] = min + float64(i)*iv
		}
		return t, nil
	}
	for i := range t.Values {
		t.Values[i] = float64(i)
	}
	if n > maxDefaultTags {
		r.violate(start, "3.6.4 yscan tags", fmt.Sprintf("%d items without yTags or yTagInterval: das2C writes such tags out as a list too long for its 262144-byte buffer", n))
	}
	return t, nil
}

// maxDefaultTags is the most default yscan tags das2C can write as an ascii12
// list in a header of its own (with room for the rest of the header).
const maxDefaultTags = 16384

func (r *reader) oob(start int64, root *das.Element, raw []byte) error {
	switch root.Name {
	case "comment":
		c := &das.Comment{Raw: raw, RawFormat: das.FormatDas2}
		c.Type, _ = root.Attr("type")
		c.Value, _ = root.Attr("value")
		c.Source, _ = root.Attr("source")
		if c.Type == "" {
			r.violate(start, "3.10 comment", "comment without type")
		}
		if c.Type == "taskSize" || c.Type == "taskProgress" {
			if _, err := strconv.ParseInt(c.Value, 10, 64); err != nil {
				r.violate(start, "3.10 comment value", fmt.Sprintf("%s value %q is not an integer", c.Type, c.Value))
			}
		}
		if lvl, ok := strings.CutPrefix(c.Type, "log:"); ok {
			switch lvl {
			case "info", "warning", "severe", "fine", "finer", "finest", "config":
			default:
				r.violate(start, "3.10 log level", fmt.Sprintf("log level %q is not a Java level name", lvl))
			}
		}
		return r.sink.Comment(c)
	case "exception":
		e := &das.Exception{Raw: raw, RawFormat: das.FormatDas2}
		e.Type, _ = root.Attr("type")
		e.Message, _ = root.Attr("message")
		return r.sink.Exception(e)
	}
	r.violate(start, "7.4 out-of-band root", fmt.Sprintf("[xx] packet with unknown root <%s>", root.Name))
	return nil
}

func (r *reader) data(a, b byte) error {
	start := r.off
	id, ok := twoDigits(a, b)
	if !ok || id == 0 {
		return r.fail(start, "3.3 data packet ID", fmt.Sprintf("data packet ID %q is not 01-99", []byte{a, b}), nil)
	}
	if r.packets == 0 {
		return r.fail(start, "7.1 first packet", "stream does not start with a [00] stream header", nil)
	}
	st := r.ids[id]
	if st == nil {
		return r.fail(start, "3.3 data before header", fmt.Sprintf("data packet :%02d: before its [%02d] header", id, id), nil)
	}
	n := 4 + st.ds.WireBytes
	p, err := r.br.Peek(n)
	if len(p) < n {
		return r.truncated(start, err)
	}
	if _, err := das.DecodeRecord(p[4:], st.vars, &st.rec, !st.inferred); err != nil {
		var fe *das.FormatError
		if errors.As(err, &fe) {
			fe.Offset += start + 4
		}
		return err
	}
	st.inferred = true
	if _, err := r.br.Discard(n); err != nil {
		return fmt.Errorf("das2: %w", err)
	}
	r.off += int64(n)
	return r.sink.Record(&st.rec)
}
