package verify_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/verify"
)

func frame(id, xml string) string { return fmt.Sprintf("[%s]%06d%s", id, len(xml), xml) }

func tag(t, id, p string) string { return fmt.Sprintf("|%s|%s|%d|%s", t, id, len(p), p) }

// TestDsdfResponse: a stream whose header defines no dataset (the body of
// ?server=dsdf) is not a data response and needs neither data nor an exception
// (issue 12, finding 4).
func TestDsdfResponse(t *testing.T) {
	rep, err := verify.Stream(t.Context(), bytes.NewReader(dastest.ReadGolden(t, "d22_dsdf_response.d2t")))
	if err != nil || !rep.OK() {
		t.Errorf("%v %v", err, rep.Violations)
	}
}

func TestSamplesValid(t *testing.T) {
	for _, s := range []string{
		"d22_scalar_text.d2t", "d22_scalar_le.d2s", "d22_scalar_be.d2s", "d22_spectrogram_text.d2t",
		"d22_spectrogram_le.d2s", "d22_time_encodings.d2s", "d22_nodata.d2t", "d22_error.d2t",
		"d3_scalar_text.d3t", "d3_scalar_us2000.d3b", "d3_scalar_tt2000.d3b", "d3_spectrogram_text.d3t",
		"d3_spectrogram_bin.d3b", "d3_nodata.d3t", "d3_error.d3t",
	} {
		rep, err := verify.Stream(t.Context(), bytes.NewReader(dastest.ReadGolden(t, s)))
		if err != nil || !rep.OK() {
			t.Errorf("%s: %v %v", s, err, rep.Violations)
		}
	}
}

func TestViolations(t *testing.T) {
	s22 := frame("00", "<stream version=\"2.2\"/>")
	x := "<x type=\"time24\" units=\"us2000\"/>"
	rec := ":01:2024-01-01T00:00:00.000 1.000e+00\n"
	s3 := tag("Sx", "", "<stream type=\"das-basic-stream\" version=\"3.0\"/>")
	ds3 := func(scalar string) string {
		return tag("Hx", "1", `<dataset name="a" rank="1" index="*"><coord physDim="time" name="time">`+
			`<scalar semantic="datetime" storage="double" index="*" units="us2000"><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar>`+
			`</coord><data physDim="" name="v">`+scalar+`</data></dataset>`)
	}
	cases := []struct {
		name, in, rule string
		off            int64
	}{
		{"empty", "", "7.1 empty stream", 0},
		{"unknown type prefix", frame("00", "<stream version=\"2.2\"><properties float:a=\"1\"/></stream>") + frame("xx", "<exception type=\"NoDataInInterval\" message=\"m\"/>"), "3.5 property type", 0},
		{"property name with dash", frame("00", "<stream version=\"2.2\"><properties x-label=\"1\"/></stream>"), "3.5 property name", 0},
		{"range to now", frame("00", "<stream version=\"2.2\"><properties DatumRange:r=\"2024-01-01 to now\"/></stream>"), "3.5 range value", 0},
		{"ascii8", s22 + frame("01", "<packet>"+x+"<y type=\"ascii8\" name=\"v\" units=\"\"/></packet>"), "3.7 asciiN width", 33},
		{"unnamed y", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" units=\"\"/></packet>") + rec, "3.6 plane name", 33},
		{"duplicate names", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" name=\"v\" units=\"\"/><y type=\"ascii10\" name=\"v\" units=\"\"/></packet>"), "3.6 plane name", 33},
		{"bad units", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" name=\"v\" units=\"#/cm^3\"/></packet>") + rec, "3.8 units", 33},
		{"y without units", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" name=\"v\"/></packet>") + rec, "3.6.2 plane units", 33},
		{"yTagMax", s22 + frame("01", "<packet>"+x+"<yscan type=\"ascii10\" name=\"s\" nitems=\"1\" yUnits=\"Hz\" zUnits=\"\" yTagInterval=\"1\" yTagMax=\"2\"/></packet>"), "3.6.4 yTagMax", 33},
		{"non-integer taskProgress", s22 + frame("xx", "<comment type=\"taskProgress\" value=\"1.5\" source=\"s\"/>"), "3.10 comment value", 33},
		{"log:debug", s22 + frame("xx", "<comment type=\"log:debug\" value=\"x\" source=\"s\"/>"), "3.10 log level", 33},
		{"exception in [00]", frame("00", "<exception type=\"ServerError\" message=\"x\"/>"), "3.10 exception placement", 0},
		{"exception not last", s22 + frame("xx", "<exception type=\"ServerError\" message=\"x\"/>") + frame("xx", "<comment type=\"a\" value=\"b\" source=\"c\"/>"), "3.10 exception last", -1},
		{"no data no exception", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" name=\"v\" units=\"\"/></packet>"), "7.6 empty result", -1},
		{"truncated", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" name=\"v\" units=\"\"/></packet>") + rec[:20], "7.1 truncated packet", 33 + 97},
		{"das3 no type", tag("Sx", "", "<stream version=\"3.0\"/>") + tag("Ex", "", "<exception type=\"NoMatchingData\">x</exception>"), "4.2 stream type", 0},
		{"das3 epoch with real semantic", s3 + ds3(`<scalar semantic="real" index="*" units="t2000"><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar>`), "4.4 epoch units", int64(len(s3))},
		{"das3 narrow storage", s3 + ds3(`<scalar semantic="real" storage="float" index="*" units=""><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar>`), "4.4 storage", int64(len(s3))},
		{"das3 missing units", s3 + ds3(`<scalar semantic="real" index="*"><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar>`), "4.4 units", int64(len(s3))},
		{"das3 long Pd", s3 + ds3(`<scalar semantic="real" index="*" units=""><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar>`) + tag("Pd", "1", strings.Repeat("\x00", 17)), "7.5 data length", -2},
		{"das3 Pd before Hx", s3 + tag("Pd", "1", "12345678"), "7.5 data before header", int64(len(s3))},
		// Issue 12: what das2C and the das3 schemas refuse in streams that decode.
		{"equal descriptors", string(dastest.ReadGoldenFile(t, "compat/dup_descriptors.d2t")), "3.2 duplicate packet descriptor", 193},
		{"empty dimension name", string(dastest.ReadGoldenFile(t, "compat/empty_name.d3t")), "4.4 dimension name", 141},
		{"plane order", s22 + frame("01", "<packet>"+x+"<yscan type=\"ascii10\" name=\"s\" nitems=\"1\" yUnits=\"Hz\" zUnits=\"\"/><y type=\"ascii10\" name=\"v\" units=\"Hz\"/></packet>"), "3.6 plane order", 33},
		{"y with a yscan of other units", s22 + frame("01", "<packet>"+x+"<y type=\"ascii10\" name=\"v\" units=\"nT\"/><yscan type=\"ascii10\" name=\"s\" nitems=\"1\" yUnits=\"Hz\" zUnits=\"\"/></packet>"), "3.6.4 y with yscan", 33},
		{"yscans with different tags", s22 + frame("01", "<packet>"+x+"<yscan type=\"ascii10\" name=\"a\" nitems=\"1\" yUnits=\"Hz\" zUnits=\"\"/><yscan type=\"ascii10\" name=\"b\" nitems=\"2\" yUnits=\"Hz\" zUnits=\"\"/></packet>"), "3.6.4 yscan tags", 33},
		{"six planes", s22 + frame("01", "<packet>"+x+strings.Repeat("<y type=\"ascii10\" name=\"v\" units=\"\"/>", 5)+"</packet>"), "das2C six planes", 33},
		{"deflate", frame("00", "<stream version=\"2.2\" compression=\"deflate\"/>"), "3.12 compression", 0},
		{"das3 coord after data", s3 + tag("Hx", "1", `<dataset name="a" rank="1" index="*"><data physDim="" name="v">`+
			`<scalar semantic="real" index="*" units=""><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar></data><coord physDim="time" name="time">`+
			`<scalar semantic="datetime" storage="double" index="*" units="us2000"><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar></coord></dataset>`), "4.4 dimension order", int64(len(s3))},
		{"das3 vector of bytes", s3 + ds3(`<vector semantic="integer" storage="ubyte" index="*" units="" components="2"><packet numItems="2" itemBytes="1" encoding="ubyte"/></vector>`), "4.4 vector storage", int64(len(s3))},
		{"das3 valTerm", string(dastest.ReadGoldenFile(t, "compat/var_term.d3t")), "4.6 value terminator", 139},
		{"das3 ragged items", s3 + ds3(`<scalar semantic="real" index="*" units=""><packet numItems="*" itemBytes="*" encoding="utf8"/></scalar>`), "4.6 variable length", int64(len(s3))},
		{"das3 six variables", s3 + ds3(strings.Repeat(`<scalar semantic="real" index="*" units=""><packet numItems="1" itemBytes="8" encoding="LEreal"/></scalar>`, 5)), "das2C six variables", int64(len(s3))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := verify.Stream(t.Context(), strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range rep.Violations {
				if v.Rule == c.rule && (c.off == -2 || v.Offset == c.off) {
					return
				}
			}
			t.Errorf("no %q violation at %d in %v", c.rule, c.off, rep.Violations)
		})
	}
}
