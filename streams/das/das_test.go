package das_test

import (
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
