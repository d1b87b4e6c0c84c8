package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

// natsURL is the NATS server the cluster tests use (.ci/run starts one on loopback).
func natsURL() string {
	if u := os.Getenv("RHIZOFLEX_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// twoInstances starts two servers on one PostgreSQL database, each with its own pool and
// its own bus connection: busURL "" is LISTEN/NOTIFY, a nats:// URL is NATS.
func twoInstances(t *testing.T, busURL string) [2]*testServer {
	t.Helper()
	dbs, url := dbtest.Instances(t, "postgres", 2)
	var out [2]*testServer
	prefix := make([]byte, 6)
	_, _ = rand.Read(prefix)
	t.Chdir(t.TempDir())
	for i, db := range dbs {
		var world *fixture.World
		if i == 0 {
			world = fixture.Build(t, db)
		} else {
			world = out[0].world
		}
		cfg, err := loadConfig("", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Password = fixture.FastPasswords
		app := NewApp(cfg, db, testBlobs(t), newLogger(io.Discard, "info", "text"))
		b, err := bus.Open(t.Context(), bus.Config{
			URL: busURL, Dialect: db.Dialect, DB: db.SQL, DatabaseURL: url,
			SubjectPrefix: "rftest" + hex.EncodeToString(prefix) + ".",
		})
		if err != nil {
			t.Fatalf("bus %q: %v", busURL, err)
		}
		t.Cleanup(func() { _ = b.Close() })
		app.UseBus(b)
		out[i] = &testServer{URL: newHTTPTestServer(t, app), app: app, db: db, world: world}
	}
	return out
}

// 1,000 messages sent round-robin to two instances reach subscribers on both: none lost,
// none duplicated, in send order.
func TestMessagesAcrossInstances(t *testing.T) {
	for _, tc := range []struct{ name, bus string }{{"postgres-notify", ""}, {"nats", natsURL()}} {
		t.Run(tc.name, func(t *testing.T) {
			servers := twoInstances(t, tc.bus)
			senders := [2]*gqlClient{servers[0].login(t, "lmember"), servers[1].login(t, "lmember")}
			subs := make([]<-chan wsFrame, 0, 4)
			for _, ts := range servers {
				ws := ts.dialWS(t, ts.login(t, "lmember"), nil)
				subs = append(subs,
					ws.subscribe("a", `subscription { folderMessages(path: "/lab/data") { id type } }`, nil),
					ws.subscribe("b", `subscription { folderMessages(path: "/lab", includeChildren: true) { id type } }`, nil))
			}
			time.Sleep(300 * time.Millisecond) // let the subscriptions reach the bus
			const n = 1000
			for i := range n {
				senders[i%2].do(t, `mutation { sendMessage(path: "/lab/data", type: "n`+strconv.Itoa(i)+`") { id } }`, nil).ok(t)
			}
			for s, ch := range subs {
				last := 0
				for i := range n {
					f := next(t, ch)
					var p struct {
						Data struct{ FolderMessages struct{ ID, Type string } }
					}
					if err := json.Unmarshal(f.Payload, &p); err != nil || f.Type != "next" {
						t.Fatalf("subscriber %d frame %d: %s %s", s, i, f.Type, f.Payload)
					}
					id, _ := strconv.Atoi(p.Data.FolderMessages.ID)
					if p.Data.FolderMessages.Type != "n"+strconv.Itoa(i) || id <= last {
						t.Fatalf("subscriber %d: message %d is %s (id %d after %d): lost, duplicated or out of order",
							s, i, p.Data.FolderMessages.Type, id, last)
					}
					last = id
				}
			}
		})
	}
}

// Identities are cached per instance, yet a revoked key and a removed membership take
// effect on the very next request on another instance; the login limiter counts failures
// of all instances together.
func TestAccessChangesReachEveryInstance(t *testing.T) {
	servers := twoInstances(t, "")
	a, b := servers[0], servers[1]
	member := a.login(t, "lmember")
	var created struct {
		Key    struct{ ID string }
		Secret string
	}
	member.do(t, `mutation { createKey(input: {name: "cached"}) { key { id } secret } }`, nil).ok(t).decode(t, "createKey", &created)
	onB := b.bearer(t, created.Secret)
	read := `{ resource(path: "/lab/data/notes.txt") { path } }`
	for range 3 { // warm B's cache
		if r := onB.do(t, read, nil).ok(t); string(r.Data["resource"]) == "null" {
			t.Fatal("the key cannot read before the revocation")
		}
	}
	member.do(t, `mutation($id: ID!) { revokeKey(id: $id) { id } }`, map[string]any{"id": created.Key.ID}).ok(t)
	if r := onB.do(t, read, nil); r.Status != 401 {
		t.Fatalf("revoked key on the other instance: %d %s", r.Status, r.raw)
	}
	// Membership: lmember's own key, cached on B, loses the organization at once.
	member.do(t, `mutation { createKey(input: {name: "member"}) { key { id } secret } }`, nil).ok(t).decode(t, "createKey", &created)
	onB = b.bearer(t, created.Secret)
	for range 3 {
		onB.do(t, read, nil).ok(t)
	}
	a.login(t, "ladmin").do(t, `mutation { removeMember(organization: "lab", email: "lmember@example.com") }`, nil).ok(t)
	if r := onB.do(t, read, nil).ok(t); string(r.Data["resource"]) != "null" {
		t.Fatalf("a removed member's key still reads on the other instance: %s", r.raw)
	}
	// Ten failed logins spread over both instances exhaust the account's budget on both.
	for i := range 10 {
		c := servers[i%2].client(t)
		if r := c.do(t, `mutation { login(login: "omember", password: "wrong-password-1") { id } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %s", i, r.raw)
		}
	}
	for _, s := range servers {
		r := s.client(t).do(t, `mutation { login(login: "omember", password: "`+fixture.Password+`") { id } }`, nil)
		if r.code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("11th login: %d %s", r.Status, r.raw)
		}
	}
}
