package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// mqttClient is a paho client on the rhizo broker over websocket, collecting what it
// receives.
type mqttClient struct {
	t  testing.TB
	c  mqtt.Client
	in chan string // "topic payload"
}

func (ts *testServer) mqtt(t testing.TB, user, password string) (*mqttClient, error) {
	t.Helper()
	return ts.mqttAt(t, "/api/v1/mqtt", user, password)
}

func (ts *testServer) mqttAt(t testing.TB, path, user, password string) (*mqttClient, error) {
	t.Helper()
	m := &mqttClient{t: t, in: make(chan string, 100)}
	opts := mqtt.NewClientOptions().AddBroker("ws" + strings.TrimPrefix(ts.URL, "http") + path).
		SetUsername(user).SetPassword(password).SetAutoReconnect(false).SetConnectRetry(false).
		SetDefaultPublishHandler(func(_ mqtt.Client, msg mqtt.Message) { m.in <- msg.Topic() + " " + string(msg.Payload()) })
	m.c = mqtt.NewClient(opts)
	tok := m.c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("mqtt connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { m.c.Disconnect(0) })
	return m, nil
}

// subscribe subscribes and reports whether the broker granted it.
func (m *mqttClient) subscribe(topic string) bool {
	m.t.Helper()
	tok := m.c.Subscribe(topic, 0, nil)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		m.t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return tok.(*mqtt.SubscribeToken).Result()[topic] != 0x80
}

func (m *mqttClient) publish(topic, payload string) {
	m.t.Helper()
	tok := m.c.Publish(topic, 0, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		m.t.Fatalf("publish: %v", tok.Error())
	}
}

// next is the next message whose text contains want (others are skipped).
func (m *mqttClient) next(want string) string {
	m.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-m.in:
			if strings.Contains(s, want) {
				return s
			}
		case <-deadline:
			m.t.Fatalf("no MQTT message with %q within 10 s", want)
		}
	}
}

func TestRhizoMQTT(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		key, _ := rhizoKey(t, ts)
		rest := ts.rhizo(key)
		rest.send(t, "POST", "/api/v1/resources", form("path", "/lab/ctrl", "name", "temp", "type", "21",
			"system_attributes", `{"data_type": 1, "min_storage_interval": 0}`)).expect(t, 200)

		if _, err := ts.mqtt(t, "key", "RHIZO"+strings.Repeat("X", 50)); err == nil {
			t.Fatal("an unknown key connected")
		}
		if _, err := ts.mqtt(t, "token", key); err == nil {
			t.Fatal("user name other than key accepted")
		}
		ctrl, err := ts.mqttAt(t, "/mqtt", "key", key) // rhizo-client's (paho's) default path
		if err != nil {
			t.Fatal(err)
		}
		browser, err := ts.mqtt(t, "key", ts.world.Keys["userkey"])
		if err != nil {
			t.Fatal(err)
		}
		if !ctrl.subscribe("lab/ctrl") || !browser.subscribe("lab/ctrl") {
			t.Fatal("subscriptions refused")
		}
		for _, topic := range []string{"#", "lab/#", "other/data", "lab/nothing"} {
			if browser.subscribe(topic) {
				t.Fatalf("subscription to %s granted", topic)
			}
		}
		// A GraphQL session receives MQTT values as sequenceUpdates.
		gql := ts.dialWS(t, ts.login(t, "lmember"), nil)
		updates := gql.subscribe("u", `subscription { sequenceUpdates(path: "/lab/ctrl/temp") { path number } }`, nil)
		gqlMessages := gql.subscribe("m", `subscription { folderMessages(path: "/lab/ctrl", types: ["note"]) { type parameters senderController { path } } }`, nil)
		rws := ts.rhizoSession(t, "lmember").websocket(t)
		rws.send("subscribe", map[string]any{"subscriptions": []any{map[string]any{"folder": "/lab/ctrl"}}}, "")
		rws.settle()
		time.Sleep(100 * time.Millisecond) // the GraphQL subscription acknowledges nothing either

		// sequences.update_multiple: {"update": {"$t": ..., name: value}}.
		ctrl.publish("lab/ctrl", `{"update": {"$t": "2026-03-01T10:00:00.500000 Z", "temp": "21.5"}}`)
		if got := browser.next("d,temp,"); got != "lab/ctrl d,temp,2026-03-01T10:00:00.500000 Z,21.5" {
			t.Fatalf("d line %q", got)
		}
		if f := next(t, updates); !strings.Contains(string(f.Payload), `"number":21.5`) {
			t.Fatalf("GraphQL update %s", f.Payload)
		}
		if f := rws.next(); f["type"] != "sequence_update" || params(f)["value"] != "21.5" {
			t.Fatalf("websocket update %v", f)
		}
		// sequences.update with mqtt_host: "s," stores and shows.
		ctrl.publish("lab/ctrl", "s,temp,2026-03-01T10:00:01 Z,22")
		browser.next("Z,22")
		if v := rest.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", nil).expect(t, 200); string(v.Body) != "22" {
			t.Fatalf("s, value not stored: %q", v.Body)
		}
		// "d," shows without storing.
		ctrl.publish("lab/ctrl", "d,temp,2026-03-01T10:00:02 Z,23")
		if got := browser.next("Z,23"); got != "lab/ctrl d,temp,2026-03-01T10:00:02 Z,23" {
			t.Fatalf("d line %q", got)
		}
		if v := rest.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", nil).expect(t, 200); string(v.Body) != "22" {
			t.Fatalf("d, value stored: %q", v.Body)
		}
		// watchdog.
		ctrl.publish("lab/ctrl", `{"watchdog": {}}`)
		ctrl.publish("lab/ctrl", `{"note": {"text": "after watchdog"}}`)
		browser.next(`{"note":`)
		ls := rest.send(t, "GET", "/api/v1/resources/lab", form("extended", "1", "type", "controller_folder")).expect(t, 200).list(t)
		if ls[0]["last_watchdog_timestamp"] == "" {
			t.Fatalf("watchdog not recorded: %v", ls[0])
		}
		// An MQTT message reaches the original websocket; a GraphQL message reaches MQTT.
		if f := rws.next("sequence_update"); f["type"] != "note" || params(f)["text"] != "after watchdog" {
			t.Fatalf("websocket got %v", f)
		}
		if f := next(t, gqlMessages); !strings.Contains(string(f.Payload), `"text":"after watchdog"`) || !strings.Contains(string(f.Payload), `"path":"/lab/ctrl"`) {
			t.Fatalf("GraphQL folderMessages got %s", f.Payload)
		}
		ts.login(t, "lmember").do(t, `mutation { sendMessage(path: "/lab/ctrl", type: "set_config", parameters: {rate: 5}) { id } }`, nil).ok(t)
		if got := ctrl.next("set_config"); got != `lab/ctrl {"set_config":{"rate":5}}` {
			t.Fatalf("controller got %q", got)
		}

		// Another organization can neither subscribe nor write.
		other, err := ts.mqtt(t, "key", func() string {
			_, secret := otherKey(t, ts)
			return secret
		}())
		if err != nil {
			t.Fatal(err)
		}
		if other.subscribe("lab/ctrl") {
			t.Fatal("cross-organization subscription granted")
		}
		other.publish("lab/ctrl", "s,temp,2026-03-01T10:00:03 Z,99")
		other.publish("lab/ctrl", `{"update": {"temp": "98"}}`)
		// The controller (read-only outside its folder) cannot write lab/data either.
		ctrl.publish("lab/data", `{"update": {"temperature": "97"}}`)
		ctrl.publish("lab/ctrl", "s,temp,2026-03-01T10:00:04 Z,24") // a marker after them
		browser.next("Z,24")
		hist := rest.send(t, "GET", "/api/v1/resources/lab/ctrl/temp", form("count", "10")).expect(t, 200).json(t)
		if vs := hist["values"].([]any); len(vs) != 3 || vs[2] != "24" {
			t.Fatalf("refused writes stored: %v", hist)
		}
		if v := rest.send(t, "GET", "/api/v1/resources/lab/data/temperature", nil).expect(t, 200); len(v.Body) != 0 {
			t.Fatalf("controller wrote lab/data: %q", v.Body)
		}
	})
}

// otherKey is a key of omember, who belongs to the other organization only.
func otherKey(t *testing.T, ts *testServer) (int, string) {
	t.Helper()
	v := &access.Viewer{User: ts.world.Users["omember"]}
	if err := ts.app.authz.LoadMemberships(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	k, secret, err := ts.app.authz.CreateKey(t.Context(), v, access.NewKey{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, secret
}

// A controller on instance A and subscribers on instance B: values, "d," lines and
// messages cross through the bus, once each.
func TestRhizoMQTTAcrossInstances(t *testing.T) {
	for _, tc := range []struct{ name, bus string }{{"postgres-notify", ""}, {"nats", natsURL()}} {
		t.Run(tc.name, func(t *testing.T) {
			servers := twoInstances(t, tc.bus)
			a, b := servers[0], servers[1]
			ctrl, err := a.mqtt(t, "key", a.world.Keys["ctrlkey"])
			if err != nil {
				t.Fatal(err)
			}
			browser, err := b.mqtt(t, "key", b.world.Keys["userkey"])
			if err != nil {
				t.Fatal(err)
			}
			if !browser.subscribe("lab/ctrl") {
				t.Fatal("subscription refused")
			}
			rws := b.rhizo(b.world.Keys["userkey"]).websocket(t)
			rws.send("subscribe", map[string]any{"subscriptions": []any{map[string]any{"folder": "/lab/ctrl"}}}, "")
			rws.settle()
			time.Sleep(300 * time.Millisecond) // let the subscriptions reach the bus
			ctrl.publish("lab/ctrl", "s,log,2026-03-01T10:00:00 Z,stored on A")
			ctrl.publish("lab/ctrl", "d,log,2026-03-01T10:00:01 Z,shown only")
			ctrl.publish("lab/ctrl", `{"hello": {"from": "A"}}`)
			for _, want := range []string{"lab/ctrl d,log,2026-03-01T10:00:00 Z,stored on A", "lab/ctrl d,log,2026-03-01T10:00:01 Z,shown only", `lab/ctrl {"hello":{"from":"A"}}`} {
				if got := browser.next("lab/ctrl"); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			if f := rws.next(); f["type"] != "sequence_update" || params(f)["value"] != "stored on A" {
				t.Fatalf("websocket on B: %v", f)
			}
			if f := rws.next(); f["type"] != "hello" {
				t.Fatalf("websocket on B: %v", f)
			}
			select {
			case extra := <-browser.in:
				t.Fatalf("delivered twice: %q", extra)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}

// Values from many connections at once are stored in shared batches: every value its
// sender may write is stored and shown once, a value that does not fit its sequence is
// refused alone, a key of another organization stores nothing, and each batch reads the
// tree and the keys as they are (a renamed folder and a revoked key count at once).
func TestRhizoMQTTBatches(t *testing.T) {
	eachServer(t, func(t *testing.T, ts *testServer) {
		const folders, perClient = 4, 25
		for i := range folders {
			path := "/lab/batch" + strconv.Itoa(i)
			if _, err := tree.CreateController(t.Context(), ts.db.Client, path, true); err != nil {
				t.Fatal(err)
			}
			if _, err := tree.Create(t.Context(), ts.db.Client, tree.CreateParams{Path: path + "/v", Type: tree.Sequence,
				SystemAttributes: map[string]any{"data_type": tree.Numeric}}); err != nil {
				t.Fatal(err)
			}
		}
		member := ts.login(t, "lmember")
		var created struct {
			Key    struct{ ID string }
			Secret string
		}
		member.do(t, `mutation { createKey(input: {name: "batch"}) { key { id } secret } }`, nil).ok(t).decode(t, "createKey", &created)
		observer, err := ts.mqtt(t, "key", ts.world.Keys["userkey"])
		if err != nil {
			t.Fatal(err)
		}
		for i := range folders {
			if !observer.subscribe("lab/batch" + strconv.Itoa(i)) {
				t.Fatal("subscription refused")
			}
		}
		writers := make([]*mqttClient, folders)
		for i := range writers {
			if writers[i], err = ts.mqtt(t, "key", created.Secret); err != nil {
				t.Fatal(err)
			}
		}
		_, otherSecret := otherKey(t, ts)
		other, err := ts.mqtt(t, "key", otherSecret)
		if err != nil {
			t.Fatal(err)
		}
		line := func(i, n int, value string) string {
			return fmt.Sprintf("s,v,2026-03-01T10:%02d:%02d Z,%s", i, n, value)
		}
		var wg sync.WaitGroup
		for i, w := range writers {
			wg.Go(func() {
				topic := "lab/batch" + strconv.Itoa(i)
				for n := range perClient {
					w.publish(topic, line(i, n, strconv.Itoa(1000*i+n)))
					if i == 0 && n == perClient/2 {
						w.publish(topic, line(i, 59, "not a number"))
					}
				}
			})
		}
		wg.Go(func() {
			for n := range perClient {
				other.publish("lab/batch"+strconv.Itoa(n%folders), line(n%folders, 58, "-1"))
			}
		})
		wg.Wait()
		got := map[string]bool{}
		for len(got) < folders*perClient {
			s := observer.next(" d,v,")
			if got[s] {
				t.Fatalf("shown twice: %q", s)
			}
			got[s] = true
		}
		for i := range folders {
			for n := range perClient {
				want := fmt.Sprintf("lab/batch%d d,v,2026-03-01T10:%02d:%02d Z,%d", i, i, n, 1000*i+n)
				if !got[want] {
					t.Fatalf("not shown: %q", want)
				}
			}
		}
		rest := ts.rhizo(ts.world.Keys["userkey"])
		count := func(path string) []any {
			t.Helper()
			hist := rest.send(t, "GET", "/api/v1/resources"+path, form("count", "1000")).expect(t, 200).json(t)
			vs, _ := hist["values"].([]any)
			return vs
		}
		for i := range folders {
			vs := count("/lab/batch" + strconv.Itoa(i) + "/v")
			if len(vs) != perClient {
				t.Fatalf("batch%d stored %d values, want %d: %v", i, len(vs), perClient, vs)
			}
			for _, v := range vs {
				if v == "-1" {
					t.Fatalf("the other organization's value was stored in batch%d", i)
				}
			}
		}

		// A renamed folder: its old topic names nothing, its new one stores. The rename is
		// a resource change, announced like an access change: the check that follows drops
		// the observer, as lab/batch1, one of its subscriptions, names nothing any more.
		member.do(t, `mutation { renameResource(path: "/lab/batch1", name: "moved") { path } }`, nil).ok(t)
		deadline := time.Now().Add(10 * time.Second)
		for observer.c.IsConnectionOpen() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if observer.c.IsConnectionOpen() {
			t.Fatal("a subscriber to a renamed folder stayed connected")
		}
		moved, err := ts.mqtt(t, "key", ts.world.Keys["userkey"])
		if err != nil {
			t.Fatal(err)
		}
		if !moved.subscribe("lab/moved") {
			t.Fatal("subscription to the renamed folder refused")
		}
		writers[1].publish("lab/batch1", line(1, 40, "-2"))
		writers[1].publish("lab/moved", line(1, 41, "41"))
		if s := moved.next("Z,41"); s != "lab/moved d,v,2026-03-01T10:01:41 Z,41" {
			t.Fatalf("after the rename: %q", s)
		}
		if vs := count("/lab/moved/v"); len(vs) != perClient+1 || vs[len(vs)-1] != "41" {
			t.Fatalf("after the rename: %v", vs)
		}

		// A revoked key: its connections are dropped and it cannot connect again.
		member.do(t, `mutation($id: ID!) { revokeKey(id: $id) { id } }`, map[string]any{"id": created.Key.ID}).ok(t)
		deadline = time.Now().Add(10 * time.Second)
		for writers[0].c.IsConnectionOpen() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if writers[0].c.IsConnectionOpen() {
			t.Fatal("a revoked key's connection stayed open")
		}
		if !moved.c.IsConnectionOpen() {
			t.Fatal("the revocation dropped a subscriber whose key and folders are valid")
		}
		if _, err := ts.mqtt(t, "key", created.Secret); err == nil {
			t.Fatal("a revoked key connected")
		}
		writers[0].c.Publish("lab/batch0", 0, false, line(0, 50, "-3")).WaitTimeout(time.Second)
		writers[2].c.Publish("lab/batch2", 0, false, line(2, 50, "-3")).WaitTimeout(time.Second)
		// A marker from a valid key, after them.
		marker, err := ts.mqtt(t, "key", ts.world.Keys["userkey"])
		if err != nil {
			t.Fatal(err)
		}
		if !marker.subscribe("lab/batch0") {
			t.Fatal("subscription refused")
		}
		marker.publish("lab/batch0", line(0, 51, "51"))
		marker.next("Z,51")
		if vs := count("/lab/batch0/v"); len(vs) != perClient+1 || vs[len(vs)-1] != "51" {
			t.Fatalf("after the revocation: %v", vs)
		}
		if vs := count("/lab/batch2/v"); len(vs) != perClient {
			t.Fatalf("after the revocation: %v", vs)
		}
	})
}
