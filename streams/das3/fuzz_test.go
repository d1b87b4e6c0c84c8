package das3_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das3"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

// FuzzDecode feeds hostile bytes to the decoder: it must return (never panic), and
// whatever it decodes must survive the writer without a panic, in binary and text.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dastest.Dir(), "golden", "d3_*"))
	compat, _ := filepath.Glob(filepath.Join(dastest.Dir(), "compat", "*.d3?"))
	for _, name := range append(files, compat...) {
		// Large seeds (the 480 KB compat/large_yscan.d2s) only slow the minimizer.
		b, err := os.ReadFile(name)
		if err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("|Sx||19|<stream version=\"3.0\"/>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var vs []das.Violation
		_ = das3.Decode(t.Context(), bytes.NewReader(in), das3.NewWriter(io.Discard, das3.WriterOptions{}),
			das3.ReaderOptions{Check: func(v das.Violation) { vs = append(vs, v) }})
		_ = das3.Decode(t.Context(), bytes.NewReader(in), das3.NewWriter(io.Discard, das3.WriterOptions{Text: true}), das3.ReaderOptions{})
		for _, v := range vs {
			if v.Rule == "" || strings.TrimSpace(v.Msg) == "" {
				t.Fatalf("violation without a rule or message: %+v", v)
			}
		}
	})
}
