package rhizoapi

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/fault"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 3, 1, 10, 0, 0, 500000000, time.UTC)
	for _, s := range []string{"2026-03-01T10:00:00.500000Z", "2026-03-01T10:00:00.5 Z", " 2026-03-01T10:00:00.500000 Z "} {
		got, err := parseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"2026-03-01T10:00:00", "2026-03-01 10:00:00Z", "yesterday", ""} {
		if _, err := parseTime(s); !fault.Is(err, fault.BadInput) || fault.SafeMessage(err) != "Invalid date/time." {
			t.Errorf("%q accepted or wrong error: %v", s, err)
		}
	}
}

func TestISOTime(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC):                 "2026-03-01T10:00:00Z",
		time.Date(2026, 3, 1, 10, 0, 0, 1500, time.UTC):              "2026-03-01T10:00:00.000001Z",
		time.Date(2026, 3, 1, 11, 0, 0, 0, time.FixedZone("", 3600)): "2026-03-01T10:00:00Z",
	} {
		if got := isoTime(in); got != want {
			t.Errorf("%v: %q, want %q", in, got, want)
		}
	}
	if got := ISOTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), " Z"); got != "2026-03-01T10:00:00 Z" {
		t.Errorf("space Z: %q", got)
	}
}

// Parameters come from the query string and a form body for every method; flags are true
// for any non-empty value.
func TestParameters(t *testing.T) {
	a := &api{Options{MaxUploadBytes: 1 << 20}}
	for _, method := range []string{"GET", "PUT", "POST", "DELETE"} {
		r := httptest.NewRequest(method, "/api/v1/resources/x?meta=1", strings.NewReader(url.Values{"extended": {"0"}, "count": {"5"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		values, err := a.parse(httptest.NewRecorder(), r)
		if err != nil {
			t.Fatal(err)
		}
		rq := &req{values: values}
		if !rq.flag("meta") || !rq.flag("extended") || rq.flag("download") {
			t.Errorf("%s: flags %v", method, values)
		}
		if n, err := rq.intParam("count", 1); n != 5 || err != nil {
			t.Errorf("%s: count %d %v", method, n, err)
		}
	}
	rq := &req{values: url.Values{"count": {"many"}}}
	if _, err := rq.intParam("count", 1); !fault.Is(err, fault.BadInput) {
		t.Errorf("bad count: %v", err)
	}
	if _, err := rq.required("type"); !fault.Is(err, fault.BadInput) {
		t.Errorf("missing required: %v", err)
	}
}

func TestSequenceSettings(t *testing.T) {
	got, err := sequenceSettings(map[string]any{"data_type": float64(2)}, true)
	if err != nil || got["data_type"] != "text" || got["max_history"] != 10000 || got["min_storage_interval"] != 0 {
		t.Fatalf("text defaults: %v %v", got, err)
	}
	got, err = sequenceSettings(map[string]any{"data_type": "1", "decimal_places": "2", "units": "C"}, true)
	if err != nil || got["data_type"] != "numeric" || got["max_history"] != 100000 || got["min_storage_interval"] != 50 || got["decimal_places"] != 2 {
		t.Fatalf("numeric: %v %v", got, err)
	}
	for _, bad := range []map[string]any{{}, {"data_type": float64(9)}, {"data_type": float64(1), "max_history": "-3"}} {
		if _, err := sequenceSettings(bad, true); !fault.Is(err, fault.BadInput) {
			t.Errorf("%v accepted: %v", bad, err)
		}
	}
}
