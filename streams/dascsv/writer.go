// Package dascsv writes a decoded das stream as RFC 4180 CSV (spec 5.8): CRLF
// line ends, one row per record, ISO UTC times, optional header rows naming each
// column (spectrogram columns carry their frequency). It imports only the
// standard library and the streams model packages.
package dascsv

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Options tune a Writer.
type Options struct {
	Delim      byte // field separator, default ','
	NoHeaders  bool // omit the header row of each dataset
	TimeFrac   int  // fractional-second digits, 0..9 (default 3; -1 means 0)
	SigDigits  int  // significant digits of reals, 2..17 (default 8, like das3_csv)
	FlushEvery int  // records between flushes (0: headers and Close only)
}

// Writer writes CSV; it is a das.Sink. Exceptions are kept (see Exception) since
// CSV cannot carry them.
type Writer struct {
	bw      *bufio.Writer
	opt     Options
	vars    [das.MaxID + 1][]*das.Variable
	buf     []byte
	pending int
	exc     *das.Exception
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer, opt Options) *Writer {
	if opt.Delim == 0 {
		opt.Delim = ','
	}
	switch {
	case opt.TimeFrac == 0:
		opt.TimeFrac = 3
	case opt.TimeFrac < 0:
		opt.TimeFrac = 0
	}
	opt.TimeFrac = min(opt.TimeFrac, 9)
	if opt.SigDigits == 0 {
		opt.SigDigits = 8
	}
	opt.SigDigits = min(max(opt.SigDigits, 2), 17)
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), opt: opt, buf: make([]byte, 0, 4096)}
}

// Stream implements das.Sink (CSV has no stream header).
func (w *Writer) Stream(*das.Stream) error { return nil }

// Dataset records the columns and writes the header row.
func (w *Writer) Dataset(ds *das.Dataset) error {
	if ds.ID < 0 || ds.ID > das.MaxID {
		return fmt.Errorf("dascsv: dataset ID %d outside 0..99", ds.ID)
	}
	vars := ds.PacketVars()
	// The time coordinate goes first.
	if x := ds.TimeVar(); x != nil && len(vars) > 0 && vars[0] != x {
		ordered := []*das.Variable{x}
		for _, v := range vars {
			if v != x {
				ordered = append(ordered, v)
			}
		}
		vars = ordered
	}
	w.vars[ds.ID] = vars
	if w.opt.NoHeaders {
		return nil
	}
	b := w.buf[:0]
	for k, v := range vars {
		d := ds.DimOf(v)
		name := d.Name
		if name == "" {
			name = "time"
		}
		if v.Use != "" && v.Use != "center" {
			name += "." + v.Use
		}
		units := v.Units
		if v.IsTime() {
			units = "UTC"
		}
		tags, tagUnits := tagsOf(ds, d, v)
		for i := 0; i < v.Items; i++ {
			if k > 0 || i > 0 {
				b = append(b, w.opt.Delim)
			}
			cell := name
			if v.IsVector() && v.Items == v.Components {
				cell += " " + das.ComponentName(v, i)
			} else if v.Items > 1 {
				if i < len(tags) {
					cell += " " + strconv.FormatFloat(tags[i], 'g', -1, 64)
					if tagUnits != "" {
						cell += " " + tagUnits
					}
				} else {
					cell += " " + strconv.Itoa(i)
				}
			}
			if units != "" {
				cell += " (" + units + ")"
			}
			b = w.appendCell(b, cell)
		}
	}
	b = append(b, '\r', '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("dascsv: write header: %w", err)
	}
	return w.flush()
}

// tagsOf finds the coordinate values along a rank-2 variable's second index.
func tagsOf(ds *das.Dataset, d *das.Dim, v *das.Variable) ([]float64, string) {
	if d.Plane == das.PlaneYScan {
		return d.YTags.Values, d.YTags.Units
	}
	for _, c := range ds.Dims {
		if c.Kind != das.Coord {
			continue
		}
		for _, cv := range c.Vars {
			if cv.Source != das.FromPacket && len(cv.Values) == v.Items {
				return cv.Values, cv.Units
			}
		}
	}
	return nil, ""
}

func (w *Writer) appendCell(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\"\r\n"+string(w.opt.Delim)) {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, "\"", "\"\"")...)
	return append(b, '"')
}

func (w *Writer) flush() error {
	w.pending = 0
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("dascsv: flush: %w", err)
	}
	return nil
}

// Record writes one row.
func (w *Writer) Record(rec *das.Record) error {
	vars := w.vars[rec.DS.ID]
	if vars == nil {
		return fmt.Errorf("dascsv: record for undefined dataset %d", rec.DS.ID)
	}
	b := w.buf[:0]
	d := w.opt.Delim
	digits := w.opt.SigDigits - 1
	for k, v := range vars {
		for i := 0; i < v.Items; i++ {
			if k > 0 || i > 0 {
				b = append(b, d)
			}
			switch {
			case v.IsTime():
				t, ok := rec.Time(v, i)
				if !ok {
					return fmt.Errorf("dascsv: time value in %q out of range", v.Units)
				}
				b = dastime.AppendISO(b, t, w.opt.TimeFrac)
			case v.IsInt():
				if v.Enc.Kind == das.EncUint {
					b = strconv.AppendUint(b, uint64(rec.Ints[v.Slot+i]), 10)
				} else {
					b = strconv.AppendInt(b, rec.Ints[v.Slot+i], 10)
				}
			default:
				b = strconv.AppendFloat(b, rec.Floats[v.Slot+i], 'e', digits, 64)
			}
		}
	}
	b = append(b, '\r', '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("dascsv: write row: %w", err)
	}
	if w.opt.FlushEvery > 0 {
		w.pending++
		if w.pending >= w.opt.FlushEvery {
			return w.flush()
		}
	}
	return nil
}

// Comment implements das.Sink; CSV drops comments.
func (w *Writer) Comment(*das.Comment) error { return nil }

// Exception keeps the exception for Err; CSV has no place for it.
func (w *Writer) Exception(e *das.Exception) error {
	c := *e
	w.exc = &c
	return nil
}

// Err returns the exception the stream carried, if any.
func (w *Writer) Err() *das.Exception { return w.exc }

// Close flushes buffered output.
func (w *Writer) Close() error { return w.flush() }
