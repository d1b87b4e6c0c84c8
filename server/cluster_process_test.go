package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// Two rhizoflex processes on one PostgreSQL database (the bus is LISTEN/NOTIFY, the
// default there): each caches identities, yet a key revoked on one and a membership
// removed on one take effect on the very next request on the other, and failed logins on
// both count against one budget.
func TestAccessChangesReachAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	env := []string{"RHIZOFLEX_DATABASE_URL=" + dbtest.URL(t, "postgres"), "RHIZOFLEX_DATA_DIR=" + filepath.Join(dir, "data"),
		"RHIZOFLEX_PASSWORD__MEMORY_KIB=8192", "RHIZOFLEX_PASSWORD__ITERATIONS=1", "RHIZOFLEX_LOG_LEVEL=warn"}
	if _, errOut, code := runBinary(t, bin, dir, env, "create-admin", "root@example.com:correct-horse"); code != 0 {
		t.Fatal(errOut)
	}
	start := func() string {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--listen", addr)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitUp(t, "http://"+addr+"/healthz")
		return "http://" + addr
	}
	a, b := start(), start()
	time.Sleep(500 * time.Millisecond) // the instances announce themselves on the bus

	type answer struct {
		status int
		header http.Header
		Data   map[string]json.RawMessage
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	admin := &http.Client{Jar: jar, Timeout: 10 * time.Second} // signed in on A
	plain := &http.Client{Timeout: 10 * time.Second}
	send := func(c *http.Client, base, key, query string) answer {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		out := answer{status: resp.StatusCode, header: resp.Header}
		_ = json.Unmarshal(raw, &out)
		return out
	}
	post := func(base, key, query string) answer { t.Helper(); return send(plain, base, key, query) }
	asAdmin := func(query string) answer { t.Helper(); return send(admin, a, "", query) }
	ok := func(r answer) answer {
		t.Helper()
		if r.status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d, errors %+v", r.status, r.Errors)
		}
		return r
	}
	code0 := func(r answer) string {
		if len(r.Errors) == 0 {
			return ""
		}
		return r.Errors[0].Extensions.Code
	}

	ok(asAdmin(`mutation { login(login: "root@example.com", password: "correct-horse") { id } }`))
	ok(asAdmin(`mutation { createUser(input: {email: "m@example.com", password: "member-password-1"}) { id } }`))
	ok(asAdmin(`mutation { createOrganization(name: "org") { id } }`))
	ok(asAdmin(`mutation { addMember(organization: "org", email: "m@example.com") { id } }`))
	ok(asAdmin(`mutation { createSequence(input: {path: "/org/data/s", dataType: NUMERIC, createParents: true}) { id } }`))
	read := `{ resource(path: "/org/data/s") { path } }`
	newKey := func(name string) (id, secret string) {
		t.Helper()
		r := ok(asAdmin(`mutation { createKey(input: {name: "` + name + `", asUserEmail: "m@example.com"}) { key { id } secret } }`))
		var k struct {
			Key    struct{ ID string }
			Secret string
		}
		if err := json.Unmarshal(r.Data["createKey"], &k); err != nil || k.Secret == "" {
			t.Fatalf("createKey: %s", r.Data["createKey"])
		}
		return k.Key.ID, k.Secret
	}

	// A key revoked on A is refused by B at once.
	id, secret := newKey("revoked")
	for range 3 { // B caches the key
		if r := ok(post(b, secret, read)); string(r.Data["resource"]) == "null" {
			t.Fatal("the member's key cannot read before the revocation")
		}
	}
	ok(asAdmin(`mutation { revokeKey(id: "` + id + `") { id } }`))
	if r := post(b, secret, read); r.status != http.StatusUnauthorized {
		t.Fatalf("a key revoked on A still works on B: %d %+v %s", r.status, r.Errors, r.Data["resource"])
	}

	// A membership removed on A is gone on B at once.
	_, secret = newKey("member")
	for range 3 {
		if r := ok(post(b, secret, read)); string(r.Data["resource"]) == "null" {
			t.Fatal("the member's key cannot read before the removal")
		}
	}
	ok(asAdmin(`mutation { removeMember(organization: "org", email: "m@example.com") }`))
	if r := ok(post(b, secret, read)); string(r.Data["resource"]) != "null" {
		t.Fatalf("a member removed on A still reads on B: %s", r.Data["resource"])
	}

	// Ten failed logins spread over both processes exhaust the account's budget on both.
	for i := range 10 {
		r := post([2]string{a, b}[i%2], "", `mutation { login(login: "m@example.com", password: "wrong-password-1") { id } }`)
		if code0(r) != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %d %+v", i, r.status, r.Errors)
		}
	}
	for _, base := range []string{a, b} {
		r := post(base, "", `mutation { login(login: "m@example.com", password: "member-password-1") { id } }`)
		if code0(r) != "RATE_LIMITED" || r.header.Get("Retry-After") == "" {
			t.Fatalf("11th login on %s: %d %+v", base, r.status, r.Errors)
		}
	}
}
