package hapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

type answer struct {
	code int
	hdr  http.Header
	body []byte
}

// get requests path (with query) from srv, without following redirects.
func get(t *testing.T, srv string, path string, opts ...func(*http.Request)) answer {
	t.Helper()
	return do(t, http.MethodGet, srv, path, opts...)
}

func do(t *testing.T, method, srv, path string, opts ...func(*http.Request)) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return answer{res.StatusCode, res.Header, b}
}

func as(user string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, "pw") }
}

// statusOf decodes a status-only or full header answer.
func statusOf(t *testing.T, a answer) (string, int, string) {
	t.Helper()
	var v struct {
		HAPI   string `json:"HAPI"`
		Status status `json:"status"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a.body)
	}
	return v.HAPI, v.Status.Code, v.Status.Message
}

func TestLandingPage(t *testing.T) {
	srv, _ := newServer(t)
	for _, p := range []string{"/hapi", "/hapi/"} {
		a := get(t, srv.URL, p)
		if a.code != 200 || !strings.HasPrefix(a.hdr.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", p, a.code, a.hdr.Get("Content-Type"))
		}
		body := string(a.body)
		for _, want := range []string{"HAPI</a> 3.3", `href="/hapi/catalog"`, `href="/hapi/info?dataset=wave"`, "Test server", "ops@example.org"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
		for _, secret := range []string{"hidden", "secret"} {
			if strings.Contains(body, "dataset="+secret) {
				t.Errorf("%s lists %s to an anonymous caller", p, secret)
			}
		}
		if a.hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", p)
		}
	}
}

func TestTrailingSlashRedirects(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/info/?dataset=wave")
	if a.code != http.StatusMovedPermanently || a.hdr.Get("Location") != "/hapi/info?dataset=wave" {
		t.Fatalf("%d Location %q", a.code, a.hdr.Get("Location"))
	}
}

// A path HAPI does not define is not there: 404, with a HAPI 1400 status body.
func TestUnknownEndpointIs404(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/nothing")
	var got struct {
		HAPI   string
		Status struct{ Code int }
	}
	if err := json.Unmarshal(a.body, &got); err != nil || a.code != http.StatusNotFound || got.HAPI != "3.3" || got.Status.Code != 1400 {
		t.Fatalf("%d %s", a.code, a.body)
	}
}

func TestAbout(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/about")
	if a.code != 200 || !strings.HasPrefix(a.hdr.Get("Content-Type"), "application/json") || a.hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d %v", a.code, a.hdr)
	}
	var got map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"HAPI": "3.3", "status": map[string]any{"code": 1200.0, "message": "OK"},
		"id": "test", "title": "Test server", "contact": "ops@example.org"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("about = %v, want %v", got, want)
	}
	if a := get(t, srv.URL, "/hapi/about?x=1"); a.code != 400 {
		t.Errorf("about with a parameter: %d", a.code)
	}
}

func TestCapabilities(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/capabilities")
	var got map[string]any
	if err := json.Unmarshal(a.body, &got); err != nil || a.code != 200 {
		t.Fatal(a.code, err)
	}
	want := map[string]any{"HAPI": "3.3", "status": map[string]any{"code": 1200.0, "message": "OK"},
		"outputFormats": []any{"csv", "binary", "json"}, "catalogDepthOptions": []any{"dataset", "all"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("capabilities = %v, want %v", got, want)
	}
}

type catalogAnswer struct {
	HAPI    string `json:"HAPI"`
	Status  status `json:"status"`
	Catalog []struct {
		ID    string          `json:"id"`
		Title string          `json:"title"`
		Info  json.RawMessage `json:"info"`
	} `json:"catalog"`
}

func catalogIDs(t *testing.T, a answer) (catalogAnswer, []string) {
	t.Helper()
	var c catalogAnswer
	if err := json.Unmarshal(a.body, &c); err != nil || a.code != 200 {
		t.Fatalf("%d %v %s", a.code, err, a.body)
	}
	var ids []string
	for _, e := range c.Catalog {
		ids = append(ids, e.ID)
	}
	return c, ids
}

func TestCatalog(t *testing.T) {
	srv, _ := newServer(t)
	c, ids := catalogIDs(t, get(t, srv.URL, "/hapi/catalog"))
	public := []string{"wave", "spec", "multi", "jumpy", "open", "broken", "dying", "excepting", "busy", "nodata"}
	if c.HAPI != "3.3" || c.Status != ok(1200) || !reflect.DeepEqual(ids, public) {
		t.Errorf("anonymous catalog %s %v %v", c.HAPI, c.Status, ids)
	}
	if c.Catalog[0].Title != "Waveform" || c.Catalog[0].Info != nil {
		t.Errorf("first entry %+v", c.Catalog[0])
	}
	_, ids = catalogIDs(t, get(t, srv.URL, "/hapi/catalog", as("alice")))
	if !reflect.DeepEqual(ids, []string{"wave", "spec", "multi", "jumpy", "open", "secret", "broken", "dying", "excepting", "busy", "nodata"}) {
		t.Errorf("alice's catalog %v", ids)
	}
	c, ids = catalogIDs(t, get(t, srv.URL, "/hapi/catalog?depth=all"))
	if !reflect.DeepEqual(ids, public) {
		t.Errorf("depth=all ids %v", ids)
	}
	info := get(t, srv.URL, "/hapi/info?dataset=wave")
	var full, inner map[string]any
	_ = json.Unmarshal(info.body, &full)
	if err := json.Unmarshal(c.Catalog[0].Info, &inner); err != nil {
		t.Fatal(err)
	}
	delete(full, "HAPI")
	delete(full, "status")
	if !reflect.DeepEqual(full, inner) {
		t.Errorf("depth=all info %v\nwant %v", inner, full)
	}
}

func TestInfoWaveform(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/info?dataset=wave")
	verifyInfo(t, a.body)
	want := `{
  "HAPI": "3.3",
  "status": {
    "code": 1200,
    "message": "OK"
  },
  "parameters": [
    {
      "name": "Time",
      "type": "isotime",
      "length": 24,
      "units": "UTC",
      "fill": null
    },
    {
      "name": "v",
      "type": "double",
      "units": "V**2 m**-2 Hz**-1",
      "fill": "-1e+31"
    }
  ],
  "startDate": "2024-01-01T00:00:00Z",
  "stopDate": "2024-01-02T00:00:00Z",
  "cadence": "PT1S",
  "sampleStartDate": "2024-01-01T00:00:00Z",
  "sampleStopDate": "2024-01-01T00:00:10Z",
  "description": "a test waveform"
}
`
	if a.code != 200 || string(a.body) != want {
		t.Errorf("%d\n%s\nwant\n%s", a.code, a.body, want)
	}
	// The HAPI 2 name of the dataset parameter answers the same.
	if b := get(t, srv.URL, "/hapi/info?id=wave"); string(b.body) != want {
		t.Errorf("id=wave:\n%s", b.body)
	}
}

func TestInfoSpectrogramBins(t *testing.T) {
	srv, _ := newServer(t)
	in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=spec").body)
	p := in.Parameters[1]
	if p.Name != "v" || p.Type != "double" || !reflect.DeepEqual(p.Size, []int{4}) || len(p.Bins) != 1 {
		t.Fatalf("%+v", p)
	}
	b := p.Bins[0]
	var raw struct {
		MaxRequest string `json:"maxRequestDuration"`
	}
	if err := json.Unmarshal(get(t, srv.URL, "/hapi/info?dataset=spec").body, &raw); err != nil || raw.MaxRequest != "PT21600S" {
		t.Errorf("maxRequestDuration %q %v", raw.MaxRequest, err)
	}
	if a := get(t, srv.URL, "/hapi/data?dataset=spec&start=2024-01-01&stop=2024-01-01T06"); a.code != 200 {
		t.Errorf("a request of maxRequestDuration: %d", a.code)
	}
	if !reflect.DeepEqual(b.Centers, []float64{10, 20, 30, 40}) || b.Units == nil || *b.Units != "Hz" || b.Name == "" {
		t.Errorf("bins %+v", b)
	}
}

func TestInfoKinds(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/info?dataset=multi")
	verifyInfo(t, a.body)
	var got struct {
		Parameters []map[string]any `json:"parameters"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"name": "Time", "type": "isotime", "length": 27.0, "units": "UTC", "fill": nil},
		{"name": "density", "type": "double", "units": "cm**-3", "fill": "-999", "description": "plasma density"},
		{"name": "flag", "type": "integer", "units": nil, "fill": "-1"},
		{"name": "B", "type": "double", "units": "nT", "fill": "-1e+31", "size": []any{3.0}, "vectorComponents": []any{"x", "y", "z"}},
	}
	if !reflect.DeepEqual(got.Parameters, want) {
		t.Errorf("parameters\n%v\nwant\n%v", got.Parameters, want)
	}
}

func paramNames(t *testing.T, a answer) []string {
	t.Helper()
	in := verifyInfo(t, a.body)
	var names []string
	for _, p := range in.Parameters {
		names = append(names, p.Name)
	}
	return names
}

func TestParameterSubsets(t *testing.T) {
	srv, _ := newServer(t)
	for _, c := range []struct {
		list string
		want []string
	}{
		{"", []string{"Time", "density", "flag", "B"}},
		{"Time", []string{"Time"}},
		{"flag", []string{"Time", "flag"}},
		{"density,B", []string{"Time", "density", "B"}},
		{"Time,flag,B", []string{"Time", "flag", "B"}},
	} {
		got := paramNames(t, get(t, srv.URL, "/hapi/info?dataset=multi&parameters="+c.list))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("info parameters=%s: %v, want %v", c.list, got, c.want)
		}
		// The data header of the same subset lists the same parameters.
		d := get(t, srv.URL, "/hapi/data?dataset=multi&start=2024-01-01&stop=2024-01-02&format=json&parameters="+c.list)
		in, rows := verifyJSON(t, d.body, t0, t0.Add(24*time.Hour))
		var names []string
		for _, p := range in.Parameters {
			names = append(names, p.Name)
		}
		if !reflect.DeepEqual(names, c.want) || len(rows) != 4 || len(rows[0]) != len(c.want) {
			t.Errorf("data parameters=%s: %v, %d rows", c.list, names, len(rows))
		}
	}
}

// errorCase is a request with the HAPI code and HTTP status it must answer.
type errorCase struct {
	path string
	code int
	http int
}

func TestErrorCodes(t *testing.T) {
	srv, _ := newServer(t)
	const w = "dataset=wave&"
	cases := []errorCase{
		{"/hapi/nowhere", 1400, 404}, // nothing is there: HTTP 404, HAPI status 1400
		{"/hapi/info", 1400, 400},
		{"/hapi/info?dataset=wave&id=wave", 1400, 400},
		{"/hapi/info?dataset=wave&dataset=wave", 1400, 400},
		{"/hapi/data?" + w + "stop=2024-01-02", 1400, 400},
		{"/hapi/data?" + w + "start=2024-01-01", 1400, 400},
		{"/hapi/data?start=2024-01-01&stop=2024-01-02", 1400, 400},
		{"/hapi/data?" + w + "start=2024-01-01&time.min=2024-01-01&stop=2024-01-02", 1400, 400},
		{"/hapi/info?dataset=wave&avg=5s", 1401, 400},
		{"/hapi/data?" + w + "start=2024-01-01&stop=2024-01-02&fields=v", 1401, 400},
		{"/hapi/catalog?x=1", 1401, 400},
		{"/hapi/capabilities?x=1", 1401, 400},
		{"/hapi/data?" + w + "start=yesterday&stop=2024-01-02", 1402, 400},
		{"/hapi/data?" + w + "start=2024-13-01&stop=2024-01-02", 1402, 400},
		{"/hapi/data?" + w + "start=2024-01-01&stop=2024-01-02T25", 1403, 400},
		{"/hapi/data?" + w + "start=2024-01-01&stop=", 1403, 400},
		{"/hapi/data?" + w + "start=2024-01-01T01&stop=2024-01-01T01", 1404, 400},
		{"/hapi/data?" + w + "start=2024-01-02&stop=2024-01-01", 1404, 400},
		{"/hapi/data?" + w + "start=2023-12-31&stop=2024-01-01T01", 1405, 400},
		{"/hapi/data?" + w + "start=2024-01-01&stop=2024-01-03", 1405, 400},
		{"/hapi/info?dataset=nosuch", 1406, 404},
		{"/hapi/data?dataset=nosuch&start=2024-01-01&stop=2024-01-02", 1406, 404},
		{"/hapi/info?id=a_test_of_an_invalid_id_by_verifier-nodejs", 1406, 404},
		{"/hapi/info?dataset=wave&parameters=w", 1407, 404},
		{"/hapi/data?" + w + "start=2024-01-01&stop=2024-01-02&parameters=v,w", 1407, 404},
		{"/hapi/data?dataset=spec&start=2024-01-01&stop=2024-01-01T06:00:00.001", 1408, 400},
		{"/hapi/data?" + w + "start=2024-01-01&stop=2024-01-02&format=xml", 1409, 400},
		{"/hapi/data?" + w + "start=2024-01-01&stop=2024-01-02&include=all", 1410, 400},
		{"/hapi/info?dataset=multi&parameters=B,density", 1411, 400},
		{"/hapi/info?dataset=multi&parameters=flag,flag", 1411, 400},
		{"/hapi/data?dataset=multi&start=2024-01-01&stop=2024-01-02&parameters=density,Time", 1411, 400},
		{"/hapi/info?dataset=wave&resolve_references=maybe", 1412, 400},
		{"/hapi/catalog?depth=deep", 1413, 400},
		{"/hapi/data?dataset=broken&start=2024-01-01&stop=2024-01-01T01", 1500, 500},
		{"/hapi/data?dataset=excepting&start=2024-01-01&stop=2024-01-01T01", 1500, 500},
	}
	for _, c := range cases {
		a := get(t, srv.URL, c.path)
		v, code, msg := statusOf(t, a)
		wantMsg := message(c.code)
		if a.code != c.http || v != "3.3" || code != c.code || !strings.HasPrefix(msg, wantMsg) {
			t.Errorf("%s: HTTP %d HAPI %s %d %q, want HTTP %d code %d %q", c.path, a.code, v, code, msg, c.http, c.code, wantMsg)
		}
		if !strings.HasPrefix(a.hdr.Get("Content-Type"), "application/json") || a.hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: headers %v", c.path, a.hdr)
		}
		// Nothing the caller typed is echoed back.
		if strings.Contains(msg, "yesterday") || strings.Contains(msg, "nosuch") || strings.Contains(msg, "avg") {
			t.Errorf("%s: message echoes input: %q", c.path, msg)
		}
	}
	// The messages carry the spec's wording after the verifier's prefix.
	if m := message(1406); m != "HAPI error 1406: Bad request - unknown dataset id" {
		t.Errorf("1406 message %q", m)
	}
	if m := message(1405); !strings.Contains(m, "start < startDate") {
		t.Errorf("1405 message %q", m)
	}
	// 1405 names the allowed range.
	_, _, msg := statusOf(t, get(t, srv.URL, "/hapi/data?"+w+"start=2023-12-31&stop=2024-01-01T01"))
	if !strings.Contains(msg, "startDate 2024-01-01T00:00:00Z, stopDate 2024-01-02T00:00:00Z") {
		t.Errorf("1405 message %q", msg)
	}
	if a := do(t, http.MethodPost, srv.URL, "/hapi/catalog"); a.code != http.StatusMethodNotAllowed || a.hdr.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", a.code, a.hdr)
	}
}

func TestBusyCatalogAsksToRetry(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/data?dataset=busy&start=2024-01-01&stop=2024-01-01T01")
	_, code, msg := statusOf(t, a)
	if a.code != http.StatusServiceUnavailable || a.hdr.Get("Retry-After") != "2" || code != 1500 || !strings.Contains(msg, "retry later") {
		t.Errorf("%d Retry-After %q %d %q", a.code, a.hdr.Get("Retry-After"), code, msg)
	}
}

func TestHiddenAnswersLikeMissing(t *testing.T) {
	srv, _ := newServer(t)
	for _, tmpl := range []string{
		"/hapi/info?dataset=%s",
		"/hapi/info?id=%s&parameters=v",
		"/hapi/data?dataset=%s&start=2024-01-01&stop=2024-01-01T01",
		"/hapi/data?dataset=%s&start=2024-01-01&stop=2024-01-01T01&format=binary&include=header",
	} {
		missing := get(t, srv.URL, strings.ReplaceAll(tmpl, "%s", "nosuch"))
		for _, who := range []func(*http.Request){func(*http.Request) {}, as("alice"), as("mallory")} {
			hidden := get(t, srv.URL, strings.ReplaceAll(tmpl, "%s", "hidden"), who)
			if hidden.code != missing.code || string(hidden.body) != string(missing.body) || hidden.code != 404 {
				t.Errorf("%s: hidden %d %s, missing %d %s", tmpl, hidden.code, hidden.body, missing.code, missing.body)
			}
		}
		// Its owner reads it.
		if a := get(t, srv.URL, strings.ReplaceAll(tmpl, "%s", "hidden"), as("bob")); a.code != 200 {
			t.Errorf("%s as bob: %d %s", tmpl, a.code, a.body)
		}
	}
}

func TestProtectedAsksForBasicAuth(t *testing.T) {
	srv, _ := newServer(t)
	for _, p := range []string{"/hapi/info?dataset=secret", "/hapi/data?dataset=secret&start=2024-01-01&stop=2024-01-01T01"} {
		a := get(t, srv.URL, p)
		_, code, _ := statusOf(t, a)
		if a.code != http.StatusUnauthorized || !strings.HasPrefix(a.hdr.Get("WWW-Authenticate"), `Basic realm="rhizoflex"`) || code != 1400 {
			t.Errorf("%s anonymous: %d %q %d", p, a.code, a.hdr.Get("WWW-Authenticate"), code)
		}
		// Another signed-in user is told it does not exist.
		if a := get(t, srv.URL, p, as("bob")); a.code != 404 {
			t.Errorf("%s as bob: %d", p, a.code)
		}
		if a := get(t, srv.URL, p, as("alice")); a.code != 200 {
			t.Errorf("%s as alice: %d %s", p, a.code, a.body)
		}
	}
}

const waveCSV = `2024-01-01T00:00:00.000Z,0
2024-01-01T00:00:01.000Z,1.5
2024-01-01T00:00:02.000Z,3
2024-01-01T00:00:03.000Z,4.5
2024-01-01T00:00:04.000Z,6
2024-01-01T00:00:05.000Z,-1e+31
2024-01-01T00:00:06.000Z,9
2024-01-01T00:00:07.000Z,10.5
2024-01-01T00:00:08.000Z,12
2024-01-01T00:00:09.000Z,13.5
`

func TestDataCSV(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/data?dataset=wave&start=2024-01-01&stop=2024-01-02")
	if a.code != 200 || a.hdr.Get("Content-Type") != "text/csv; charset=utf-8" || a.hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d %v", a.code, a.hdr)
	}
	if string(a.body) != waveCSV {
		t.Errorf("csv\n%s\nwant\n%s", a.body, waveCSV)
	}
	// start is inclusive, stop exclusive; HAPI 2 names and truncated times work.
	a = get(t, srv.URL, "/hapi/data?id=wave&time.min=2024-001T00:00:02Z&time.max=2024-01-01T00:00:04.000Z")
	if want := "2024-01-01T00:00:02.000Z,3\n2024-01-01T00:00:03.000Z,4.5\n"; string(a.body) != want {
		t.Errorf("range\n%s\nwant\n%s", a.body, want)
	}
	in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=multi").body)
	a = get(t, srv.URL, "/hapi/data?dataset=multi&start=2024-01-01&stop=2024-01-02")
	want := `2024-01-01T00:00:00.000001Z,1.25,0,0,0,0.1
2024-01-01T00:00:00.500001Z,-999,1,1,-1,0.1
2024-01-01T00:00:01.000001Z,1e-300,-1,2,-2,0.1
2024-01-01T00:00:01.500001Z,1.2345678912345679e+08,32767,3,-3,0.1
`
	if string(a.body) != want {
		t.Errorf("multi csv\n%s\nwant\n%s", a.body, want)
	}
	verifyCSV(t, in, string(a.body), t0, t0.Add(24*time.Hour))
	a = get(t, srv.URL, "/hapi/data?dataset=spec&start=2024-01-01T00:01&stop=2024-01-01T00:03Z&parameters=v")
	if want := "2024-01-01T00:01:00.000Z,11,12,13,14\n2024-01-01T00:02:00.000Z,21,22,23,24\n"; string(a.body) != want {
		t.Errorf("spec csv\n%s\nwant\n%s", a.body, want)
	}
}

func TestDataBinaryDecodesToCSV(t *testing.T) {
	srv, _ := newServer(t)
	for _, id := range []string{"wave", "spec", "multi"} {
		in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset="+id).body)
		q := "/hapi/data?dataset=" + id + "&start=2024-01-01&stop=2024-01-01T06"
		csv := get(t, srv.URL, q)
		bin := get(t, srv.URL, q+"&format=binary")
		if bin.code != 200 || bin.hdr.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("%s: %d %v", id, bin.code, bin.hdr)
		}
		rows := decodeBinary(t, in, bin.body, t0, t0.Add(6*time.Hour))
		var text strings.Builder
		for _, r := range rows {
			text.WriteString(strings.Join(r, ",") + "\n")
		}
		if text.String() != string(csv.body) || len(rows) == 0 {
			t.Errorf("%s: binary decodes to\n%s\ncsv is\n%s", id, text.String(), csv.body)
		}
	}
	// Known bytes: one wave record is 24 time bytes and a little-endian double.
	bin := get(t, srv.URL, "/hapi/data?dataset=wave&start=2024-01-01T00:00:01&stop=2024-01-01T00:00:02&format=binary")
	want := append([]byte("2024-01-01T00:00:01.000Z"), 0, 0, 0, 0, 0, 0, 0xf8, 0x3f) // 1.5
	if string(bin.body) != string(want) {
		t.Errorf("binary % x, want % x", bin.body, want)
	}
}

func TestDataJSON(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/data?dataset=multi&start=2024-01-01&stop=2024-01-02&format=json")
	if a.code != 200 || !strings.HasPrefix(a.hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %v", a.code, a.hdr)
	}
	in, rows := verifyJSON(t, a.body, t0, t0.Add(24*time.Hour))
	if in.Status.Code != 1200 || len(in.Parameters) != 4 {
		t.Errorf("header %+v", in)
	}
	want := [][]any{
		{"2024-01-01T00:00:00.000001Z", 1.25, 0.0, []any{0.0, 0.0, 0.1}},
		{"2024-01-01T00:00:00.500001Z", -999.0, 1.0, []any{1.0, -1.0, 0.1}},
		{"2024-01-01T00:00:01.000001Z", 1e-300, -1.0, []any{2.0, -2.0, 0.1}},
		{"2024-01-01T00:00:01.500001Z", 123456789.12345679, 32767.0, []any{3.0, -3.0, 0.1}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("json rows\n%v\nwant\n%v", rows, want)
	}
}

// splitHeader cuts a '#'-prefixed header off a CSV or binary body.
func splitHeader(t *testing.T, body []byte) ([]byte, []byte) {
	t.Helper()
	var hdr []byte
	rest := body
	for len(rest) > 0 && rest[0] == '#' {
		i := strings.IndexByte(string(rest), '\n')
		if i < 0 {
			t.Fatal("header line without a newline")
		}
		hdr = append(hdr, rest[1:i+1]...)
		rest = rest[i+1:]
	}
	return hdr, rest
}

func TestIncludeHeader(t *testing.T) {
	srv, _ := newServer(t)
	info := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=wave&parameters=v").body)
	for _, format := range []string{"csv", "binary"} {
		a := get(t, srv.URL, "/hapi/data?dataset=wave&start=2024-01-01&stop=2024-01-02&include=header&parameters=v&format="+format)
		hdr, rest := splitHeader(t, a.body)
		in := verifyInfo(t, hdr)
		if in.Format != format || in.Status.Code != 1200 || !reflect.DeepEqual(in.Parameters, info.Parameters) {
			t.Errorf("%s header %+v", format, in)
		}
		var rowsText string
		if format == "csv" {
			verifyCSV(t, in, string(rest), t0, t0.Add(24*time.Hour))
			rowsText = string(rest)
		} else {
			for _, r := range decodeBinary(t, in, rest, t0, t0.Add(24*time.Hour)) {
				rowsText += strings.Join(r, ",") + "\n"
			}
		}
		if rowsText != waveCSV {
			t.Errorf("%s rows after the header\n%s", format, rowsText)
		}
	}
}

func TestNoDataIs1201(t *testing.T) {
	srv, _ := newServer(t)
	const q = "/hapi/data?dataset=wave&start=2024-01-01T12&stop=2024-01-01T13"
	for _, p := range []string{q, q + "&format=binary", "/hapi/data?dataset=nodata&start=2024-01-01&stop=2024-01-01T01"} {
		if a := get(t, srv.URL, p); a.code != 200 || len(a.body) != 0 {
			t.Errorf("%s: %d %q", p, a.code, a.body)
		}
	}
	a := get(t, srv.URL, q+"&include=header")
	hdr, rest := splitHeader(t, a.body)
	if in := verifyInfo(t, hdr); in.Status.Code != 1201 || in.Status.Message != "OK - no data for time range" || len(rest) != 0 {
		t.Errorf("header %+v, rest %q", in.Status, rest)
	}
	in, rows := verifyJSON(t, get(t, srv.URL, q+"&format=json").body, t0, t0.Add(time.Hour))
	if in.Status.Code != 1201 || len(rows) != 0 {
		t.Errorf("json %+v %v", in.Status, rows)
	}
}

func TestOutOfOrderRecordsDropped(t *testing.T) {
	srv, _ := newServer(t)
	a := get(t, srv.URL, "/hapi/data?dataset=jumpy&start=2024-01-01&stop=2024-01-01T01")
	want := "2024-01-01T00:00:01.000Z,0\n2024-01-01T00:00:02.000Z,1\n2024-01-01T00:00:03.000Z,4\n"
	if string(a.body) != want {
		t.Errorf("%s\nwant\n%s", a.body, want)
	}
}

func TestOpenEndedDataset(t *testing.T) {
	srv, _ := newServer(t)
	in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=open").body)
	if in.StopDate != "2026-12-02T05:00:00Z" {
		t.Errorf("stopDate %s", in.StopDate)
	}
	// A request reaching past now is served.
	a := get(t, srv.URL, "/hapi/data?dataset=open&start=2024-01-01&stop=2030-01-01")
	if a.code != 200 || strings.Count(string(a.body), "\n") != 3 {
		t.Errorf("%d %s", a.code, a.body)
	}
	// Before startDate is still 1405.
	if _, code, _ := statusOf(t, get(t, srv.URL, "/hapi/data?dataset=open&start=2023-01-01&stop=2030-01-01")); code != 1405 {
		t.Errorf("code %d", code)
	}
}

func TestStreamFailureAfterDataAborts(t *testing.T) {
	srv, _ := newServer(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/hapi/data?dataset=dying&start=2024-01-01&stop=2024-01-01T01", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Error("the body of a failed stream ended cleanly")
	}
}

func TestHead(t *testing.T) {
	srv, _ := newServer(t)
	a := do(t, http.MethodHead, srv.URL, "/hapi/data?dataset=wave&start=2024-01-01&stop=2024-01-02&format=binary")
	if a.code != 200 || a.hdr.Get("Content-Type") != "application/octet-stream" || len(a.body) != 0 {
		t.Errorf("%d %v", a.code, a.hdr)
	}
	if a := do(t, http.MethodHead, srv.URL, "/hapi/data?dataset=nosuch&start=2024-01-01&stop=2024-01-02"); a.code != 404 {
		t.Errorf("HEAD missing: %d", a.code)
	}
}

func TestParseTime(t *testing.T) {
	good := map[string]string{
		"2017-01-15T23:00:00.000Z":       "2017-01-15T23:00:00Z",
		"2017-01-15T23Z":                 "2017-01-15T23:00:00Z",
		"2017-01-15T23:30Z":              "2017-01-15T23:30:00Z",
		"2017-01-15Z":                    "2017-01-15T00:00:00Z",
		"2017-01-15":                     "2017-01-15T00:00:00Z",
		"2017-015Z":                      "2017-01-15T00:00:00Z",
		"2017-015T12:00:00.5Z":           "2017-01-15T12:00:00.5Z",
		"1999Z":                          "1999-01-01T00:00:00Z",
		"1999-03Z":                       "1999-03-01T00:00:00Z",
		"2024-01-01T00:00:00.123456789Z": "2024-01-01T00:00:00.123456789Z",
	}
	for in, want := range good {
		got, err := ParseTime(in)
		if err != nil || formatDate(got) != want {
			t.Errorf("%s: %s %v, want %s", in, formatDate(got), err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2017-01-15 12:00", "2017-13-01", "2017-01-15T", "2017-01-15T24:01Z", "2017-01-15T24:00:01Z", "17-01-15", "2017-366Z", "2017-01-15T12:00+01:00"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestVerifierRules runs the verifier's checks over every dataset a caller can
// read: info, data in every format over the whole sample or first hour, each
// parameter alone, and an empty range.
func TestVerifierRules(t *testing.T) {
	srv, cat := newServer(t)
	for _, id := range cat.order {
		s := cat.sets[id]
		var who []func(*http.Request)
		if s.owner != "" {
			who = append(who, as(s.owner))
		}
		if s.fail != nil || id == "excepting" {
			continue
		}
		t.Run(id, func(t *testing.T) {
			in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset="+id, who...).body)
			start, stop := t0, t0.Add(time.Hour)
			q := "/hapi/data?dataset=" + id + "&start=" + formatDate(start) + "&stop=" + formatDate(stop)
			csv := get(t, srv.URL, q, who...)
			rows := verifyCSV(t, in, string(csv.body), start, stop)
			if len(rows) == 0 && id != "nodata" {
				t.Error("no rows")
			}
			bin := decodeBinary(t, in, get(t, srv.URL, q+"&format=binary", who...).body, start, stop)
			if len(bin) != len(rows) {
				t.Errorf("binary %d rows, csv %d", len(bin), len(rows))
			}
			_, js := verifyJSON(t, get(t, srv.URL, q+"&format=json", who...).body, start, stop)
			if len(js) != len(rows) {
				t.Errorf("json %d rows, csv %d", len(js), len(rows))
			}
			hdr, rest := splitHeader(t, get(t, srv.URL, q+"&include=header", who...).body)
			if h := verifyInfo(t, hdr); h.Format != "csv" || string(rest) != string(csv.body) {
				t.Errorf("include=header: format %q, body differs", h.Format)
			}
			for _, p := range in.Parameters {
				sub := get(t, srv.URL, "/hapi/info?dataset="+id+"&parameters="+url.QueryEscape(p.Name), who...)
				pin := verifyInfo(t, sub.body)
				d := get(t, srv.URL, q+"&parameters="+url.QueryEscape(p.Name), who...)
				if got := verifyCSV(t, pin, string(d.body), start, stop); len(got) != len(rows) {
					t.Errorf("parameters=%s: %d rows, want %d", p.Name, len(got), len(rows))
				}
			}
			// The verifier's empty range: 1 ms after startDate, 2 ms long.
			e0 := start.Add(time.Millisecond)
			empty := get(t, srv.URL, "/hapi/data?id="+id+"&time.min="+formatDate(e0)+"&time.max="+formatDate(e0.Add(2*time.Millisecond)), who...)
			if empty.code != 200 || len(empty.body) != 0 {
				t.Errorf("empty range: %d %q", empty.code, empty.body)
			}
		})
	}
}

// TestDataStreamsAsRecordsArrive: rows reach the client while the Catalog is
// still streaming (every FlushEvery records), not when it is done.
func TestDataStreamsAsRecordsArrive(t *testing.T) {
	srv, cat := newServer(t)
	t.Run("count", func(t *testing.T) { streamsAsRecordsArrive(t, srv.URL, cat) })
	// A slow source: far fewer rows than FlushEvery, flushed by FlushInterval.
	slow := httptest.NewServer(New(cat, Options{FlushEvery: 1 << 30, FlushInterval: time.Nanosecond, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(slow.Close)
	t.Run("interval", func(t *testing.T) { streamsAsRecordsArrive(t, slow.URL, cat) })
}

func streamsAsRecordsArrive(t *testing.T, srvURL string, cat *testCatalog) {
	gate := make(chan struct{})
	wave := cat.sets["wave"]
	cat.sets["gate"] = &testSet{ds: Dataset{ID: "gate", Start: t0, Stop: t0.Add(time.Hour), Header: wave.ds.Header}, n: 3, fill: wave.fill,
		extra: func(das.Sink) error {
			select {
			case <-gate:
				return nil
			case <-time.After(30 * time.Second):
				return errors.New("the client never saw the first rows")
			}
		}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srvURL+"/hapi/data?dataset=gate&start=2024-01-01&stop=2024-01-01T01", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	br := bufio.NewReader(res.Body)
	var first string
	for range 2 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		first += line
	}
	close(gate)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if got := first + string(rest); got != waveCSV[:len("2024-01-01T00:00:00.000Z,0\n2024-01-01T00:00:01.000Z,1.5\n2024-01-01T00:00:02.000Z,3\n")] {
		t.Errorf("rows\n%s", got)
	}
}

func TestVectorComponentNames(t *testing.T) {
	hdr := multiHeader()
	b := hdr.Dims[3].Vars[0]
	for system, want := range map[string][]string{
		"":            {"x", "y", "z"},
		"spherical":   {"r", "other", "other"},
		"cylindrical": {"rho", "other", "z"},
	} {
		b.System = system
		got := columns(hdr, 3)[3].VectorComps
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v, want %v", system, got, want)
		}
	}
}
