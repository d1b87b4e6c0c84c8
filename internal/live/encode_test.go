package live

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// The hand-written value event decodes to exactly what encoding/json's does, for numbers
// of every size, text that needs escaping, images and odd paths.
func TestValueBatchEncodesLikeEncodingJSON(t *testing.T) {
	num := func(f float64) *float64 { return &f }
	text := func(s string) *string { return &s }
	at := time.Date(2026, 12, 2, 14, 3, 4, 123456000, time.UTC)
	vs := []Value{
		{SequenceID: 1, Path: "/lab/a", Timestamp: at, Num: num(1.5)},
		{SequenceID: 1, Path: "/lab/a", Timestamp: at.Add(time.Microsecond), Num: num(0)},
		{SequenceID: 1, Path: "/lab/a", Timestamp: at, Num: num(-1e-300)},
		{SequenceID: 1, Path: "/lab/a", Timestamp: at, Num: num(math.MaxFloat64)},
		{SequenceID: 1, Path: "/lab/a", Timestamp: at, Num: num(123456789012345678)},
		{SequenceID: 1, Path: "/lab/a", Timestamp: at, Num: num(1e21)},
		{SequenceID: 1, Path: "/lab/a", Timestamp: at, Num: num(-0.000001)},
		{SequenceID: 2, Path: `/lab/"quoted"\back<&>`, Timestamp: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Text: text("line\nbreak \u2028 é \x00 \"q\"")},
		{SequenceID: 3, Path: "/lab/über/ünïcode", Timestamp: at, Text: text("")},
		{SequenceID: 4, Path: "/lab/cam", Timestamp: at, ContentType: "image/png"},
	}
	got := appendValueBatch(nil, vs)
	want, err := json.Marshal(valueBatch{Values: vs})
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(got) {
		t.Fatalf("not JSON: %s", got)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("decoded differently:\n got  %s\n want %s", got, want)
	}
	if dec := DecodeValues(got); !reflect.DeepEqual(dec, DecodeValues(want)) || len(dec) != len(vs) {
		t.Fatalf("DecodeValues: %+v", dec)
	}
	if bytes.Contains(got, []byte("<")) {
		t.Fatalf("HTML characters are not escaped as encoding/json does: %s", got)
	}
}

func BenchmarkValueBatch1000(b *testing.B) {
	vs := make([]Value, 1000)
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i := range vs {
		f := float64(i) * 1.25
		vs[i] = Value{SequenceID: 7, Path: "/lab/data/s1", Timestamp: at.Add(time.Duration(i) * time.Millisecond), Num: &f}
	}
	b.Run("hand", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = appendValueBatch(buf[:0], vs)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(valueBatch{Values: vs}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
