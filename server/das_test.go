package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/sources"
	"github.com/rhizoflex/rhizoflex/internal/tree"
	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// dasStart is the time of the first stored value; values are one second apart.
var dasStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const dasValues = 100

func dasValue(i int) float64 { return 20 + float64(i)*0.25 }

// storeDasValues writes dasValues values into /lab/data/temperature.
func storeDasValues(t *testing.T, ts *testServer) {
	t.Helper()
	seq, err := tree.ByPath(t.Context(), ts.db.Client, "/lab/data/temperature")
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]series.Value, dasValues)
	for i := range vals {
		v := dasValue(i)
		vals[i] = series.Value{Time: dasStart.Add(time.Duration(i) * time.Second), Num: &v}
	}
	if err := series.Append(t.Context(), ts.db.Client, seq, vals); err != nil {
		t.Fatal(err)
	}
}

type dasResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

func (c *gqlClient) get(t *testing.T, path string) dasResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return dasResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// collected is a decoded stream: the (time, value) pairs of its records and its exception.
type collected struct {
	Times  []time.Time
	Values []float64
	Exc    *das.Exception
	Header *das.Stream
}

func (c *collected) Stream(s *das.Stream) error       { c.Header = s; return nil }
func (c *collected) Dataset(*das.Dataset) error       { return nil }
func (c *collected) Comment(*das.Comment) error       { return nil }
func (c *collected) Close() error                     { return nil }
func (c *collected) Exception(e *das.Exception) error { c.Exc = e; return nil }
func (c *collected) Record(rec *das.Record) error {
	at, ok := rec.Time(rec.DS.TimeVar(), 0)
	if !ok {
		return io.ErrUnexpectedEOF
	}
	for _, d := range rec.DS.Dims {
		if d.Kind == das.Data {
			c.Times = append(c.Times, sources.ToTime(at))
			c.Values = append(c.Values, rec.Float(d.Vars[0], 0))
			return nil
		}
	}
	return io.ErrUnexpectedEOF
}

// decodeDas parses a das2.2 or das3 body with our readers.
func decodeDas(t *testing.T, body []byte) *collected {
	t.Helper()
	c := &collected{}
	if _, err := convert.Decode(t.Context(), bytes.NewReader(body), c, nil); err != nil {
		t.Fatalf("decode: %v\n%q", err, body)
	}
	return c
}

// decodeCSV parses a CSV body with a header row.
func decodeCSV(t *testing.T, body []byte) *collected {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	c := &collected{}
	for i, row := range rows {
		if i == 0 {
			continue // header row
		}
		at, err := dastime.ParseString(row[0])
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(row[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		c.Times = append(c.Times, sources.ToTime(at))
		c.Values = append(c.Values, v)
	}
	return c
}

// wantValues checks that c holds the stored values lo..hi-1.
func wantValues(t *testing.T, c *collected, lo, hi int) {
	t.Helper()
	if len(c.Values) != hi-lo {
		t.Fatalf("got %d records, want %d", len(c.Values), hi-lo)
	}
	for i := range c.Values {
		wantT, wantV := dasStart.Add(time.Duration(lo+i)*time.Second), dasValue(lo+i)
		if !c.Times[i].Equal(wantT) || c.Values[i] != wantV {
			t.Fatalf("record %d: got %s %v, want %s %v", i, c.Times[i], c.Values[i], wantT, wantV)
		}
	}
}

// libraryBytes is what the streams library writes for stored values lo..hi-1 of src in
// the format o: what the endpoint must send.
func libraryBytes(t *testing.T, ts *testServer, o convert.Options, rd sources.Read, lo, hi int) []byte {
	t.Helper()
	seq, err := tree.ByPath(t.Context(), ts.db.Client, "/lab/data/temperature")
	if err != nil {
		t.Fatal(err)
	}
	src := sources.SourceOf(seq)
	var buf bytes.Buffer
	w, err := convert.NewWriter(&buf, o)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := sources.Dataset(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Stream(sources.StreamHeader(src, rd)); err != nil {
		t.Fatal(err)
	}
	if err := w.Dataset(ds); err != nil {
		t.Fatal(err)
	}
	var rec das.Record
	rec.Reset(ds)
	for i := lo; i < hi; i++ {
		rec.Floats[0] = float64(dasStart.Add(time.Duration(i)*time.Second).UnixMicro() - 946684800_000_000)
		rec.Floats[1] = dasValue(i)
		if err := w.Record(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustParse(t *testing.T, s string) dastime.Time {
	t.Helper()
	v, err := dastime.ParseString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDasFormats(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		c := ts.bearer(t, ts.world.Keys["userkey"])
		rd := sources.Read{Min: mustParse(t, "2024-01-01"), Max: mustParse(t, "2024-01-02")}
		const rng = "read.time.min=2024-01-01&read.time.max=2024-01-02"
		for _, tc := range []struct {
			query, ctype string
			opts         convert.Options
		}{
			{"", "application/vnd.das.stream", convert.Options{Format: convert.Das3}},
			{"&format.version=3&format.serial=text", "text/vnd.das.stream; charset=utf-8", convert.Options{Format: convert.Das3, Text: true}},
			{"&format.type=das&format.version=2", "application/vnd.das2.das2stream", convert.Options{Format: convert.Das2}},
			{"&format.version=2&format.serial=text", "text/vnd.das2.das2stream; charset=utf-8", convert.Options{Format: convert.Das2, Text: true}},
			{"&format.version=2&format.serial=text&format.secfrac=0&format.sigdigit=4", "text/vnd.das2.das2stream; charset=utf-8", convert.Options{Format: convert.Das2, Text: true, TimeFrac: -1, SigDigits: 4}},
			{"&format.type=csv&format.headers=true", "text/csv; charset=utf-8", convert.Options{Format: convert.CSV}},
			{"&format.type=csv&format.delim=%3B", "text/csv; charset=utf-8", convert.Options{Format: convert.CSV, Delim: ';', NoHeaders: true}},
		} {
			t.Run(tc.query, func(t *testing.T) {
				res := c.get(t, "/das/source/lab/data/temperature/flex?"+rng+tc.query)
				if res.Status != http.StatusOK || res.Header.Get("Content-Type") != tc.ctype {
					t.Fatalf("status %d, Content-Type %q, want %q: %s", res.Status, res.Header.Get("Content-Type"), tc.ctype, res.Body)
				}
				if !strings.Contains(res.Header.Get("Content-Disposition"), `filename="temperature_2024-01-01.`) {
					t.Errorf("Content-Disposition %q", res.Header.Get("Content-Disposition"))
				}
				if res.Header.Get("Access-Control-Allow-Origin") != "*" || res.Header.Get("Expires") != "now" {
					t.Errorf("headers %v", res.Header)
				}
				want := libraryBytes(t, ts, tc.opts, rd, 0, dasValues)
				if !bytes.Equal(res.Body, want) {
					t.Fatalf("body differs from the library's bytes:\ngot  %q\nwant %q", res.Body, want)
				}
				switch {
				case tc.opts.Format == convert.CSV && !tc.opts.NoHeaders:
					wantValues(t, decodeCSV(t, res.Body), 0, dasValues)
				case tc.opts.Format != convert.CSV && tc.opts.SigDigits == 0:
					wantValues(t, decodeDas(t, res.Body), 0, dasValues)
				}
			})
		}
	})
}

func TestDasRangesAndTimeForms(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		c := ts.bearer(t, ts.world.Keys["userkey"])
		for _, tc := range []struct {
			path   string
			lo, hi int
		}{
			{"/das/source/lab/data/temperature/flex?read.time.min=2024-01-01T00:00:10&read.time.max=2024-01-01T00:00:20", 10, 20},
			{"/das/source/lab/data/temperature/flex?read.time.min=2024-001T00:00:10.000Z&read.time.max=2024-001T00:00:20Z", 10, 20},
			{"/das/source/lab/data/temperature/flex?read.time.min=2024-01-01+00:00:10&read.time.max=2024-01-01%2000:01", 10, 60},
			{"/das/source/lab/data/temperature/das2?start_time=2024-01-01T00:00:10&end_time=2024-01-01T00:00:20", 10, 20},
			{"/das/server?server=dataset&dataset=lab%2Fdata%2Ftemperature&start_time=2024-01-01T00:00:10.000Z&end_time=2024-01-01T00:00:20.000Z", 10, 20},
			{"/das/server?server=dataset;dataset=lab/data/temperature;start_time=2024-01-01;end_time=2024-01-02;ascii=1", 0, dasValues},
			{"/das/server?server=compactdataset&dataset=lab/data/temperature&start_time=2024-01-01&end_time=2024-01-02&resolution=", 0, dasValues},
		} {
			res := c.get(t, tc.path)
			if res.Status != http.StatusOK {
				t.Fatalf("%s: status %d: %s", tc.path, res.Status, res.Body)
			}
			wantValues(t, decodeDas(t, res.Body), tc.lo, tc.hi)
		}

		// The verb API and the das2 path API give the same bytes.
		verb := c.get(t, "/das/server?server=dataset&dataset=lab/data/temperature&start_time=2024-01-01&end_time=2024-01-02")
		path := c.get(t, "/das/source/lab/data/temperature/das2?start_time=2024-01-01&end_time=2024-01-02")
		flex := c.get(t, "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02&format.version=2")
		if !bytes.Equal(verb.Body, path.Body) || !bytes.Equal(verb.Body, flex.Body) {
			t.Error("verb, das2 path and flex answers differ")
		}
		if verb.Header.Get("Content-Type") != "application/vnd.das2.das2stream" {
			t.Errorf("Content-Type %q", verb.Header.Get("Content-Type"))
		}
		ascii := c.get(t, "/das/server?server=dataset&dataset=lab/data/temperature&start_time=2024-01-01&end_time=2024-01-02&ascii=true")
		if ascii.Header.Get("Content-Type") != "text/vnd.das2.das2stream; charset=utf-8" || !bytes.Contains(ascii.Body, []byte("2024-01-01T00:00:01.000")) {
			t.Errorf("ascii: %q %.200q", ascii.Header.Get("Content-Type"), ascii.Body)
		}

		// An empty range is 200 with a no-data exception of the requested version.
		for _, tc := range []struct{ path, exc string }{
			{"/das/source/lab/data/temperature/flex?read.time.min=2023-01-01&read.time.max=2023-01-02&format.version=2", "NoDataInInterval"},
			{"/das/source/lab/data/temperature/flex?read.time.min=2023-01-01&read.time.max=2023-01-02", "NoMatchingData"},
			{"/das/server?server=dataset&dataset=lab/data/temperature&start_time=2024-01-02&end_time=2024-01-03", "NoDataInInterval"},
		} {
			res := c.get(t, tc.path)
			if res.Status != http.StatusOK {
				t.Fatalf("%s: status %d", tc.path, res.Status)
			}
			got := decodeDas(t, res.Body)
			if got.Exc == nil || got.Exc.Type != tc.exc || len(got.Values) != 0 {
				t.Errorf("%s: exception %+v, %d values", tc.path, got.Exc, len(got.Values))
			}
		}
	})
}

func TestDasResolution(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		c := ts.basic(t, ts.world.Keys["userkey"]) // das2 clients send the key by HTTP Basic
		// 10 s bins over 1 s data: 10 averages, at the bin centres.
		for _, p := range []string{
			"/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02&bin.time.max=10",
			"/das/server?server=dataset&dataset=lab/data/temperature&start_time=2024-01-01&end_time=2024-01-02&resolution=10.0",
			"/das/source/lab/data/temperature/das2?start_time=2024-01-01&end_time=2024-01-02&resolution=1E1",
		} {
			res := c.get(t, p)
			if res.Status != http.StatusOK {
				t.Fatalf("%s: status %d: %s", p, res.Status, res.Body)
			}
			got := decodeDas(t, res.Body)
			if len(got.Values) != dasValues/10 {
				t.Fatalf("%s: %d records, want %d", p, len(got.Values), dasValues/10)
			}
			for b := range got.Values {
				sum := 0.0
				for i := b * 10; i < b*10+10; i++ {
					sum += dasValue(i)
				}
				wantT := dasStart.Add(time.Duration(b)*10*time.Second + 5*time.Second)
				if got.Values[b] != sum/10 || !got.Times[b].Equal(wantT) {
					t.Fatalf("bin %d: %s %v, want %s %v", b, got.Times[b], got.Values[b], wantT, sum/10)
				}
			}
			if !strings.Contains(res.Header.Get("Content-Disposition"), "_bin-10s.") {
				t.Errorf("Content-Disposition %q", res.Header.Get("Content-Disposition"))
			}
		}
		// A bin finer than the data, or 0, leaves the values alone.
		for _, bin := range []string{"0.5", "0", "1"} {
			res := c.get(t, "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02&bin.time.max="+bin)
			wantValues(t, decodeDas(t, res.Body), 0, dasValues)
		}
	})
}

func TestDasAccess(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		anon := ts.client(t)
		other := ts.login(t, "omember")
		hidden := "lab/data/temperature"
		for _, missing := range []string{"lab/data/nothing", "nowhere", "lab/data/notes.txt", "lab/data"} {
			for _, tc := range []struct {
				c      *gqlClient
				status int
			}{{anon, http.StatusUnauthorized}, {other, http.StatusNotFound}} {
				for _, form := range []string{
					"/das/source/%s/flex?read.time.min=2024-01-01&read.time.max=2024-01-02",
					"/das/source/%s/flex?read.time.min=2024-01-01&read.time.max=2024-01-02&format.version=2",
					"/das/server?server=dataset&dataset=%s&start_time=2024-01-01&end_time=2024-01-02",
					"/das/server?server=dsdf&dataset=%s",
					"/das/source/%s/das2.d2t",
					"/das/source/%s.json",
					"/das/source/%s/flex.json",
				} {
					h := tc.c.get(t, strings.Replace(form, "%s", hidden, 1))
					m := tc.c.get(t, strings.Replace(form, "%s", missing, 1))
					if h.Status != tc.status || m.Status != tc.status {
						t.Fatalf("%s: status hidden %d, missing %d, want %d", form, h.Status, m.Status, tc.status)
					}
					if tc.status == http.StatusUnauthorized {
						for _, r := range []dasResponse{h, m} {
							if r.Header.Get("WWW-Authenticate") != `Basic realm="rhizoflex"` {
								t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
							}
						}
					}
					he, me := decodeDas(t, h.Body).Exc, decodeDas(t, m.Body).Exc
					if he == nil || me == nil || he.Type != me.Type || h.Header.Get("Content-Type") != m.Header.Get("Content-Type") ||
						strings.ReplaceAll(he.Message, hidden, "ID") != strings.ReplaceAll(me.Message, missing, "ID") {
						t.Fatalf("%s: hidden and missing differ:\n%q\n%q", form, h.Body, m.Body)
					}
				}
			}
		}
		// Readers get the data: a public source anonymously, a lab source with a key by
		// Basic or Bearer, or a session.
		for _, c := range []*gqlClient{ts.basic(t, ts.world.Keys["userkey"]), ts.bearer(t, ts.world.Keys["ctrlkey"]), ts.login(t, "lmember")} {
			res := c.get(t, "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02")
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			wantValues(t, decodeDas(t, res.Body), 0, dasValues)
		}
		if res := anon.get(t, "/das/source/other/pub/pressure/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"); res.Status != http.StatusOK {
			t.Fatalf("public source: %d %s", res.Status, res.Body)
		}
		// A wrong key is refused, not taken for anonymous.
		if res := ts.basic(t, "not-a-key").get(t, "/das/server?server=list"); res.Status != http.StatusUnauthorized ||
			!strings.Contains(res.Header.Get("WWW-Authenticate"), `Basic realm="rhizoflex"`) {
			t.Fatalf("wrong key: %d %v", res.Status, res.Header)
		}
	})
}

func TestDasBadRequests(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.bearer(t, ts.world.Keys["userkey"])
		const src = "/das/source/lab/data/temperature/flex?"
		for _, tc := range []struct {
			path, names string
			version     int
		}{
			{src + "read.time.max=2024-01-02", "read.time.min", 3},
			{src + "read.time.min=2024-01-01", "read.time.max", 3},
			{src + "read.time.min=yesterday&read.time.max=2024-01-02", "read.time.min", 3},
			{src + "read.time.min=2024-01-02&read.time.max=2024-01-01", "read.time.max", 3},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&bin.time.max=-1", "bin.time.max", 3},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&bin.time.max=NaN", "bin.time.max", 3},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&format.type=png", "format.type", 3},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&format.version=4", "format.version", 2},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&format.version=2&format.serial=xml", "format.serial", 2},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&format.secfrac=12", "format.secfrac", 3},
			{src + "read.time.min=2024-01-01&read.time.max=2024-01-02&format.sigdigit=1", "format.sigdigit", 3},
			{"/das/server?server=dataset&dataset=lab/data/temperature&end_time=2024-01-02", "start_time", 2},
			{"/das/source/lab/data/temperature/das2?start_time=2024-01-01", "end_time", 2},
			{"/das/server?server=dataset&dataset=lab/data/temperature&start_time=2024-01-01&end_time=2024-01-02&resolution=fast", "resolution", 2},
			{"/das/server?server=dataset&start_time=2024-01-01&end_time=2024-01-02", "dataset", 2},
			{"/das/server?server=dsdf", "dataset", 2},
			{"/das/server?server=frobnicate", "frobnicate", 2},
		} {
			res := c.get(t, tc.path)
			if res.Status != http.StatusBadRequest {
				t.Fatalf("%s: status %d: %s", tc.path, res.Status, res.Body)
			}
			got := decodeDas(t, res.Body)
			wantType := das.IllegalArgument
			if tc.version == 3 {
				wantType = das.QueryError
			}
			if got.Exc == nil || got.Exc.Type != wantType || !strings.Contains(got.Exc.Message, tc.names) {
				t.Errorf("%s: exception %+v, want %s naming %s", tc.path, got.Exc, wantType, tc.names)
			}
		}
		// Browsers get the bare message as text.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+src+"read.time.min=x&read.time.max=y", nil)
		req.Header.Set("Accept", "text/html,*/*")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.Contains(string(body), "read.time.min") {
			t.Errorf("browser: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
}

func TestDasListDsdfAndID(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		for _, tc := range []struct {
			c           *gqlClient
			want, never []string
		}{
			{ts.client(t), []string{"other/", "other/pub/", "other/pub/pressure|Numeric sequence /other/pub/pressure"},
				[]string{"lab/", "lab/data/temperature", "other/data/temperature"}},
			{ts.bearer(t, ts.world.Keys["userkey"]), []string{"lab/", "lab/data/", "lab/data/temperature|Numeric sequence /lab/data/temperature",
				"lab/ctrl/status/free_disk_space|Numeric sequence /lab/ctrl/status/free_disk_space [bytes]",
				"other/", "other/pub/", "other/pub/pressure|Numeric sequence /other/pub/pressure"},
				[]string{"other/data/temperature", "lab/data/notes.txt", "other/data/"}},
		} {
			for _, verb := range []string{"list", "discovery", "LIST"} {
				res := tc.c.get(t, "/das/server?server="+verb)
				if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
					t.Fatalf("%s: %d %q", verb, res.Status, res.Header.Get("Content-Type"))
				}
				lines := strings.Split(strings.TrimSuffix(string(res.Body), "\n"), "\n")
				pos := map[string]int{}
				for i, l := range lines {
					pos[l] = i + 1
				}
				for _, w := range tc.want {
					if pos[w] == 0 {
						t.Errorf("%s does not list %q:\n%s", verb, w, res.Body)
					}
				}
				for _, n := range tc.never {
					if strings.Contains(string(res.Body), n) {
						t.Errorf("%s lists %q:\n%s", verb, n, res.Body)
					}
				}
				// A directory comes before what is in it.
				for _, l := range lines {
					id, _, _ := strings.Cut(l, "|")
					if dir := id[:strings.LastIndex(strings.TrimSuffix(id, "/"), "/")+1]; dir != "" && pos[dir] > pos[l] {
						t.Errorf("%s: %q before its directory %q", verb, l, dir)
					}
				}
			}
		}

		c := ts.basic(t, ts.world.Keys["userkey"])
		for _, p := range []string{"/das/server?server=dsdf&dataset=lab/data/temperature", "/das/source/lab/data/temperature/das2.d2t"} {
			res := c.get(t, p)
			if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "text/vnd.das2.das2stream; charset=utf-8" {
				t.Fatalf("%s: %d %q %s", p, res.Status, res.Header.Get("Content-Type"), res.Body)
			}
			// One [00] packet whose length is exact and nothing after </stream> (spec 2.3).
			n, err := strconv.Atoi(string(res.Body[4:10]))
			if err != nil || string(res.Body[:4]) != "[00]" || 10+n != len(res.Body) || !strings.HasSuffix(strings.TrimSpace(string(res.Body)), "</stream>") {
				t.Fatalf("dsdf framing: %q", res.Body)
			}
			var got collected
			if err := das2.Decode(t.Context(), bytes.NewReader(res.Body), &got, das2.ReaderOptions{}); err != nil {
				t.Fatal(err)
			}
			props := map[string]string{}
			for _, p := range got.Header.Props {
				props[p.Name] = p.Value
			}
			want := map[string]string{
				"description":     "Numeric sequence /lab/data/temperature",
				"data_00":         "temperature | temperature",
				"securityRealm":   "rhizoflex",
				"das2Stream":      "1",
				"validRange":      "2024-01-01T00:00:00 to 2024-01-01T00:01:40",
				"exampleRange_00": "2024-01-01T00:00:00 to 2024-01-01T00:01:40 UTC | the last day with data",
			}
			for k, v := range want {
				if props[k] != v {
					t.Errorf("dsdf %s = %q, want %q (%q)", k, props[k], v, res.Body)
				}
			}
		}

		if res := c.get(t, "/das/source/lab/ctrl/status/free_disk_space/das2.d2t"); !strings.Contains(string(res.Body), `data_00="free_disk_space | free_disk_space | bytes"`) {
			t.Errorf("dsdf with units: %s", res.Body)
		}
		for verb, want := range map[string]string{"id": "rhizoflex\n"} {
			if res := c.get(t, "/das/server?server="+verb); res.Status != http.StatusOK || string(res.Body) != want {
				t.Errorf("server=%s: %d %q", verb, res.Status, res.Body)
			}
		}
		if res := c.get(t, "/das/server?server=peers"); res.Status != http.StatusOK || !strings.Contains(string(res.Body), "<peers>") {
			t.Errorf("peers: %d %s", res.Status, res.Body)
		}
		if res := c.get(t, "/das/server"); res.Status != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("intro: %d %q", res.Status, res.Header.Get("Content-Type"))
		}
	})
}

// A client that goes away mid-stream ends the request: the handler stops reading.
func TestDasClientGoesAway(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	seq, err := tree.ByPath(t.Context(), ts.db.Client, "/lab/data/temperature")
	if err != nil {
		t.Fatal(err)
	}
	const n = 5 * series.ReadChunk
	vals := make([]series.Value, n)
	for i := range vals {
		v := float64(i)
		vals[i] = series.Value{Time: dasStart.Add(time.Duration(i) * time.Millisecond), Num: &v}
	}
	if err := series.Append(t.Context(), ts.db.Client, seq, vals); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	u := ts.URL + "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02&format.version=2&format.serial=text"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+ts.world.Keys["userkey"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	_ = resp.Body.Close()
	// The server notices on its next write; nothing is left to assert over HTTP but that the
	// server still answers promptly.
	res := ts.bearer(t, ts.world.Keys["userkey"]).get(t, "/das/server?server=id")
	if res.Status != http.StatusOK {
		t.Fatal(res.Status)
	}
}

func TestDasCatalogNodes(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		c := ts.bearer(t, ts.world.Keys["userkey"])
		getJSON := func(c *gqlClient, path string) map[string]any {
			t.Helper()
			res := c.get(t, path)
			if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s: %d %q %s", path, res.Status, res.Header.Get("Content-Type"), res.Body)
			}
			var m map[string]any
			if err := json.Unmarshal(res.Body, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		cat := getJSON(c, "/das/catalog.json")
		entries, _ := cat["catalog"].(map[string]any)
		if cat["type"] != "Catalog" || entries["lab/data/temperature"] == nil || entries["other/data/temperature"] != nil {
			t.Fatalf("catalog: %v", cat)
		}
		if anon := getJSON(ts.client(t), "/das/catalog.json")["catalog"].(map[string]any); anon["lab/data/temperature"] != nil || anon["other/pub/pressure"] == nil {
			t.Fatalf("anonymous catalog: %v", anon)
		}
		set := getJSON(c, "/das/source/lab/data/temperature.json")
		flex := set["catalog"].(map[string]any)["flex"].(map[string]any)
		if set["type"] != "SourceSet" || flex["urls"].([]any)[0] != ts.URL+"/das/source/lab/data/temperature/flex.json" {
			t.Fatalf("source set: %v", set)
		}
		node := getJSON(c, "/das/source/lab/data/temperature/flex.json")
		proto := node["protocol"].(map[string]any)
		base := proto["baseUrls"].([]any)[0].(string)
		if node["type"] != "HttpStreamSrc" || base != ts.URL+"/das/source/lab/data/temperature/flex" ||
			proto["authorization"].(map[string]any)["required"] != true {
			t.Fatalf("flex node: %v", node)
		}
		vr := node["interface"].(map[string]any)["coords"].(map[string]any)["time"].(map[string]any)["validRange"].([]any)
		if vr[0] != "2024-01-01T00:00:00" || vr[1] != "2024-01-01T00:01:40" {
			t.Errorf("validRange %v", vr)
		}
		// The advertised URL answers with the stored values.
		res := c.get(t, strings.TrimPrefix(base, ts.URL)+"?read.time.min="+vr[0].(string)+"&read.time.max="+vr[1].(string))
		wantValues(t, decodeDas(t, res.Body), 0, dasValues)
		if pub := getJSON(ts.client(t), "/das/source/other/pub/pressure/flex.json"); pub["protocol"].(map[string]any)["authorization"].(map[string]any)["required"] != false {
			t.Errorf("public source: %v", pub["protocol"])
		}
	})
}

// das clients may send e-mail (or user name) and password by HTTP Basic; failures count
// like failed logins, and the password is taken nowhere but on das reads.
func TestDasPasswordBasic(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		const u = "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"
		pw := func(login, password string) *gqlClient {
			c := ts.client(t)
			c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
			return c
		}
		for _, login := range []string{"lmember@example.com", "LMember"} {
			res := pw(login, fixture.Password).get(t, u)
			if res.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", login, res.Status, res.Body)
			}
			wantValues(t, decodeDas(t, res.Body), 0, dasValues)
		}
		// Another organization's member signs in fine but cannot see the source.
		if res := pw("omember@example.com", fixture.Password).get(t, u); res.Status != http.StatusNotFound {
			t.Fatalf("omember: %d %s", res.Status, res.Body)
		}
		// Wrong credentials: 401 again, with the realm, so the client prompts again.
		for _, c := range []*gqlClient{pw("lmember@example.com", "wrong"), pw("nobody@example.com", fixture.Password), pw("", "wrong")} {
			res := c.get(t, u)
			if res.Status != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Basic realm="rhizoflex"` {
				t.Fatalf("wrong credentials: %d %q", res.Status, res.Header.Get("WWW-Authenticate"))
			}
		}
		// Not a way into GraphQL: a browser's cached Basic credentials must not act there.
		if res := pw("lmember@example.com", fixture.Password).do(t, `{ me { id } }`, nil); res.Status != http.StatusUnauthorized {
			t.Fatalf("graphql with a password by Basic: %d %s", res.Status, res.raw)
		}
		// Guessing is rate limited per account, even with the right password afterwards.
		var last dasResponse
		for range 12 {
			last = pw("ladmin@example.com", "guess").get(t, u)
		}
		if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
			t.Fatalf("after 12 wrong passwords: %d %v", last.Status, last.Header)
		}
		if res := pw("ladmin@example.com", fixture.Password).get(t, u); res.Status != http.StatusTooManyRequests {
			t.Fatalf("right password while limited: %d", res.Status)
		}
	})
}

func TestDasServerFiles(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		c := ts.bearer(t, ts.world.Keys["userkey"])
		anon := ts.client(t)
		for _, p := range []string{"/das/logo.png", "/das/server?server=logo"} {
			res := anon.get(t, p)
			if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(res.Body, []byte("\x89PNG\r\n\x1a\n")) {
				t.Fatalf("%s: %d %q", p, res.Status, res.Header.Get("Content-Type"))
			}
		}
		if res := anon.get(t, "/das/id.txt"); res.Status != http.StatusOK || string(res.Body) != "rhizoflex\n" {
			t.Errorf("id.txt: %d %q", res.Status, res.Body)
		}
		var id map[string]any
		if res := anon.get(t, "/das/id.json"); res.Status != http.StatusOK || json.Unmarshal(res.Body, &id) != nil || id["label"] != "rhizoflex" || id["server"] != ts.URL+"/das/server" {
			t.Errorf("id.json: %d %s", res.Status, res.Body)
		}
		if res := anon.get(t, "/das/peers.xml"); res.Status != http.StatusOK || res.Header.Get("Content-Type") != "text/xml; charset=utf-8" || !strings.Contains(string(res.Body), "<das2server>") {
			t.Errorf("peers.xml: %d %s", res.Status, res.Body)
		}
		root := c.get(t, "/das/root.json")
		var cat map[string]any
		if json.Unmarshal(root.Body, &cat) != nil || cat["type"] != "Catalog" || cat["catalog"].(map[string]any)["lab/data/temperature"] == nil {
			t.Errorf("root.json: %s", root.Body)
		}

		// nodes.csv: three nodes per source the caller can read, CRLF.
		for _, tc := range []struct {
			c           *gqlClient
			want, never string
		}{{c, "lab/data/temperature", "other/data/temperature"}, {anon, "other/pub/pressure", "lab/data/temperature"}} {
			res := tc.c.get(t, "/das/nodes.csv")
			if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
				t.Fatalf("nodes.csv: %d %q", res.Status, res.Header.Get("Content-Type"))
			}
			r := csv.NewReader(bytes.NewReader(res.Body))
			r.FieldsPerRecord = -1
			rows, err := r.ReadAll()
			if err != nil || !bytes.Contains(res.Body, []byte("\r\n")) {
				t.Fatalf("nodes.csv: %v %q", err, res.Body)
			}
			if strings.Join(rows[0][:5], ",") != "LocalID,Type,Title,URL,Item-MIME" || rows[0][5] != "Provides-MIME" {
				t.Errorf("header %q", rows[0])
			}
			found := map[string]string{}
			for _, row := range rows[1:] {
				found[row[0]] = row[3]
				if strings.HasPrefix(row[0], tc.never) {
					t.Errorf("nodes.csv lists %q", row[0])
				}
			}
			if found[tc.want] != ts.URL+"/das/source/"+tc.want+".json" || found[tc.want+"/flex"] != ts.URL+"/das/source/"+tc.want+"/flex.json" ||
				found[tc.want+"/das2"] != ts.URL+"/das/source/"+tc.want+"/das2.d2t" {
				t.Errorf("nodes.csv rows for %s: %v", tc.want, found)
			}
		}

		// The query form links fill in the last day with data; they answer with the values.
		form := c.get(t, "/das/source/lab/data/temperature.html")
		if form.Status != http.StatusOK || !strings.Contains(form.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("form: %d %s", form.Status, form.Body)
		}
		link := "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01T00%3A00%3A00&amp;read.time.max=2024-01-01T00%3A01%3A40&amp;format.version=2"
		if !strings.Contains(string(form.Body), link) || !strings.Contains(string(form.Body), `name="read.time.min" value="2024-01-01T00:00:00"`) {
			t.Fatalf("form lacks the example link:\n%s", form.Body)
		}
		res := c.get(t, strings.ReplaceAll(link, "&amp;", "&"))
		wantValues(t, decodeDas(t, res.Body), 0, dasValues)
		// Hidden like the data: 401 anonymous, 404 for another organization.
		if res := anon.get(t, "/das/source/lab/data/temperature.html"); res.Status != http.StatusUnauthorized {
			t.Errorf("anonymous form: %d", res.Status)
		}
		if res := ts.login(t, "omember").get(t, "/das/source/lab/data/temperature.html"); res.Status != http.StatusNotFound {
			t.Errorf("other organization's form: %d", res.Status)
		}
		dir := anon.get(t, "/das/source/")
		if !strings.Contains(string(dir.Body), `href="/das/source/other/pub/pressure.html"`) || strings.Contains(string(dir.Body), "lab/") {
			t.Errorf("directory: %s", dir.Body)
		}
	})
}

// A sequence with publicAfter: its old values are anyone's, like das2 readAccess AGE:.
func TestDasEmbargo(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		seq, err := tree.ByPath(t.Context(), ts.db.Client, "/lab/data/temperature")
		if err != nil {
			t.Fatal(err)
		}
		recent := 99.5
		if err := series.Append(t.Context(), ts.db.Client, seq, []series.Value{{Time: time.Now().Add(-time.Hour), Num: &recent}}); err != nil {
			t.Fatal(err)
		}
		const set = `mutation($s: Float) { updateResourceAttributes(path: "/lab/data/temperature", sequence: {publicAfter: $s}) { sequence { publicAfter } } }`
		// Publishing is granting: members with write access may not, admins may.
		if res := ts.login(t, "lmember").do(t, set, map[string]any{"s": 86400}); len(res.Errors) == 0 || res.Errors[0].Extensions.Code != "FORBIDDEN" {
			t.Fatalf("member set publicAfter: %s", res.raw)
		}
		admin := ts.login(t, "ladmin")
		if res := admin.do(t, set, map[string]any{"s": -1}); len(res.Errors) == 0 {
			t.Fatalf("negative publicAfter accepted: %s", res.raw)
		}
		anon, other := ts.client(t), ts.login(t, "omember")
		old := "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"
		if res := anon.get(t, old); res.Status != http.StatusUnauthorized {
			t.Fatalf("before the embargo is set: %d", res.Status)
		}
		res := admin.do(t, set, map[string]any{"s": 86400}).ok(t)
		if !strings.Contains(string(res.raw), `"publicAfter":86400`) {
			t.Fatalf("set: %s", res.raw)
		}
		for _, c := range []*gqlClient{anon, other} {
			res := c.get(t, old)
			if res.Status != http.StatusOK {
				t.Fatalf("old values: %d %s", res.Status, res.Body)
			}
			wantValues(t, decodeDas(t, res.Body), 0, dasValues)
			if l := c.get(t, "/das/server?server=list"); !strings.Contains(string(l.Body), "lab/data/temperature|") {
				t.Errorf("list lacks the embargoed source: %s", l.Body)
			}
			// Its description does not tell when the newest value was stored.
			d := c.get(t, "/das/source/lab/data/temperature/das2.d2t")
			if d.Status != http.StatusOK || !strings.Contains(string(d.Body), "2024-01-01T00:00:00 to 2024-01-01T00:01:40") {
				t.Errorf("dsdf: %d %s", d.Status, d.Body)
			}
		}
		// A range reaching into the embargo: 401 (prompt) anonymous, 403 signed in.
		now := time.Now().UTC().Format("2006-01-02T15:04:05")
		recentURL := "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01&read.time.max=" + now
		if res := anon.get(t, recentURL); res.Status != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Basic realm="rhizoflex"` {
			t.Errorf("anonymous recent: %d %v", res.Status, res.Header)
		}
		if res := other.get(t, recentURL); res.Status != http.StatusForbidden || decodeDas(t, res.Body).Exc == nil {
			t.Errorf("signed-in recent: %d %s", res.Status, res.Body)
		}
		// Readers of the sequence see everything, the recent value included.
		if res := ts.bearer(t, ts.world.Keys["userkey"]).get(t, recentURL); res.Status != http.StatusOK || len(decodeDas(t, res.Body).Values) != dasValues+1 {
			t.Errorf("reader: %d", res.Status)
		}
		// Another organization's sequence without an embargo stays missing.
		if res := other.get(t, "/das/source/lab/ctrl/status/free_disk_space/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"); res.Status != http.StatusNotFound {
			t.Errorf("sequence without embargo: %d", res.Status)
		}
		// 0 turns it off.
		admin.do(t, set, map[string]any{"s": 0}).ok(t)
		if res := anon.get(t, old); res.Status != http.StatusUnauthorized {
			t.Errorf("after turning the embargo off: %d", res.Status)
		}
	})
}

// storeLive stores one value through GraphQL, which announces it on the live bus.
func storeLive(t *testing.T, ts *testServer, v string, at time.Time) {
	t.Helper()
	ts.bearer(t, ts.world.Keys["userkey"]).do(t, `mutation($v: String!, $t: Time) { updateSequence(path: "/lab/data/temperature", value: $v, timestamp: $t) { timestamp } }`,
		map[string]any{"v": v, "t": at.Format(time.RFC3339Nano)}).ok(t)
}

// follow=1 keeps the stream open: the history, then a value stored after the request began.
func TestDasFollow(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		u := ts.URL + "/das/source/lab/data/temperature/flex?read.time.min=2024-01-01T00:00:50&read.time.max=now&follow=1&format.type=csv&format.headers=true"
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+ts.world.Keys["userkey"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		rows := csv.NewReader(resp.Body)
		var got []string
		for range 1 + dasValues - 50 { // header row and the history
			row, err := rows.Read()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, row[1])
		}
		if v, err := strconv.ParseFloat(got[len(got)-1], 64); err != nil || v != dasValue(dasValues-1) {
			t.Fatalf("last history value %q, want %v", got[len(got)-1], dasValue(dasValues-1))
		}
		// Older than what was sent: skipped; newer: arrives.
		storeLive(t, ts, "1.5", dasStart)
		at := time.Now().UTC().Truncate(time.Millisecond)
		storeLive(t, ts, "42.25", at)
		row, err := rows.Read()
		if err != nil {
			t.Fatal(err)
		}
		when, err := dastime.ParseString(row[0])
		if v, _ := strconv.ParseFloat(row[1], 64); err != nil || v != 42.25 || !sources.ToTime(when).Equal(at) {
			t.Fatalf("live row %q, want %s 42.25", row, at)
		}
	})
}

func TestDasFollowRefusals(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := ts.bearer(t, ts.world.Keys["userkey"])
	const src = "/das/source/lab/data/temperature/"
	for _, tc := range []struct{ path, names string }{
		{src + "flex?read.time.min=2024-01-01&read.time.max=2024-01-02&follow=1", "read.time.max"},
		{src + "flex?read.time.min=2024-01-01&read.time.max=now&follow=1&bin.time.max=60", "bin.time.max"},
		{src + "flexRT?read.time.min=2024-01-01&read.time.max=now&format.version=2", "flexRT"},
		{src + "flexRT?read.time.min=2024-01-01&read.time.max=now&format.type=csv", "flexRT"},
	} {
		res := c.get(t, tc.path)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), tc.names) {
			t.Errorf("%s: %d %s", tc.path, res.Status, res.Body)
		}
	}
	// A hidden source is missing on flexRT too, before any upgrade.
	for _, tc := range []struct {
		c      *gqlClient
		status int
	}{{ts.client(t), http.StatusUnauthorized}, {ts.login(t, "omember"), http.StatusNotFound}} {
		if res := tc.c.get(t, src+"flexRT?read.time.min=2024-01-01&read.time.max=now&follow=1"); res.Status != tc.status {
			t.Errorf("flexRT hidden: %d, want %d", res.Status, tc.status)
		}
	}
}

// flexRT: one das3 packet per binary websocket message, then live values.
func TestDasFlexRT(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		storeDasValues(t, ts)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/das/source/lab/data/temperature/flexRT?read.time.min=2024-01-01&read.time.max=now&follow=1"
		conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + ts.world.Keys["userkey"]}}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		defer func() { _ = conn.CloseNow() }()
		var stream bytes.Buffer
		read := func() []byte {
			t.Helper()
			typ, msg, err := conn.Read(ctx)
			if err != nil || typ != websocket.MessageBinary {
				t.Fatalf("read: %v %v", typ, err)
			}
			// One whole packet: |Tt|ID|LEN| and exactly LEN bytes.
			parts := bytes.SplitN(msg, []byte("|"), 5)
			n, err := strconv.Atoi(string(parts[3]))
			if len(parts) != 5 || len(parts[0]) != 0 || err != nil || len(parts[4]) != n {
				t.Fatalf("not one das3 packet: %q", msg)
			}
			stream.Write(msg)
			return msg
		}
		for i := range 2 + dasValues {
			msg := read()
			if want := []string{"|Sx|", "|Hx|"}; i < 2 && !bytes.HasPrefix(msg, []byte(want[i])) {
				t.Fatalf("message %d: %q", i, msg)
			}
		}
		storeLive(t, ts, "7.5", time.Now())
		if msg := read(); !bytes.HasPrefix(msg, []byte("|Pd|")) {
			t.Fatalf("live message %q", msg)
		}
		got := decodeDas(t, stream.Bytes())
		if len(got.Values) != dasValues+1 || got.Values[dasValues] != 7.5 {
			t.Fatalf("decoded %d values, last %v", len(got.Values), got.Values[len(got.Values)-1])
		}
	})
}

// A folder with the das_source user attribute is one source of the numeric sequences in it.
func TestDasFolderSource(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		ctx := t.Context()
		mk := func(path string, typ tree.Type, sys, user map[string]any) *ent.Resource {
			r, err := tree.Create(ctx, ts.db.Client, tree.CreateParams{Path: path, Type: typ, SystemAttributes: sys, UserAttributes: user})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		mk("/lab/multi", tree.Folder, nil, map[string]any{sources.FolderAttr: true, "description": "Two probes"})
		a := mk("/lab/multi/a", tree.Sequence, tree.SequenceAttributes(tree.Numeric, "V", 2), map[string]any{"title": "Probe A"})
		b := mk("/lab/multi/b", tree.Sequence, tree.SequenceAttributes(tree.Numeric, "", 2), nil)
		mk("/lab/multi/note", tree.Sequence, tree.SequenceAttributes(tree.Text, "", 0), nil)
		mk("/lab/plain", tree.Folder, nil, nil)
		mk("/lab/plain/c", tree.Sequence, tree.SequenceAttributes(tree.Numeric, "", 2), nil)
		store := func(seq *ent.Resource, idx []int, base float64) {
			vals := make([]series.Value, len(idx))
			for k, i := range idx {
				v := base + float64(i)
				vals[k] = series.Value{Time: dasStart.Add(time.Duration(i) * time.Second), Num: &v}
			}
			if err := series.Append(ctx, ts.db.Client, seq, vals); err != nil {
				t.Fatal(err)
			}
		}
		store(a, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 100)
		store(b, []int{0, 1, 2, 3, 4, 6, 7, 8, 9, 10}, 200)

		c := ts.bearer(t, ts.world.Keys["userkey"])
		res := c.get(t, "/das/source/lab/multi/flex?read.time.min=2024-01-01&read.time.max=2024-01-02&format.type=csv&format.headers=true")
		if res.Status != http.StatusOK {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil || len(rows) != 12 {
			t.Fatalf("%d rows, %v:\n%s", len(rows), err, res.Body)
		}
		if h := strings.Join(rows[0], ","); !strings.HasPrefix(h, "time (UTC),a (V),b") {
			t.Errorf("header %q", h)
		}
		for i, row := range rows[1:] {
			va, _ := strconv.ParseFloat(row[1], 64)
			vb, _ := strconv.ParseFloat(row[2], 64)
			wantA, wantB := 100+float64(i), 200+float64(i)
			if i == 10 {
				wantA = das.DefaultFill
			}
			if i == 5 {
				wantB = das.DefaultFill
			}
			if va != wantA || vb != wantB {
				t.Errorf("row %d: %v", i, row)
			}
		}
		// das2 binary decodes with both planes; the dsdf names both variables.
		d2 := c.get(t, "/das/server?server=dataset&dataset=lab/multi&start_time=2024-01-01&end_time=2024-01-02")
		if got := decodeDas(t, d2.Body); len(got.Values) != 11 {
			t.Errorf("das2: %d records", len(got.Values))
		}
		dsdf := string(c.get(t, "/das/source/lab/multi/das2.d2t").Body)
		for _, want := range []string{`description="Two probes"`, `data_00="a | Probe A | V"`, `data_01="b | b"`, `validRange="2024-01-01T00:00:00 to 2024-01-01T00:00:11"`} {
			if !strings.Contains(dsdf, want) {
				t.Errorf("dsdf lacks %s:\n%s", want, dsdf)
			}
		}
		list := string(c.get(t, "/das/server?server=list").Body)
		if !strings.Contains(list, "lab/multi|Two probes") || strings.Contains(list, "lab/plain|") || strings.Contains(list, "lab/multi/note") {
			t.Errorf("list:\n%s", list)
		}
		// The live tail of a folder source: a value of one sequence is a row with fill for
		// the others.
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(fctx, http.MethodGet, ts.URL+"/das/source/lab/multi/flex?read.time.min=2024-01-01T00:00:09&read.time.max=now&follow=1&format.type=csv", nil)
		req.Header.Set("Authorization", "Bearer "+ts.world.Keys["userkey"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		live := csv.NewReader(resp.Body)
		for range 2 { // 00:00:09 and 00:00:10
			if _, err := live.Read(); err != nil {
				t.Fatal(err)
			}
		}
		c.do(t, `mutation { updateSequence(path: "/lab/multi/b", value: "7.25") { timestamp } }`, nil).ok(t)
		row, err := live.Read()
		if err != nil {
			t.Fatal(err)
		}
		if va, _ := strconv.ParseFloat(row[1], 64); va != das.DefaultFill || row[2] != "7.2500000e+00" {
			t.Errorf("live row %q", row)
		}

		// An opted-in folder without numeric sequences is missing too.
		mk("/lab/empty", tree.Folder, nil, map[string]any{sources.FolderAttr: true})
		if res := c.get(t, "/das/source/lab/empty/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"); res.Status != http.StatusNotFound {
			t.Errorf("empty folder source: %d %s", res.Status, res.Body)
		}
		if res := ts.client(t).get(t, "/das/source/lab/empty/das2.d2t"); res.Status != http.StatusUnauthorized {
			t.Errorf("empty folder source, anonymous: %d", res.Status)
		}
		// A folder without the attribute is no source; another organization sees nothing.
		if res := c.get(t, "/das/source/lab/plain/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"); res.Status != http.StatusNotFound {
			t.Errorf("plain folder: %d", res.Status)
		}
		other := ts.login(t, "omember")
		if res := other.get(t, "/das/source/lab/multi/flex?read.time.min=2024-01-01&read.time.max=2024-01-02"); res.Status != http.StatusNotFound {
			t.Errorf("other organization: %d", res.Status)
		}
		if strings.Contains(string(other.get(t, "/das/server?server=list").Body), "lab/multi") {
			t.Error("other organization lists the folder source")
		}
	})
}
