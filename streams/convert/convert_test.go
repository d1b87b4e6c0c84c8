package convert_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

var samples = []string{
	"d22_scalar_text.d2t", "d22_scalar_le.d2s", "d22_scalar_be.d2s", "d22_spectrogram_text.d2t",
	"d22_spectrogram_le.d2s", "d22_time_encodings.d2s", "d22_nodata.d2t", "d22_error.d2t",
	"d3_scalar_text.d3t", "d3_scalar_us2000.d3b", "d3_scalar_tt2000.d3b", "d3_spectrogram_text.d3t",
	"d3_spectrogram_bin.d3b", "d3_nodata.d3t", "d3_error.d3t",
}

func conv(t *testing.T, in []byte, o convert.Options) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := convert.Convert(t.Context(), bytes.NewReader(in), &out, o); err != nil {
		t.Fatalf("convert to %s: %v", o.Format, err)
	}
	return out.Bytes()
}

func records(t *testing.T, in []byte) []string {
	t.Helper()
	var l dastest.Log
	if _, err := convert.Decode(t.Context(), bytes.NewReader(in), &l, nil); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return l.Records()
}

// TestCrossFormat converts every sample to das2 and das3 (binary and text) and
// checks that the values survive and that a second conversion is byte-identical.
func TestCrossFormat(t *testing.T) {
	for _, s := range samples {
		for _, o := range []convert.Options{
			{Format: convert.Das2}, {Format: convert.Das3},
			{Format: convert.Das2, Text: true, SigDigits: 9}, {Format: convert.Das3, Text: true, SigDigits: 9},
		} {
			t.Run(fmt.Sprintf("%s/%s/text=%v", s, o.Format, o.Text), func(t *testing.T) {
				in := dastest.ReadGolden(t, s)
				out := conv(t, in, o)
				want := records(t, in)
				got := records(t, out)
				if len(got) != len(want) {
					t.Fatalf("%d records, want %d", len(got), len(want))
				}
				if !o.Text {
					for i := range want {
						// das2.2 has no 4-byte integer times: TT2000 becomes us2000, same instant.
						if got[i] != want[i] {
							t.Errorf("record %d: %s, want %s", i, got[i], want[i])
						}
					}
				}
				again := conv(t, out, o)
				dastest.Equal(t, "second conversion", out, again)
			})
		}
	}
}

// TestCSVGolden writes every sample as CSV and compares with testdata/csv.
func TestCSVGolden(t *testing.T) {
	for _, s := range samples {
		t.Run(s, func(t *testing.T) {
			out := conv(t, dastest.ReadGolden(t, s), convert.Options{Format: convert.CSV})
			dastest.Golden(t, "csv/"+strings.TrimSuffix(s, s[strings.LastIndexByte(s, '.'):])+".csv", out)
		})
	}
}

func TestCSVOptions(t *testing.T) {
	in := dastest.ReadGolden(t, "d22_scalar_le.d2s")
	cases := []struct {
		o    convert.Options
		want string
	}{
		{convert.Options{Format: convert.CSV, NoHeaders: true}, "2024-01-01T00:00:00.000,1.2340000e+01\r\n"},
		{convert.Options{Format: convert.CSV, NoHeaders: true, Delim: ';', TimeFrac: 6, SigDigits: 3}, "2024-01-01T00:00:00.000000;1.23e+01\r\n"},
		{convert.Options{Format: convert.CSV, Delim: '\t', TimeFrac: -1}, "time (UTC)\tbmag (nT)\r\n2024-01-01T00:00:00\t1.2340000e+01\r\n"},
	}
	for _, c := range cases {
		got := string(conv(t, in, c.o))
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: got %q, want prefix %q", c.o, got[:min(len(got), 80)], c.want)
		}
	}
}

func TestSpectrogramCSVHeader(t *testing.T) {
	got := string(conv(t, dastest.ReadGolden(t, "d3_spectrogram_bin.d3b"), convert.Options{Format: convert.CSV}))
	want := "time (UTC),spec 12.5 Hz (V**2 m**-2 Hz**-1),spec 25 Hz (V**2 m**-2 Hz**-1),spec 37.5 Hz (V**2 m**-2 Hz**-1),spec 50 Hz (V**2 m**-2 Hz**-1)\r\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("header %q, want %q", strings.SplitAfter(got, "\n")[0], want)
	}
}

func TestSniffRejects(t *testing.T) {
	var out bytes.Buffer
	for _, in := range []string{"", "hello", "{json}"} {
		if err := convert.Convert(t.Context(), strings.NewReader(in), &out, convert.Options{Format: convert.Das2}); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if _, err := convert.ParseFormat("xml"); err == nil {
		t.Error("ParseFormat accepted xml")
	}
}
