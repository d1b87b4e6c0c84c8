// Package dastest holds test helpers for the streams packages: golden-file
// comparison with a hex diff, and a Sink that logs decoded events in the
// `das3_csv -n` layout used by testdata/golden/README.md.
//
// It imports only the standard library and the das model packages.
package dastest

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Update makes Golden rewrite golden files instead of comparing (go test -update).
var Update = flag.Bool("update", false, "rewrite golden files")

// Dir returns streams/testdata.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// ReadGolden returns streams/testdata/golden/NAME.
func ReadGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ReadGoldenFile returns streams/testdata/NAME.
func ReadGoldenFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden compares got with streams/testdata/NAME (rewriting it under -update).
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join(Dir(), name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	Equal(t, name, want, got)
}

// Equal fails with a hex diff around the first differing byte.
func Equal(t testing.TB, what string, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-32) &^ 15
	hiW, hiG := min(len(want), i+48), min(len(got), i+48)
	t.Errorf("%s: bytes differ at offset %d (want %d bytes, got %d)\nwant:\n%sgot:\n%s",
		what, i, len(want), len(got), dump(want[lo:hiW], lo), dump(got[lo:hiG], lo))
}

func dump(b []byte, base int) string {
	s := hex.Dump(b)
	var out strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if len(line) < 8 {
			out.WriteString(line)
			continue
		}
		off, err := strconv.ParseInt(line[:8], 16, 64)
		if err != nil {
			out.WriteString(line)
			continue
		}
		fmt.Fprintf(&out, "%08x%s", off+int64(base), line[8:])
	}
	return out.String()
}

// Log is a Sink that records events as text lines. Records print as
// "ID;TIME;v1;v2..." with times at millisecond precision and values as %.7e, 4-byte
// and short text values rounded to float32 first (das2C's storage), like das3_csv -n.
type Log struct {
	Lines []string
	// Datasets seen, by ID, for inspection.
	Datasets map[int]*das.Dataset
	Header   *das.Stream
	Closed   bool
}

// Stream implements das.Sink.
func (l *Log) Stream(s *das.Stream) error {
	l.Header = s
	l.Lines = append(l.Lines, "stream")
	return nil
}

// Dataset implements das.Sink.
func (l *Log) Dataset(ds *das.Dataset) error {
	if l.Datasets == nil {
		l.Datasets = map[int]*das.Dataset{}
	}
	l.Datasets[ds.ID] = ds
	l.Lines = append(l.Lines, fmt.Sprintf("dataset %d", ds.ID))
	return nil
}

// Record implements das.Sink.
func (l *Log) Record(r *das.Record) error {
	l.Lines = append(l.Lines, FormatRecord(r))
	return nil
}

// Comment implements das.Sink.
func (l *Log) Comment(c *das.Comment) error {
	l.Lines = append(l.Lines, fmt.Sprintf("comment %s %s", c.Type, c.Value))
	return nil
}

// Exception implements das.Sink.
func (l *Log) Exception(e *das.Exception) error {
	l.Lines = append(l.Lines, fmt.Sprintf("exception %s %s", e.Type, e.Message))
	return nil
}

// Close implements das.Sink.
func (l *Log) Close() error { l.Closed = true; return nil }

// Records returns only the record lines.
func (l *Log) Records() []string {
	var out []string
	for _, s := range l.Lines {
		if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
			out = append(out, s)
		}
	}
	return out
}

// FormatRecord prints one record in the das3_csv -n layout.
func FormatRecord(r *das.Record) string {
	var b []byte
	b = strconv.AppendInt(b, int64(r.DS.ID), 10)
	for _, v := range r.DS.PacketVars() {
		for i := 0; i < v.Items; i++ {
			b = append(b, ';')
			if v.IsTime() {
				t, ok := r.Time(v, i)
				if !ok {
					b = append(b, "badtime"...)
					continue
				}
				b = dastime.AppendISO(b, t, 3)
				continue
			}
			x := r.Float(v, i)
			if (v.Enc.Kind == das.EncReal && v.Enc.Size == 4) || (v.Enc.Kind == das.EncText && v.Enc.Size <= 15) {
				x = float64(float32(x))
			}
			b = strconv.AppendFloat(b, x, 'e', 7, 64)
		}
	}
	return string(b)
}
