package das_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

func TestAppendText(t *testing.T) {
	cases := []struct {
		v     float64
		width int
		f     das.TextFormat
		sep   byte
		want  string
		ok    bool
	}{
		{12.34, 10, das.TextFormat{Conv: 'e', Digits: 3}, '\n', "1.234e+01\n", true},
		{1.2e-10, 10, das.TextFormat{Conv: 'e', Digits: 2}, ' ', " 1.20e-10 ", true},
		{-12.34, 10, das.DefaultTextFormat, ' ', "-1.23e+01 ", true},
		{-12.34, 10, das.TextFormat{Conv: 'e', Digits: 5}, ' ', "-1.23e+01 ", true}, // precision lowered to fit
		{3.5, 6, das.TextFormat{Conv: 'f', Digits: 1}, ' ', "  3.5 ", true},
		{-1e300, 4, das.DefaultTextFormat, ' ', "", false},
	}
	for _, c := range cases {
		got, ok := das.AppendText(nil, c.v, c.width, c.f, c.sep)
		if string(got) != c.want || ok != c.ok {
			t.Errorf("AppendText(%v, %d, %+v) = %q, %v; want %q, %v", c.v, c.width, c.f, got, ok, c.want, c.ok)
		}
	}
}

func TestTimeText(t *testing.T) {
	tm := dastime.Date(2024, 1, 1, 0, 1, 0, 123456789)
	cases := []struct {
		width int
		f     das.TextFormat
		want  string
	}{
		{24, das.TextFormat{}, "2024-01-01T00:01:00.123 "},
		{31, das.TextFormat{}, "2024-01-01T00:01:00.123456789  "},
		{22, das.TextFormat{DOY: true}, "2024-001T00:01:00.123 "},
		{20, das.TextFormat{}, "2024-01-01T00:01:00 "},
		{17, das.TextFormat{}, "2024-01-01T00:01 "},
		{30, das.TextFormat{TimeLen: 23}, "2024-01-01T00:01:00.123       "},
	}
	for _, c := range cases {
		got := string(das.AppendTimeText(nil, tm, c.width, c.f, ' '))
		if got != c.want || len(got) != c.width {
			t.Errorf("width %d %+v: %q, want %q", c.width, c.f, got, c.want)
		}
		if _, err := dastime.Parse(das.TrimField([]byte(got))); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
		inf := das.InferTimeFormat(das.TrimField([]byte(got)))
		if inf.DOY != c.f.DOY || inf.TimeLen != len(das.TrimField([]byte(got))) {
			t.Errorf("InferTimeFormat(%q) = %+v", got, inf)
		}
	}
}

func TestInferTextFormat(t *testing.T) {
	cases := map[string]das.TextFormat{
		"1.234e+01": {Conv: 'e', Digits: 3},
		"-1.20E-10": {Conv: 'e', Digits: 2},
		"12.50":     {Conv: 'f', Digits: 2},
		"7":         {Conv: 'f', Digits: 0},
		"NaN":       das.DefaultTextFormat,
	}
	for in, want := range cases {
		if got := das.InferTextFormat([]byte(in)); got != want {
			t.Errorf("InferTextFormat(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestIsFill(t *testing.T) {
	cases := []struct {
		v, fill float64
		want    bool
	}{
		{-1e31, -1e31, true}, {-1.000001e31, -1e31, true}, {-1.1e31, -1e31, false}, {0, 0, true},
		{1e-300, 0, false}, {math.NaN(), math.NaN(), true}, {1, math.NaN(), false},
	}
	for _, c := range cases {
		if got := das.IsFill(c.v, c.fill); got != c.want {
			t.Errorf("IsFill(%v, %v) = %v", c.v, c.fill, got)
		}
	}
}

func TestDas2Properties(t *testing.T) {
	cases := []struct{ prefix, name, value, attr string }{
		{"Datum", "xTagWidth", "120 s", "Datum:xTagWidth=120 s"},
		{"DatumRange", "xCacheRange", "2024-01-01T00:00 to 2024-01-01T00:05 UTC", "DatumRange:xCacheRange=2024-01-01T00:00 to 2024-01-01T00:05 UTC"},
		{"DatumRange", "yRange", "10 to 1e4 Hz", "DatumRange:yRange=10 to 1e4 Hz"},
		{"", "description", "x", "description=x"},
		{"double", "yFill", "-1.0e+31", "double:yFill=-1.0e+31"},
	}
	for _, c := range cases {
		p, known := das.ParseDas2Property(c.prefix, c.name, c.value)
		n, v := p.Das2Attr()
		if !known || n+"="+v != c.attr {
			t.Errorf("%s:%s=%q round trip: %s=%s (known %v)", c.prefix, c.name, c.value, n, v, known)
		}
	}
	if _, known := das.ParseDas2Property("float", "a", "1"); known {
		t.Error("float: is not a das2.2 property type")
	}
	ps := das.Properties{{Name: "xTagWidth", Type: "real", Units: "min", Value: "2"}}
	if s, ok := ps.Seconds("xTagWidth"); !ok || s != 120 {
		t.Errorf("Seconds = %v, %v", s, ok)
	}
	if got := das.FormatSeconds(60); got != "1 minute" {
		t.Errorf("FormatSeconds(60) = %q", got)
	}
}

// TestTimeFieldWidths: a time field shows what das2C's default format for its
// width shows (encoding.c): seconds rounded to the digits shown, ties to even;
// a field too short for the seconds cuts the time (issue 12, finding 6).
func TestTimeFieldWidths(t *testing.T) {
	tm := dastime.Date(2024, 1, 1, 0, 1, 59, 750000000)
	cases := []struct {
		width int
		want  string
	}{
		{22, "2024-01-01T00:01:59.8 "},   // time22: %04.1f
		{21, "2024-01-01T00:02:00  "},    // time21: %02.0f, carried into the minute
		{18, "2024-01-01T00:01  "},       // time18: the minute, cut
		{15, "2024-01-01T00  "},          // time15: the hour, cut
		{24, "2024-01-01T00:01:59.750 "}, // time24
	}
	for _, c := range cases {
		if got := string(das.AppendTimeText(nil, tm, c.width, das.TextFormat{}, ' ')); got != c.want {
			t.Errorf("width %d: %q, want %q", c.width, got, c.want)
		}
	}
	tie := dastime.Date(2024, 1, 1, 0, 1, 45, 250000000)
	if got := string(das.AppendTimeText(nil, tie, 22, das.TextFormat{}, ' ')); got != "2024-01-01T00:01:45.2 " {
		t.Errorf("time22 of 00:01:45.25: %q, want das2C's 00:01:45.2", got)
	}
}

// TestVarItems decodes variable-length text items (spec 4.6, issue 12 finding 8)
// as das2C does: whitespace-separated, or ended by valTerm with empty items fill.
func TestVarItems(t *testing.T) {
	mk := func(term byte) (*das.Dataset, []*das.Variable) {
		tv := &das.Variable{Semantic: "datetime", Units: "UTC", Items: 1, Enc: das.Encoding{Kind: das.EncText, Var: true}}
		vv := &das.Variable{Semantic: "real", Units: "V/m", Items: 3, Components: 3, FillVal: -1e31, Enc: das.Encoding{Kind: das.EncText, Var: true, Term: term}}
		gv := &das.Variable{Semantic: "real", Items: 1, Enc: das.Encoding{Kind: das.EncText, Size: 5}}
		ds := &das.Dataset{ID: 1, Rank: 1, Shape: []int{-1}, Dims: []*das.Dim{
			{Kind: das.Coord, Vars: []*das.Variable{tv}}, {Kind: das.Data, Vars: []*das.Variable{vv}}, {Kind: das.Data, Vars: []*das.Variable{gv}}}}
		if err := ds.Layout(); err != nil {
			t.Fatal(err)
		}
		return ds, ds.PacketVars()
	}
	cases := []struct {
		term byte
		in   string
		want []float64 // vector, then gain
		err  bool
	}{
		{0, "2024-01-01T00:00:00.000 -15.43  -2.776 -0.9903    0\n", []float64{-15.43, -2.776, -0.9903, 0}, false},
		{0, "  2024-01-01T00:00:00 1 2 3   20\n", []float64{1, 2, 3, 20}, false},
		{';', "2024-01-01T00:00:00.000 -15.34 ;  ; -0.9616 ;  20\n", []float64{-15.34, -1e31, -0.9616, 20}, false},
		{';', "2024-01-01T00:00:00.000 1;2;3;   4\n", []float64{1, 2, 3, 4}, false},
		{0, "2024-01-01T00:00:00.000 1 2", nil, true},
		{';', "2024-01-01T00:00:00.000 1;2;3;", nil, true}, // the fixed field is missing
	}
	for _, c := range cases {
		ds, vars := mk(c.term)
		var rec das.Record
		rec.Reset(ds)
		n, err := das.DecodeRecord([]byte(c.in), vars, &rec, true)
		if (err != nil) != c.err {
			t.Errorf("%q: error %v, want error %v", c.in, err, c.err)
			continue
		}
		if c.err {
			continue
		}
		if n != len(c.in) {
			t.Errorf("%q: used %d of %d bytes", c.in, n, len(c.in))
		}
		got := append([]float64(nil), rec.Floats...)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
		}
		// Written again: whitespace-separated shortest forms that read back the same.
		out, err := das.AppendRecord(nil, das.FieldsOf(vars), &rec)
		if err != nil {
			t.Fatal(err)
		}
		var again das.Record
		again.Reset(ds)
		if _, err := das.DecodeRecord(out, vars, &again, false); err != nil || fmt.Sprint(again.Floats) != fmt.Sprint(c.want) {
			t.Errorf("%q written as %q reads %v (%v)", c.in, out, again.Floats, err)
		}
	}
}

func TestIdentifier(t *testing.T) {
	used := map[string]bool{}
	cases := []struct {
		name, fallback string
		dots           bool
		want           string
	}{
		{"bmag", "x", false, "bmag"},
		{"bmag", "x", false, "bmag_2"},
		{"", "time", false, "time"},
		{"E-field (V/m)", "x", false, "E_field__V_m"},
		{"bmag.min", "x", true, "bmag.min"},
		{"bmag.min", "x", false, "bmag_min"},
		{"1st", "x", false, "v1st"},
		{"", "", false, "v"},
	}
	for _, c := range cases {
		if got := das.Identifier(c.name, c.fallback, c.dots, used); got != c.want {
			t.Errorf("Identifier(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestOutIDs: IDs are kept, never redefined while one is free, and found by key.
func TestOutIDs(t *testing.T) {
	var o das.OutIDs
	take := func(want int, key string) int {
		t.Helper()
		id, err := o.Take(want, key)
		if err != nil {
			t.Fatal(err)
		}
		o.Hold(id)
		return id
	}
	if id := take(3, "a"); id != 3 {
		t.Errorf("first ID %d, want 3", id)
	}
	if id, ok := o.Find("a"); !ok || id != 3 {
		t.Errorf("Find(a) = %d, %v", id, ok)
	}
	if id := take(3, "b"); id != 1 {
		t.Errorf("a redefinition of 3 got %d, want the free 1", id)
	}
	for i := 2; i <= das.MaxID; i++ {
		if i != 3 {
			take(i, fmt.Sprint(i))
		}
	}
	if _, err := o.Take(5, "c"); err == nil {
		t.Error("all 99 IDs in use: Take should fail")
	}
	o.Release(5)
	if id := take(7, "c"); id != 5 {
		t.Errorf("with every ID used, got %d, want the released 5", id)
	}
}
