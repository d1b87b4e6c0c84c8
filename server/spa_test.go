package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// testDist is a built app: index.html, one hashed asset, one file at the top.
var testDist = fstest.MapFS{
	"index.html":            {Data: []byte("<!doctype html><div id=app></div>")},
	"assets/main-Ab12.js":   {Data: []byte("console.log(1)")},
	"playground.html":       {Data: []byte("<!doctype html>playground")},
	"assets/main-Ab12.css":  {Data: []byte("body{}")},
	"robots-example.txt":    {Data: []byte("plain")},
	"assets/sub/nested.txt": {Data: []byte("nested")},
}

// spaResult is what a request got: status, headers and body.
type spaResult struct {
	StatusCode int
	Header     http.Header
}

func spaGet(t *testing.T, h http.Handler, method, target string) (spaResult, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return spaResult{StatusCode: rec.Code, Header: rec.Header()}, rec.Body.String()
}

func TestSPAFallbackCachingAndReservedPrefixes(t *testing.T) {
	h := spaHandler(testDist, true, apiPrefixes("/das"))
	for _, target := range []string{"/", "/index.html", "/browse/lab/data/temperature", "/browse/lab/notes.md", "/account", "/org/lab", "/apiary", "/das2", "/filesystem"} {
		res, body := spaGet(t, h, http.MethodGet, target)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "id=app") {
			t.Errorf("GET %s = %d %q, want index.html", target, res.StatusCode, body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s Cache-Control = %q, want no-cache", target, cc)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s Content-Type = %q", target, ct)
		}
	}
	res, body := spaGet(t, h, http.MethodGet, "/assets/main-Ab12.js")
	if res.StatusCode != http.StatusOK || body != "console.log(1)" {
		t.Fatalf("asset = %d %q", res.StatusCode, body)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("asset Cache-Control = %q", cc)
	}
	if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("asset Content-Type = %q", ct)
	}
	res, _ = spaGet(t, h, http.MethodGet, "/robots-example.txt")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "" {
		t.Errorf("top-level file = %d, Cache-Control %q (unhashed files must not be cached for a year)", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	// Unknown paths under the program prefixes (and a stale hashed asset) are 404, never the app.
	for _, target := range []string{
		"/api", "/api/", "/api/v1/nothing", "/hapi/capabilities", "/das/nothing", "/files/lab/x",
		"/graphql/x", "/assets/main-Old1.js", "/assets/", "/api/../api/v1/x", "/browse/../api/v1/x",
	} {
		res, body := spaGet(t, h, http.MethodGet, target)
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, "id=app") {
			t.Errorf("GET %s = %d %q, want 404", target, res.StatusCode, body)
		}
		if res.Header.Get("Cache-Control") == "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: a 404 is cached for a year", target)
		}
	}
	res, _ = spaGet(t, h, http.MethodPost, "/browse/x")
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST deep link = %d, want 405", res.StatusCode)
	}
	// A das prefix moved by configuration is reserved where it is.
	h = spaHandler(testDist, true, apiPrefixes("/streams/das"))
	if res, _ := spaGet(t, h, http.MethodGet, "/streams/das/x"); res.StatusCode != http.StatusNotFound {
		t.Errorf("moved das prefix = %d, want 404", res.StatusCode)
	}
	if res, _ := spaGet(t, h, http.MethodGet, "/das/x"); res.StatusCode != http.StatusOK {
		t.Errorf("/das/x with das elsewhere = %d, want the app", res.StatusCode)
	}
}

// Through the whole server: the routes in front of the app keep their own answers and the
// reserved prefixes the server does not serve yet stay 404.
func TestSPAReservedPrefixesThroughServer(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	for _, target := range []string{"/api/v1/nope", "/hapi/nope", "/graphql/nope", "/assets/missing-0000.js"} {
		res, err := http.Get(ts.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNotFound || strings.Contains(string(body), `id="app"`) {
			t.Errorf("GET %s = %d, want 404", target, res.StatusCode)
		}
	}
	res, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", res.StatusCode)
	}
}
