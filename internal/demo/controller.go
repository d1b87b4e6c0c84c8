package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/key"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// ControllerPath is the demo controller folder; its sequences are written by the demo
// controller over the websocket, like a field device.
const ControllerPath = "/demo/lab-controller"

// controllerSequences are what the demo controller writes every interval.
var controllerSequences = []struct{ name, units string }{{"sine", ""}, {"temperature", "degC"}}

// ClientVersion is what the demo controller reports in connection_init.
const ClientVersion = "rhizoflex-demo-controller/1"

// demoKeyName names the demo controller's key; each run revokes the previous one.
const demoKeyName = "demo controller (this server run)"

// ControllerKey prepares the demo controller for a server run: its sequences exist and it
// has a fresh key (the previous run's is revoked; secrets are stored hashed, so a run
// cannot reuse one). It returns the secret, or "" when there is no demo organization.
func ControllerKey(ctx context.Context, client *ent.Client, authz *access.Authorizer) (string, error) {
	ctrl, err := tree.ByPath(ctx, client, ControllerPath)
	if err != nil {
		return "", nil //nolint:nilerr // no demo data seeded: nothing to run
	}
	for _, s := range controllerSequences {
		p := ControllerPath + "/" + s.name
		if _, err := tree.ByPath(ctx, client, p); err == nil {
			continue
		}
		if _, err := tree.Create(ctx, client, tree.CreateParams{Path: p, Type: tree.Sequence,
			SystemAttributes: tree.SequenceAttributes(tree.Numeric, s.units, 3)}); err != nil {
			return "", fmt.Errorf("demo controller sequence %s: %w", p, err)
		}
	}
	if _, err := client.Key.Update().
		Where(key.Name(demoKeyName), key.AccessAsControllerID(ctrl.ID), key.RevokedAtIsNil()).
		SetRevokedAt(time.Now()).Save(ctx); err != nil {
		return "", fmt.Errorf("revoke the previous demo key: %w", err)
	}
	admin, err := client.User.Query().First(ctx)
	if err != nil {
		return "", fmt.Errorf("demo key creator: %w", err)
	}
	_, secret, err := authz.CreateKeyAsOperator(ctx, access.NewKey{Name: demoKeyName, AsControllerPath: ControllerPath}, admin.ID)
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RunController is the demo controller: it connects to the server's GraphQL websocket at
// wsURL with the key secret (so it shows as online), answers each "ping" message to its
// folder with a "pong", and every interval writes a sine and a noisy temperature and
// sends a watchdog. It reconnects after errors until ctx ends.
func RunController(ctx context.Context, wsURL, secret string, interval time.Duration, onError func(error)) {
	for ctx.Err() == nil {
		err := runControllerOnce(ctx, wsURL, secret, interval)
		if err != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

type wsFrame struct {
	Type    string         `json:"type"`
	ID      string         `json:"id,omitempty"`
	Payload map[string]any `json:"payload,omitempty"`
}

func runControllerOnce(ctx context.Context, wsURL, secret string, interval time.Duration) error {
	conn, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("demo controller: connect: %w", err)
	}
	defer func() { _ = conn.CloseNow() }()
	if err := wsjson.Write(ctx, conn, wsFrame{Type: "connection_init", Payload: map[string]any{
		"Authorization": "Bearer " + secret, "clientVersion": ClientVersion,
	}}); err != nil {
		return fmt.Errorf("demo controller: init: %w", err)
	}
	var ack wsFrame
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return fmt.Errorf("demo controller: not accepted (%s): %w", ack.Type, err)
	}
	ops := 0
	op := func(query string, vars map[string]any) error {
		ops++
		return wsjson.Write(ctx, conn, wsFrame{Type: "subscribe", ID: fmt.Sprintf("op%d", ops),
			Payload: map[string]any{"query": query, "variables": vars}})
	}
	if err := wsjson.Write(ctx, conn, wsFrame{Type: "subscribe", ID: "pings", Payload: map[string]any{
		"query": `subscription { folderMessages(path: "` + ControllerPath + `", types: ["ping"]) { id parameters } }`,
	}}); err != nil {
		return fmt.Errorf("demo controller: subscribe: %w", err)
	}
	frames := make(chan wsFrame)
	readErr := make(chan error, 1)
	go func() {
		for {
			var f wsFrame
			if err := wsjson.Read(ctx, conn, &f); err != nil {
				readErr <- err
				return
			}
			select {
			case frames <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	temperature := 21.0
	for {
		select {
		case <-ctx.Done():
			_ = conn.Close(websocket.StatusNormalClosure, "demo controller stopping")
			return nil
		case err := <-readErr:
			return fmt.Errorf("demo controller: %w", err)
		case f := <-frames:
			switch {
			case f.Type == "ping":
				_ = wsjson.Write(ctx, conn, wsFrame{Type: "pong"})
			case f.Type == "next" && f.ID == "pings":
				if err := op(`mutation { sendMessage(type: "pong", parameters: {from: "demo controller"}) { id } }`, nil); err != nil {
					return err
				}
			case f.Type == "error" || (f.Type == "next" && hasErrors(f.Payload)):
				return errors.New("demo controller: the server refused an operation: " + fmt.Sprint(f.Payload))
			}
		case now := <-tick.C:
			t := now.Sub(start).Seconds()
			temperature += 0.1*(21-temperature) + rand.NormFloat64()*0.2 //nolint:gosec // demo noise
			values := []map[string]any{
				{"path": ControllerPath + "/sine", "value": fmt.Sprintf("%.3f", math.Sin(2*math.Pi*t/60))},
				{"path": ControllerPath + "/temperature", "value": fmt.Sprintf("%.3f", temperature)},
			}
			if err := op(`mutation($v: [SequenceValueInput!]!) { updateSequences(values: $v) }`, map[string]any{"v": values}); err != nil {
				return err
			}
			if err := op(`mutation { sendMessage(type: "watchdog") { id } }`, nil); err != nil {
				return err
			}
		}
	}
}

func hasErrors(p map[string]any) bool {
	errs, ok := p["errors"].([]any)
	return ok && len(errs) > 0
}

// WebsocketURL turns a listen address (":8080", "127.0.0.1:8080", "[::]:8080") into the
// loopback websocket URL of the GraphQL endpoint.
func WebsocketURL(addr string) string {
	host, port := addr, ""
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	}
	if host == "" || host == "0.0.0.0" || host == "[::]" || host == "::" {
		host = "127.0.0.1"
	}
	return "ws://" + host + ":" + port + "/graphql"
}
