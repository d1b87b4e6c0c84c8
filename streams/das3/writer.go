package das3

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
	// Text writes every variable as utf8 text.
	Text bool
	// TimeFrac is the number of fractional-second digits of text times (0 means the
	// default 3; negative means none).
	TimeFrac int
	// SigDigits is the number of significant digits of text values (2..17, default 7).
	SigDigits int
}

type writeState struct {
	fields []das.Field
	prefix []byte // "|Pd|ID|LEN|"
}

// Writer writes a das3 stream; it is a das.Sink.
type Writer struct {
	bw      *bufio.Writer
	opt     WriterOptions
	started bool
	ids     [das.MaxID + 1]*writeState
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

// Dataset writes an |Hx| header.
func (w *Writer) Dataset(ds *das.Dataset) error {
	if !w.started {
		return fmt.Errorf("das3: dataset before the stream header")
	}
	if ds.ID < 1 || ds.ID > das.MaxID {
		return fmt.Errorf("das3: dataset ID %d outside 1..99", ds.ID)
	}
	id := strconv.Itoa(ds.ID)
	st := &writeState{}
	var xml []byte
	if ds.RawFormat == das.FormatDas3 && len(ds.Raw) > 0 && (!w.opt.Text || allText(ds)) {
		st.fields = das.FieldsOf(ds.PacketVars())
		xml = ds.Raw
	} else {
		out, fields, err := w.convert(ds)
		if err != nil {
			return err
		}
		st.fields = fields
		xml = datasetXML(out)
	}
	size := 0
	for _, f := range st.fields {
		size += f.Out.Items * f.Out.Enc.Size
	}
	st.prefix = []byte("|Pd|" + id + "|" + strconv.Itoa(size) + "|")
	w.ids[ds.ID] = st
	return w.writePacket("Hx", id, xml)
}

func allText(ds *das.Dataset) bool {
	for _, v := range ds.PacketVars() {
		if v.Enc.Kind != das.EncText {
			return false
		}
	}
	return true
}

// convert builds the das3 form of a dataset: das2.2 planes become coordinates and
// data, yscan tags a header-valued coordinate; with Text, encodings become utf8.
// The returned fields pair the record's variables with the written ones.
func (w *Writer) convert(ds *das.Dataset) (*das.Dataset, []das.Field, error) {
	out := &das.Dataset{ID: ds.ID, Name: ds.Name, Rank: ds.Rank, Shape: ds.Shape, Plot: ds.Plot, Props: ds.Props}
	if out.Name == "" {
		out.Name = "ds" + strconv.Itoa(ds.ID)
	}
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
	for _, d := range ds.Dims {
		nd := &das.Dim{Kind: d.Kind, PhysDim: d.PhysDim, Name: d.Name, Axis: d.Axis, Props: d.Props}
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
					out.Dims = append(out.Dims, tagCoord(d, out.Rank))
				}
			}
		}
		for _, v := range d.Vars {
			if v.Source == das.FromPacket {
				o, err := w.outVar(v, out.Rank, das2 && d.Kind == das.Data)
				if err != nil {
					return nil, nil, err
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
	return out, fields, nil
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
	if time && out.Enc.Kind == das.EncText {
		out.Semantic, out.Units, out.Epoch = "datetime", "UTC", dastime.NotEpoch
	}
	if time {
		out.Semantic = "datetime"
	}
	if out.Storage == "" || src.Enc != out.Enc {
		out.Storage = storageFor(out)
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
		if v.Enc.Size <= 15 {
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
		b.WriteString(">\n")
		writeProps(&b, d.Props, "    ")
		for _, v := range d.Vars {
			b.WriteString("    <scalar use=\"" + das.EscapeAttr(v.Use) + "\" semantic=\"" + das.EscapeAttr(v.Semantic) + "\"")
			if v.Storage != "" {
				b.WriteString(" storage=\"" + das.EscapeAttr(v.Storage) + "\"")
			}
			b.WriteString(" index=\"" + das.EscapeAttr(v.Index) + "\" units=\"" + das.EscapeAttr(v.Units) + "\">\n")
			switch v.Source {
			case das.FromPacket:
				b.WriteString("      <packet numItems=\"" + strconv.Itoa(v.Items) + "\" itemBytes=\"" + strconv.Itoa(v.Enc.Size) +
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
			b.WriteString("    </scalar>\n")
		}
		b.WriteString("  </" + el + ">\n")
	}
	b.WriteString("</dataset>\n")
	return []byte(b.String())
}

// Record writes one |Pd| packet.
func (w *Writer) Record(rec *das.Record) error {
	st := w.ids[rec.DS.ID]
	if st == nil {
		return fmt.Errorf("das3: record for undefined dataset %d", rec.DS.ID)
	}
	b := append(w.buf[:0], st.prefix...)
	b, err := das.AppendRecord(b, st.fields, rec)
	w.buf = b
	if err != nil {
		return err
	}
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("das3: write record: %w", err)
	}
	if w.opt.FlushEvery > 0 {
		w.pending++
		if w.pending >= w.opt.FlushEvery {
			return w.flush()
		}
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
