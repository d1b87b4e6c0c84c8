package das3

import (
	"bufio"
	"fmt"
	"io"
	"slices"
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
	// Text writes every variable as utf8 text.
	Text bool
	// TimeFrac is the number of fractional-second digits of text times (0 means the
	// default 3; negative means none).
	TimeFrac int
	// SigDigits is the number of significant digits of text values (2..17, default 7).
	SigDigits int
}

// part is one output dataset an input dataset writes its records to; a record
// too large for one packet is split along its inner index across several.
type part struct {
	id     string
	fields []das.Field
	prefix []byte // "|Pd|ID|LEN|" for fixed-size records
	varLen bool
}

type writeState struct {
	parts []part
}

// Writer writes a das3 stream; it is a das.Sink.
//
// Every stream it writes is one das2C and das_verify accept: packets never exceed
// 262144 bytes (wider records are split along their inner index into datasets of
// their own), dataset IDs are not redefined while one is free, every dimension
// has a unique valid name, and variable-length items are whitespace-separated
// (the one form both das3 schemas describe).
type Writer struct {
	bw      *bufio.Writer
	opt     WriterOptions
	started bool
	ids     [das.MaxID + 1]*writeState // by input dataset ID
	out     das.OutIDs
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
	opt.TimeFrac = min(opt.TimeFrac, 9)
	if opt.SigDigits == 0 {
		opt.SigDigits = 7
	}
	opt.SigDigits = min(max(opt.SigDigits, 2), 17)
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), opt: opt, buf: make([]byte, 0, 4096)}
}

func (w *Writer) writePacket(tag, id string, payload []byte) error {
	if len(payload) > das.MaxPacket {
		return fmt.Errorf("das3: |%s| payload of %d bytes exceeds 262144", tag, len(payload))
	}
	w.buf = append(w.buf[:0], '|')
	w.buf = append(w.buf, tag...)
	w.buf = append(w.buf, '|')
	w.buf = append(w.buf, id...)
	w.buf = append(w.buf, '|')
	w.buf = strconv.AppendInt(w.buf, int64(len(payload)), 10)
	w.buf = append(w.buf, '|')
	w.buf = append(w.buf, payload...)
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("das3: write |%s|: %w", tag, err)
	}
	return w.flush()
}

func (w *Writer) flush() error {
	w.pending = 0
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("das3: flush: %w", err)
	}
	return nil
}

// Stream writes the |Sx| header.
func (w *Writer) Stream(s *das.Stream) error {
	if w.started {
		return fmt.Errorf("das3: second stream header")
	}
	w.started = true
	if s.RawFormat == das.FormatDas3 && len(s.Raw) > 0 {
		return w.writePacket("Sx", "", s.Raw)
	}
	var b strings.Builder
	if len(s.Props) == 0 {
		b.WriteString("\n<stream type=\"das-basic-stream\" version=\"3.0\" />\n")
	} else {
		b.WriteString("\n<stream type=\"das-basic-stream\" version=\"3.0\">\n")
		writeProps(&b, s.Props, "  ")
		b.WriteString("</stream>\n")
	}
	return w.writePacket("Sx", "", []byte(b.String()))
}

func writeProps(b *strings.Builder, ps das.Properties, indent string) {
	if len(ps) == 0 {
		return
	}
	b.WriteString(indent + "<properties>\n")
	for _, p := range ps {
		b.WriteString(indent + "  <p name=\"" + das.EscapeAttr(p.Name) + "\"")
		if t := p.Das3Type(); t != "" {
			b.WriteString(" type=\"" + das.EscapeAttr(t) + "\"")
		}
		if p.Units != "" && p.Type != "datetime" && p.Type != "datetimeRange" {
			b.WriteString(" units=\"" + das.EscapeAttr(p.Units) + "\"")
		}
		b.WriteString(">" + das.EscapeText(p.Value) + "</p>\n")
	}
	b.WriteString(indent + "</properties>\n")
}

// Dataset writes the |Hx| header(s) of a dataset: one, or several when a record
// does not fit one packet.
func (w *Writer) Dataset(ds *das.Dataset) error {
	if !w.started {
		return fmt.Errorf("das3: dataset before the stream header")
	}
	if ds.ID < 1 || ds.ID > das.MaxID {
		return fmt.Errorf("das3: dataset ID %d outside 1..99", ds.ID)
	}
	var specs []spec
	if w.verbatim(ds) {
		specs = []spec{{xml: ds.Raw, fields: das.FieldsOf(ds.PacketVars()), varLen: ds.VarLen}}
	} else {
		out, fields, err := w.convert(ds)
		if err != nil {
			return err
		}
		if specs, err = split(out, fields); err != nil {
			return err
		}
	}
	if old := w.ids[ds.ID]; old != nil {
		for _, p := range old.parts {
			n, _ := strconv.Atoi(p.id)
			w.out.Release(n)
		}
	}
	st := &writeState{}
	w.ids[ds.ID] = st
	for _, sp := range specs {
		n, err := w.out.Take(ds.ID, "")
		if err != nil {
			return fmt.Errorf("das3: %w", err)
		}
		w.out.Hold(n)
		id := strconv.Itoa(n)
		p := part{id: id, fields: sp.fields, varLen: sp.varLen}
		if !sp.varLen {
			p.prefix = []byte("|Pd|" + id + "|" + strconv.Itoa(fixedBytes(sp.fields)) + "|")
		}
		st.parts = append(st.parts, p)
		if err := w.writePacket("Hx", id, sp.xml); err != nil {
			return err
		}
	}
	return nil
}

// verbatim reports whether the dataset's own das3 header can be copied: no
// re-encoding asked for, records that fit a packet, valid names, and no explicit
// value terminator (each schema spells that attribute differently).
func (w *Writer) verbatim(ds *das.Dataset) bool {
	if ds.RawFormat != das.FormatDas3 || len(ds.Raw) == 0 || !ds.RawValid || (w.opt.Text && !allText(ds)) {
		return false
	}
	if !das.ValidPlaneName(ds.Name) || recordBytes(das.FieldsOf(ds.PacketVars())) > maxRecord {
		return false
	}
	for _, d := range ds.Dims {
		if !das.ValidPropName(d.Name) {
			return false
		}
		for _, v := range d.Vars {
			if v.Enc.Var && v.Enc.Term != 0 {
				return false
			}
		}
	}
	return true
}

// maxRecord is the largest |Pd| payload written: the packet limit less the tag.
const maxRecord = das.MaxPacket - len("|Pd|99|262144|")

// varItemBytes bounds a variable-length item as the writer prints it (the
// shortest float64 text, or an ISO time with nanoseconds) plus its terminator.
func varItemBytes(v *das.Variable) int {
	if v.IsTime() {
		return 30
	}
	return 25
}

func fixedBytes(fs []das.Field) int {
	n := 0
	for _, f := range fs {
		n += f.Out.Items * f.Out.Enc.Size
	}
	return n
}

// recordBytes bounds the payload of one record.
func recordBytes(fs []das.Field) int {
	n := 0
	for _, f := range fs {
		if f.Out.Enc.Var {
			n += f.Out.Items * varItemBytes(f.Out)
		} else {
			n += f.Out.Items * f.Out.Enc.Size
		}
	}
	return n
}

func allText(ds *das.Dataset) bool {
	for _, v := range ds.PacketVars() {
		if v.Enc.Kind != das.EncText {
			return false
		}
	}
	return true
}

// spec is a dataset header to write and the fields of its records.
type spec struct {
	xml    []byte
	fields []das.Field
	varLen bool
}

// split writes out as one dataset when its records and header fit a packet, and
// otherwise as several rank-2 datasets, each with the time coordinate and a
// range of the inner index (its slice of every inner variable and header
// coordinate); per-record variables go with the first range. No dataset gets
// exactly das.CrashCodecs packet variables.
func split(out *das.Dataset, fields []das.Field) ([]spec, error) {
	parts, err := sizeSplit(out, fields)
	if err != nil {
		return nil, err
	}
	var specs []spec
	for _, p := range parts {
		for _, q := range avoidSix(p) {
			specs = append(specs, spec{xml: datasetXML(q.ds), fields: q.fields, varLen: q.ds.VarLen})
		}
	}
	return specs, nil
}

func sizeSplit(out *das.Dataset, fields []das.Field) ([]slicedDataset, error) {
	if recordBytes(fields) <= maxRecord && len(datasetXML(out)) <= das.MaxPacket {
		return []slicedDataset{{ds: out, fields: fields}}, nil
	}
	if out.Rank != 2 || len(out.Shape) != 2 || out.Shape[1] < 2 {
		return nil, fmt.Errorf("das3: dataset %q: a record of %d bytes does not fit a packet and has no inner index to split", out.Name, recordBytes(fields))
	}
	n := out.Shape[1]
	x := timeOf(out, fields)
	inner := func(v *das.Variable) bool { return v.Items == n && !v.IsVector() }
	// Bytes per record that stay whole (X, and per-record variables in part 0),
	// and per inner item.
	whole, perItem := 0, 0
	for _, f := range fields {
		b := recordBytes([]das.Field{f})
		if inner(f.Out) {
			perItem += b / n
		} else {
			whole += b
		}
	}
	// Header: everything but the header coordinates' values bounds every part's.
	bare := sliceDataset(out, fields, 0, 0, x, true)
	hdrRoom := das.MaxPacket - len(datasetXML(bare.ds))
	var valText [][]string
	for _, d := range out.Dims {
		for _, v := range d.Vars {
			if v.Source != das.FromPacket && len(v.Values) == n {
				valText = append(valText, formatValues(v.Values))
			}
		}
	}
	var parts []slicedDataset
	for lo := 0; lo < n; {
		room := maxRecord - whole
		k, hdr := 0, 0
		for lo+k < n && (k+1)*perItem <= room {
			c := 0
			for _, t := range valText {
				c += len(t[lo+k]) + 1
			}
			if hdr+c > hdrRoom {
				break
			}
			hdr += c
			k++
		}
		if k == 0 {
			return nil, fmt.Errorf("das3: dataset %q: one item of the inner index does not fit a packet", out.Name)
		}
		parts = append(parts, sliceDataset(out, fields, lo, k, x, lo == 0))
		lo += k
		if lo == k {
			whole = recordBytes([]das.Field{fieldOf(fields, x)}) // per-record variables went into the first part
		}
	}
	return parts, nil
}

// timeOf returns the variable every part of a split dataset carries.
func timeOf(out *das.Dataset, fields []das.Field) *das.Variable {
	if x := out.TimeVar(); x != nil {
		return x
	}
	return fields[0].Out
}

func fieldOf(fields []das.Field, v *das.Variable) das.Field {
	for _, f := range fields {
		if f.Out == v {
			return f
		}
	}
	return das.Field{}
}

// avoidSix splits a dataset of exactly das.CrashCodecs packet variables in two:
// its last data dimension (or, when that holds all but the time, the
// dimension's last variable) moves to a dataset of its own with the time and
// the header coordinates.
func avoidSix(p slicedDataset) []slicedDataset {
	if len(p.fields) != das.CrashCodecs {
		return []slicedDataset{p}
	}
	x := timeOf(p.ds, p.fields)
	var last *das.Dim
	for _, d := range p.ds.Dims {
		for _, v := range d.Vars {
			if d.Kind == das.Data && v.Source == das.FromPacket {
				last = d
			}
		}
	}
	if last == nil {
		return []slicedDataset{p}
	}
	moved := map[*das.Variable]bool{}
	packetVars := 0
	for _, v := range last.Vars {
		if v.Source == das.FromPacket {
			packetVars++
			moved[v] = true
		}
	}
	if packetVars == len(p.fields)-1 {
		// One dimension with every variable: move only its last one.
		for _, v := range last.Vars {
			moved[v] = false
		}
		moved[last.Vars[len(last.Vars)-1]] = true
	}
	a := &das.Dataset{ID: p.ds.ID, Name: p.ds.Name, Rank: p.ds.Rank, Shape: p.ds.Shape, Plot: p.ds.Plot, Props: p.ds.Props}
	b := &das.Dataset{ID: p.ds.ID, Name: p.ds.Name, Rank: p.ds.Rank, Shape: p.ds.Shape, Plot: p.ds.Plot, Props: p.ds.Props}
	for _, d := range p.ds.Dims {
		da, db := *d, *d
		da.Vars, db.Vars = nil, nil
		for _, v := range d.Vars {
			switch {
			case v == x || v.Source != das.FromPacket:
				da.Vars = append(da.Vars, v)
				if d.Kind == das.Coord {
					db.Vars = append(db.Vars, v)
				}
			case moved[v]:
				db.Vars = append(db.Vars, v)
			default:
				da.Vars = append(da.Vars, v)
			}
		}
		if len(da.Vars) > 0 {
			a.Dims = append(a.Dims, &da)
		}
		if len(db.Vars) > 0 {
			b.Dims = append(b.Dims, &db)
		}
	}
	var fa, fb []das.Field
	for _, f := range p.fields {
		switch {
		case f.Out == x:
			fa, fb = append(fa, f), append(fb, f)
		case moved[f.Out]:
			fb = append(fb, f)
		default:
			fa = append(fa, f)
		}
	}
	for _, f := range fa {
		a.VarLen = a.VarLen || f.Out.Enc.Var
	}
	for _, f := range fb {
		b.VarLen = b.VarLen || f.Out.Enc.Var
	}
	return []slicedDataset{{ds: a, fields: fa}, {ds: b, fields: fb}}
}

type slicedDataset struct {
	ds     *das.Dataset
	fields []das.Field
}

// sliceDataset builds the dataset of inner items lo..lo+k of out: the X variable,
// the per-record variables when first is set, and every inner variable and header
// coordinate cut to the range (k == 0 drops their values: a header size bound).
func sliceDataset(out *das.Dataset, fields []das.Field, lo, k int, x *das.Variable, first bool) slicedDataset {
	n := out.Shape[1]
	p := &das.Dataset{ID: out.ID, Name: out.Name, Rank: 2, Shape: []int{-1, k}, Plot: out.Plot, Props: out.Props}
	byOut := map[*das.Variable]das.Field{}
	for _, f := range fields {
		byOut[f.Out] = f
	}
	var fs []das.Field
	for _, d := range out.Dims {
		nd := *d
		nd.Vars = nil
		for _, v := range d.Vars {
			switch {
			case v == x:
				nd.Vars = append(nd.Vars, v)
				fs = append(fs, byOut[v])
			case v.Source == das.FromPacket && v.Items == n && !v.IsVector():
				nv := *v
				nv.Items, nv.Index = k, "*;"+strconv.Itoa(k)
				nd.Vars = append(nd.Vars, &nv)
				f := byOut[v]
				fs = append(fs, das.Field{Src: f.Src, Out: &nv, Lo: f.Lo + lo})
			case v.Source == das.FromPacket:
				if first {
					nd.Vars = append(nd.Vars, v)
					fs = append(fs, byOut[v])
				}
			case len(v.Values) == n:
				// A slice of a <sequence> is listed as <values>: a new minval would
				// give tags a rounding away from the original ones.
				nv := *v
				nv.Items, nv.Index = k, "-;"+strconv.Itoa(k)
				nv.Values = v.Values[lo : lo+k]
				nv.Source, nv.ValuesText = das.FromValues, strings.Join(formatValues(nv.Values), " ")
				nd.Vars = append(nd.Vars, &nv)
			default:
				nd.Vars = append(nd.Vars, v)
			}
		}
		if len(nd.Vars) > 0 {
			p.Dims = append(p.Dims, &nd)
		}
	}
	for _, f := range fs {
		if f.Out.Enc.Var {
			p.VarLen = true
		}
	}
	return slicedDataset{ds: p, fields: fs}
}

func formatValues(vs []float64) []string {
	out := make([]string, len(vs))
	for i, f := range vs {
		out[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return out
}

// convert builds the das3 form of a dataset: das2.2 planes become coordinates and
// data, yscan tags a header-valued coordinate; with Text, encodings become utf8.
// Names are made valid and unique. The returned fields pair the record's
// variables with the written ones.
func (w *Writer) convert(ds *das.Dataset) (*das.Dataset, []das.Field, error) {
	out := &das.Dataset{ID: ds.ID, Rank: ds.Rank, Shape: ds.Shape, Plot: ds.Plot, Props: ds.Props}
	out.Name = das.Identifier(ds.Name, "ds"+strconv.Itoa(ds.ID), true, map[string]bool{})
	if out.Rank < 1 {
		out.Rank, out.Shape = 1, []int{-1}
	}
	var fields []das.Field
	das2 := false
	for _, d := range ds.Dims {
		if d.Plane != das.PlaneNone {
			das2 = true
		}
	}
	tagCoords := map[string]bool{}
	names := map[string]bool{}
	unnamedData := 0
	for _, d := range ds.Dims {
		if d.Kind == das.Data && d.Name == "" {
			unnamedData++
		}
	}
	for _, d := range ds.Dims {
		nd := &das.Dim{Kind: d.Kind, PhysDim: d.PhysDim, Name: d.Name, Axis: d.Axis, Props: d.Props, Frame: d.Frame, Annotation: d.Annotation}
		if das2 {
			nd.Props = das2DimProps(d.Props)
			if d.Plane == das.PlaneX {
				if nd.Name == "" {
					nd.Name = "time"
				}
				if nd.PhysDim == "" && d.Vars[0].IsTime() {
					nd.PhysDim = "time"
				}
			}
			if d.Plane == das.PlaneYScan {
				key := d.YTags.Units + "|" + fmt.Sprint(d.YTags.Values)
				if !tagCoords[key] {
					tagCoords[key] = true
					tc := tagCoord(d, out.Rank)
					tc.Name = das.Identifier(tc.Name, "coord", false, names)
					out.Dims = append(out.Dims, tc)
				}
			}
		}
		nd.Name = das.Identifier(nd.Name, dimFallback(out, d, unnamedData), false, names)
		for _, v := range d.Vars {
			if v.Source == das.FromPacket {
				o, err := w.outVar(v, out.Rank, das2 && d.Kind == das.Data)
				if err != nil {
					return nil, nil, err
				}
				if o.Enc.Var {
					out.VarLen = true
				}
				fields = append(fields, das.Field{Src: v, Out: o})
				nd.Vars = append(nd.Vars, o)
				continue
			}
			nv := *v
			nd.Vars = append(nd.Vars, &nv)
		}
		out.Dims = append(out.Dims, nd)
	}
	// Every <coord> before the first <data>: das_verify's schema wants that order.
	slices.SortStableFunc(out.Dims, func(a, b *das.Dim) int { return int(a.Kind) - int(b.Kind) })
	return out, fields, nil
}

// dimFallback names an unnamed dimension: "time" for a time coordinate, else its
// physical dimension, else (the only unnamed <data>) the dataset's name.
func dimFallback(out *das.Dataset, d *das.Dim, unnamedData int) string {
	switch {
	case d.Kind == das.Coord && len(d.Vars) > 0 && d.Vars[0].IsTime():
		return "time"
	case d.PhysDim != "":
		return d.PhysDim
	case d.Kind == das.Data && unnamedData == 1:
		return out.Name
	case d.Kind == das.Coord:
		return "coord"
	}
	return "data"
}

// das2DimProps renames das2.2 plane properties to the das3 dimension names.
func das2DimProps(ps das.Properties) das.Properties {
	var out das.Properties
	for _, p := range ps {
		switch p.Name {
		case "yFill", "zFill", "fill":
			continue
		case "yLabel", "zLabel", "xLabel":
			p.Name = "label"
		}
		p.Das2Type, p.Untyped = "", false
		out = append(out, p)
	}
	return out
}

func tagCoord(d *das.Dim, rank int) *das.Dim {
	t := d.YTags
	name, phys := d.Name+"_y", ""
	if strings.HasSuffix(t.Units, "Hz") {
		name, phys = "frequency", "frequency"
	}
	v := &das.Variable{Use: "center", Semantic: "real", Storage: "double", Units: t.Units, Items: len(t.Values), Values: t.Values}
	v.Index = "-;" + strconv.Itoa(len(t.Values))
	if rank > 2 {
		v.Index += strings.Repeat(";-", rank-2)
	}
	switch t.Form {
	case das.TagsInterval:
		v.Source, v.SeqInterval, v.SeqMin = das.FromSequence, t.Interval, t.Min
		if v.SeqMin == "" {
			v.SeqMin = "0"
		}
	default:
		v.Source = das.FromValues
		if t.Form == das.TagsList {
			v.ValuesText = strings.Join(strings.Fields(strings.ReplaceAll(t.Text, ",", " ")), " ")
		} else {
			parts := make([]string, len(t.Values))
			for i, f := range t.Values {
				parts[i] = strconv.FormatFloat(f, 'g', -1, 64)
			}
			v.ValuesText = strings.Join(parts, " ")
		}
	}
	return &das.Dim{Kind: das.Coord, PhysDim: phys, Name: name, Axis: "y", Vars: []*das.Variable{v}}
}

// outVar decides the das3 form of a packet variable.
func (w *Writer) outVar(src *das.Variable, rank int, data bool) (*das.Variable, error) {
	out := *src
	time := src.IsTime()
	if w.opt.Text && src.Enc.Kind != das.EncText {
		if time {
			n := 19
			if w.opt.TimeFrac > 0 {
				n += 1 + w.opt.TimeFrac
			}
			out.Enc = das.Encoding{Kind: das.EncText, Size: n + 1}
			out.Text = das.TextFormat{}
			out.Units, out.Epoch = "UTC", dastime.NotEpoch
		} else {
			out.Enc = das.Encoding{Kind: das.EncText, Size: w.opt.SigDigits + 7}
			out.Text = das.TextFormat{Conv: 'e', Digits: w.opt.SigDigits - 1}
		}
		out.Storage = ""
	}
	if out.Enc.Var {
		// Whitespace-separated: the form both das3 schemas describe (an explicit
		// terminator is valTerm to das2C and valSep to das_verify).
		out.Enc.Term = 0
	}
	if time && out.Enc.Kind == das.EncText {
		out.Semantic, out.Units, out.Epoch = "datetime", "UTC", dastime.NotEpoch
	}
	if time {
		out.Semantic = "datetime"
	}
	if out.Storage == "" || src.Enc != out.Enc {
		out.Storage = storageFor(out)
	}
	if out.IsVector() && out.Enc.Size == 1 && (out.Enc.Kind == das.EncInt || out.Enc.Kind == das.EncUint) {
		// das2C takes a vector of byte storage for a byte string.
		out.Storage = map[das.EncKind]string{das.EncInt: "short", das.EncUint: "ushort"}[out.Enc.Kind]
	}
	if out.Index == "" {
		out.Index = "*"
		if rank == 2 {
			out.Index = "*;-"
			if out.Items > 1 {
				out.Index = "*;" + strconv.Itoa(out.Items)
			}
		}
	}
	if data && out.Fill == "" && !time {
		out.Fill = strconv.FormatFloat(out.FillVal, 'g', -1, 64)
		if out.FillVal == das.DefaultFill {
			out.Fill = "-1.0e+31"
		}
	}
	if out.Enc.Das3Name() == "" {
		return nil, fmt.Errorf("das3: variable without a das3 encoding")
	}
	return &out, nil
}

func storageFor(v das.Variable) string {
	switch v.Enc.Kind {
	case das.EncReal:
		if v.Enc.Size == 4 {
			return "float"
		}
		return "double"
	case das.EncInt, das.EncUint:
		names := map[int]string{1: "byte", 2: "short", 4: "int", 8: "long"}
		s := names[v.Enc.Size]
		if v.Enc.Kind == das.EncUint {
			s = "u" + s
		}
		return s
	case das.EncText:
		if v.IsTime() {
			return "struct"
		}
		if v.Enc.Size <= 15 && !v.Enc.Var {
			return "float"
		}
		return "double"
	}
	return ""
}

func indexText(shape []int) string {
	parts := make([]string, len(shape))
	for i, s := range shape {
		if s < 0 {
			parts[i] = "*"
		} else {
			parts[i] = strconv.Itoa(s)
		}
	}
	return strings.Join(parts, ";")
}

func datasetXML(ds *das.Dataset) []byte {
	var b strings.Builder
	b.WriteString("\n<dataset name=\"" + das.EscapeAttr(ds.Name) + "\" rank=\"" + strconv.Itoa(ds.Rank) +
		"\" index=\"" + indexText(ds.Shape) + "\"")
	if ds.Plot != "" {
		b.WriteString(" plot=\"" + das.EscapeAttr(ds.Plot) + "\"")
	}
	b.WriteString(">\n")
	writeProps(&b, ds.Props, "  ")
	for _, d := range ds.Dims {
		el := "data"
		if d.Kind == das.Coord {
			el = "coord"
		}
		b.WriteString("  <" + el + " physDim=\"" + das.EscapeAttr(d.PhysDim) + "\" name=\"" + das.EscapeAttr(d.Name) + "\"")
		if d.Axis != "" && d.Kind == das.Coord {
			b.WriteString(" axis=\"" + das.EscapeAttr(d.Axis) + "\"")
		}
		if d.Annotation != "" && d.Kind == das.Coord {
			b.WriteString(" annotation=\"" + das.EscapeAttr(d.Annotation) + "\"")
		}
		if d.Frame != "" {
			b.WriteString(" frame=\"" + das.EscapeAttr(d.Frame) + "\"")
		}
		b.WriteString(">\n")
		writeProps(&b, d.Props, "    ")
		for _, v := range d.Vars {
			tag := "scalar"
			if v.IsVector() {
				tag = "vector"
			}
			b.WriteString("    <" + tag + " use=\"" + das.EscapeAttr(v.Use) + "\" semantic=\"" + das.EscapeAttr(v.Semantic) + "\"")
			if v.Storage != "" {
				b.WriteString(" storage=\"" + das.EscapeAttr(v.Storage) + "\"")
			}
			b.WriteString(" index=\"" + das.EscapeAttr(v.Index) + "\" units=\"" + das.EscapeAttr(v.Units) + "\"")
			if v.IsVector() {
				b.WriteString(" components=\"" + strconv.Itoa(v.Components) + "\"")
				if v.System != "" {
					b.WriteString(" system=\"" + das.EscapeAttr(v.System) + "\"")
				}
				if v.SysOrder != "" {
					b.WriteString(" sysorder=\"" + das.EscapeAttr(v.SysOrder) + "\"")
				}
			}
			b.WriteString(">\n")
			writeProps(&b, v.Props, "      ")
			switch v.Source {
			case das.FromPacket:
				ib := strconv.Itoa(v.Enc.Size)
				if v.Enc.Var {
					ib = "*"
				}
				b.WriteString("      <packet numItems=\"" + strconv.Itoa(v.Items) + "\" itemBytes=\"" + ib +
					"\" encoding=\"" + v.Enc.Das3Name() + "\"")
				if v.Fill != "" {
					b.WriteString(" fill=\"" + das.EscapeAttr(v.Fill) + "\"")
				}
				b.WriteString(" />\n")
			case das.FromValues:
				b.WriteString("      <values>" + das.EscapeText(v.ValuesText) + "</values>\n")
			case das.FromSequence:
				b.WriteString("      <sequence minval=\"" + das.EscapeAttr(v.SeqMin) + "\" interval=\"" + das.EscapeAttr(v.SeqInterval) + "\" />\n")
			}
			b.WriteString("    </" + tag + ">\n")
		}
		b.WriteString("  </" + el + ">\n")
	}
	b.WriteString("</dataset>\n")
	return []byte(b.String())
}

// Record writes the |Pd| packet(s) of one record.
func (w *Writer) Record(rec *das.Record) error {
	st := w.ids[rec.DS.ID]
	if st == nil {
		return fmt.Errorf("das3: record for undefined dataset %d", rec.DS.ID)
	}
	for i := range st.parts {
		p := &st.parts[i]
		if p.varLen {
			if err := w.recordVar(p, rec); err != nil {
				return err
			}
			continue
		}
		b, err := das.AppendRecord(append(w.buf[:0], p.prefix...), p.fields, rec)
		w.buf = b
		if err != nil {
			return err
		}
		if _, err := w.bw.Write(b); err != nil {
			return fmt.Errorf("das3: write record: %w", err)
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

// recordVar writes a record with variable-length items: its length is known once
// the values are printed, so they are printed after room for the longest tag and
// the tag is put right before them.
func (w *Writer) recordVar(p *part, rec *das.Record) error {
	const room = len("|Pd|99|262144|")
	b, err := das.AppendRecord(append(w.buf[:0], make([]byte, room)...), p.fields, rec)
	w.buf = b
	if err != nil {
		return err
	}
	n := len(b) - room
	if n > das.MaxPacket {
		return fmt.Errorf("das3: record of %d bytes exceeds 262144", n)
	}
	tag := "|Pd|" + p.id + "|" + strconv.Itoa(n) + "|"
	copy(b[room-len(tag):], tag)
	if _, err := w.bw.Write(b[room-len(tag):]); err != nil {
		return fmt.Errorf("das3: write record: %w", err)
	}
	return nil
}

// Comment writes a |Cx| packet.
func (w *Writer) Comment(c *das.Comment) error {
	if !w.started {
		return fmt.Errorf("das3: comment before the stream header")
	}
	if c.RawFormat == das.FormatDas3 && len(c.Raw) > 0 {
		return w.writePacket("Cx", "", c.Raw)
	}
	s := "<comment type=\"" + das.EscapeAttr(c.Type) + "\""
	if c.Source != "" {
		s += " source=\"" + das.EscapeAttr(c.Source) + "\""
	}
	s += ">" + das.EscapeText(c.Value) + "</comment>\n"
	return w.writePacket("Cx", "", []byte(s))
}

// Exception writes an |Ex| packet, after a bare stream header if none was written.
func (w *Writer) Exception(e *das.Exception) error {
	if !w.started {
		if err := w.Stream(&das.Stream{Version: "3.0"}); err != nil {
			return err
		}
	}
	if e.RawFormat == das.FormatDas3 && len(e.Raw) > 0 {
		return w.writePacket("Ex", "", e.Raw)
	}
	s := "<exception type=\"" + das.EscapeAttr(das.ExceptionType3(e.Type)) + "\">" + das.EscapeText(e.Message) + "</exception>\n"
	return w.writePacket("Ex", "", []byte(s))
}

// Close flushes buffered output.
func (w *Writer) Close() error { return w.flush() }

// WriteError writes a complete das3 error body (spec 2.6).
func WriteError(wr io.Writer, typ, msg string) error {
	w := NewWriter(wr, WriterOptions{})
	if err := w.Exception(&das.Exception{Type: typ, Message: msg}); err != nil {
		return err
	}
	return w.Close()
}
