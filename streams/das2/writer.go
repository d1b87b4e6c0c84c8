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
	out   *das.Variable
}

type writeState struct {
	fields []das.Field
}

// Writer writes a das2.2 stream; it is a das.Sink.
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

// Dataset writes a [NN] packet header.
func (w *Writer) Dataset(ds *das.Dataset) error {
	if !w.started {
		return fmt.Errorf("das2: dataset before the stream header")
	}
	if ds.ID < 1 || ds.ID > das.MaxID {
		return fmt.Errorf("das2: packet ID %d outside 1..99", ds.ID)
	}
	id := fmt.Sprintf("%02d", ds.ID)
	if ds.RawFormat == das.FormatDas2 && len(ds.Raw) > 0 && (!w.opt.Text || allText(ds)) {
		w.ids[ds.ID] = &writeState{fields: das.FieldsOf(ds.PacketVars())}
		return w.writeHeader(id, ds.Raw)
	}
	planes, err := w.planes(ds)
	if err != nil {
		return err
	}
	st := &writeState{}
	for _, p := range planes {
		st.fields = append(st.fields, das.Field{Src: p.src, Out: p.out})
	}
	w.ids[ds.ID] = st
	return w.writeHeader(id, packetXML(ds, planes))
}

func allText(ds *das.Dataset) bool {
	for _, v := range ds.PacketVars() {
		if v.Enc.Kind != das.EncText {
			return false
		}
	}
	return true
}

// planes maps a dataset onto das2.2 planes: <x> first, then one <y> per scalar
// variable and one <yscan> per rank-2 variable.
func (w *Writer) planes(ds *das.Dataset) ([]plane, error) {
	var ps []plane
	x := ds.TimeVar()
	if x == nil {
		for _, d := range ds.Dims {
			if d.Kind == das.Coord && len(d.Vars) > 0 && d.Vars[0].Source == das.FromPacket {
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
	for _, d := range ds.Dims {
		for _, v := range d.Vars {
			if v.Source != das.FromPacket || v == x {
				continue
			}
			p := plane{kind: das.PlaneY, name: d.Name, src: v, props: append(das.Properties(nil), d.Props...)}
			if d.Plane != das.PlaneNone {
				p.kind, p.tags = d.Plane, d.YTags
				if p.kind == das.PlaneX {
					p.kind = das.PlaneY
				}
			} else {
				if v.Use != "" && v.Use != "center" {
					p.name = d.Name + "." + v.Use
					p.props.Set(das.Property{Name: "source", Value: d.Name, Das2Type: "String"})
				}
				if p.name == "" {
					p.name = "plane" + strconv.Itoa(len(ps))
				}
				for i := range p.props {
					if p.props[i].Name == "label" {
						p.props[i].Name = "yLabel"
					}
				}
				if v.Items > 1 {
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
			ps = append(ps, p)
		}
	}
	for i := range ps {
		out, err := w.outVar(ps[i].src, ps[i].kind == das.PlaneX)
		if err != nil {
			return nil, err
		}
		ps[i].out = out
	}
	return ps, nil
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
	switch {
	case w.opt.Text && src.Enc.Kind != das.EncText:
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
	case src.Enc.Kind == das.EncText:
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

// Record writes one :NN: data packet.
func (w *Writer) Record(rec *das.Record) error {
	st := w.ids[rec.DS.ID]
	if st == nil {
		return fmt.Errorf("das2: record for undefined packet ID %d", rec.DS.ID)
	}
	b := append(w.buf[:0], ':', byte('0'+rec.DS.ID/10), byte('0'+rec.DS.ID%10), ':')
	b, err := das.AppendRecord(b, st.fields, rec)
	w.buf = b
	if err != nil {
		return err
	}
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("das2: write record: %w", err)
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
