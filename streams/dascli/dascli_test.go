package dascli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/dascli"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

func golden(name string) string { return filepath.Join(dastest.Dir(), "golden", name) }

func TestMain_(t *testing.T) {
	le := dastest.ReadGolden(t, "d22_scalar_le.d2s")
	bad := filepath.Join(t.TempDir(), "bad.d2s")
	if err := os.WriteFile(bad, append(append([]byte{}, le...), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		stdin      []byte
		code       int
		stdout     string // substring (or exact with exact=true)
		exact      bool
		stderr     string
		goldenFile string // stdout must equal this golden file
	}{
		{name: "no command", args: nil, code: 2, stderr: "missing command"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "help", args: []string{"help"}, code: 0, stdout: "usage: rhizoflex das"},
		{name: "convert needs --to", args: []string{"convert"}, stdin: le, code: 2, stderr: "--to must be"},
		{name: "convert bad flag", args: []string{"convert", "--to", "csv", "--bogus"}, code: 2, stderr: "flag provided but not defined"},
		{name: "convert bad secfrac", args: []string{"convert", "--to", "csv", "--secfrac", "12"}, code: 2, stderr: "--secfrac"},
		{name: "convert bad delim", args: []string{"convert", "--to", "csv", "--delim", "ab"}, code: 2, stderr: "--delim"},
		{name: "convert same format", args: []string{"convert", "--to", "das2"}, stdin: le, code: 0, goldenFile: "d22_scalar_le.d2s"},
		{name: "convert to das3", args: []string{"convert", "--to", "das3"}, stdin: dastest.ReadGolden(t, "d3_scalar_tt2000.d3b"), code: 0, goldenFile: "d3_scalar_tt2000.d3b"},
		{name: "convert to csv", args: []string{"convert", "--to", "csv", "--no-headers", "--delim", ";", "--secfrac", "0", "--sigdigit", "4"}, stdin: le, code: 0,
			stdout: "2024-01-01T00:00:00;1.234e+01\r\n2024-01-01T00:01:00;1.250e+01\r\n", exact: false},
		{name: "convert to das2 text", args: []string{"convert", "--to", "das2", "--text", "--sigdigit", "4"}, stdin: le, code: 0,
			stdout: ":01:2024-01-01T00:00:00.000  1.234e+01\n"},
		{name: "convert garbage", args: []string{"convert", "--to", "das3"}, stdin: []byte("garbage"), code: 1, stderr: "rule 7.1 first packet"},
		{name: "convert exception to csv", args: []string{"convert", "--to", "csv"}, stdin: dastest.ReadGolden(t, "d22_nodata.d2t"), code: 0, stderr: "NoDataInInterval"},
		{name: "reduce needs seconds", args: []string{"reduce"}, code: 2, stderr: "SECONDS"},
		{name: "reduce bad seconds", args: []string{"reduce", "-5"}, code: 2, stderr: "flag provided but not defined"},
		{name: "reduce zero seconds", args: []string{"reduce", "0"}, code: 2, stderr: "not a positive number"},
		{name: "reduce bad begin", args: []string{"reduce", "--begin", "yesterday", "60"}, code: 2, stderr: "--begin"},
		{name: "reduce das2", args: []string{"reduce", "--begin", "2024-01-01", "--minmax", "120"}, stdin: le, code: 0, stdout: `name="bmag.min"`},
		{name: "reduce das3 stays das3", args: []string{"reduce", "--peaks", "120"}, stdin: dastest.ReadGolden(t, "d3_scalar_us2000.d3b"), code: 0, stdout: `use="max"`},
		{name: "reduce garbage", args: []string{"reduce", "60"}, stdin: []byte("[00]00"), code: 1, stderr: "rule"},
		{name: "verify ok", args: []string{"verify", golden("d22_scalar_le.d2s"), golden("d3_spectrogram_bin.d3b")}, code: 0, stdout: "d3_spectrogram_bin.d3b: ok (5 records)"},
		{name: "verify bad", args: []string{"verify", golden("d22_scalar_le.d2s"), bad}, code: 1, stdout: "bad.d2s: offset 487: stream ends inside a packet tag (rule 3.1 packet boundary)"},
		{name: "verify missing file", args: []string{"verify", filepath.Join(t.TempDir(), "nope")}, code: 1, stderr: "no such file"},
		{name: "verify no files", args: []string{"verify"}, code: 2, stderr: "FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dascli.Main(t.Context(), c.args, bytes.NewReader(c.stdin), &out, &errb)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errb.String())
			}
			if c.stdout != "" && !strings.Contains(out.String(), c.stdout) {
				t.Errorf("stdout %q lacks %q", trunc(out.String()), c.stdout)
			}
			if c.stderr != "" && !strings.Contains(errb.String(), c.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), c.stderr)
			}
			if c.code == 2 && !strings.Contains(errb.String(), "usage: rhizoflex das") {
				t.Errorf("usage errors must print the usage, got %q", errb.String())
			}
			if c.goldenFile != "" {
				dastest.Equal(t, c.goldenFile, dastest.ReadGolden(t, c.goldenFile), out.Bytes())
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}
