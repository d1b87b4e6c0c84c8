package hapi

// A Go rendering of the key checks of the HAPI verifier (hapi-server/verifier-nodejs
// is.js): info header rules and data stream rules, applied to our answers.

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hapiTime is a restricted ISO 8601 time with the Z the outgoing times need.
var hapiTime = regexp.MustCompile(`^[0-9]{4}-([0-9]{2}-[0-9]{2}|[0-9]{3})(T[0-9]{2}(:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?)?Z$`)

type vParam struct {
	Name   string          `json:"name"`
	Type   string          `json:"type"`
	Length int             `json:"length"`
	Units  json.RawMessage `json:"units"`
	Fill   json.RawMessage `json:"fill"`
	Size   []int           `json:"size"`
	Bins   []struct {
		Name    string    `json:"name"`
		Centers []float64 `json:"centers"`
		Units   *string   `json:"units"`
	} `json:"bins"`
	raw map[string]json.RawMessage
}

type vInfo struct {
	HAPI   string `json:"HAPI"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Format     string   `json:"format"`
	StartDate  string   `json:"startDate"`
	StopDate   string   `json:"stopDate"`
	Parameters []vParam `json:"parameters"`
}

// width is the number of CSV/binary columns of p.
func (p vParam) width() int {
	n := 1
	for _, s := range p.Size {
		n *= s
	}
	return n
}

// verifyInfo applies the verifier's info rules and returns the parsed header.
func verifyInfo(t *testing.T, raw []byte) vInfo {
	t.Helper()
	var in vInfo
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatalf("info not JSON: %v\n%s", err, raw)
	}
	var rawParams struct {
		Parameters []map[string]json.RawMessage `json:"parameters"`
	}
	_ = json.Unmarshal(raw, &rawParams)
	if in.HAPI != Version {
		t.Errorf("HAPI = %q", in.HAPI)
	}
	if in.Status.Code != 1200 && in.Status.Code != 1201 {
		t.Errorf("status %+v", in.Status)
	}
	for _, d := range []string{in.StartDate, in.StopDate} {
		if !hapiTime.MatchString(d) {
			t.Errorf("date %q is not a HAPI time", d)
		}
	}
	start, err1 := ParseTime(in.StartDate)
	stop, err2 := ParseTime(in.StopDate)
	if err1 != nil || err2 != nil || !start.Before(stop) {
		t.Errorf("startDate %s not before stopDate %s", in.StartDate, in.StopDate)
	}
	if len(in.Parameters) == 0 {
		t.Fatal("no parameters")
	}
	first := in.Parameters[0]
	if first.Type != "isotime" || first.Length <= 0 || string(first.Units) != `"UTC"` || (len(first.Fill) > 0 && string(first.Fill) != "null") {
		t.Errorf("first parameter %+v: want isotime, a length, units UTC, fill null", first)
	}
	names := map[string]bool{}
	for i, p := range in.Parameters {
		p.raw = rawParams.Parameters[i]
		for _, req := range []string{"name", "type", "units", "fill"} {
			if _, has := p.raw[req]; !has {
				t.Errorf("parameter %q lacks %s", p.Name, req)
			}
		}
		if names[p.Name] || p.Name == "" || strings.Contains(p.Name, ",") {
			t.Errorf("parameter name %q repeated, empty or with a comma", p.Name)
		}
		names[p.Name] = true
		switch p.Type {
		case "isotime", "string":
			if p.Length <= 0 {
				t.Errorf("%s: %s without length", p.Name, p.Type)
			}
		case "double", "integer":
			if p.Length != 0 {
				t.Errorf("%s: length on a %s", p.Name, p.Type)
			}
		default:
			t.Errorf("%s: type %q", p.Name, p.Type)
		}
		if p.Type == "isotime" && string(p.Units) != `"UTC"` {
			t.Errorf("%s: isotime units %s", p.Name, p.Units)
		}
		if string(p.Units) == `""` {
			t.Errorf("%s: empty units string", p.Name)
		}
		if string(p.Fill) != "null" {
			var fill string
			if err := json.Unmarshal(p.Fill, &fill); err != nil {
				t.Errorf("%s: fill %s is not a string or null", p.Name, p.Fill)
			}
			switch p.Type {
			case "double":
				if _, err := strconv.ParseFloat(fill, 64); err != nil {
					t.Errorf("%s: double fill %q", p.Name, fill)
				}
			case "integer":
				if _, err := strconv.ParseInt(fill, 10, 32); err != nil {
					t.Errorf("%s: integer fill %q", p.Name, fill)
				}
			case "isotime":
				if i == 0 || len(fill) != p.Length {
					t.Errorf("%s: isotime fill %q (length %d)", p.Name, fill, p.Length)
				}
			}
		}
		if vc, has := p.raw["vectorComponents"]; has {
			var comps []string
			if err := json.Unmarshal(vc, &comps); err != nil || len(p.Size) != 1 || len(comps) != p.Size[0] {
				t.Errorf("%s: vectorComponents %s for size %v", p.Name, vc, p.Size)
			}
			for _, c := range comps {
				if !strings.Contains(" x y z r rho latitude colatitude longitude longitude0 altitude other ", " "+c+" ") {
					t.Errorf("%s: vector component %q not in the schema's list", p.Name, c)
				}
			}
		}
		for _, s := range p.Size {
			if s < 1 {
				t.Errorf("%s: size %v", p.Name, p.Size)
			}
		}
		if p.Bins != nil {
			if len(p.Bins) != len(p.Size) {
				t.Errorf("%s: %d bins for size %v", p.Name, len(p.Bins), p.Size)
			}
			for d, b := range p.Bins {
				if b.Name == "" || b.Units == nil || (d < len(p.Size) && b.Centers != nil && len(b.Centers) != p.Size[d]) {
					t.Errorf("%s: bins[%d] = %+v for size %v", p.Name, d, b, p.Size)
				}
			}
		}
	}
	return in
}

// checkTime checks one data time: the declared length, a HAPI time, increasing,
// inside [start, stop).
func checkTime(t *testing.T, in vInfo, s string, last *time.Time, start, stop time.Time) {
	t.Helper()
	if len(s) != in.Parameters[0].Length || !hapiTime.MatchString(s) {
		t.Errorf("time %q: want a HAPI time of length %d", s, in.Parameters[0].Length)
		return
	}
	tm, err := ParseTime(s)
	if err != nil {
		t.Errorf("time %q: %v", s, err)
		return
	}
	if !last.IsZero() && !tm.After(*last) {
		t.Errorf("time %s not after %s", s, last.Format(time.RFC3339Nano))
	}
	if tm.Before(start) || !tm.Before(stop) {
		t.Errorf("time %s outside [%s, %s)", s, start, stop)
	}
	*last = tm
}

// verifyCSV applies the data rules to a CSV body and returns its rows.
func verifyCSV(t *testing.T, in vInfo, body string, start, stop time.Time) [][]string {
	t.Helper()
	want := 0
	for _, p := range in.Parameters {
		want += p.width()
	}
	var rows [][]string
	var last time.Time
	for line := range strings.Lines(body) {
		if !strings.HasSuffix(line, "\n") {
			t.Errorf("row %q does not end in a newline", line)
		}
		f := strings.Split(strings.TrimSuffix(line, "\n"), ",")
		if len(f) != want {
			t.Errorf("row %q has %d columns, want %d", line, len(f), want)
			continue
		}
		checkTime(t, in, f[0], &last, start, stop)
		col := 1
		for _, p := range in.Parameters[1:] {
			for range p.width() {
				switch p.Type {
				case "double":
					if _, err := strconv.ParseFloat(f[col], 64); err != nil {
						t.Errorf("%s: %q is no double", p.Name, f[col])
					}
				case "integer":
					if _, err := strconv.ParseInt(f[col], 10, 32); err != nil {
						t.Errorf("%s: %q is no integer", p.Name, f[col])
					}
				}
				col++
			}
		}
		rows = append(rows, f)
	}
	return rows
}

// decodeBinary reads a binary body back into CSV-like text rows (doubles with
// 'g' -1, integers in decimal) after checking its record structure.
func decodeBinary(t *testing.T, in vInfo, body []byte, start, stop time.Time) [][]string {
	t.Helper()
	size := 0
	for _, p := range in.Parameters {
		switch p.Type {
		case "isotime", "string":
			size += p.Length * p.width()
		case "double":
			size += 8 * p.width()
		case "integer":
			size += 4 * p.width()
		}
	}
	if len(body)%size != 0 {
		t.Fatalf("binary body of %d bytes is no multiple of the %d-byte record", len(body), size)
	}
	var rows [][]string
	var last time.Time
	for off := 0; off < len(body); {
		var row []string
		for pi, p := range in.Parameters {
			for range p.width() {
				switch p.Type {
				case "isotime", "string":
					s := strings.TrimRight(string(body[off:off+p.Length]), "\x00")
					off += p.Length
					if pi == 0 {
						checkTime(t, in, s, &last, start, stop)
					}
					row = append(row, s)
				case "double":
					x := math.Float64frombits(binary.LittleEndian.Uint64(body[off:]))
					off += 8
					row = append(row, appendFloatString(x))
				case "integer":
					x := int32(binary.LittleEndian.Uint32(body[off:]))
					off += 4
					row = append(row, strconv.Itoa(int(x)))
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// appendFloatString formats a decoded double as the CSV writer does for values
// that came from 4-byte reals (those that are float32 values).
func appendFloatString(x float64) string { return string(appendFloat(nil, x, 32)) }

// verifyJSON checks a JSON data answer: the info rules on its header and the data
// rules on its records (arrays as nested JSON arrays).
func verifyJSON(t *testing.T, body []byte, start, stop time.Time) (vInfo, [][]any) {
	t.Helper()
	in := verifyInfo(t, body)
	if in.Format != "json" {
		t.Errorf("format %q in a JSON answer", in.Format)
	}
	var d struct {
		Data [][]any `json:"data"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("json data: %v", err)
	}
	var last time.Time
	for _, rec := range d.Data {
		if len(rec) != len(in.Parameters) {
			t.Errorf("record %v has %d elements for %d parameters", rec, len(rec), len(in.Parameters))
			continue
		}
		s, _ := rec[0].(string)
		checkTime(t, in, s, &last, start, stop)
		for i, p := range in.Parameters[1:] {
			v := rec[i+1]
			if p.Size != nil {
				arr, isArr := v.([]any)
				if !isArr || len(arr) != p.Size[0] {
					t.Errorf("%s: %v is not an array of %d", p.Name, v, p.Size[0])
				}
			}
		}
	}
	return in, d.Data
}
