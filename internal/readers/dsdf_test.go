package readers

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const fullDSDF = `; Juno waves survey
description     = 'Juno Waves survey spectra' ; trailing comment
reader          = '/opt/das/bin/waves_rdr  -l "low band"'
das2Stream      = 1
techContact     = 'Able Tech <able-tech@somewhere.edu>'
exampleRange_00 = '2017-09-15 to 2017-09-16 UTC | Perijove 8'
exampleRange01  = '2018-01-01 to 2018-01-02'
exampleParams_01 = '-hfr'
validRange      = '2016-01-01 to now'
param_00        = '-hfr | High frequency receiver only'
param_01        = '-lfr'
item_00         = 'E | Electric field | V m**-1'
readAccess      = 'AGE:1y6m|GROUP:juno-team|USER:pi@example.com'
cacheLevel_00   = '60 s | daily'
cacheLevel_01   = 'intrinsic | hourly | -lfr -hfr'
summary = 'A long ' + $
          'summary'
reducer = not_reducible
`

func TestParseAndDefineAFullDSDF(t *testing.T) {
	d, err := ParseDSDF("Juno/WAV/Survey.dsdf", strings.NewReader(fullDSDF))
	if err != nil {
		t.Fatal(err)
	}
	def, err := Define("Juno/WAV/Survey", d)
	if err != nil {
		t.Fatal(err)
	}
	if def.Description != "Juno Waves survey spectra" {
		t.Errorf("description %q", def.Description)
	}
	if strings.Join(def.Reader, "|") != "/opt/das/bin/waves_rdr|-l|low band" {
		t.Errorf("reader argv %q", def.Reader)
	}
	if def.Format != Das2 || def.Reducible {
		t.Errorf("format %v reducible %v", def.Format, def.Reducible)
	}
	if len(def.Examples) != 2 || def.Examples[0].Range != "2017-09-15 to 2017-09-16 UTC" || def.Examples[0].Label != "Perijove 8" || def.Examples[1].Params != "-hfr" {
		t.Errorf("examples %+v", def.Examples)
	}
	if len(def.Params) != 2 || def.Params[0] != (ParamDoc{"-hfr", "High frequency receiver only"}) {
		t.Errorf("params %+v", def.Params)
	}
	if len(def.Items) != 1 || def.Items[0] != "E" {
		t.Errorf("items %q", def.Items)
	}
	wantAge := (365 + 6*30) * 24 * time.Hour
	if len(def.ReadAccess) != 3 || def.ReadAccess[0] != (AccessRule{Kind: AccessAge, Age: wantAge}) ||
		def.ReadAccess[1] != (AccessRule{Kind: AccessGroup, Name: "juno-team"}) || def.ReadAccess[2] != (AccessRule{Kind: AccessUser, Name: "pi@example.com"}) {
		t.Errorf("readAccess %+v", def.ReadAccess)
	}
	if len(def.CacheLevels) != 2 || def.CacheLevels[0] != (CacheLevel{Resolution: time.Minute, Period: "daily", Params: "_noparam"}) ||
		def.CacheLevels[1] != (CacheLevel{Period: "hourly", Params: "_hfr__lfr", RawParams: "-lfr -hfr"}) {
		t.Errorf("cache levels %+v", def.CacheLevels)
	}
	if v, _ := d.Get("summary"); v != "A long summary" {
		t.Errorf("continued value %q", v)
	}
	if e, _ := d.At("exampleRange", 1); e.Line != 7 || e.Key != "exampleRange01" {
		t.Errorf("exampleRange01 entry %+v", e)
	}
}

func TestNormalizeParams(t *testing.T) {
	for in, want := range map[string]string{"": "_noparam", "  ": "_noparam", "-b -a": "_a__b", "hfr": "hfr", "x-y  a": "a_x_y"} {
		if got := NormalizeParams(in); got != want {
			t.Errorf("NormalizeParams(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every bad file gives one error that names the file, the line and the key.
func TestBadDefinitionsNameFileLineAndKey(t *testing.T) {
	minimal := "description = 'd'\nreader = '/bin/rdr'\ndas2Stream = 1\ntechContact = 'T <t@x>'\nexampleRange_00 = '2020-01-01 to 2020-01-02'\n"
	cases := []struct {
		name, text, want string
	}{
		{"no equals", minimal + "just words\n", "src.dsdf:6: expected key = value"},
		{"bad key", minimal + "bad key = 1\n", `src.dsdf:6: "bad key" is not a valid key`},
		{"unterminated", minimal + "sciContact = 'x\n", "src.dsdf:6: sciContact: unterminated"},
		{"twice", minimal + "description = 'again'\n", "src.dsdf:6: description: defined twice (first on line 1)"},
		{"twice numbered", minimal + "exampleRange = '2020-01-01 to 2020-01-03'\n", "src.dsdf:6: exampleRange: defined twice (first on line 5)"},
		{"open continuation", minimal + "summary = 'a' + $\n", "src.dsdf:6: the file ends inside a line continued with $"},
		{"no reader", strings.Replace(minimal, "reader = '/bin/rdr'\n", "", 1), "src.dsdf: reader: required key is missing"},
		{"no example", strings.Replace(minimal, "exampleRange_00 = '2020-01-01 to 2020-01-02'\n", "", 1), "src.dsdf: exampleRange_00: required key is missing"},
		{"bad example", strings.Replace(minimal, "2020-01-01 to 2020-01-02", "yesterday", 1), `src.dsdf:5: exampleRange_00: "yesterday" is not START to END`},
		{"qstream", strings.Replace(minimal, "das2Stream = 1", "qstream = 1", 1), "src.dsdf:3: qstream: QStream readers are not supported"},
		{"bad reader", strings.Replace(minimal, "'/bin/rdr'", `'/bin/rdr "unclosed'`, 1), "src.dsdf:2: reader: cannot split into words"},
		{"bad access", minimal + "readAccess = 'ROLE:x'\n", `src.dsdf:6: readAccess: unknown readAccess kind "ROLE"`},
		{"bad age", minimal + "readAccess = 'AGE:soon'\n", `src.dsdf:6: readAccess: age "soon" is not like`},
		{"bad cache", minimal + "cacheLevel_00 = '60 s | weekly'\n", `src.dsdf:6: cacheLevel_00: period "weekly" is not`},
		{"bad resolution", minimal + "cacheLevel_00 = '-5 s | daily'\n", `src.dsdf:6: cacheLevel_00: resolution "-5 s"`},
	}
	for _, c := range cases {
		d, err := ParseDSDF("src.dsdf", strings.NewReader(c.text))
		if err == nil {
			_, err = Define("src", d)
		}
		var de *Error
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want an *Error", c.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\n got %q\nwant %q...", c.name, err, c.want)
		}
	}
	if d, err := ParseDSDF("src.dsdf", strings.NewReader(minimal)); err != nil {
		t.Fatal(err)
	} else if _, err := Define("src", d); err != nil {
		t.Fatalf("the minimal DSDF of the spec: %v", err)
	}
}

func FuzzParseDSDF(f *testing.F) {
	f.Add(fullDSDF)
	f.Add("a = 'b' + $\n 'c'\n")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDSDF("f.dsdf", strings.NewReader(s))
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		_, _ = Define("f", d)
	})
}
