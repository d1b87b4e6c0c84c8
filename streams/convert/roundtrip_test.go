package convert_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
	"github.com/rhizoflex/rhizoflex/streams/verify"
)

func decodeValues(t *testing.T, in []byte) map[string]int {
	t.Helper()
	c := dastest.NewValueSet()
	if _, err := convert.Decode(t.Context(), bytes.NewReader(in), c, nil); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c.Keys
}

func expected(vals []dastest.Value) map[string]int {
	m := map[string]int{}
	for _, v := range vals {
		m[v.Key()]++
	}
	return m
}

// sameValues fails with the first differences between two multisets.
func sameValues(t *testing.T, what string, want, got map[string]int) {
	t.Helper()
	if maps.Equal(want, got) {
		return
	}
	var diff []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			diff = append(diff, fmt.Sprintf("%s: %d, want %d", k, got[k], want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s: %d, want 0", k, got[k]))
		}
	}
	t.Errorf("%s: %d differences, first: %s", what, len(diff), strings.Join(diff[:min(len(diff), 6)], "; "))
}

// csvValues reads the CSV writer's rows back as "ms|value" keys (CSV has no
// units or tags on its rows).
func csvValues(t *testing.T, out []byte) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, row := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
		cells := strings.Split(row, ",")
		tm, err := dastime.ParseString(cells[0])
		if err != nil {
			continue // a header row
		}
		for _, c := range cells[1:] {
			x, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatalf("CSV cell %q in %q", c, row)
			}
			m[strconv.FormatInt(int64(tm)/1e6, 10)+"|"+dastest.FormatValue(x)]++
		}
	}
	return m
}

func csvExpected(vals []dastest.Value) map[string]int {
	m := map[string]int{}
	for _, v := range vals {
		m[strconv.FormatInt(v.MS, 10)+"|"+dastest.FormatValue(v.V)]++
	}
	return m
}

var conversions = []convert.Options{
	{Format: convert.Das2}, {Format: convert.Das3},
	{Format: convert.Das2, Text: true}, {Format: convert.Das3, Text: true},
}

// TestRoundTrip is the property of issue 12: for generated streams (scalars,
// spectra, several packet IDs, every encoding, names present and absent, large
// items), the input decodes to the values it was built from, and every
// conversion's output (and the conversion of that output to the other format)
// passes our strict verify and decodes to the same values; CSV rows carry the
// same times and values.
func TestRoundTrip(t *testing.T) {
	seeds, large := 150, 6
	if testing.Short() {
		seeds, large = 30, 1
	}
	for seed := range seeds + large {
		big := seed >= seeds
		in, vals := dastest.RandomStream(uint64(seed), big)
		t.Run(fmt.Sprintf("seed=%d/large=%v", seed, big), func(t *testing.T) {
			want := expected(vals)
			sameValues(t, "input", want, decodeValues(t, in))
			for _, o := range conversions {
				out := conv(t, in, o)
				name := fmt.Sprintf("%s text=%v", o.Format, o.Text)
				strict(t, name, out)
				sameValues(t, name, want, decodeValues(t, out))
				other := convert.Options{Format: convert.Das2}
				if o.Format == convert.Das2 {
					other.Format = convert.Das3
				}
				again := conv(t, out, other)
				strict(t, name+" then "+string(other.Format), again)
				sameValues(t, name+" then "+string(other.Format), want, decodeValues(t, again))
			}
			got := csvValues(t, conv(t, in, convert.Options{Format: convert.CSV}))
			sameValues(t, "csv", csvExpected(vals), got)
			if t.Failed() {
				t.Logf("input:\n%q", in[:min(len(in), 4000)])
			}
		})
	}
}

// strict fails unless verify finds nothing to report, and no packet exceeds
// the 262144-byte buffer of das2C (checked by verify's decoder as well).
func strict(t *testing.T, what string, out []byte) {
	t.Helper()
	rep, err := verify.Stream(t.Context(), bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%s: verify: %v", what, err)
	}
	if !rep.OK() {
		t.Errorf("%s: verify: %v", what, rep.Violations[:min(len(rep.Violations), 5)])
	}
}
