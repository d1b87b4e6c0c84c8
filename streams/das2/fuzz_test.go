package das2_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
)

// FuzzDecode feeds hostile bytes to the decoder: it must return (never panic), and
// whatever it decodes must survive the writer without a panic, in binary and text.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dastest.Dir(), "golden", "d22_*"))
	compat, _ := filepath.Glob(filepath.Join(dastest.Dir(), "compat", "*.d2?"))
	for _, name := range append(files, compat...) {
		// Large seeds (the 480 KB compat/large_yscan.d2s) only slow the minimizer.
		b, err := os.ReadFile(name)
		if err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("[00]000023<stream version=\"2.2\"/>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var vs []das.Violation
		_ = das2.Decode(t.Context(), bytes.NewReader(in), das2.NewWriter(io.Discard, das2.WriterOptions{}),
			das2.ReaderOptions{Check: func(v das.Violation) { vs = append(vs, v) }})
		_ = das2.Decode(t.Context(), bytes.NewReader(in), das2.NewWriter(io.Discard, das2.WriterOptions{Text: true}), das2.ReaderOptions{})
		for _, v := range vs {
			if v.Rule == "" || strings.TrimSpace(v.Msg) == "" {
				t.Fatalf("violation without a rule or message: %+v", v)
			}
		}
	})
}
