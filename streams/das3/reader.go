// Package das3 reads and writes dasStream v3 (das-basic-stream 3.0, spec section 4),
// binary and text, streaming, one packet at a time. It imports only the standard
// library and the das model packages under streams/.
package das3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// ReaderOptions tune Decode.
type ReaderOptions struct {
	// Check receives rule violations that do not stop decoding (spec section 7.5).
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
	started bool
	ids     [das.MaxID + 1]*readState
	packets int64
	faults  int // violations so far: a header that adds none may be copied
	inflate bool
}

// Decode reads a das3 stream from r and feeds sink until EOF. It does not call
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
		head, err := r.br.Peek(25)
		if len(head) == 0 {
			if err != nil && err != io.EOF {
				return fmt.Errorf("das3: read at offset %d: %w", r.off, err)
			}
			if r.packets == 0 {
				return r.fail(0, "7.5 empty stream", "stream contains no packets", nil)
			}
			return nil
		}
		if err := r.packet(head); err != nil {
			return err
		}
		r.packets++
	}
}

// field reads a decimal field terminated by '|' starting at b[i], at most max digits.
func field(b []byte, i, max int) (val int, end int, empty bool, ok bool) {
	j := i
	for j < len(b) && j-i <= max && b[j] != '|' {
		if b[j] < '0' || b[j] > '9' {
			return 0, j, false, false
		}
		val = val*10 + int(b[j]-'0')
		j++
	}
	if j >= len(b) || b[j] != '|' {
		return 0, j, false, false
	}
	return val, j + 1, j == i, true
}

func (r *reader) packet(head []byte) error {
	start := r.off
	if len(head) < 4 || head[0] != '|' || head[3] != '|' {
		if len(head) >= 4 && (head[0] == '[' || head[0] == ':') {
			return r.fail(start, "7.5 das2 tags", "das2.2 packet tag inside a das3 stream", nil)
		}
		if len(head) < 4 {
			return r.fail(start, "4.1 framing", "stream ends inside a packet tag", nil)
		}
		return r.fail(start, "4.1 framing", fmt.Sprintf("unknown bytes % x where a packet tag should start", head[:4]), nil)
	}
	t0, t1 := head[1], head[2]
	id, i, emptyID, ok := field(head, 4, 10)
	if !ok {
		if i >= len(head) {
			return r.fail(start, "4.1 framing", "stream ends inside a packet tag", nil)
		}
		return r.fail(start+int64(i), "4.1 packet ID", "packet ID is not decimal digits ended by '|'", nil)
	}
	n, j, emptyLen, ok := field(head, i, 9)
	if !ok || emptyLen {
		if j >= len(head) {
			return r.fail(start, "4.1 framing", "stream ends inside a packet tag", nil)
		}
		return r.fail(start+int64(i), "4.1 packet length", "packet length is not decimal digits ended by '|'", nil)
	}
	if n > das.MaxPacket {
		return r.fail(start+int64(i), "4.1 packet length", fmt.Sprintf("packet of %d bytes exceeds 262144", n), nil)
	}
	if !r.started && (t0 != 'S' || t1 != 'x') {
		return r.fail(start, "7.5 first packet", fmt.Sprintf("stream starts with |%s|, want |Sx|", head[1:3]), nil)
	}
	full, err := r.br.Peek(j + n)
	if len(full) < j+n {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("das3: read at offset %d: %w", start, err)
		}
		return r.fail(start, "7.5 truncated packet", "stream ends inside a packet", nil)
	}
	payload := full[j:]
	body := start + int64(j)
	if t0 == 'P' && t1 == 'd' {
		if err := r.data(start, body, id, emptyID, payload); err != nil {
			return err
		}
		if _, err := r.br.Discard(j + n); err != nil {
			return fmt.Errorf("das3: %w", err)
		}
		r.off += int64(j + n)
		return nil
	}
	// head may have moved with the buffer by now: use the bytes copied above.
	tag := string([]byte{t0, t1})
	switch tag {
	case "Sx", "Hx", "Cx", "Ex":
		raw := append([]byte(nil), payload...)
		if len(raw) == 0 {
			err = r.fail(start, "4.1 packet length", "empty header payload", nil)
			break
		}
		root, xerr := das.ParseXML(raw)
		if xerr != nil {
			err = r.fail(body, "7.5 header XML", "header is not well-formed XML", xerr)
			break
		}
		switch tag {
		case "Sx":
			err = r.streamHeader(start, id, emptyID, root, raw)
		case "Hx":
			err = r.datasetHeader(start, id, root, raw)
		case "Cx":
			err = r.comment(start, root, raw)
		case "Ex":
			err = r.exception(root, raw)
		}
	case "XX":
		err = r.fail(start, "4.1 extension packet", "|XX| extension packets are not supported", nil)
	default:
		if len(tag) == 2 && tag[1] == 'j' {
			err = r.fail(start, "4.1 JSON packet", fmt.Sprintf("JSON packet |%s| is not supported", tag), nil)
		} else {
			err = r.fail(start, "4.1 packet tag", fmt.Sprintf("unknown packet tag |%s|", tag), nil)
		}
	}
	if err != nil {
		return err
	}
	if _, err := r.br.Discard(j + n); err != nil {
		return fmt.Errorf("das3: %w", err)
	}
	r.off += int64(j + n)
	r.startInflate()
	return nil
}

func (r *reader) streamHeader(start int64, id int, emptyID bool, root *das.Element, raw []byte) error {
	if r.started {
		return r.fail(start, "4.1 stream header", "second |Sx| stream header", nil)
	}
	if !emptyID && id != 0 {
		return r.fail(start, "4.1 stream header", "stream header ID must be empty or 0", nil)
	}
	if root.Name != "stream" {
		return r.fail(start, "4.2 stream header", fmt.Sprintf("root element <%s>, want <stream>", root.Name), nil)
	}
	s := &das.Stream{Raw: raw, RawFormat: das.FormatDas3}
	if t, _ := root.Attr("type"); t != "das-basic-stream" {
		r.violate(start, "4.2 stream type", fmt.Sprintf("type %q, want das-basic-stream", t))
	}
	s.Version, _ = root.Attr("version")
	if s.Version != "3.0" {
		r.violate(start, "4.2 stream version", fmt.Sprintf("version %q, want 3.0", s.Version))
	}
	if c, ok := root.Attr("compression"); ok && c != "none" {
		if c != "deflate" && c != "zlib" {
			return r.fail(start, "4.2 compression", fmt.Sprintf("compression %q is not supported", c), nil)
		}
		r.violate(start, "4.2 compression", fmt.Sprintf("compression %q: use HTTP compression instead", c))
		s.Raw, s.RawFormat = nil, das.FormatNone
		r.inflate = true
	}
	for _, ch := range root.Children {
		switch ch.Name {
		case "properties":
			s.Props = append(s.Props, r.props(start, ch)...)
		case "frame":
		default:
			r.violate(start, "4.2 stream children", fmt.Sprintf("element <%s> in <stream>", ch.Name))
		}
	}
	r.started = true
	return r.sink.Stream(s)
}

// startInflate switches to the zlib stream that follows a compressed stream's
// header, once that header's packet has been consumed.
func (r *reader) startInflate() {
	if r.inflate {
		r.inflate = false
		r.br = bufio.NewReaderSize(&das.Inflater{Src: r.br}, das.MaxPacket+64)
	}
}

var propTypes = map[string]bool{"": true, "bool": true, "boolArray": true, "datetime": true, "datetimeRange": true,
	"datetimeArray": true, "integer": true, "integerRange": true, "integerArray": true, "real": true,
	"realRange": true, "realArray": true, "string": true, "stringArray": true}

func (r *reader) props(start int64, el *das.Element) das.Properties {
	var ps das.Properties
	for _, ch := range el.Children {
		if ch.Name != "p" {
			r.violate(start, "4.3 properties", fmt.Sprintf("element <%s> in <properties>", ch.Name))
			continue
		}
		p := das.Property{Value: ch.Text}
		p.Name, _ = ch.Attr("name")
		p.Type, _ = ch.Attr("type")
		p.Units, _ = ch.Attr("units")
		if !das.ValidPropName(p.Name) && !validColonName(p.Name) {
			r.violate(start, "4.3 property name", fmt.Sprintf("property name %q is not [a-zA-Z][a-zA-Z0-9_]*", p.Name))
		}
		if !propTypes[p.Type] {
			r.violate(start, "4.3 property type", fmt.Sprintf("unknown property type %q", p.Type))
		}
		ps = append(ps, p)
	}
	if len(el.Attrs) > 0 {
		r.violate(start, "7.5 das2 properties", "das2.2 attribute properties in a das3 header")
		for _, a := range el.Attrs {
			p, _ := das.ParseDas2Property(a.Name.Space, a.Name.Local, a.Value)
			p.Das2Type, p.Untyped = "", false
			ps = append(ps, p)
		}
	}
	return ps
}

func validColonName(n string) bool {
	return n != "" && das.ValidPropName(strings.ReplaceAll(n, ":", "_"))
}

func parseIndex(s string) ([]int, bool) {
	parts := strings.Split(s, ";")
	out := make([]int, len(parts))
	for i, p := range parts {
		switch p {
		case "*":
			out[i] = -1
		case "-":
			out[i] = 0
		default:
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > das.MaxItems {
				return nil, false
			}
			out[i] = n
		}
	}
	return out, true
}

var semantics = map[string]bool{"real": true, "integer": true, "datetime": true, "bool": true, "string": true}

var storageBytes = map[string]int{"byte": 1, "ubyte": 1, "short": 2, "ushort": 2, "int": 4, "uint": 4,
	"long": 8, "ulong": 8, "float": 4, "double": 8}

func (r *reader) datasetHeader(start int64, id int, root *das.Element, raw []byte) error {
	if id < 1 || id > das.MaxID {
		return r.fail(start, "4.4 dataset ID", fmt.Sprintf("dataset ID %d outside 1..99", id), nil)
	}
	if root.Name != "dataset" {
		return r.fail(start, "4.4 dataset header", fmt.Sprintf("root element <%s>, want <dataset>", root.Name), nil)
	}
	if r.ids[id] != nil {
		r.violate(start, "4.4 dataset ID reuse", fmt.Sprintf("dataset ID %d redefined", id))
	}
	faults := r.faults
	ds := &das.Dataset{ID: id, Raw: raw, RawFormat: das.FormatDas3}
	ds.Name, _ = root.Attr("name")
	if !das.ValidPlaneName(ds.Name) {
		r.violate(start, "4.4 dataset name", fmt.Sprintf("dataset name %q is not [a-zA-Z][a-zA-Z0-9_.]*", ds.Name))
	}
	rank, err := strconv.Atoi(attr(root, "rank"))
	if err != nil || rank < 1 || rank > 7 {
		return r.fail(start, "4.4 dataset rank", fmt.Sprintf("rank %q is not 1..7", attr(root, "rank")), nil)
	}
	ds.Rank = rank
	idx, ok := root.Attr("index")
	shape, good := parseIndex(idx)
	if !ok || !good || len(shape) != rank {
		return r.fail(start, "4.4 dataset index", fmt.Sprintf("index %q does not have %d entries of * or integers", idx, rank), nil)
	}
	for _, s := range shape {
		if s == 0 {
			return r.fail(start, "4.4 dataset index", "'-' is not allowed in a dataset index", nil)
		}
	}
	ds.Shape = shape
	ds.Plot, _ = root.Attr("plot")
	haveCoord, haveData := false, false
	for _, ch := range root.Children {
		switch ch.Name {
		case "properties":
			ds.Props = append(ds.Props, r.props(start, ch)...)
		case "coord", "data":
			d, err := r.dim(start, ds, ch)
			if err != nil {
				return err
			}
			if d.Kind == das.Coord && haveData {
				r.violate(start, "4.4 dimension order", "<coord> after <data>: das_verify's schema wants every <coord> first")
			}
			haveCoord = haveCoord || d.Kind == das.Coord
			haveData = haveData || d.Kind == das.Data
			ds.Dims = append(ds.Dims, d)
		case "extension", "extData":
			r.violate(start, "4.4 dataset children", fmt.Sprintf("<%s> is not supported by das2C", ch.Name))
		default:
			return r.fail(start, "4.4 dataset children", fmt.Sprintf("unknown element <%s> in <dataset>", ch.Name), nil)
		}
	}
	if !haveCoord {
		r.violate(start, "4.4 dataset coordinates", "dataset without <coord>")
	}
	err = ds.Layout()
	if err == nil {
		err = ds.CheckSize()
	}
	if err == nil && len(ds.PacketVars()) == das.CrashCodecs {
		r.violate(start, "das2C six variables", "a dataset of exactly 6 packet variables makes das2C's tools and das2py abort (dataset.c del_DasDs)")
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
	return r.sink.Dataset(ds)
}

func attr(e *das.Element, name string) string {
	v, _ := e.Attr(name)
	return v
}

func (r *reader) dim(start int64, ds *das.Dataset, el *das.Element) (*das.Dim, error) {
	d := &das.Dim{Kind: das.Data}
	if el.Name == "coord" {
		d.Kind = das.Coord
	}
	var ok bool
	if d.PhysDim, ok = el.Attr("physDim"); !ok {
		r.violate(start, "4.4 physDim", fmt.Sprintf("<%s> without physDim", el.Name))
	}
	if d.Name, ok = el.Attr("name"); ok && !validStructName(d.Name) {
		r.violate(start, "4.4 dimension name", fmt.Sprintf("<%s> name %q is empty or not [a-zA-Z][a-zA-Z0-9_]*", el.Name, d.Name))
	}
	d.Axis, _ = el.Attr("axis")
	d.Frame, _ = el.Attr("frame")
	d.Annotation, _ = el.Attr("annotation")
	for _, ch := range el.Children {
		switch ch.Name {
		case "properties":
			d.Props = append(d.Props, r.props(start, ch)...)
		case "scalar", "vector":
			v, err := r.variable(start, ds, d, ch)
			if err != nil {
				return nil, err
			}
			d.Vars = append(d.Vars, v)
		default:
			return nil, r.fail(start, "4.4 dimension children", fmt.Sprintf("unknown element <%s> in <%s>", ch.Name, el.Name), nil)
		}
	}
	return d, nil
}

// validStructName is the name rule of both das3 schemas and das2C's identifiers.
func validStructName(n string) bool { return das.ValidPropName(n) }

func (r *reader) variable(start int64, ds *das.Dataset, d *das.Dim, el *das.Element) (*das.Variable, error) {
	v := &das.Variable{Use: "center", Text: das.DefaultTextFormat}
	if u, ok := el.Attr("use"); ok {
		v.Use = u
	}
	var ok bool
	if v.Semantic, ok = el.Attr("semantic"); !ok {
		r.violate(start, "4.4 semantic", fmt.Sprintf("variable in %q without semantic", d.Name))
		v.Semantic = "real"
	} else if !semantics[v.Semantic] {
		return nil, r.fail(start, "4.4 semantic", fmt.Sprintf("semantic %q is not supported", v.Semantic), nil)
	}
	if v.Units, ok = el.Attr("units"); !ok {
		r.violate(start, "4.4 units", fmt.Sprintf("variable in %q without units", d.Name))
	}
	if !das.UnitsOK(v.Units) {
		r.violate(start, "3.8 units", fmt.Sprintf("units %q are not parseable by das2C", v.Units))
	}
	v.Storage, _ = el.Attr("storage")
	v.Epoch = dastime.EpochOf(v.Units)
	if v.Epoch != dastime.NotEpoch && v.Semantic != "datetime" {
		r.violate(start, "4.4 epoch units", fmt.Sprintf("units %q need semantic=\"datetime\"", v.Units))
	}
	if v.Semantic == "datetime" {
		v.Text = das.TextFormat{}
	}
	if el.Name == "vector" {
		if err := r.vector(start, d, el, v); err != nil {
			return nil, err
		}
	}
	if v.Index, ok = el.Attr("index"); !ok {
		r.violate(start, "4.4 variable index", fmt.Sprintf("variable in %q without index", d.Name))
		v.Index = strings.TrimSuffix(strings.Repeat("*;", ds.Rank), ";")
	}
	vidx, good := parseIndex(v.Index)
	if !good || len(vidx) != ds.Rank {
		r.violate(start, "4.4 variable index", fmt.Sprintf("variable index %q does not have %d entries", v.Index, ds.Rank))
		vidx = nil
	}
	// Items per record: the product of the fixed extents after the first index,
	// times the components of a vector.
	extent := max(v.Components, 1)
	for k, x := range vidx {
		if k > 0 && x > 0 {
			extent *= x
		}
	}
	var src *das.Element
	for _, ch := range el.Children {
		switch {
		case ch.Name == "properties" && src == nil && len(v.Props) == 0:
			v.Props = r.props(start, ch)
		case src == nil && (ch.Name == "packet" || ch.Name == "values" || ch.Name == "sequence"):
			src = ch
		default:
			return nil, r.fail(start, "4.4 variable source", fmt.Sprintf("variable in %q: unexpected <%s>; want <properties> then one <packet>, <values> or <sequence>", d.Name, ch.Name), nil)
		}
	}
	if src == nil {
		return nil, r.fail(start, "4.4 variable source", fmt.Sprintf("variable in %q needs exactly one <packet>, <values> or <sequence>", d.Name), nil)
	}
	switch src.Name {
	case "packet":
		if err := r.packetSource(start, d, src, v, vidx != nil, extent); err != nil {
			return nil, err
		}
	case "values":
		v.Source = das.FromValues
		v.ValuesText = src.Text
		for _, f := range strings.Fields(src.Text) {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				if t, terr := dastime.ParseString(f); terr == nil && v.Semantic == "datetime" {
					x = t.US2000()
				} else {
					return nil, r.fail(start, "4.4 values", fmt.Sprintf("header value %q is not a number", f), nil)
				}
			}
			v.Values = append(v.Values, x)
			if len(v.Values) > das.MaxItems {
				return nil, r.fail(start, "4.4 values", "too many header values", nil)
			}
		}
		v.Items = len(v.Values)
		if vidx != nil && len(v.Values) != extent {
			r.violate(start, "4.4 values count", fmt.Sprintf("%d header values, the index implies %d", len(v.Values), extent))
		}
	case "sequence":
		if v.IsVector() {
			return nil, r.fail(start, "4.4 vector sequence", fmt.Sprintf("<vector> in %q: one <sequence> per component is not supported by this reader", d.Name), nil)
		}
		v.Source = das.FromSequence
		v.SeqMin, v.SeqInterval = attr(src, "minval"), attr(src, "interval")
		min, err := strconv.ParseFloat(v.SeqMin, 64)
		if err != nil {
			return nil, r.fail(start, "4.4 sequence", fmt.Sprintf("minval %q is not a number", v.SeqMin), nil)
		}
		ivText := v.SeqInterval
		if k := strings.LastIndexByte(ivText, ';'); k >= 0 {
			// Full-rank form: take the one slope that is not '-'.
			for _, s := range strings.Split(ivText, ";") {
				if s != "-" {
					ivText = s
				}
			}
		}
		iv, err := strconv.ParseFloat(ivText, 64)
		if err != nil {
			return nil, r.fail(start, "4.4 sequence", fmt.Sprintf("interval %q is not a number", v.SeqInterval), nil)
		}
		v.Items = extent
		v.Values = make([]float64, extent)
		for i := range v.Values {
			v.Values[i] = min + float64(i)*iv
		}
	}
	return v, nil
}

// vector reads the attributes of a <vector> (spec 4.4).
func (r *reader) vector(start int64, d *das.Dim, el *das.Element, v *das.Variable) error {
	c, err := strconv.Atoi(attr(el, "components"))
	if err != nil || c < 1 || c > 3 {
		return r.fail(start, "4.4 vector components", fmt.Sprintf("<vector> in %q: components %q is not 1..3", d.Name, attr(el, "components")), nil)
	}
	v.Components = c
	v.System, _ = el.Attr("system")
	if o, ok := el.Attr("sysorder"); ok {
		parts := strings.Split(o, ";")
		if len(parts) != c {
			return r.fail(start, "4.4 vector sysorder", fmt.Sprintf("<vector> in %q: sysorder %q does not have %d entries", d.Name, o, c), nil)
		}
		for _, p := range parts {
			if p != "0" && p != "1" && p != "2" {
				return r.fail(start, "4.4 vector sysorder", fmt.Sprintf("<vector> in %q: sysorder %q is not a list of 0, 1, 2", d.Name, o), nil)
			}
		}
		v.SysOrder = o
	}
	for _, a := range []string{"frame", "surface", "refSurface"} {
		if _, ok := el.Attr(a); ok {
			r.violate(start, "4.4 vector attributes", fmt.Sprintf("<vector %s> is known to only one of the das3 schemas", a))
		}
	}
	return nil
}

// packetSource reads a <packet> value source.
func (r *reader) packetSource(start int64, d *das.Dim, src *das.Element, v *das.Variable, haveIndex bool, extent int) error {
	v.Source = das.FromPacket
	ni, ib := attr(src, "numItems"), attr(src, "itemBytes")
	if ni == "*" {
		return r.fail(start, "4.6 variable length", "a variable number of items (numItems=\"*\") is not supported by this reader", nil)
	}
	n, err1 := strconv.Atoi(ni)
	b, err2 := strconv.Atoi(ib)
	if ib == "*" {
		b, err2 = 0, nil
	}
	if err1 != nil || err2 != nil || n < 1 || n > das.MaxItems || b < 0 || b > das.MaxPacket {
		return r.fail(start, "4.4 packet", fmt.Sprintf("numItems %q / itemBytes %q are not positive integers", ni, ib), nil)
	}
	v.Items = n
	if haveIndex && n != extent {
		r.violate(start, "4.4 numItems", fmt.Sprintf("numItems %d but the index implies %d", n, extent))
	}
	encName := attr(src, "encoding")
	if b == 0 {
		if encName != "utf8" {
			return r.fail(start, "4.6 variable length", fmt.Sprintf("itemBytes=\"*\" with encoding %q: only utf8 items can be variable-length here", encName), nil)
		}
		v.Enc = das.Encoding{Kind: das.EncText, Var: true}
		for _, a := range []string{"valTerm", "valSep"} {
			t, ok := src.Attr(a)
			if !ok {
				continue
			}
			if len(t) != 1 {
				return r.fail(start, "4.6 value terminator", fmt.Sprintf("%s %q is not one byte", a, t), nil)
			}
			v.Enc.Term = t[0]
			// das2C reads both spellings, but each schema knows only one of them.
			r.violate(start, "4.6 value terminator", fmt.Sprintf("%s is known to only one of the das3 schemas (das2C: valTerm, das_verify: valSep)", a))
		}
		if _, ok := src.Attr("idxTerm"); ok {
			return r.fail(start, "4.6 variable length", "idxTerm (ragged items) is not supported by this reader", nil)
		}
	} else {
		enc, ok := das.ParseDas3Encoding(encName, b)
		if !ok {
			return r.fail(start, "4.4 encoding", fmt.Sprintf("encoding %q with itemBytes %d is not supported", encName, b), nil)
		}
		v.Enc = enc
	}
	if sb, ok := storageBytes[v.Storage]; ok && v.Enc.Kind != das.EncText && sb < v.Enc.Size {
		r.violate(start, "4.4 storage", fmt.Sprintf("storage %q narrower than %s/%d", v.Storage, encName, b))
	}
	if v.IsVector() && v.Enc.Size == 1 && v.Enc.Kind != das.EncText && (v.Storage == "" || storageBytes[v.Storage] == 1) {
		r.violate(start, "4.4 vector storage", "a <vector> of 1-byte items: das2C takes it for a byte string (give storage short or ushort)")
	}
	if f, ok := src.Attr("fill"); ok {
		v.Fill = f
		if x, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil {
			v.FillVal = x
		} else {
			v.FillVal = das.DefaultFill
		}
	} else {
		v.FillVal = das.DefaultFill
	}
	return nil
}

func (r *reader) comment(start int64, root *das.Element, raw []byte) error {
	if root.Name != "comment" {
		r.violate(start, "4.7 comment", fmt.Sprintf("|Cx| with root <%s>", root.Name))
		return nil
	}
	c := &das.Comment{Raw: raw, RawFormat: das.FormatDas3, Value: strings.TrimSpace(root.Text)}
	c.Type, _ = root.Attr("type")
	c.Source, _ = root.Attr("source")
	if v, ok := root.Attr("value"); ok && c.Value == "" {
		c.Value = v
	}
	if c.Type == "" {
		r.violate(start, "4.7 comment", "comment without type")
	}
	return r.sink.Comment(c)
}

func (r *reader) exception(root *das.Element, raw []byte) error {
	e := &das.Exception{Raw: raw, RawFormat: das.FormatDas3, Message: strings.TrimSpace(root.Text)}
	e.Type, _ = root.Attr("type")
	if m, ok := root.Attr("message"); ok && e.Message == "" {
		e.Message = m
	}
	return r.sink.Exception(e)
}

func (r *reader) data(start, body int64, id int, emptyID bool, p []byte) error {
	if emptyID || id < 1 || id > das.MaxID {
		return r.fail(start, "4.1 data packet ID", "data packet ID outside 1..99", nil)
	}
	st := r.ids[id]
	if st == nil {
		return r.fail(start, "7.5 data before header", fmt.Sprintf("|Pd|%d| before its |Hx|%d|", id, id), nil)
	}
	want := st.ds.WireBytes
	if len(p) < want {
		return r.fail(start, "7.5 data length", fmt.Sprintf("|Pd| payload of %d bytes, the header needs %d", len(p), want), nil)
	}
	rec := p[:want]
	if st.ds.VarLen {
		rec = p
	}
	used, err := das.DecodeRecord(rec, st.vars, &st.rec, !st.inferred)
	if err != nil {
		var fe *das.FormatError
		if errors.As(err, &fe) {
			fe.Offset += body
		}
		return err
	}
	if used < len(p) {
		r.violate(start, "7.5 data length", fmt.Sprintf("|Pd| payload of %d bytes, the header needs %d", len(p), used))
	}
	st.inferred = true
	return r.sink.Record(&st.rec)
}
