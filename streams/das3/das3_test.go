package das3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das3"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

var scalarLines = []string{
	"1;2024-01-01T00:00:00.000;1.2340000e+01",
	"1;2024-01-01T00:01:00.000;1.2500000e+01",
	"1;2024-01-01T00:02:00.000;1.2610000e+01",
	"1;2024-01-01T00:03:00.000;1.2700000e+01",
	"1;2024-01-01T00:04:00.000;1.2660000e+01",
}

var specLines = []string{
	"1;2024-01-01T00:00:00.000;1.2000000e-10;2.3999999e-10;3.6000000e-10;4.7999998e-10",
	"1;2024-01-01T00:01:00.000;2.3999999e-10;4.7999998e-10;7.2000000e-10;9.5999997e-10",
	"1;2024-01-01T00:02:00.000;3.6000000e-10;7.2000000e-10;1.0800000e-09;1.4400000e-09",
	"1;2024-01-01T00:03:00.000;4.7999998e-10;9.5999997e-10;1.4400000e-09;1.9199999e-09",
	"1;2024-01-01T00:04:00.000;5.9999999e-10;1.2000000e-09;1.8000000e-09;2.4000000e-09",
}

var goldens = []struct {
	file    string
	records []string
	other   []string // non-record lines that must appear
}{
	{"d3_scalar_text.d3t", scalarLines, []string{"comment taskSize 5", "comment taskProgress 3"}},
	{"d3_scalar_us2000.d3b", scalarLines, nil},
	{"d3_scalar_tt2000.d3b", scalarLines, nil},
	{"d3_spectrogram_text.d3t", specLines, nil},
	{"d3_spectrogram_bin.d3b", specLines, nil},
	{"d3_nodata.d3t", nil, []string{"exception NoMatchingData No data between 2024-01-01 and 2024-01-02"}},
	{"d3_error.d3t", nil, []string{"exception ServerError reader exited with status 3"}},
}

func decode(t *testing.T, b []byte, opt das3.ReaderOptions) *dastest.Log {
	t.Helper()
	var l dastest.Log
	if err := das3.Decode(t.Context(), bytes.NewReader(b), &l, opt); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &l
}

// TestGoldenDecode checks the values listed in testdata/golden/README.md.
func TestGoldenDecode(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			var vs []das.Violation
			l := decode(t, dastest.ReadGolden(t, g.file), das3.ReaderOptions{Check: func(v das.Violation) { vs = append(vs, v) }})
			got := l.Records()
			if strings.Join(got, "\n") != strings.Join(g.records, "\n") {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(g.records, "\n"))
			}
			for _, o := range g.other {
				if !contains(l.Lines, o) {
					t.Errorf("missing event %q in %q", o, l.Lines)
				}
			}
			if len(vs) > 0 {
				t.Errorf("violations in a valid sample: %v", vs)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// copySink forwards every event to a writer (convert das2 -> das2).
func rewrite(t *testing.T, in []byte, opt das3.WriterOptions, strip bool) []byte {
	t.Helper()
	var out bytes.Buffer
	w := das3.NewWriter(&out, opt)
	var sink das.Sink = w
	if strip {
		sink = &stripRaw{Sink: w}
	}
	if err := das3.Decode(t.Context(), bytes.NewReader(in), sink, das3.ReaderOptions{}); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// stripRaw drops the verbatim headers so the writer must regenerate them.
type stripRaw struct {
	das.Sink
	ids map[int]*das.Dataset
}

func (s *stripRaw) Stream(st *das.Stream) error {
	c := *st
	c.Raw, c.RawFormat = nil, das.FormatNone
	return s.Sink.Stream(&c)
}

func (s *stripRaw) Dataset(ds *das.Dataset) error {
	if s.ids == nil {
		s.ids = map[int]*das.Dataset{}
	}
	c := ds.Clone()
	s.ids[ds.ID] = c
	return s.Sink.Dataset(c)
}

func (s *stripRaw) Record(r *das.Record) error {
	rr := *r
	rr.DS = s.ids[r.DS.ID]
	// Readers learn text formats from the first record; carry them to the clone.
	for i, v := range r.DS.PacketVars() {
		rr.DS.PacketVars()[i].Text = v.Text
	}
	return s.Sink.Record(&rr)
}

func (s *stripRaw) Comment(c *das.Comment) error {
	cc := *c
	cc.Raw = nil
	return s.Sink.Comment(&cc)
}

func (s *stripRaw) Exception(e *das.Exception) error {
	ee := *e
	ee.Raw = nil
	return s.Sink.Exception(&ee)
}

// TestGoldenRewrite: decoding a sample and writing it again gives the same bytes.
func TestGoldenRewrite(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			in := dastest.ReadGolden(t, g.file)
			dastest.Equal(t, g.file, in, rewrite(t, in, das3.WriterOptions{}, false))
		})
	}
}

// TestRegenerated: with headers regenerated from the model, write -> read -> write
// is byte-identical and the values survive.
func TestRegenerated(t *testing.T) {
	for _, g := range goldens {
		for _, text := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/text=%v", g.file, text), func(t *testing.T) {
				opt := das3.WriterOptions{Text: text, SigDigits: 8}
				first := rewrite(t, dastest.ReadGolden(t, g.file), opt, true)
				second := rewrite(t, first, opt, true)
				dastest.Equal(t, "second write", first, second)
				if !text || strings.HasSuffix(g.file, ".d3t") {
					// The canonical das3 header is the samples' layout: regenerated
					// headers reproduce the files exactly.
					dastest.Equal(t, g.file, dastest.ReadGolden(t, g.file), first)
				}
				l := decode(t, first, das3.ReaderOptions{})
				if len(l.Records()) != len(g.records) {
					t.Fatalf("%d records, want %d", len(l.Records()), len(g.records))
				}
				if !text {
					if strings.Join(l.Records(), "\n") != strings.Join(g.records, "\n") {
						t.Errorf("records:\n%s", strings.Join(l.Records(), "\n"))
					}
				}
			})
		}
	}
}

// TestGeneratedError: the error body of spec 2.6 is produced from the model alone.
func TestGeneratedError(t *testing.T) {
	var b bytes.Buffer
	if err := das3.WriteError(&b, das.ServerError, "reader exited with status 3"); err != nil {
		t.Fatal(err)
	}
	dastest.Equal(t, "d3_error.d3t", dastest.ReadGolden(t, "d3_error.d3t"), b.Bytes())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tag(t, id, payload string) string {
	return fmt.Sprintf("|%s|%s|%d|%s", t, id, len(payload), payload)
}

// TestSameInputs builds the binary samples from a model (no header text at all)
// and the values, the inputs of gen_samples.py, and compares the bytes.
func TestSameInputs(t *testing.T) {
	bmag := []float64{12.34, 12.5, 12.61, 12.7, 12.66}
	for _, c := range []struct {
		file, kind string
		enc        das.Encoding
		units      string
	}{
		{"d3_scalar_us2000.d3b", "us2000", das.Encoding{Kind: das.EncReal, Size: 8}, "us2000"},
		{"d3_scalar_tt2000.d3b", "tt2000", das.Encoding{Kind: das.EncInt, Size: 8}, "TT2000"},
	} {
		t.Run(c.file, func(t *testing.T) {
			storage := "double"
			if c.enc.Kind == das.EncInt {
				storage = "long"
			}
			tv := &das.Variable{Use: "center", Semantic: "datetime", Storage: storage, Index: "*", Units: c.units, Items: 1, Enc: c.enc}
			bv := &das.Variable{Use: "center", Semantic: "real", Storage: "float", Index: "*", Units: "nT", Items: 1,
				Enc: das.Encoding{Kind: das.EncReal, Size: 4}, Fill: "-1.0e+31", FillVal: -1e31}
			ds := &das.Dataset{ID: 1, Name: "bmag", Rank: 1, Shape: []int{-1}, Dims: []*das.Dim{
				{Kind: das.Coord, PhysDim: "time", Name: "time", Axis: "x", Vars: []*das.Variable{tv}},
				{Kind: das.Data, PhysDim: "magnetic_field", Name: "bmag", Vars: []*das.Variable{bv}},
			}}
			must(t, ds.Layout())
			var out bytes.Buffer
			w := das3.NewWriter(&out, das3.WriterOptions{})
			must(t, w.Stream(&das.Stream{Version: "3.0", Props: das.Properties{{Name: "title", Value: "Example |B| (das3 binary, " + c.kind + ")"}}}))
			must(t, w.Dataset(ds))
			var rec das.Record
			rec.Reset(ds)
			for i, v := range bmag {
				rec.SetTime(tv, 0, dastime.Date(2024, 1, 1, 0, i, 0, 0))
				rec.Floats[bv.Slot] = v
				must(t, w.Record(&rec))
			}
			must(t, w.Close())
			dastest.Equal(t, c.file, dastest.ReadGolden(t, c.file), out.Bytes())
		})
	}
}

// TestNoData builds the no-data body from a model.
func TestNoData(t *testing.T) {
	var out bytes.Buffer
	w := das3.NewWriter(&out, das3.WriterOptions{})
	must(t, w.Stream(&das.Stream{Props: das.Properties{{Name: "title", Value: "No data example"}}}))
	must(t, w.Exception(&das.Exception{Type: das.NoDataInInterval, Message: "No data between 2024-01-01 and 2024-01-02"}))
	must(t, w.Close())
	dastest.Equal(t, "d3_nodata.d3t", dastest.ReadGolden(t, "d3_nodata.d3t"), out.Bytes())
}

func TestDecodeErrors(t *testing.T) {
	good := string(dastest.ReadGolden(t, "d3_scalar_us2000.d3b"))
	sx := tag("Sx", "", "<stream type=\"das-basic-stream\" version=\"3.0\"/>")
	cases := []struct {
		name, in, rule string
		off            int64
	}{
		{"empty", "", "7.5 empty stream", 0},
		{"das2 stream", "[00]000010<stream/>", "7.5 das2 tags", 0},
		{"Ex first", tag("Ex", "", "<exception type=\"ServerError\">x</exception>"), "7.5 first packet", 0},
		{"bad length", "|Sx||1a|<stream/>", "4.1 packet length", 5},
		{"huge length", "|Sx||999999999|", "4.1 packet length", 5},
		{"truncated", good[:len(good)-3], "7.5 truncated packet", int64(len(good) - 21)},
		{"bad xml", tag("Sx", "", "<stream>"), "7.5 header XML", 7},
		{"data before header", sx + tag("Pd", "1", "abcd"), "7.5 data before header", int64(len(sx))},
		{"short Pd", good[:len(good)-21] + "|Pd|1|11|" + good[len(good)-12:len(good)-1], "7.5 data length", int64(len(good) - 21)},
		{"XX", sx + tag("XX", "1", "abc"), "4.1 extension packet", int64(len(sx))},
		{"newline between", good[:len(good)-21] + "\n" + good[len(good)-21:], "4.1 framing", int64(len(good) - 21)},
		{"unknown element", sx + tag("Hx", "1", "<dataset name=\"a\" rank=\"1\" index=\"*\"><foo/></dataset>"), "4.4 dataset children", int64(len(sx))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := das3.Decode(t.Context(), strings.NewReader(c.in), &dastest.Log{}, das3.ReaderOptions{})
			var fe *das.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *das.FormatError", err)
			}
			if fe.Rule != c.rule || fe.Offset != c.off {
				t.Errorf("got rule %q offset %d (%v), want %q at %d", fe.Rule, fe.Offset, err, c.rule, c.off)
			}
		})
	}
}

func TestDecodeCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := das3.Decode(ctx, bytes.NewReader(dastest.ReadGolden(t, "d22_scalar_le.d2s")), &dastest.Log{}, das3.ReaderOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestNoSixVariables: das2C aborts freeing a dataset of exactly six packet
// variables (das.CrashCodecs): the writer moves the last data dimension to a
// dataset of its own.
func TestNoSixVariables(t *testing.T) {
	in := tag("Sx", "", "<stream type=\"das-basic-stream\" version=\"3.0\"/>")
	hdr := `<dataset name="a" rank="1" index="*"><coord physDim="time" name="time" axis="x">` +
		`<scalar semantic="datetime" storage="double" index="*" units="us2000"><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar></coord>`
	var rec []byte
	rec = append(rec, 0, 0, 0x4a, 0xa7, 0xae, 0x86, 0x05, 0x43)
	for i := range 5 {
		hdr += fmt.Sprintf(`<data physDim="" name="d%d"><scalar semantic="integer" storage="byte" index="*" units=""><packet numItems="1" itemBytes="1" encoding="byte"/></scalar></data>`, i)
		rec = append(rec, byte(i+1))
	}
	in += tag("Hx", "1", hdr+"</dataset>") + tag("Pd", "1", string(rec))
	var vs []das.Violation
	decode(t, []byte(in), das3.ReaderOptions{Check: func(v das.Violation) { vs = append(vs, v) }})
	if len(vs) != 1 || vs[0].Rule != "das2C six variables" {
		t.Errorf("violations %v, want the six-variable one", vs)
	}
	out := rewrite(t, []byte(in), das3.WriterOptions{}, false)
	vs = nil
	l := decode(t, out, das3.ReaderOptions{Check: func(v das.Violation) { vs = append(vs, v) }})
	if len(l.Datasets) != 2 || len(vs) > 0 {
		t.Fatalf("%d datasets (want 2), violations %v:\n%s", len(l.Datasets), vs, out)
	}
	want := "1;2024-01-01T00:00:00.000;1.0000000e+00;2.0000000e+00;3.0000000e+00;4.0000000e+00\n2;2024-01-01T00:00:00.000;5.0000000e+00"
	if got := strings.Join(l.Records(), "\n"); got != want {
		t.Errorf("records:\n%s\nwant:\n%s", got, want)
	}
}
