package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// The reported chain: an org admin adds the system admin to their organization, makes a
// key acting as them, and uses it to create a system admin. And its cousin: a key of a
// user who belongs to two organizations, made for one, reaching into the other.
func TestEscalationChainIsClosed(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		ctx := t.Context()
		ladmin := ts.login(t, "ladmin")
		ladmin.do(t, `mutation { addMember(organization: "lab", email: "sys@example.com") { id } }`, nil).ok(t)
		r := ladmin.do(t, `mutation { createKey(input: {name: "x", organization: "lab", asUserEmail: "sys@example.com"}) { secret } }`, nil)
		if r.code() != "FORBIDDEN" {
			t.Fatalf("org admin made a key acting as the system admin: %s", r.raw)
		}
		// Not for an ordinary member either, nor for an unknown address (same answer).
		for _, email := range []string{"lmember@example.com", "nobody@example.com"} {
			r := ladmin.do(t, `mutation($e: String!) { createKey(input: {name: "x", organization: "lab", asUserEmail: $e}) { secret } }`, map[string]any{"e": email})
			if r.code() != "FORBIDDEN" || r.Errors[0].Message != "only that user (or a system admin) may create a key acting as them" {
				t.Fatalf("org admin making a key as %s: %s", email, r.raw)
			}
		}
		// A key for an organization the caller does not belong to: refused like a missing one.
		for _, org := range []string{"other", "no-such-org"} {
			r := ladmin.do(t, `mutation($o: String!) { createKey(input: {name: "x", organization: $o}) { secret } }`, map[string]any{"o": org})
			if r.code() != "NOT_FOUND" || r.Errors[0].Message != "no organization "+org {
				t.Fatalf("key for organization %s: %s", org, r.raw)
			}
		}
		// The system admin's own key has no system-admin powers.
		sys := ts.login(t, "sys")
		var created struct{ Secret string }
		sys.do(t, `mutation { createKey(input: {name: "sys key"}) { secret } }`, nil).ok(t).decode(t, "createKey", &created)
		sysKey := ts.bearer(t, created.Secret)
		for _, q := range []string{
			`mutation { createUser(input: {email: "evil@example.com", password: "long-enough-password", systemAdmin: true}) { id } }`,
			`mutation { createOrganization(name: "evil") { id } }`,
			`{ users { edges { node { email } } } }`,
		} {
			if r := sysKey.do(t, q, nil); r.code() != "FORBIDDEN" {
				t.Fatalf("system admin's key ran %s: %s", q, r.raw)
			}
		}
		// A user in two organizations makes a key for one; it cannot reach the other.
		both, err := account.CreateUser(ctx, ts.db.Client, account.NewUser{Email: "both@example.com", Password: fixture.Password}, fixture.FastPasswords)
		if err != nil {
			t.Fatal(err)
		}
		for _, org := range []int{ts.world.Lab.ID, ts.world.Other.ID} {
			if _, err := account.AddMember(ctx, ts.db.Client, org, both.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		bothC := ts.login(t, "both@example.com")
		bothC.do(t, `mutation { createKey(input: {name: "lab only", organization: "lab"}) { secret } }`, nil).ok(t).decode(t, "createKey", &created)
		labKey := ts.bearer(t, created.Secret)
		if r := labKey.do(t, `{ resource(path: "/lab/data/notes.txt") { path } }`, nil).ok(t); string(r.Data["resource"]) == "null" {
			t.Fatal("a lab key cannot read lab")
		}
		if r := labKey.do(t, `{ resource(path: "/other/data/notes.txt") { path } }`, nil).ok(t); string(r.Data["resource"]) != "null" {
			t.Fatalf("a lab key read the other organization: %s", r.raw)
		}
		if r := labKey.do(t, `mutation { updateSequence(path: "/other/data/temperature", value: "1") { timestamp } }`, nil); r.code() != "NOT_FOUND" {
			t.Fatalf("a lab key wrote the other organization: %s", r.raw)
		}
		if r := labKey.do(t, `{ organization(name: "other") { members { id } } }`, nil).ok(t); string(r.Data["organization"]) != "null" {
			t.Fatalf("a lab key sees the other organization: %s", r.raw)
		}
		// Public data stays readable: a key is never worth less than no key.
		if r := labKey.do(t, `{ resource(path: "/other/pub/pressure") { path } }`, nil).ok(t); string(r.Data["resource"]) == "null" {
			t.Fatal("a lab key cannot read public data")
		}
	})
}

// No chain of operations an org admin can run yields a key or session with system-admin
// powers: every key the org admin can obtain, by any route, is tried against the
// system-admin operations.
func TestNoOrgAdminChainReachesSystemAdmin(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		ladmin := ts.login(t, "ladmin")
		// Everything an org admin can do to bring the system admin close.
		ladmin.do(t, `mutation { addMember(organization: "lab", email: "sys@example.com") { id } }`, nil).ok(t)
		ladmin.do(t, `mutation { setMemberAdmin(organization: "lab", email: "sys@example.com", admin: true) { id } }`, nil).ok(t)
		ladmin.do(t, `mutation { grantPermission(path: "/lab/data", grantee: {userEmail: "sys@example.com"}, level: ADMIN) { id } }`, nil).ok(t)
		ladmin.do(t, `mutation { requestPasswordReset(email: "sys@example.com") }`, nil).ok(t)
		var secrets []string
		for _, in := range []string{
			`{name: "a"}`, `{name: "b", organization: "lab"}`, `{name: "c", asController: "/lab/ctrl"}`,
			`{name: "d", organization: "lab", asUserEmail: "sys@example.com"}`, `{name: "e", asUserEmail: "sys@example.com"}`,
		} {
			r := ladmin.do(t, `mutation { createKey(input: `+in+`) { secret } }`, nil)
			if r.code() == "" {
				var k struct{ Secret string }
				r.decode(t, "createKey", &k)
				secrets = append(secrets, k.Secret)
			}
		}
		if len(secrets) != 3 {
			t.Fatalf("org admin obtained %d keys, want own, own-for-lab and controller", len(secrets))
		}
		// The reset mail went to the system admin, not to the org admin.
		if len(ts.mail.bodies) != 1 {
			t.Fatalf("%d reset mails", len(ts.mail.bodies))
		}
		viewers := []*gqlClient{ladmin}
		for _, s := range secrets {
			viewers = append(viewers, ts.bearer(t, s))
		}
		for i, v := range viewers {
			for _, q := range []string{
				`mutation { createUser(input: {email: "evil@example.com", password: "long-enough-password", systemAdmin: true}) { id } }`,
				`mutation { createOrganization(name: "evil") { id } }`,
				`mutation { addMember(organization: "other", email: "ladmin@example.com", admin: true) { id } }`,
			} {
				if r := v.do(t, q, nil); r.code() != "FORBIDDEN" && r.code() != "NOT_FOUND" {
					t.Fatalf("viewer %d ran %s: %s", i, q, r.raw)
				}
			}
			var me struct{ SystemAdmin bool }
			if r := v.do(t, `{ me { systemAdmin } }`, nil); string(r.Data["me"]) != "null" {
				r.decode(t, "me", &me)
			}
			if me.SystemAdmin {
				t.Fatalf("viewer %d is a system admin", i)
			}
		}
	})
}

// A viewer gets the same answer for "hidden" and "does not exist", and no message names
// what the viewer may not read.
func TestHiddenLooksMissing(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		ctx := t.Context()
		hidden, err := tree.ByPath(ctx, ts.db.Client, "/other/data/notes.txt")
		if err != nil {
			t.Fatal(err)
		}
		anon := ts.client(t)
		member := ts.login(t, "lmember")
		// node(id): null for hidden and missing ids, for anonymous and members.
		for _, c := range []*gqlClient{anon, member} {
			for _, id := range []int{hidden.ID, 999999} {
				r := c.do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				if r.code() != "" || string(r.Data["node"]) != "null" || strings.Contains(string(r.raw), "/other") {
					t.Fatalf("node(%d): %s", id, r.raw)
				}
			}
		}
		// revokePermission(id) on a hidden resource's grant: named by id only.
		omember := ts.login(t, "omember")
		var grant struct{ ID string }
		omember.do(t, `mutation { grantPermission(path: "/other/data", grantee: {organization: "other"}, level: READ) { id } }`, nil).ok(t).decode(t, "grantPermission", &grant)
		for _, id := range []string{grant.ID, "999999"} {
			r := member.do(t, `mutation($id: ID!) { revokePermission(id: $id) }`, map[string]any{"id": id})
			if r.code() != "NOT_FOUND" || r.Errors[0].Message != "no permission "+id {
				t.Fatalf("revokePermission(%s): %s", id, r.raw)
			}
		}
		// grantPermission by a non-admin: the same answer for a known and an unknown e-mail.
		var answers []string
		for _, email := range []string{"omember@example.com", "nobody@example.com"} {
			r := member.do(t, `mutation($e: String!) { grantPermission(path: "/other/data", grantee: {userEmail: $e}, level: READ) { id } }`, map[string]any{"e": email})
			answers = append(answers, r.code()+" "+r.Errors[0].Message)
		}
		if answers[0] != answers[1] || !strings.HasPrefix(answers[0], "NOT_FOUND") {
			t.Fatalf("grantPermission answers differ by account: %q", answers)
		}
		answers = answers[:0]
		for _, email := range []string{"omember@example.com", "nobody@example.com"} {
			r := member.do(t, `mutation($e: String!) { grantPermission(path: "/lab/data", grantee: {userEmail: $e}, level: READ) { id } }`, map[string]any{"e": email})
			answers = append(answers, r.code()+" "+r.Errors[0].Message)
		}
		if answers[0] != answers[1] || !strings.HasPrefix(answers[0], "FORBIDDEN") {
			t.Fatalf("grantPermission by a writer answers differ by account: %q", answers)
		}
		// Creating under a hidden folder and under nothing at all.
		a := member.do(t, `mutation { createFolder(path: "/other/data/x") { id } }`, nil)
		b := member.do(t, `mutation { createFolder(path: "/othex/data/x") { id } }`, nil)
		if a.code() != "NOT_FOUND" || b.code() != "NOT_FOUND" || strings.Replace(a.Errors[0].Message, "/other", "/othex", 1) != b.Errors[0].Message {
			t.Fatalf("create under hidden vs missing: %s / %s", a.raw, b.raw)
		}
		// Members management of an organization the viewer is not in.
		for _, q := range []string{
			`mutation { addMember(organization: "%s", email: "lmember@example.com") { id } }`,
			`{ keys(organization: "%s") { id } }`,
		} {
			a := member.do(t, fmt.Sprintf(q, "other"), nil)
			b := member.do(t, fmt.Sprintf(q, "othex"), nil)
			if a.code() != "NOT_FOUND" || strings.Replace(a.Errors[0].Message, "other", "othex", 1) != b.Errors[0].Message {
				t.Fatalf("%s: %s / %s", q, a.raw, b.raw)
			}
		}
		// setMemberAdmin / removeMember: an unknown address looks like a non-member.
		ladmin := ts.login(t, "ladmin")
		a = ladmin.do(t, `mutation { removeMember(organization: "lab", email: "omember@example.com") }`, nil)
		b = ladmin.do(t, `mutation { removeMember(organization: "lab", email: "nobody@example.com") }`, nil)
		if a.code() != "NOT_FOUND" || strings.Replace(a.Errors[0].Message, "omember", "nobody", 1) != b.Errors[0].Message {
			t.Fatalf("removeMember: %s / %s", a.raw, b.raw)
		}
		// Downloads: 401 with a Basic realm for anonymous, 404 for members; the same for
		// hidden and missing, with the same body.
		get := func(c *gqlClient, path string) (int, string, string) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/files"+path, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(body))
		}
		for _, c := range []struct {
			name   string
			client *gqlClient
			status int
		}{{"anonymous", anon, 401}, {"member", member, 404}} {
			s1, h1, b1 := get(c.client, "/other/data/notes.txt")
			s2, h2, b2 := get(c.client, "/other/data/nothing.txt")
			if s1 != c.status || s2 != c.status || h1 != h2 || strings.Replace(b1, "notes", "nothing", 1) != b2 {
				t.Fatalf("%s download hidden %d %q %q vs missing %d %q %q", c.name, s1, h1, b1, s2, h2, b2)
			}
			if c.status == 401 && h1 != `Basic realm="rhizoflex"` {
				t.Fatalf("401 without a Basic realm: %q", h1)
			}
		}
	})
}

// Client mistakes are client errors with a message naming the mistake; nothing here is
// INTERNAL.
func TestBadRequestsAreClientErrors(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	raw := func(body io.Reader, chunked bool) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", body)
		req.Header.Set("Content-Type", "application/json")
		if chunked {
			req.ContentLength = -1
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var out gqlResult
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &out)
		if len(out.Errors) == 0 {
			return resp.StatusCode, "", string(b)
		}
		return resp.StatusCode, out.Errors[0].Extensions.Code, out.Errors[0].Message
	}
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"malformed JSON", `{"query": "{ version }"`, 400, "not valid JSON"},
		{"query not a string", `{"query": 5}`, 400, `"query" must be a JSON string`},
		{"batched", `[{"query": "{ version }"}]`, 400, "batched requests"},
		{"empty", ``, 400, "empty"},
		{"no query", `{"variables": {}}`, 400, `no "query"`},
		{"variables a list", `{"query": "{ version }", "variables": [1]}`, 400, `"variables" must be a JSON object`},
		{"variables a string", `{"query": "{ version }", "variables": "x"}`, 400, `"variables" must be a JSON object`},
		{"two objects", `{"query": "{ version }"} {"query": "{ version }"}`, 400, "more after its JSON object"},
		{"stray brace", `{"query": "{ version }"}}`, 400, "more after its JSON object"},
		{"cut short", `{"query": "{ version }", "variables": {"a": [1, 2`, 400, "not valid JSON"},
	} {
		status, code, msg := raw(strings.NewReader(tc.body), false)
		if status != tc.status || code != "BAD_USER_INPUT" || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %s %q", tc.name, status, code, msg)
		}
	}
	// A 3 MB body sent chunked (no Content-Length) is refused with 413.
	big := `{"query": "{ version }", "variables": {"x": "` + strings.Repeat("a", 3<<20) + `"}}`
	if status, code, msg := raw(strings.NewReader(big), true); status != 413 || code != "BAD_USER_INPUT" || !strings.Contains(msg, "over the limit") {
		t.Errorf("chunked 3 MB: %d %s %q", status, code, msg)
	}
	// Bad scalars.
	c := ts.login(t, "lmember")
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		msg         string
	}{
		{"month 13", `mutation($t: Time) { updateSequence(path: "/lab/data/temperature", value: "1", timestamp: $t) { timestamp } }`, map[string]any{"t": "2026-13-45T00:00:00Z"}, "is not an RFC 3339 time"},
		{"year 10000", `mutation($t: Time) { updateSequence(path: "/lab/data/temperature", value: "1", timestamp: $t) { timestamp } }`, map[string]any{"t": "10000-01-01T00:00:00Z"}, "RFC 3339"},
		{"time literal", `mutation { updateSequence(path: "/lab/data/temperature", value: "1", timestamp: "yesterday") { timestamp } }`, nil, `"yesterday" is not an RFC 3339 time`},
		{"time number", `mutation($t: Time) { updateSequence(path: "/lab/data/temperature", value: "1", timestamp: $t) { timestamp } }`, map[string]any{"t": 5}, "not the number 5"},
		{"batch time", `mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }`, map[string]any{"v": []any{map[string]any{"path": "/lab/data/temperature", "value": "1", "timestamp": "2026-02-30T00:00:00Z"}}}, "RFC 3339"},
		{"id word", `{ node(id: "abc") { id } }`, nil, "an ID here is an integer"},
		{"json list", `mutation($a: JSON) { updateResourceAttributes(path: "/lab/data", userAttributes: $a) { id } }`, map[string]any{"a": []any{1}}, "is an object"},
	} {
		r := c.do(t, tc.query, tc.vars)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, tc.msg) {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
	}
	var n int
	if err := ts.db.SQL.QueryRow(`SELECT count(*) FROM revisions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("bad input stored %d values (%v)", n, err)
	}
}

// Year 1 is stored as year 1; a retried write stores nothing twice.
func TestGivenTimesAndRetriesOverGraphQL(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		c := ts.login(t, "lmember")
		r := c.do(t, `mutation { updateSequence(path: "/lab/data/temperature", value: "1", timestamp: "0001-01-01T00:00:00Z") { timestamp } }`, nil).ok(t)
		if !strings.Contains(string(r.raw), `"timestamp":"0001-01-01T00:00:00Z"`) {
			t.Fatalf("updateSequence at year 1 answered %s", r.raw)
		}
		batch := map[string]any{"v": []any{
			map[string]any{"path": "/lab/data/temperature", "value": "2", "timestamp": "0001-01-01T00:00:01Z"},
			map[string]any{"path": "/lab/data/temperature", "value": "3", "timestamp": "2026-06-01T00:00:00Z"},
		}}
		for range 3 { // the client lost the answer twice and retried
			c.do(t, `mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }`, batch).ok(t)
		}
		var res struct {
			Values struct {
				Edges []struct{ Node struct{ Timestamp string } }
			}
		}
		c.do(t, `{ resource(path: "/lab/data/temperature") { values(first: 10) { edges { node { timestamp } } } } }`, nil).ok(t).decode(t, "resource", &res)
		var got []string
		for _, e := range res.Values.Edges {
			got = append(got, e.Node.Timestamp)
		}
		want := "0001-01-01T00:00:00Z 0001-01-01T00:00:01Z 2026-06-01T00:00:00Z"
		if strings.Join(got, " ") != want {
			t.Fatalf("stored %v, want %s", got, want)
		}
	})
}

// Complexity weighs list sizes; every request has a deadline.
func TestUnboundedQueriesAreRefused(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := ts.login(t, "lmember")
	var b strings.Builder
	b.WriteString(`{ resource(path: "/lab") { `)
	for i := range 999 {
		fmt.Fprintf(&b, "d%d: descendants(depth: 100) { id } ", i)
	}
	b.WriteString("} }")
	r := c.do(t, b.String(), nil)
	if r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("999 descendants aliases: %.300s", r.raw)
	}
	for _, q := range []string{
		`{ resource(path: "/lab/data/temperature") { series(maxPoints: 100000) { start end count min max mean } } }`,
		`{ resource(path: "/lab") { a: descendants(depth: 2) { id path name } b: descendants { id path name } c: descendants { id path name } d: descendants { id path name } } }`,
	} {
		if r := c.do(t, q, nil); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("%s: %.300s", q, r.raw)
		}
	}
	// What the app needs passes.
	c.do(t, `{ resource(path: "/lab") { descendants(depth: 3) { id path name type } children(first: 1000) { edges { node { id name } } } } }`, nil).ok(t)
	c.do(t, `{ resource(path: "/lab/data/temperature") { values(first: 10000) { edges { node { timestamp number } } pageInfo { hasNextPage } } } }`, nil).ok(t)

	slow := newTestServer(t, "sqlite", func(c *Config) { c.RequestTimeout = time.Nanosecond })
	r = slow.client(t).do(t, `{ resource(path: "/other/pub") { descendants { id } } }`, nil)
	if r.code() != "TIMEOUT" {
		t.Fatalf("request past its deadline: %s", r.raw)
	}
}

// No password sent in a malformed or failing request reaches the log.
func TestSecretsNeverLogged(t *testing.T) {
	const secret = "hunter2-correct-horse"
	var logBuf lockedBuffer
	ts := newTestServer(t, "sqlite")
	ts.app.log = newLogger(&logBuf, "debug", "json")
	ts.URL = newHTTPTestServer(t, ts.app)
	send := func(body string) {
		resp, err := http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	login := `mutation { login(login: "lmember", password: "` + secret + `") { id } }`
	for _, body := range []string{
		`{"query": "` + strings.ReplaceAll(login, `"`, `\"`) + `"`, // malformed JSON
		`[{"query": "` + strings.ReplaceAll(login, `"`, `\"`) + `"}]`,
		`{"query": 5, "variables": {"p": "` + secret + `"}}`,
		`{"query": "mutation($p: String!) { login(login: \"lmember\", password: $p) { id } }", "variables": {"p": "` + secret + `"}}`,
		`{"query": "mutation($p: String!) { login(login: \"lmember\", password: $p) { nope } }", "variables": {"p": "` + secret + `"}}`,
		`{"query": "mutation($p: Int!) { login(login: \"lmember\", password: $p) { id } }", "variables": {"p": "` + secret + `"}}`,
		`{"query": "mutation($p: String!) { changePassword(currentPassword: $p, newPassword: $p) }", "variables": {"p": "` + secret + `"}}`,
	} {
		send(body)
	}
	if logBuf.Len() == 0 {
		t.Fatal("nothing was logged: the test would prove nothing")
	}
	if strings.Contains(logBuf.String(), secret) {
		t.Fatalf("the log holds a password:\n%s", logBuf.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// With no cors_origins, no origin gets CORS headers: same origin only, as documented.
func TestCORSDefaultIsSameOrigin(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	for _, origin := range []string{"https://evil.example", "http://localhost:3000"} {
		req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if h := resp.Header.Get("Access-Control-Allow-Origin") + resp.Header.Get("Access-Control-Allow-Credentials"); h != "" {
			t.Fatalf("preflight from %s got CORS headers %q", origin, h)
		}
	}
}

// A request that promises more body than it sends is cut off; a slow but moving upload
// finishes; headers must arrive in time.
func TestSlowClients(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	fixture.Build(t, db)
	t.Chdir(t.TempDir())
	cfg, err := loadConfig("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BodyIdleTimeout = 300 * time.Millisecond
	cfg.HeaderTimeout = 300 * time.Millisecond
	app := NewApp(cfg, db, testBlobs(t), newLogger(io.Discard, "info", "text"))
	received := make(chan int, 1)
	app.extraRoutes = func(mux *http.ServeMux) {
		mux.HandleFunc("POST /test/upload", func(w http.ResponseWriter, r *http.Request) {
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				received <- -1
				http.Error(w, "body timed out", http.StatusRequestTimeout)
				return
			}
			received <- int(n)
			_, _ = fmt.Fprintf(w, "%d", n)
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	addr := ln.Addr().String()

	// Stalled body: 10 of a promised 1000 bytes, then nothing.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, _ = fmt.Fprintf(conn, "POST /test/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	select {
	case n := <-received:
		if n != -1 {
			t.Fatalf("stalled body read as %d bytes", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stalled body held the request for 10 s")
	}

	// Slow but moving: 40 chunks 100 ms apart (4 s in all, 13 times the idle timeout).
	pr, pw := io.Pipe()
	go func() {
		for range 40 {
			time.Sleep(100 * time.Millisecond)
			if _, err := pw.Write(bytes.Repeat([]byte("x"), 1000)); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	resp, err := http.Post("http://"+addr+"/test/upload", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "40000" {
		t.Fatalf("moving upload: %d %s", resp.StatusCode, body)
	}
	<-received

	// Headers that never finish: the connection is closed.
	hc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hc.Close() }()
	_, _ = fmt.Fprintf(hc, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	_ = hc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := bufio.NewReader(hc).ReadString('\n'); err == nil {
		// The server may answer 408 before closing; the next read must then see EOF.
		if _, err := bufio.NewReader(hc).ReadString('\n'); err == nil {
			t.Fatal("a connection with unfinished headers stayed open")
		}
	} else if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("a connection with unfinished headers stayed open for 10 s")
	}
}

// The POST transport answers like gqlgen's own: application/json unless the client asks
// for application/graphql-response+json first; a query that does not parse is 422 under
// application/json and 400 under graphql-response+json; numbers in variables arrive as
// numbers.
func TestGraphQLPostResponseTypes(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	post := func(body, accept string) (int, string, string) {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	const good, broken = `{"query": "{ version }"}`, `{"query": "{ version "}`
	for _, tc := range []struct {
		name, body, accept string
		status             int
		ctype, contains    string
	}{
		{"no Accept", good, "", 200, "application/json", `"version"`},
		{"anything", good, "*/*", 200, "application/json", `"version"`},
		{"graphql-response first", good, "application/graphql-response+json, application/json", 200, "application/graphql-response+json", `"version"`},
		{"json first", good, "application/json, application/graphql-response+json", 200, "application/json", `"version"`},
		{"parse error, json", broken, "", 422, "application/json", `"errors"`},
		{"parse error, graphql-response", broken, "application/graphql-response+json", 400, "application/graphql-response+json", `"errors"`},
		{"number variable", `{"query": "query($n: Int!) { recentResources(first: $n) { id } }", "variables": {"n": 3}}`, "", 200, "application/json", `"recentResources"`},
	} {
		status, ctype, body := post(tc.body, tc.accept)
		if status != tc.status || ctype != tc.ctype || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s %s", tc.name, status, ctype, body)
		}
	}
	// A fraction is not an Int: the number reaches the scalar as written (json.Number), not
	// rounded through a float64.
	_, _, body := post(`{"query": "query($n: Int!) { recentResources(first: $n) { id } }", "variables": {"n": 2.5}}`, "")
	if !strings.Contains(body, `"errors"`) || strings.Contains(body, `"recentResources"`) {
		t.Errorf("Int variable 2.5: %s", body)
	}
}
