package dascli_test

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dascli"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/verify"
)

func run(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dascli.Main(t.Context(), args, bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// strict fails unless verify finds nothing in a stream we wrote.
func strict(t *testing.T, out []byte) {
	t.Helper()
	rep, err := verify.Stream(t.Context(), bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("verify: %v", rep.Violations)
	}
}

func valueSet(t *testing.T, stream []byte) map[string]int {
	t.Helper()
	vs := dastest.NewValueSet()
	if _, err := convert.Decode(t.Context(), bytes.NewReader(stream), vs, nil); err != nil {
		t.Fatal(err)
	}
	return vs.Keys
}

var packetTag = regexp.MustCompile(`^(\[(\d\d|xx)\](\d{6})|:(\d\d):|\|(\w\w)\|(\d*)\|(\d+)\|)`)

// packets lists a stream's packets as "TAG SIZE" lines (das2.2 data packets by
// their header's record size), checking that each ends where the next begins.
func packets(t *testing.T, b []byte) []string {
	t.Helper()
	sizes := map[string]int{}
	var out []string
	for off := 0; off < len(b); {
		m := packetTag.FindSubmatch(b[off:])
		if m == nil {
			t.Fatalf("no packet tag at offset %d", off)
		}
		var n int
		switch {
		case m[3] != nil: // [NN]LLLLLL
			n, _ = strconv.Atoi(string(m[3]))
			hdr := string(b[off+10 : off+10+n])
			if id := string(m[2]); id != "xx" && id != "00" {
				sizes[id] = recordSize(hdr)
			}
		case m[4] != nil: // :NN:
			n = sizes[string(m[4])]
		default: // |Tt|ID|LEN|
			n, _ = strconv.Atoi(string(m[7]))
		}
		out = append(out, fmt.Sprintf("%s %d", m[0], len(m[0])+n))
		off += len(m[0]) + n
	}
	return out
}

var planeType = regexp.MustCompile(`<(?:x|y|z|yscan) type="\w+?(\d+)"(?:[^>]*nitems="(\d+)")?`)

// recordSize adds up a das2.2 packet header's planes: the digits ending each
// type are the bytes per item (little_endian_real4, time24, ascii14).
func recordSize(hdr string) int {
	n := 0
	for _, m := range planeType.FindAllStringSubmatch(hdr, -1) {
		w, _ := strconv.Atoi(m[1])
		items := 1
		if m[2] != "" {
			items, _ = strconv.Atoi(m[2])
		}
		n += w * items
	}
	return n
}

// TestIssue12 runs the command of each finding of issue 12 on its input in
// testdata and compares the output with testdata/compat/out; every stream
// written passes verify, and each case checks the point of its finding.
func TestIssue12(t *testing.T) {
	cases := []struct {
		name   string
		in     string // under testdata
		args   []string
		code   int
		golden string // stdout, under testdata/compat/out ("" = no golden)
		stderr string
		check  func(t *testing.T, in, out []byte)
	}{
		// 1. Equal packet descriptors share one ID.
		{name: "f1 das2 text of the time encodings", in: "golden/d22_time_encodings.d2s", args: []string{"convert", "--to", "das2", "--text"},
			golden: "time_encodings.das2text.d2t", check: func(t *testing.T, in, out []byte) {
				if got := strings.Count(string(out), "<packet>"); got != 3 {
					t.Errorf("%d packet headers, want 3 (IDs 03 and 04 share one)", got)
				}
				sameValues(t, in, out)
			}},
		{name: "f1 verify reports equal descriptors", in: "compat/dup_descriptors.d2t", args: []string{"verify", "-"}, code: 1},
		{name: "f1 das2 rewrite of equal descriptors", in: "compat/dup_descriptors.d2t", args: []string{"convert", "--to", "das2"},
			golden: "dup_descriptors.das2.d2t", check: sameValues},
		// 2. Dimensions get valid names.
		{name: "f2 das3 text of unnamed dimensions", in: "compat/unnamed.d3t", args: []string{"convert", "--to", "das3", "--text"},
			golden: "unnamed.das3text.d3t", check: namedDims},
		{name: "f2 das3 of an empty name", in: "compat/empty_name.d3t", args: []string{"convert", "--to", "das3"},
			golden: "empty_name.das3.d3t", check: namedDims},
		{name: "f2 das2 of unnamed dimensions", in: "compat/unnamed.d3t", args: []string{"convert", "--to", "das2"},
			golden: "unnamed.das2.d2s", check: sameValues},
		// 3. No packet over 262144 bytes, in every writer.
		{name: "f3 das2 text of 240,008-byte records", in: "compat/large_yscan.d2s", args: []string{"convert", "--to", "das2", "--text"},
			golden: "large_yscan.das2text.packets", check: sameValues},
		{name: "f3 das3 text of 240,008-byte records", in: "compat/large_yscan.d2s", args: []string{"convert", "--to", "das3", "--text"},
			golden: "large_yscan.das3text.packets", check: sameValues},
		{name: "f3 das3 of 240,008-byte records", in: "compat/large_yscan.d2s", args: []string{"convert", "--to", "das3"},
			golden: "large_yscan.das3.packets", check: sameValues},
		{name: "f3 reduce --minmax of 240,008-byte records", in: "compat/large_yscan.d2s", args: []string{"reduce", "--minmax", "10"},
			golden: "large_yscan.reduce-minmax.packets"},
		// 4. A header-only stream is not a data response.
		{name: "f4 verify the dsdf response", in: "golden/d22_dsdf_response.d2t", args: []string{"verify", "-"}, golden: "dsdf_response.verify.txt"},
		// 5. Bins are floor((t - origin)/width), before the origin too.
		{name: "f5 reduce with --begin after records", in: "compat/reduce_origin.d2t", args: []string{"reduce", "--begin", "2024-01-01T00:01", "60"},
			golden: "reduce_origin.begin.d2t"},
		{name: "f5 reduce with time going back", in: "compat/reduce_origin.d2t", args: []string{"reduce", "60"},
			golden: "reduce_origin.d2t"},
		// 6. Text times round like das2C's printf: to nearest, ties to even.
		{name: "f6 reduce 90.5 of the time encodings", in: "golden/d22_time_encodings.d2s", args: []string{"reduce", "90.5"},
			golden: "time_encodings.reduce90.5.d2s", check: func(t *testing.T, _, out []byte) {
				if !bytes.Contains(out, []byte(":02:2024-01-01T00:01:45.2 ")) {
					t.Error("the time22 bin centre 00:01:45.25 is not written 00:01:45.2 (das2C's %04.1f)")
				}
			}},
		// 7. NaN counts as missing; an unparseable value is fatal.
		{name: "f7 reduce NaN text", in: "compat/nan.d2t", args: []string{"reduce", "--minmax", "60"}, golden: "nan.reduce-minmax.d2t"},
		{name: "f7 reduce NaN binary", in: "compat/nan_binary.d2s", args: []string{"reduce", "--peaks", "60"}, golden: "nan_binary.reduce-peaks.d2s"},
		{name: "f7 convert keeps NaN", in: "compat/nan_binary.d2s", args: []string{"convert", "--to", "das3", "--text"}, golden: "nan_binary.das3text.d3t"},
		{name: "f7 reduce garbage", in: "compat/garbage.d2t", args: []string{"reduce", "60"}, code: 1,
			stderr: `offset 264: cannot parse "abc" as a number (rule 3.7 asciiN value)`},
		{name: "f7 convert garbage", in: "compat/garbage.d2t", args: []string{"convert", "--to", "csv"}, code: 1, stderr: `cannot parse "abc"`},
		// 8. Variable-length text items, <vector>, deflate.
		{name: "f8 das2 of var-length vectors", in: "compat/var_items.d3t", args: []string{"convert", "--to", "das2"}, golden: "var_items.das2.d2t", check: sameValues},
		{name: "f8 das3 of var-length vectors", in: "compat/var_items.d3t", args: []string{"convert", "--to", "das3"}, golden: "var_items.das3.d3t", check: sameValues},
		{name: "f8 csv of var-length vectors", in: "compat/var_items.d3t", args: []string{"convert", "--to", "csv"}, golden: "var_items.csv"},
		{name: "f8 das3 of terminated items", in: "compat/var_term.d3t", args: []string{"convert", "--to", "das3"}, golden: "var_term.das3.d3t", check: sameValues},
		{name: "f8 das2 text of terminated items", in: "compat/var_term.d3t", args: []string{"convert", "--to", "das2", "--text"}, golden: "var_term.das2text.d2t", check: sameValues},
		{name: "f8 das2 of a binary vector", in: "compat/vector.d3b", args: []string{"convert", "--to", "das2"}, golden: "vector.das2.d2s", check: sameValues},
		{name: "f8 das3 text of a binary vector", in: "compat/vector.d3b", args: []string{"convert", "--to", "das3", "--text"}, golden: "vector.das3text.d3t", check: sameValues},
		{name: "f8 csv of a binary vector", in: "compat/vector.d3b", args: []string{"convert", "--to", "csv"}, golden: "vector.csv"},
		{name: "f8 reduce a vector", in: "compat/vector.d3b", args: []string{"reduce", "--minmax", "2"}, golden: "vector.reduce-minmax.d3b"},
		{name: "f8 das2 of a deflated stream", in: "compat/deflate.d2s", args: []string{"convert", "--to", "das2"}, golden: "deflate.das2.d2t", check: sameValues},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := dastest.ReadGoldenFile(t, c.in)
			args := c.args
			if args[0] == "verify" {
				// verify reads files: give it the input's path.
				args = []string{"verify", filepath.Join(dastest.Dir(), c.in)}
			}
			code, out, stderr := run(t, in, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
			if c.stderr != "" && !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, c.stderr)
			}
			got := []byte(out)
			if strings.HasSuffix(c.golden, ".packets") {
				got = []byte(strings.Join(packets(t, got), "\n") + "\n")
				for _, p := range packets(t, []byte(out)) {
					if n, _ := strconv.Atoi(p[strings.LastIndexByte(p, ' ')+1:]); n > das.MaxPacket {
						t.Errorf("packet %s exceeds 262144 bytes", p)
					}
				}
			}
			if strings.HasSuffix(c.golden, ".txt") {
				got = []byte(strings.ReplaceAll(out, dastest.Dir(), "testdata"))
			}
			if c.golden != "" {
				dastest.Golden(t, "compat/out/"+c.golden, got)
			}
			if args[0] != "verify" && c.code == 0 && !strings.HasSuffix(c.golden, ".csv") {
				strict(t, []byte(out))
			}
			if c.check != nil {
				c.check(t, in, []byte(out))
			}
		})
	}
}

// sameValues checks that out decodes to the values in.
func sameValues(t *testing.T, in, out []byte) {
	t.Helper()
	want, got := valueSet(t, in), valueSet(t, out)
	if !maps.Equal(want, got) {
		t.Errorf("values differ: %d keys, want %d", len(got), len(want))
	}
}

// namedDims checks that every dimension of a das3 output has a valid name.
func namedDims(t *testing.T, in, out []byte) {
	t.Helper()
	dims := regexp.MustCompile(`<(coord|data) [^>]*>`).FindAllString(string(out), -1)
	if len(dims) == 0 {
		t.Fatal("no dimensions")
	}
	name := regexp.MustCompile(` name="([a-zA-Z][a-zA-Z0-9_]*)"`)
	for _, d := range dims {
		if !name.MatchString(d) {
			t.Errorf("%s has no valid name", d)
		}
	}
	sameValues(t, in, out)
}
