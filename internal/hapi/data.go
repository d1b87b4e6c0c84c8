package hapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

func (h *Handler) data(w http.ResponseWriter, r *http.Request) {
	q, good := h.parseQuery(w, r, "dataset", "id", "start", "stop", "time.min", "time.max", "parameters", "include", "format")
	if !good {
		return
	}
	id, found, single := q.one("dataset", "id")
	startText, hasStart, singleStart := q.one("start", "time.min")
	stopText, hasStop, singleStop := q.one("stop", "time.max")
	switch {
	case !single || !singleStart || !singleStop:
		h.fail(w, r, 1400, "a request parameter is given under both of its names")
		return
	case !found || id == "":
		h.fail(w, r, 1400, "dataset is required")
		return
	case !hasStart:
		h.fail(w, r, 1400, "start is required")
		return
	case !hasStop:
		h.fail(w, r, 1400, "stop is required")
		return
	}
	format := q["format"]
	switch format {
	case "":
		format = "csv"
	case "csv", "binary", "json":
	default:
		h.fail(w, r, 1409, "")
		return
	}
	include := q["include"]
	if include != "" && include != "header" {
		h.fail(w, r, 1410, "")
		return
	}
	start, err := ParseTime(startText)
	if err != nil {
		h.fail(w, r, 1402, "")
		return
	}
	stop, err := ParseTime(stopText)
	if err != nil {
		h.fail(w, r, 1403, "")
		return
	}
	if !start.Before(stop) {
		h.fail(w, r, 1404, "")
		return
	}
	ds, err := h.cat.Describe(r.Context(), r, id)
	if err != nil {
		h.catalogError(w, r, err)
		return
	}
	digits := timeDigits(ds)
	cols, good := h.selectColumns(w, r, datasetColumns(ds, digits), q["parameters"])
	if !good {
		return
	}
	if ds.MaxRequest > 0 && stop.Sub(start) > ds.MaxRequest {
		h.fail(w, r, 1408, "maxRequestDuration "+isoDuration(ds.MaxRequest))
		return
	}
	if start.Before(ds.Start) || (!ds.Stop.IsZero() && stop.After(ds.Stop)) {
		h.fail(w, r, 1405, "startDate "+formatDate(ds.Start)+", stopDate "+formatDate(h.stopOf(ds)))
		return
	}
	out := &rowSink{
		w: w, bw: bufio.NewWriterSize(w, 64<<10), rc: http.NewResponseController(w),
		format: format, header: include == "header" || format == "json",
		cols: cols, digits: digits, every: h.opt.FlushEvery, interval: h.opt.FlushInterval, flushed: time.Now(),
		start: ToDas(start), stop: ToDas(stop),
		info:  h.infoOf(ds, cols, nil, format),
		multi: len(ds.Others) > 0,
	}
	if r.Method == http.MethodHead {
		out.contentType()
		w.WriteHeader(http.StatusOK)
		return
	}
	err = h.cat.Stream(r.Context(), r, id, start, stop, out)
	if err == nil && out.exc != nil {
		err = fmt.Errorf("stream exception %s: %s", out.exc.Type, out.exc.Message)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || r.Context().Err() != nil {
			return
		}
		if !out.started {
			h.catalogError(w, r, err)
			return
		}
		// Spec 3.7.5: an error after the data began ends the stream abnormally.
		h.log.ErrorContext(r.Context(), "hapi: data stream failed", "dataset", id, "records", out.rows, "err", err)
		panic(http.ErrAbortHandler)
	}
	if err := out.flushPending(); err != nil {
		h.log.WarnContext(r.Context(), "hapi: data write", "dataset", id, "err", err)
		return
	}
	if err := out.finish(); err != nil {
		h.log.WarnContext(r.Context(), "hapi: data write", "dataset", id, "err", err)
		return
	}
	if out.dropped > 0 {
		h.log.InfoContext(r.Context(), "hapi: records dropped (out of order or repeated at the time precision)", "dataset", id, "dropped", out.dropped)
	}
}

// source says where a column's values come from in one incoming das dataset.
type source struct {
	v *das.Variable // nil: the dataset lacks the column (fill is written)
}

// rowSink is a das.Sink writing HAPI rows as records arrive: the response header
// (and the info header when asked) is written with the first row, or at the end
// with status 1201 when no row came.
type rowSink struct {
	w      http.ResponseWriter
	bw     *bufio.Writer
	rc     *http.ResponseController
	format string
	header bool
	info   *infoObject
	cols   []*column
	digits int
	every  int
	// interval bounds the time between flushes (checked as rows are written).
	interval time.Duration
	flushed  time.Time
	start    dastime.Time
	stop     dastime.Time
	started  bool
	last     dastime.Time
	rows     int
	dropped  int
	exc      *das.Exception
	// Per incoming das dataset ID: its time variable and a source per column.
	tv   [das.MaxID + 1]*das.Variable
	srcs [das.MaxID + 1][]source
	buf  []byte
	// multi: records of several packet IDs are joined by time: the records of one
	// instant are held (copies in hold, by ID) until a later one comes, then written as
	// one row. Set when the dataset declares other headers or a second ID arrives.
	multi   bool
	ids     int
	pending []*das.Record
	pendT   dastime.Time
	hold    [das.MaxID + 1]*das.Record
	one     [1]*das.Record
}

func (s *rowSink) contentType() {
	switch s.format {
	case "binary":
		s.w.Header().Set("Content-Type", "application/octet-stream")
	case "json":
		s.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	default:
		s.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	}
}

// begin writes the HTTP header and, when asked, the info header with code.
func (s *rowSink) begin(code int) error {
	s.started = true
	s.contentType()
	s.w.WriteHeader(http.StatusOK)
	if !s.header {
		return nil
	}
	st := ok(code)
	s.info.HAPI, s.info.Status = Version, &st
	if s.format == "json" {
		b, err := json.MarshalIndent(s.info, "", "  ")
		if err != nil {
			return fmt.Errorf("hapi: info header: %w", err)
		}
		b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}"))
		b = append(bytes.TrimRight(b, " \n"), ",\n  \"data\": [\n"...)
		_, err = s.bw.Write(b)
		return err
	}
	b, err := json.MarshalIndent(s.info, "", "  ")
	if err != nil {
		return fmt.Errorf("hapi: info header: %w", err)
	}
	for line := range bytes.Lines(b) {
		if err := s.bw.WriteByte('#'); err != nil {
			return err
		}
		if _, err := s.bw.Write(line); err != nil {
			return err
		}
	}
	return s.bw.WriteByte('\n')
}

// finish ends the answer: the 1201 header when no row came, the JSON tail.
func (s *rowSink) finish() error {
	if !s.started {
		if err := s.begin(1201); err != nil {
			return err
		}
	}
	if s.format == "json" {
		if s.rows > 0 {
			if err := s.bw.WriteByte('\n'); err != nil {
				return err
			}
		}
		if _, err := s.bw.WriteString("  ]\n}\n"); err != nil {
			return err
		}
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// Stream implements das.Sink.
func (s *rowSink) Stream(*das.Stream) error { return nil }

// Comment implements das.Sink.
func (s *rowSink) Comment(*das.Comment) error { return nil }

// Close implements das.Sink; the handler finishes the answer itself.
func (s *rowSink) Close() error { return nil }

// Exception keeps an error exception; no-data exceptions just mean no rows.
func (s *rowSink) Exception(e *das.Exception) error {
	switch e.Type {
	case das.NoDataInInterval, das.NoMatchingData:
		return nil
	}
	if s.exc == nil {
		c := *e
		s.exc = &c
	}
	return nil
}

// Dataset maps the columns onto an incoming dataset by parameter name.
func (s *rowSink) Dataset(ds *das.Dataset) error {
	if ds.ID < 0 || ds.ID > das.MaxID {
		return fmt.Errorf("hapi: dataset ID %d outside 0..%d", ds.ID, das.MaxID)
	}
	for _, p := range s.pending {
		if p.DS.ID == ds.ID { // redefined while a record of it is held
			if err := s.flushPending(); err != nil {
				return err
			}
			break
		}
	}
	if s.tv[ds.ID] == nil {
		s.ids++
		s.multi = s.multi || s.ids > 1
	}
	s.tv[ds.ID] = ds.TimeVar()
	byName := map[string]*column{}
	for _, c := range columns(ds, 9)[1:] {
		byName[c.Name] = c
	}
	srcs := make([]source, len(s.cols))
	for i, c := range s.cols[1:] {
		if in, found := byName[c.Name]; found && in.n == c.n && (in.Type == typeTime) == (c.Type == typeTime) {
			srcs[i+1].v = in.v
		}
	}
	s.srcs[ds.ID] = srcs
	return nil
}

// Record writes one row for a record inside [start, stop) later than the last.
func (s *rowSink) Record(r *das.Record) error {
	id := r.DS.ID
	if id < 0 || id > das.MaxID || s.tv[id] == nil {
		s.dropped++
		return nil
	}
	t, good := r.Time(s.tv[id], 0)
	if !good || t < s.start || t >= s.stop {
		return nil
	}
	t = t.Floor(s.digits)
	if s.multi {
		return s.join(r, t)
	}
	if s.rows > 0 && t <= s.last {
		s.dropped++
		return nil
	}
	s.one[0] = r
	return s.writeRow(s.one[:], t)
}

// join holds r with the other records of its instant t, writing the held row when t is
// later.
func (s *rowSink) join(r *das.Record, t dastime.Time) error {
	id := r.DS.ID
	if len(s.pending) > 0 && t == s.pendT {
		for _, p := range s.pending {
			if p.DS.ID == id {
				s.dropped++
				return nil
			}
		}
	} else {
		if len(s.pending) > 0 && t < s.pendT || len(s.pending) == 0 && s.rows > 0 && t <= s.last {
			s.dropped++
			return nil
		}
		if err := s.flushPending(); err != nil {
			return err
		}
		s.pendT = t
	}
	h := s.hold[id]
	if h == nil {
		h = &das.Record{}
		s.hold[id] = h
	}
	h.Reset(r.DS)
	copy(h.Floats, r.Floats)
	copy(h.Ints, r.Ints)
	s.pending = append(s.pending, h)
	return nil
}

// flushPending writes the held row, if any.
func (s *rowSink) flushPending() error {
	if len(s.pending) == 0 {
		return nil
	}
	err := s.writeRow(s.pending, s.pendT)
	s.pending = s.pending[:0]
	return err
}

// writeRow writes one row at t of the records recs (one per packet ID): each column
// from the first record whose packet has it, fill where none has.
func (s *rowSink) writeRow(recs []*das.Record, t dastime.Time) error {
	if !s.started {
		if err := s.begin(1200); err != nil {
			return err
		}
	}
	s.last = t
	b := s.buf[:0]
	switch s.format {
	case "binary":
		b = s.appendBinary(b, recs, t)
	case "json":
		b = s.appendJSON(b, recs, t)
	default:
		b = s.appendCSV(b, recs, t)
	}
	s.buf = b
	if _, err := s.bw.Write(b); err != nil {
		return err
	}
	s.rows++
	if s.rows%s.every == 0 || time.Since(s.flushed) >= s.interval {
		s.flushed = time.Now()
		if err := s.bw.Flush(); err != nil {
			return err
		}
		if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
	}
	return nil
}

// double returns item i of column c (fill when absent or das fill).
func double(c *column, v *das.Variable, r *das.Record, i int) float64 {
	if v == nil {
		return c.fill
	}
	x := r.Float(v, i)
	if c.hasFl && das.IsFill(x, v.FillVal) {
		return c.fill
	}
	return x
}

func integer(c *column, v *das.Variable, r *das.Record, i int) int32 {
	if v == nil {
		return c.fillI
	}
	if !v.IsInt() {
		return int32(r.Float(v, i))
	}
	return int32(r.Ints[v.Slot+i])
}

func appendTimeItem(b []byte, v *das.Variable, r *das.Record, i int) []byte {
	if v != nil {
		if t, good := r.Time(v, i); good {
			return appendTime(b, t, 9)
		}
	}
	return append(b, timeFill...)
}

// pick returns column ci's variable and the record of recs it comes from (a nil
// variable: no packet of the row has the column).
func (s *rowSink) pick(recs []*das.Record, ci int) (*das.Variable, *das.Record) {
	for _, r := range recs {
		if v := s.srcs[r.DS.ID][ci].v; v != nil {
			return v, r
		}
	}
	return nil, recs[0]
}

func (s *rowSink) appendCSV(b []byte, recs []*das.Record, t dastime.Time) []byte {
	b = appendTime(b, t, s.digits)
	for ci, c := range s.cols[1:] {
		v, r := s.pick(recs, ci+1)
		for i := range c.n {
			b = append(b, ',')
			switch c.Type {
			case typeTime:
				b = appendTimeItem(b, v, r, i)
			case typeInteger:
				b = strconv.AppendInt(b, int64(integer(c, v, r, i)), 10)
			default:
				b = appendFloat(b, double(c, v, r, i), bitsOf(v))
			}
		}
	}
	return append(b, '\n')
}

// bitsOf is the float size whose shortest form prints v's values: 32 for
// 4-byte reals (12.34 stays 12.34, not 12.34000015258789), else 64.
func bitsOf(v *das.Variable) int {
	if v != nil && v.Enc.Kind == das.EncReal && v.Enc.Size == 4 {
		return 32
	}
	return 64
}

// appendFloat writes x in full precision: the shortest text that reads back as x
// (as a float32 when bits is 32 and x is one, as a float64 otherwise).
func appendFloat(b []byte, x float64, bits int) []byte {
	if math.IsNaN(x) {
		return append(b, "NaN"...)
	}
	if bits != 32 || float64(float32(x)) != x {
		bits = 64
	}
	return strconv.AppendFloat(b, x, 'g', -1, bits)
}

func (s *rowSink) appendBinary(b []byte, recs []*das.Record, t dastime.Time) []byte {
	b = appendTime(b, t, s.digits)
	for ci, c := range s.cols[1:] {
		v, r := s.pick(recs, ci+1)
		for i := range c.n {
			switch c.Type {
			case typeTime:
				b = appendTimeItem(b, v, r, i)
			case typeInteger:
				b = binary.LittleEndian.AppendUint32(b, uint32(integer(c, v, r, i)))
			default:
				x := double(c, v, r, i)
				if math.IsNaN(x) {
					x = math.NaN() // the quiet NaN (spec 3.6.9)
				}
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
			}
		}
	}
	return b
}

func (s *rowSink) appendJSON(b []byte, recs []*das.Record, t dastime.Time) []byte {
	if s.rows > 0 {
		b = append(b, ",\n"...)
	}
	b = append(b, `    ["`...)
	b = appendTime(b, t, s.digits)
	b = append(b, '"')
	for ci, c := range s.cols[1:] {
		v, r := s.pick(recs, ci+1)
		b = append(b, ',')
		inner := c.n
		if len(c.Size) > 1 {
			b = append(b, '[')
			inner = c.Size[len(c.Size)-1]
		}
		for i := range c.n {
			switch {
			case c.Size != nil && i%inner == 0:
				if i > 0 {
					b = append(b, "],"...)
				}
				b = append(b, '[')
			case i > 0:
				b = append(b, ',')
			}
			switch c.Type {
			case typeTime:
				b = append(b, '"')
				b = appendTimeItem(b, v, r, i)
				b = append(b, '"')
			case typeInteger:
				b = strconv.AppendInt(b, int64(integer(c, v, r, i)), 10)
			default:
				x := double(c, v, r, i)
				if math.IsNaN(x) || math.IsInf(x, 0) {
					b = append(b, "null"...)
				} else {
					b = appendFloat(b, x, bitsOf(v))
				}
			}
		}
		if c.Size != nil {
			b = append(b, ']')
		}
		if len(c.Size) > 1 {
			b = append(b, ']')
		}
	}
	return append(b, ']')
}
