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
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
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
