package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent/key"
	"github.com/rhizoflex/rhizoflex/frontend"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

func eachServer(t *testing.T, fn func(t *testing.T, ts *testServer)) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, newTestServer(t, d)) })
	}
}

func sessionCookie(t *testing.T, c *gqlClient) string {
	t.Helper()
	u, _ := url.Parse(c.ts.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "rhizoflex_session" {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func TestLoginSessionLogout(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.client(t)
		res := c.do(t, `mutation { login(login: "lmember@example.com", password: "`+fixture.Password+`") { email } }`, nil).ok(t)
		setCookie := res.Header.Get("Set-Cookie")
		for _, attr := range []string{"rhizoflex_session=", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(setCookie, attr) {
				t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
			}
		}
		var me struct{ Email string }
		c.do(t, `{ me { email } }`, nil).ok(t).decode(t, "me", &me)
		if me.Email != "lmember@example.com" {
			t.Fatalf("cookie does not authenticate: %+v", me)
		}
		first := sessionCookie(t, c)

		// Logging in again renews the session ID; the old one is dead.
		c.do(t, `mutation { login(login: "lmember", password: "`+fixture.Password+`") { id } }`, nil).ok(t)
		if second := sessionCookie(t, c); second == first {
			t.Fatal("session ID not renewed at login")
		}
		replay := ts.client(t)
		replay.cookies = first
		if r := replay.do(t, `{ me { email } }`, nil).ok(t); string(r.Data["me"]) != "null" {
			t.Fatalf("old session ID still works: %s", r.raw)
		}

		current := sessionCookie(t, c)
		c.do(t, `mutation { logout }`, nil).ok(t)
		replay.cookies = current
		if r := replay.do(t, `{ me { email } }`, nil).ok(t); string(r.Data["me"]) != "null" {
			t.Fatalf("replayed cookie works after logout: %s", r.raw)
		}
	})
}

func TestLoginRateLimitOverHTTP(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.client(t)
		q := `mutation($p: String!) { login(login: "ladmin", password: $p) { id } }`
		for i := 1; i <= 10; i++ {
			r := c.do(t, q, map[string]any{"p": "wrong"})
			if r.code() != "UNAUTHENTICATED" || r.Errors[0].Message != "invalid login or password" {
				t.Fatalf("attempt %d: %s", i, r.raw)
			}
		}
		r := c.do(t, q, map[string]any{"p": fixture.Password})
		if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("11th attempt: status %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.raw)
		}
	})
}

func TestKeysOverHTTP(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		member := ts.login(t, "lmember")
		var created struct {
			Key    struct{ ID, Prefix string }
			Secret string
		}
		member.do(t, `mutation { createKey(input: {name: "script"}) { key { id prefix } secret } }`, nil).ok(t).decode(t, "createKey", &created)
		if !strings.HasPrefix(created.Secret, access.KeyPrefix) || !strings.HasPrefix(created.Secret, created.Key.Prefix) || len(created.Secret) < 30 {
			t.Fatalf("created key: %+v", created)
		}
		// The secret is shown once: listing keys never returns it, and the row holds a hash.
		list := member.do(t, `{ keys { id prefix name } }`, nil).ok(t)
		if strings.Contains(string(list.raw), created.Secret) {
			t.Fatal("keys list returns the secret")
		}
		row, err := ts.db.Client.Key.Query().Where(key.Prefix(created.Key.Prefix)).Only(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if row.Hash == created.Secret || row.Hash != access.HashSecret(created.Secret) {
			t.Fatal("the database does not hold exactly the hash of the secret")
		}

		for name, c := range map[string]*gqlClient{"bearer": ts.bearer(t, created.Secret), "basic": ts.basic(t, created.Secret)} {
			var me struct{ Email string }
			c.do(t, `{ me { email } }`, nil).ok(t).decode(t, "me", &me)
			if me.Email != "lmember@example.com" {
				t.Fatalf("%s key does not act as its user: %+v", name, me)
			}
		}
		// A key cannot make keys.
		if r := ts.bearer(t, created.Secret).do(t, `mutation { createKey(input: {name: "x"}) { secret } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("key making a key: %s", r.raw)
		}
		member.do(t, `mutation($id: ID!) { revokeKey(id: $id) { revokedAt } }`, map[string]any{"id": created.Key.ID}).ok(t)
		r := ts.bearer(t, created.Secret).do(t, `{ me { email } }`, nil)
		if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
			t.Fatalf("revoked key on the next request: %d %s", r.Status, r.raw)
		}
		if r := ts.bearer(t, "rfk_garbage").do(t, `{ version }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("bad key: %d", r.Status)
		}
	})
}

func TestCrossOriginCookieMutationRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		browser := ts.login(t, "lmember")
		browser.origin = "http://evil.example"
		r := browser.do(t, `mutation { createKey(input: {name: "csrf"}) { secret } }`, nil)
		if r.Status != http.StatusForbidden {
			t.Fatalf("cross-origin cookie mutation: status %d %s", r.Status, r.raw)
		}
		n, _ := ts.db.Client.Key.Query().Where(key.Name("csrf")).Count(t.Context())
		if n != 0 {
			t.Fatal("the refused mutation created a key")
		}
		keyClient := ts.bearer(t, ts.world.Keys["userkey"])
		keyClient.origin = "http://evil.example"
		r = keyClient.do(t, `mutation { grantPermission(path: "/lab/data", grantee: {public: true}, level: READ) { id } }`, nil)
		if r.Status != http.StatusOK || r.code() != "FORBIDDEN" {
			// The bearer request passes CSRF and reaches the authorizer (a member is not admin).
			t.Fatalf("cross-origin bearer request: %d %s", r.Status, r.raw)
		}
		admin := ts.login(t, "ladmin")
		var created struct{ Secret string }
		admin.do(t, `mutation { createKey(input: {name: "admin key"}) { secret } }`, nil).ok(t).decode(t, "createKey", &created)
		adminKey := ts.bearer(t, created.Secret)
		adminKey.origin = "http://evil.example"
		adminKey.do(t, `mutation { grantPermission(path: "/lab/data", grantee: {organization: "other"}, level: READ) { id } }`, nil).ok(t)
	})
}

// viewerClient returns a client acting as a fixture viewer.
func viewerClient(t *testing.T, ts *testServer, name string) *gqlClient {
	switch name {
	case "anonymous":
		return ts.client(t)
	case "userkey", "ctrlkey":
		return ts.bearer(t, ts.world.Keys[name])
	default:
		return ts.login(t, name)
	}
}

// The permission matrix through every GraphQL operation that exists on resources.
func TestPermissionMatrixOverGraphQL(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		if _, err := ts.db.Client.User.Create().SetEmail("grantee@example.com").Save(t.Context()); err != nil {
			t.Fatal(err)
		}
		for viewerName, expected := range fixture.Expected {
			c := viewerClient(t, ts, viewerName)
			for _, res := range fixture.Resources {
				want := expected[res.Name]
				cell := fmt.Sprintf("%s on %s", viewerName, res.Path)

				r := c.do(t, `query($p: String!) { resource(path: $p) { path access } }`, map[string]any{"p": res.Path})
				switch want {
				case access.None:
					if r.code() != "" || string(r.Data["resource"]) != "null" {
						t.Errorf("resource %s: want null, got %s", cell, r.raw)
					}
				default:
					var got struct{ Access string }
					r.ok(t).decode(t, "resource", &got)
					if got.Access != strings.ToUpper(want.String()) {
						t.Errorf("resource %s: access %s, want %s", cell, got.Access, want)
					}
				}

				r = c.do(t, `mutation($p: String!) { grantPermission(path: $p, grantee: {userEmail: "grantee@example.com"}, level: READ) { id } }`,
					map[string]any{"p": res.Path})
				var wantCode string
				switch want {
				case access.Admin:
				case access.None:
					wantCode = "NOT_FOUND"
				default:
					wantCode = "FORBIDDEN"
				}
				if r.code() != wantCode {
					t.Errorf("grantPermission %s: code %q, want %q (%s)", cell, r.code(), wantCode, r.raw)
				}
				if wantCode == "" {
					var p struct{ ID string }
					r.decode(t, "grantPermission", &p)
					c.do(t, `mutation($id: ID!) { revokePermission(id: $id) }`, map[string]any{"id": p.ID}).ok(t)
				}
			}
			// Controller keys need write access on the controller and a person.
			r := c.do(t, `mutation { createKey(input: {name: "ck", asController: "/lab/ctrl"}) { key { id } } }`, nil)
			wantCode := map[string]string{"sys": "", "ladmin": "", "lmember": "", "omember": "NOT_FOUND",
				"userkey": "FORBIDDEN", "ctrlkey": "FORBIDDEN", "anonymous": "UNAUTHENTICATED"}[viewerName]
			if r.code() != wantCode {
				t.Errorf("createKey(asController) as %s: code %q, want %q", viewerName, r.code(), wantCode)
			}
		}
	})
}

func TestOrganizationsOverGraphQL(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		sys, ladmin, lmember := ts.login(t, "sys"), ts.login(t, "ladmin"), ts.login(t, "lmember")
		if r := ladmin.do(t, `mutation { createOrganization(name: "new") { id } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("org admin creating an organization: %s", r.raw)
		}
		sys.do(t, `mutation { createOrganization(name: "new", fullName: "New Lab") { folderPath } }`, nil).ok(t)
		if r := sys.do(t, `mutation { createOrganization(name: "new") { id } }`, nil); r.code() != "CONFLICT" {
			t.Fatalf("duplicate organization: %s", r.raw)
		}
		if r := lmember.do(t, `mutation { addMember(organization: "lab", email: "omember@example.com") { id } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("member adding a member: %s", r.raw)
		}
		ladmin.do(t, `mutation { addMember(organization: "lab", email: "omember@example.com") { isAdmin } }`, nil).ok(t)
		if r := ladmin.do(t, `mutation { removeMember(organization: "lab", email: "ladmin@example.com") }`, nil); r.code() != "CONFLICT" {
			t.Fatalf("removing the last admin: %s", r.raw)
		}
		if r := ladmin.do(t, `mutation { setMemberAdmin(organization: "lab", email: "ladmin@example.com", admin: false) { id } }`, nil); r.code() != "CONFLICT" {
			t.Fatalf("demoting the last admin: %s", r.raw)
		}
		ladmin.do(t, `mutation { setMemberAdmin(organization: "lab", email: "lmember@example.com", admin: true) { isAdmin } }`, nil).ok(t)
		ladmin.do(t, `mutation { removeMember(organization: "lab", email: "ladmin@example.com") }`, nil).ok(t)

		var orgs []struct{ Name string }
		lmember.do(t, `{ organizations { name } }`, nil).ok(t).decode(t, "organizations", &orgs)
		if len(orgs) != 1 || orgs[0].Name != "lab" {
			t.Fatalf("member's organizations: %+v", orgs)
		}
		if r := lmember.do(t, `{ organization(name: "other") { name } }`, nil).ok(t); string(r.Data["organization"]) != "null" {
			t.Fatalf("non-member sees another organization: %s", r.raw)
		}
		if r := lmember.do(t, `{ users { edges { node { email } } } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("users for a non-admin: %s", r.raw)
		}
		var users struct {
			Edges    []struct{ Node struct{ Email string } }
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
		sys.do(t, `{ users(first: 2) { edges { node { email } } pageInfo { hasNextPage endCursor } } }`, nil).ok(t).decode(t, "users", &users)
		if len(users.Edges) != 2 || !users.PageInfo.HasNextPage {
			t.Fatalf("users page: %+v", users)
		}
		sys.do(t, `query($a: String) { users(first: 10, after: $a) { edges { node { email } } } }`, map[string]any{"a": users.PageInfo.EndCursor}).ok(t).decode(t, "users", &users)
		if len(users.Edges) != 2 {
			t.Fatalf("second users page: %+v", users)
		}
	})
}

func TestPasswordChangeAndResetOverGraphQL(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := ts.login(t, "lmember")
	other := ts.login(t, "lmember") // the same person in another browser
	if r := c.do(t, `mutation { changePassword(currentPassword: "nope", newPassword: "another-one") }`, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("wrong current password: %s", r.raw)
	}
	c.do(t, `mutation { changePassword(currentPassword: "`+fixture.Password+`", newPassword: "another-one") }`, nil).ok(t)
	if r := c.do(t, `{ me { email } }`, nil).ok(t); !strings.Contains(string(r.raw), "lmember@example.com") {
		t.Fatalf("the session that changed the password was ended: %s", r.raw)
	}
	if r := other.do(t, `{ me { email } }`, nil).ok(t); string(r.Data["me"]) != "null" {
		t.Fatalf("another session survived the password change: %s", r.raw)
	}
	anon := ts.client(t)
	anon.do(t, `mutation { requestPasswordReset(email: "nobody@example.com") }`, nil).ok(t)
	anon.do(t, `mutation { requestPasswordReset(email: "lmember@example.com") }`, nil).ok(t)
	if len(ts.mail.bodies) != 1 {
		t.Fatalf("want exactly one reset mail, got %d", len(ts.mail.bodies))
	}
	token := strings.Fields(strings.SplitN(ts.mail.bodies[0], "Reset token: ", 2)[1])[0]
	anon.do(t, `mutation($t: String!) { resetPassword(token: $t, newPassword: "third-password") }`, map[string]any{"t": token}).ok(t)
	if r := c.do(t, `{ me { email } }`, nil).ok(t); string(r.Data["me"]) != "null" {
		t.Fatalf("a session survived the password reset: %s", r.raw)
	}
	anon.do(t, `mutation { login(login: "lmember", password: "third-password") { id } }`, nil).ok(t)
}

func TestGraphQLLimits(t *testing.T) {
	ts := newTestServer(t, "sqlite", func(c *Config) { c.QueryDepth = 3 })
	c := ts.login(t, "sys")
	if r := c.do(t, `{ me { memberships { organization { members { user { email } } } } } }`, nil); r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "limit is 3") {
		t.Fatalf("deep query: %s", r.raw)
	}
	c.do(t, `{ me { memberships { id } } }`, nil).ok(t)
	big := strings.Repeat("x", 2<<20)
	if r := c.do(t, `{ version }`, map[string]any{"pad": big}); r.Status < 400 {
		t.Fatalf("a 2 MiB body was accepted: %d", r.Status)
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	ts := newTestServer(t, "sqlite", func(c *Config) { c.SessionIdleTimeout = time.Second })
	c := ts.login(t, "lmember")
	if r := c.do(t, `{ me { id } }`, nil).ok(t); string(r.Data["me"]) == "null" {
		t.Fatal("fresh session not recognised")
	}
	time.Sleep(1500 * time.Millisecond)
	if r := c.do(t, `{ me { id } }`, nil).ok(t); string(r.Data["me"]) != "null" {
		t.Fatalf("session outlived its idle timeout: %s", r.raw)
	}
}

func TestCORSAllowList(t *testing.T) {
	ts := newTestServer(t, "sqlite", func(c *Config) { c.CORSOrigins = []string{"https://app.example"} })
	preflight := func(origin string) string {
		req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.Header.Get("Access-Control-Allow-Origin") + "|" + resp.Header.Get("Access-Control-Allow-Credentials")
	}
	if got := preflight("https://app.example"); got != "https://app.example|true" {
		t.Fatalf("listed origin: %q", got)
	}
	if got := preflight("https://evil.example"); got != "|" {
		t.Fatalf("unlisted origin got CORS headers: %q", got)
	}
	// A listed origin may also send cookie mutations (trusted by the CSRF check).
	browser := ts.login(t, "lmember")
	browser.origin = "https://app.example"
	browser.do(t, `mutation { createKey(input: {name: "from the app"}) { key { id } } }`, nil).ok(t)
}

func TestProductionTurnsPlaygroundAndIntrospectionOff(t *testing.T) {
	for _, prod := range []bool{false, true} {
		ts := newTestServer(t, "sqlite", func(c *Config) {
			c.Production, c.SecureCookies = prod, prod
			c.Playground, c.Introspection = !prod, !prod
		})
		resp, _ := get(t, ts.client(t), "/playground", nil)
		if (resp.StatusCode == http.StatusOK) == prod {
			t.Errorf("production=%v: /playground answers %d", prod, resp.StatusCode)
		}
		r := ts.client(t).do(t, `{ __schema { queryType { name } } }`, nil)
		if (r.code() == "") == prod {
			t.Errorf("production=%v: introspection %s", prod, r.raw)
		}
		if prod {
			login := ts.client(t).do(t, `mutation { login(login: "lmember", password: "`+fixture.Password+`") { id } }`, nil).ok(t)
			if !strings.Contains(login.Header.Get("Set-Cookie"), "Secure") {
				t.Errorf("production session cookie is not Secure: %s", login.Header.Get("Set-Cookie"))
			}
		}
	}
}

func TestPanicBecomes500(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	app := ts.app
	app.extraRoutes = func(mux *http.ServeMux) {
		mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	}
	url := newHTTPTestServer(t, app)
	resp, err := http.Get(url + "/test/panic")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("panicking handler: %d", resp.StatusCode)
	}
	resp, err = http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("server unhealthy after a panic: %v", err)
	}
	_ = resp.Body.Close()
}

func TestResourcePermissionsField(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		admin := ts.login(t, "omember")
		var res struct {
			Permissions []struct {
				ID, GranteeType, Level string
				Resource               struct{ Path string }
			}
		}
		admin.do(t, `{ resource(path: "/other/pub") { permissions { id granteeType level resource { path } } } }`, nil).ok(t).decode(t, "resource", &res)
		if len(res.Permissions) != 1 || res.Permissions[0].GranteeType != "PUBLIC" || res.Permissions[0].Level != "READ" || res.Permissions[0].Resource.Path != "/other/pub" {
			t.Fatalf("permissions: %+v", res)
		}
		if r := ts.login(t, "lmember").do(t, `{ resource(path: "/other/pub") { permissions { id } } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("a reader listing grants: %s", r.raw)
		}
		admin.do(t, `mutation($id: ID!) { revokePermission(id: $id) }`, map[string]any{"id": res.Permissions[0].ID}).ok(t)
		if r := ts.client(t).do(t, `{ resource(path: "/other/pub") { path } }`, nil); r.code() != "" || string(r.Data["resource"]) != "null" {
			t.Fatalf("public access survived revocation: %s", r.raw)
		}
	})
}

func TestClientIPBehindTrustedProxy(t *testing.T) {
	app := &App{cfg: Config{TrustedProxies: []string{"10.0.0.0/8"}}}
	tests := []struct{ remote, xff, want string }{
		{"192.0.2.7:1234", "", "192.0.2.7"},
		{"192.0.2.7:1234", "203.0.113.9", "192.0.2.7"}, // untrusted peer: header ignored
		{"10.1.2.3:80", "203.0.113.9", "203.0.113.9"},
		{"10.1.2.3:80", "198.51.100.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"},
		{"10.1.2.3:80", "", "10.1.2.3"},
	}
	for _, tc := range tests {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := app.clientIP(r); got != tc.want {
			t.Errorf("%s with XFF %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if _, err := loadConfig(writeFile(t, "trusted_proxies: [nonsense]\n"), nil, nil); err == nil {
		t.Fatal("a bad trusted_proxies entry was accepted")
	}
}

func TestPlaygroundIsSelfHosted(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	resp, body := get(t, ts.client(t), "/playground", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/playground: %d", resp.StatusCode)
	}
	if frontend.Built() {
		// The bundled GraphiQL loads nothing from third-party hosts (works offline, no CDN trust).
		if strings.Contains(string(body), "https://") || !strings.Contains(string(body), "/assets/") {
			t.Fatalf("playground page is not the bundled one:\n%s", body)
		}
	} else if !strings.Contains(string(body), "GraphiQL") {
		t.Fatalf("fallback playground page: %s", body)
	}
}

// Fields selected under login resolve as the person who just signed in.
func TestLoginSelectsAsTheNewViewer(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	r := ts.client(t).do(t, `mutation($p: String!) { login(login: "lmember", password: $p) { email memberships { organization { name } isAdmin } } }`,
		map[string]any{"p": fixture.Password}).ok(t)
	if !strings.Contains(string(r.raw), `"memberships":[{"organization":{"name":"lab"},"isAdmin":false}]`) {
		t.Fatalf("login { memberships }: %s", r.raw)
	}
}

// A client may send a query's hash instead of its text once the server knows it.
func TestAutomaticPersistedQueries(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := ts.bearer(t, ts.world.Keys["userkey"])
	q := `{ me { email } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(body map[string]any) gqlResult {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", c.auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		out := gqlResult{Status: resp.StatusCode, raw: b}
		_ = json.Unmarshal(b, &out)
		return out
	}
	if r := post(map[string]any{"extensions": ext}); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "PersistedQueryNotFound") {
		t.Fatalf("unknown hash: %s", r.raw)
	}
	post(map[string]any{"query": q, "extensions": ext}).ok(t)
	if r := post(map[string]any{"extensions": ext}).ok(t); !strings.Contains(string(r.raw), "lmember@example.com") {
		t.Fatalf("hash only: %s", r.raw)
	}
}
