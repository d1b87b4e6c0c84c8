package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsClient is a graphql-transport-ws client: one connection, many subscriptions.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	mu   sync.Mutex
	subs map[string]chan wsFrame
}

type wsFrame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// dialWS connects and initialises; auth is an Authorization value for connection_init
// ("" for none), cookies are sent on the upgrade.
func (ts *testServer) dialWS(t testing.TB, c *gqlClient, init map[string]any) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	header := http.Header{}
	if c != nil && c.auth != "" {
		header.Set("Authorization", c.auth)
	}
	opts := &websocket.DialOptions{HTTPHeader: header, Subprotocols: []string{"graphql-transport-ws"}}
	if c != nil {
		opts.HTTPClient = c.http
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", opts)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	w := &wsClient{t: t, conn: conn, subs: map[string]chan wsFrame{}}
	t.Cleanup(func() { _ = conn.CloseNow() })
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": init}); err != nil {
		t.Fatal(err)
	}
	var ack wsFrame
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %v %+v", err, ack)
	}
	go w.readLoop()
	return w
}

func (w *wsClient) readLoop() {
	for {
		var f wsFrame
		if err := wsjson.Read(context.Background(), w.conn, &f); err != nil {
			w.mu.Lock()
			for _, ch := range w.subs {
				close(ch)
			}
			w.subs = map[string]chan wsFrame{}
			w.mu.Unlock()
			return
		}
		if f.Type == "ping" {
			_ = wsjson.Write(context.Background(), w.conn, map[string]any{"type": "pong"})
			continue
		}
		w.mu.Lock()
		ch := w.subs[f.ID]
		w.mu.Unlock()
		if ch != nil {
			ch <- f
		}
	}
}

// subscribe starts an operation and returns its frames.
func (w *wsClient) subscribe(id, query string, vars map[string]any) <-chan wsFrame {
	w.t.Helper()
	ch := make(chan wsFrame, 1000)
	w.mu.Lock()
	w.subs[id] = ch
	w.mu.Unlock()
	if err := wsjson.Write(context.Background(), w.conn, map[string]any{
		"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars},
	}); err != nil {
		w.t.Fatal(err)
	}
	return ch
}

// next waits for the next frame of a subscription.
func next(t testing.TB, ch <-chan wsFrame) wsFrame {
	t.Helper()
	select {
	case f, ok := <-ch:
		if !ok {
			t.Fatal("connection closed")
		}
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no frame within 10 s")
	}
	return wsFrame{}
}

// waitSubscribed sends probe alarms to path until every subscription has delivered the
// latest one (the server registers a subscription some time after it is sent, and says
// nothing when it has), leaving no probe unread.
func waitSubscribed(t *testing.T, c *gqlClient, path string, subs ...<-chan wsFrame) {
	t.Helper()
	seen := func(ch <-chan wsFrame, want string) bool {
		timeout := time.After(500 * time.Millisecond)
		for {
			select {
			case f, ok := <-ch:
				if !ok {
					t.Fatal("connection closed")
				}
				if strings.Contains(string(f.Payload), want) {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}
	for k := 1; k <= 40; k++ {
		c.do(t, `mutation($p: String, $v: JSON) { sendMessage(path: $p, type: "alarm", parameters: $v) { id } }`,
			map[string]any{"p": path, "v": map[string]any{"probe": k}}).ok(t)
		ready := true
		for _, ch := range subs {
			if !seen(ch, fmt.Sprintf(`"probe":%d}`, k)) {
				ready = false
			}
		}
		if ready {
			return
		}
	}
	t.Fatal("the subscriptions never delivered a probe")
}

func TestFolderMessagesOverWebsocket(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		member := ts.login(t, "lmember")
		ws := ts.dialWS(t, member, nil)
		all := ws.subscribe("all", `subscription { folderMessages(path: "/lab/data") { type parameters senderUser { email } folder { path } } }`, nil)
		only := ws.subscribe("only", `subscription { folderMessages(path: "/lab/data", types: ["alarm"]) { type parameters } }`, nil)
		deep := ws.subscribe("deep", `subscription { folderMessages(path: "/lab", includeChildren: true) { type parameters folder { path } } }`, nil)
		waitSubscribed(t, member, "/lab/data", all, only, deep)

		send := func(c *gqlClient, path, typ string) {
			t.Helper()
			c.do(t, `mutation($p: String, $t: String!) { sendMessage(path: $p, type: $t, parameters: {n: 1}) { id type } }`,
				map[string]any{"p": path, "t": typ}).ok(t)
		}
		send(member, "/lab/data", "note")
		send(member, "/lab/data", "alarm")
		f := next(t, all)
		if f.Type != "next" || !strings.Contains(string(f.Payload), `"type":"note"`) || !strings.Contains(string(f.Payload), `"email":"lmember@example.com"`) || !strings.Contains(string(f.Payload), `"parameters":{"n":1}`) {
			t.Fatalf("first message: %s %s", f.Type, f.Payload)
		}
		if f := next(t, all); !strings.Contains(string(f.Payload), `"type":"alarm"`) {
			t.Fatalf("send order: %s", f.Payload)
		}
		if f := next(t, only); !strings.Contains(string(f.Payload), `"type":"alarm"`) {
			t.Fatalf("type filter passed %s", f.Payload)
		}
		next(t, deep)
		next(t, deep)
		// includeChildren covers folders made after the subscribe.
		member.do(t, `mutation { createFolder(path: "/lab/data/new/deeper", createParents: true) { id } }`, nil).ok(t)
		send(member, "/lab/data/new/deeper", "late")
		if f := next(t, deep); !strings.Contains(string(f.Payload), `"path":"/lab/data/new/deeper"`) {
			t.Fatalf("message to a new subfolder: %s", f.Payload)
		}
		// A controller does not get its own messages back; it gets others'.
		ctrl := ts.dialWS(t, nil, map[string]any{"Authorization": "Bearer " + ts.world.Keys["ctrlkey"]})
		own := ctrl.subscribe("own", `subscription { folderMessages(path: "/lab/ctrl") { type senderController { path } } }`, nil)
		time.Sleep(100 * time.Millisecond)
		ctrlHTTP := ts.bearer(t, ts.world.Keys["ctrlkey"])
		ctrlHTTP.do(t, `mutation { sendMessage(type: "from_ctrl") { id } }`, nil).ok(t) // no path: its own folder
		send(member, "/lab/ctrl", "to_ctrl")
		if f := next(t, own); !strings.Contains(string(f.Payload), `"type":"to_ctrl"`) {
			t.Fatalf("controller got %s before the user's message", f.Payload)
		}
		// Messages are also kept and listed newest first.
		var res struct {
			Messages struct {
				Edges []struct{ Node struct{ Type string } }
			}
		}
		member.do(t, `{ resource(path: "/lab/ctrl") { messages(first: 5) { edges { node { type } } } } }`, nil).ok(t).decode(t, "resource", &res)
		if len(res.Messages.Edges) != 2 || res.Messages.Edges[0].Node.Type != "to_ctrl" || res.Messages.Edges[1].Node.Type != "from_ctrl" {
			t.Fatalf("stored messages: %+v", res)
		}
	})
}

func TestSubscriptionsCheckAccess(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		// Without read access: refused like a missing folder.
		other := ts.dialWS(t, ts.login(t, "omember"), nil)
		refused := func(w *wsClient, q, what string) {
			t.Helper()
			ch := w.subscribe("x"+what, q, nil)
			f := next(t, ch)
			if !strings.Contains(string(f.Payload), `"code":"NOT_FOUND"`) || !strings.Contains(string(f.Payload), "no resource at /lab/data") {
				t.Fatalf("%s: %s %s", what, f.Type, f.Payload)
			}
			if f := next(t, ch); f.Type != "complete" {
				t.Fatalf("%s then: %s %s", what, f.Type, f.Payload)
			}
		}
		refused(other, `subscription { folderMessages(path: "/lab/data") { type } }`, "other organization")
		refused(ts.dialWS(t, nil, nil), `subscription { sequenceUpdates(path: "/lab/data/temperature") { number } }`, "anonymous")
		// Key revocation ends the key's subscription with the reason.
		member := ts.login(t, "lmember")
		var created struct {
			Key    struct{ ID string }
			Secret string
		}
		member.do(t, `mutation { createKey(input: {name: "live"}) { key { id } secret } }`, nil).ok(t).decode(t, "createKey", &created)
		keyWS := ts.dialWS(t, nil, map[string]any{"Authorization": "Bearer " + created.Secret})
		keySub := keyWS.subscribe("k", `subscription { folderMessages(path: "/lab/data") { type } }`, nil)
		// Membership removal ends the member's.
		memberWS := ts.dialWS(t, member, nil)
		memberSub := memberWS.subscribe("m", `subscription { sequenceUpdates(path: "/lab/data") { path number } }`, nil)
		time.Sleep(100 * time.Millisecond)
		member.do(t, `mutation($id: ID!) { revokeKey(id: $id) { id } }`, map[string]any{"id": created.Key.ID}).ok(t)
		f := next(t, keySub)
		if f.Type != "next" || !strings.Contains(string(f.Payload), "the API key was revoked") {
			t.Fatalf("after key revocation: %s %s", f.Type, f.Payload)
		}
		if f := next(t, keySub); f.Type != "complete" {
			t.Fatalf("after the reason: %s %s", f.Type, f.Payload)
		}
		member.do(t, `mutation { updateSequence(path: "/lab/data/temperature", value: "21.5") { timestamp } }`, nil).ok(t)
		if f := next(t, memberSub); !strings.Contains(string(f.Payload), `"number":21.5`) {
			t.Fatalf("value before removal: %s", f.Payload)
		}
		ts.login(t, "ladmin").do(t, `mutation { removeMember(organization: "lab", email: "lmember@example.com") }`, nil).ok(t)
		f = next(t, memberSub)
		if !strings.Contains(string(f.Payload), "membership of the organization was removed") || !strings.Contains(string(f.Payload), `"code":"FORBIDDEN"`) {
			t.Fatalf("after membership removal: %s %s", f.Type, f.Payload)
		}
	})
}

func TestSequenceUpdatesOverWebsocket(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		member := ts.login(t, "lmember")
		ws := ts.dialWS(t, member, nil)
		seq := ws.subscribe("seq", `subscription { sequenceUpdates(path: "/lab/data/temperature") { path timestamp number } }`, nil)
		folder := ws.subscribe("folder", `subscription { sequenceUpdates(path: "/lab/ctrl") { path text } }`, nil)
		time.Sleep(100 * time.Millisecond)
		member.do(t, `mutation { updateSequence(path: "/lab/data/temperature", value: "1.5", timestamp: "2026-01-01T00:00:00Z") { timestamp } }`, nil).ok(t)
		member.do(t, `mutation { updateSequences(values: [{path: "/lab/data/temperature", value: "2.5"}, {path: "/lab/ctrl/log", value: "hello"}]) }`, nil).ok(t)
		// A controller's update_sequence message, relative to its folder.
		ts.bearer(t, ts.world.Keys["ctrlkey"]).do(t, `mutation { sendMessage(type: "update_sequence", parameters: {sequence: "log", value: "from message"}) { id } }`, nil).ok(t)
		for i, want := range []string{`"number":1.5`, `"number":2.5`} {
			if f := next(t, seq); !strings.Contains(string(f.Payload), want) || !strings.Contains(string(f.Payload), `"path":"/lab/data/temperature"`) {
				t.Fatalf("sequence update %d: %s", i, f.Payload)
			}
		}
		for i, want := range []string{`"text":"hello"`, `"text":"from message"`} {
			if f := next(t, folder); !strings.Contains(string(f.Payload), want) {
				t.Fatalf("folder update %d: %s", i, f.Payload)
			}
		}
		// A batch with several values per sequence travels as one event per sequence; every
		// value still reaches the subscriber, in the order stored.
		member.do(t, `mutation { updateSequences(values: [{path: "/lab/data/temperature", value: "3.5"}, {path: "/lab/ctrl/log", value: "a"},
			{path: "/lab/data/temperature", value: "4.5"}, {path: "/lab/ctrl/log", value: "b"}, {path: "/lab/data/temperature", value: "5.5"}]) }`, nil).ok(t)
		for i, want := range []string{`"number":3.5`, `"number":4.5`, `"number":5.5`} {
			if f := next(t, seq); !strings.Contains(string(f.Payload), want) {
				t.Fatalf("batched sequence update %d: %s, want %s", i, f.Payload, want)
			}
		}
		for i, want := range []string{`"text":"a"`, `"text":"b"`} {
			if f := next(t, folder); !strings.Contains(string(f.Payload), want) {
				t.Fatalf("batched folder update %d: %s, want %s", i, f.Payload, want)
			}
		}
		// update_sequence needs write access to the sequence, whatever folder it names.
		r := ts.bearer(t, ts.world.Keys["ctrlkey"]).do(t, `mutation { sendMessage(type: "update_sequence", parameters: {sequence: "/lab/data/temperature", value: 9}) { id } }`, nil)
		if r.code() != "FORBIDDEN" {
			t.Fatalf("controller writing outside its folder by message: %s", r.raw)
		}
		// Bad messages are client errors.
		for _, q := range []string{
			`mutation { sendMessage(path: "/lab/data", type: "") { id } }`,
			`mutation { sendMessage(path: "/lab/data", type: "has space") { id } }`,
			`mutation { sendMessage(type: "x") { id } }`,
			`mutation { sendMessage(path: "/lab/data/temperature", type: "x") { id } }`,
			fmt.Sprintf(`mutation { sendMessage(path: "/lab/data", type: "x", parameters: {big: "%s"}) { id } }`, strings.Repeat("a", 70000)),
		} {
			if r := member.do(t, q, nil); r.code() != "BAD_USER_INPUT" {
				t.Errorf("%.80s: %s", q, r.raw)
			}
		}
	})
}
