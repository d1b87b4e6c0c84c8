package server

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/demo"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

// The demo controller is a real websocket client: online, writing values, answering ping
// with pong.
func TestDemoControllerMoves(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	if _, err := demo.Seed(t.Context(), db.Client, time.Now().UTC(), fixture.FastPasswords); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	cfg, err := loadConfig("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = fixture.FastPasswords
	cfg.DemoLiveInterval = 100 * time.Millisecond
	app := NewApp(cfg, db, testBlobs(t), newLogger(io.Discard, "info", "text"))
	ctx, cancel := context.WithCancel(t.Context())
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
	ts := &testServer{URL: "http://" + ln.Addr().String(), app: app, db: db}
	waitUp(t, ts.URL+"/healthz")
	user := ts.client(t)
	user.do(t, `mutation($l: String!, $p: String!) { login(login: $l, password: $p) { id } }`,
		map[string]any{"l": demo.Email, "p": demo.Password}).ok(t)
	ws := ts.dialWS(t, user, nil)
	values := ws.subscribe("v", `subscription { sequenceUpdates(path: "`+demo.ControllerPath+`") { path number } }`, nil)
	pongs := ws.subscribe("p", `subscription { folderMessages(path: "`+demo.ControllerPath+`", types: ["pong"]) { type senderController { path } } }`, nil)
	seen := map[string]bool{}
	for len(seen) < 2 {
		f := next(t, values)
		for _, name := range []string{"sine", "temperature"} {
			if strings.Contains(string(f.Payload), demo.ControllerPath+"/"+name) {
				seen[name] = true
			}
		}
	}
	user.do(t, `mutation { sendMessage(path: "`+demo.ControllerPath+`", type: "ping") { id } }`, nil).ok(t)
	if f := next(t, pongs); !strings.Contains(string(f.Payload), `"path":"`+demo.ControllerPath+`"`) {
		t.Fatalf("pong: %s", f.Payload)
	}
	// The watchdog follows the values of each round; wait for the first one to land.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := user.do(t, `{ resource(path: "`+demo.ControllerPath+`") { controller { online clientVersion lastWatchdogAt } } }`, nil).ok(t)
		got := string(r.Data["resource"])
		if strings.Contains(got, `"online":true`) && strings.Contains(got, demo.ClientVersion) && !strings.Contains(got, `"lastWatchdogAt":null`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo controller: %s", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
