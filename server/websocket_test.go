package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsQuery runs one operation over graphql-transport-ws and returns the payload of its
// "next" message, or the error that ended the connection.
func wsQuery(t *testing.T, ts *testServer, header http.Header, initPayload map[string]any, query string) (json.RawMessage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/graphql", &websocket.DialOptions{
		HTTPHeader: header, Subprotocols: []string{"graphql-transport-ws"},
	})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.CloseNow() }()
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": initPayload}); err != nil {
		return nil, err
	}
	var msg struct {
		Type    string
		Payload json.RawMessage
	}
	if err := wsjson.Read(ctx, conn, &msg); err != nil {
		return nil, err
	}
	if msg.Type != "connection_ack" {
		return nil, &wsError{msg.Type + ": " + string(msg.Payload)}
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}}); err != nil {
		return nil, err
	}
	for {
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			return nil, err
		}
		if msg.Type == "next" {
			return msg.Payload, nil
		}
		if msg.Type == "error" {
			return nil, &wsError{string(msg.Payload)}
		}
	}
}

type wsError struct{ msg string }

func (e *wsError) Error() string { return e.msg }

// Websocket connections are authenticated (init payload, header or cookie) and their
// operations go through the same authorizer.
func TestWebsocketAuthentication(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	key := ts.world.Keys["userkey"]

	got, err := wsQuery(t, ts, nil, map[string]any{"Authorization": "Bearer " + key}, `{ me { email } resource(path: "/other/data") { path } }`)
	if err != nil || !strings.Contains(string(got), `"email":"lmember@example.com"`) || !strings.Contains(string(got), `"resource":null`) {
		t.Fatalf("key in init payload: %s %v", got, err)
	}
	got, err = wsQuery(t, ts, http.Header{"Authorization": {"Bearer " + key}}, nil, `{ me { email } }`)
	if err != nil || !strings.Contains(string(got), "lmember@example.com") {
		t.Fatalf("key in upgrade header: %s %v", got, err)
	}
	got, err = wsQuery(t, ts, nil, nil, `{ me { email } }`)
	if err != nil || !strings.Contains(string(got), `"me":null`) {
		t.Fatalf("anonymous websocket: %s %v", got, err)
	}
	if _, err := wsQuery(t, ts, nil, map[string]any{"Authorization": "Bearer " + ts.world.Keys["revoked"]}, `{ me { email } }`); err == nil {
		t.Fatal("revoked key accepted on a websocket")
	}
	if _, err := wsQuery(t, ts, http.Header{"Origin": {"http://evil.example"}}, nil, `{ me { email } }`); err == nil {
		t.Fatal("cross-origin websocket upgrade accepted")
	}
	// A browser session (cookie) authenticates the upgrade from the same origin.
	browser := ts.login(t, "ladmin")
	got, err = wsQuery(t, ts, http.Header{"Cookie": {sessionCookie(t, browser)}}, nil, `{ me { email } }`)
	if err != nil || !strings.Contains(string(got), "ladmin@example.com") {
		t.Fatalf("cookie websocket: %s %v", got, err)
	}
}
