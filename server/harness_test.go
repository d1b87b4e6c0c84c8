package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

// testServer is a real HTTP server (httptest on loopback) over a real database.
type testServer struct {
	URL   string
	app   *App
	db    *database.DB
	world *fixture.World
	mail  *captureMailer
}

func testBlobs(t testing.TB) blob.Store {
	t.Helper()
	b, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type captureMailer struct {
	mu     sync.Mutex
	bodies []string
}

func (m *captureMailer) Send(_ context.Context, _, _, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bodies = append(m.bodies, body)
	return nil
}

func newTestServer(t testing.TB, dialect string, mutate ...func(*Config)) *testServer {
	t.Helper()
	db := dbtest.Open(t, dialect)
	world := fixture.Build(t, db)
	t.Chdir(t.TempDir())
	cfg, err := loadConfig("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = fixture.FastPasswords
	for _, m := range mutate {
		m(&cfg)
	}
	app := NewApp(cfg, db, testBlobs(t), newLogger(io.Discard, "info", "text"))
	mail := &captureMailer{}
	app.mailer = mail
	return &testServer{URL: newHTTPTestServer(t, app), app: app, db: db, world: world, mail: mail}
}

func newHTTPTestServer(t testing.TB, app *App) string {
	t.Helper()
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if app.mqtt != nil {
			_ = app.mqtt.Close()
		}
	})
	return srv.URL
}

// gqlClient is one GraphQL client: a cookie jar (a browser) and/or an Authorization header.
type gqlClient struct {
	ts      *testServer
	http    *http.Client
	auth    string
	origin  string
	cookies string // sent verbatim when set (replaying a cookie)
}

func (ts *testServer) client(t testing.TB) *gqlClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &gqlClient{ts: ts, http: &http.Client{Jar: jar}}
}

func (ts *testServer) bearer(t testing.TB, secret string) *gqlClient {
	c := ts.client(t)
	c.auth = "Bearer " + secret
	return c
}

func (ts *testServer) basic(t testing.TB, secret string) *gqlClient {
	c := ts.client(t)
	c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("anyone:"+secret))
	return c
}

// login signs a fresh browser-like client in.
func (ts *testServer) login(t testing.TB, name string) *gqlClient {
	t.Helper()
	c := ts.client(t)
	res := c.do(t, `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { id } }`,
		map[string]any{"l": name, "p": fixture.Password})
	res.ok(t)
	return c
}

type gqlResult struct {
	Status int
	Header http.Header
	Data   map[string]json.RawMessage
	Errors []struct {
		Message    string
		Extensions struct{ Code string }
	}
	raw []byte
}

func (r gqlResult) ok(t testing.TB) gqlResult {
	t.Helper()
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		t.Fatalf("unexpected failure: status %d %s", r.Status, r.raw)
	}
	return r
}

// code is the first error's extensions.code, or "" when there is none.
func (r gqlResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

func (r gqlResult) decode(t testing.TB, field string, into any) {
	t.Helper()
	if err := json.Unmarshal(r.Data[field], into); err != nil {
		t.Fatalf("decode %s from %s: %v", field, r.raw, err)
	}
}

func (c *gqlClient) do(t testing.TB, query string, vars map[string]any) gqlResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return c.doBody(t, body)
}

// doBody posts an encoded GraphQL request body.
func (c *gqlClient) doBody(t testing.TB, body []byte) gqlResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.ts.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	if c.cookies != "" {
		req.Header.Set("Cookie", c.cookies)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	res := gqlResult{Status: resp.StatusCode, Header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &res)
	return res
}
