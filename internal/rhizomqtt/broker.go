// Package rhizomqtt is the original hub's MQTT face (docs/RHIZO.md): an embedded broker
// (mochi-mqtt) reached over websocket at a path of the HTTP server and, when configured,
// over TCP. Clients sign in with user name "key" and an API key as password; a topic is a
// folder path without its leading slash, read and written as the one authorizer allows.
// Published JSON messages and "s," lines become folder messages and stored values through
// the domain packages; stored values ("d," lines) and folder messages come back out of
// the bus, so clients on every instance see them. It may import ent, internal/* (not graph
// or server), mochi-mqtt, coder/websocket and the standard library.
package rhizomqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/messages"
	"github.com/rhizoflex/rhizoflex/internal/rhizoapi"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Bus topic of the display-only lines ("d,") clients publish: they travel to every
// instance's broker without being stored.
const displayTopicPrefix = "mqtt:"

// StoreFunc stores sequence values.
type StoreFunc func(ctx context.Context, items []series.Item) ([]series.Stored, []series.ItemError, error)

// Options are the broker's dependencies.
type Options struct {
	Client   *ent.Client
	Authz    *access.Authorizer
	Live     *live.Live
	Messages *messages.Service
	Store    StoreFunc
	// Paths caches the sequences values are written to, by path (nil: look every batch's
	// paths up).
	Paths *tree.PathCache
	Log   *slog.Logger
	// TCPAddress, when set, also serves MQTT over TCP there.
	TCPAddress string
	// OriginPatterns are the extra hosts a browser websocket may come from.
	OriginPatterns []string
}

// Broker is the embedded MQTT broker.
type Broker struct {
	opts      Options
	server    *mqtt.Server
	ctx       context.Context //nolint:containedctx // the broker's life, ended by Close
	cancel    context.CancelFunc
	closeOnce sync.Once

	lookups    chan *lookupReq
	ingest     chan *ingestReq
	delivering atomic.Pointer[delivery] // the batch being delivered, if any

	mu      sync.Mutex
	clients map[*mqtt.Client]*session

	bridgeDropped atomic.Int64 // bus events the bridge queue had no room for
	bridgeCutOffs atomic.Int64 // times the bus cut the bridge off
	clientDropped atomic.Int64 // messages a client's pending writes had no room for
	lastDropLog   atomic.Int64 // unix seconds of the last client-drop warning
}

// Stats counts what the broker could not deliver since it started.
type Stats struct {
	BridgeDropped int64 // bus events dropped because the bridge queue was full
	BridgeCutOffs int64 // times the bus cut the bridge off as too slow
	ClientDropped int64 // messages dropped because a client's pending writes were full
}

// Stats returns the broker's delivery counts.
func (b *Broker) Stats() Stats {
	return Stats{BridgeDropped: b.bridgeDropped.Load(), BridgeCutOffs: b.bridgeCutOffs.Load(), ClientDropped: b.clientDropped.Load()}
}

// session is a connected client's identity.
type session struct {
	v      *access.Viewer
	secret string
}

// New starts a broker and its bridge to the bus; Close stops both.
func New(opts Options) (*Broker, error) {
	if opts.Store == nil {
		opts.Store = func(ctx context.Context, items []series.Item) ([]series.Stored, []series.ItemError, error) {
			return series.Store(ctx, opts.Client, items)
		}
	}
	b := &Broker{opts: opts, clients: map[*mqtt.Client]*session{},
		lookups: make(chan *lookupReq, queueLen), ingest: make(chan *ingestReq, queueLen)}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = clientWritesPending
	b.server = mqtt.New(&mqtt.Options{
		InlineClient: true, Capabilities: caps, ClientNetWriteBufferSize: clientWriteBuffer,
		Logger: opts.Log.With("component", "mqtt"),
	})
	if err := b.server.AddHook(&hook{b: b}, nil); err != nil {
		return nil, fmt.Errorf("mqtt hook: %w", err)
	}
	if opts.TCPAddress != "" {
		if err := b.server.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: opts.TCPAddress})); err != nil {
			return nil, fmt.Errorf("mqtt listener on %s: %w", opts.TCPAddress, err)
		}
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	sub, err := b.subscribe(b.ctx)
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("mqtt bridge: %w", err)
	}
	for range lookupWorkers {
		go b.runLookups(b.ctx)
	}
	batches := make(chan []*ingestReq, 1)
	go b.collect(b.ctx, batches)
	go b.storeBatches(b.ctx, batches)
	if err := b.server.Serve(); err != nil {
		b.cancel()
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	go b.deliver(b.ctx, sub)
	return b, nil
}

const (
	// bridgeBuffer is how many bus events the bridge may fall behind: a group commit
	// announces each sequence's values as one event, hundreds at once, faster than any
	// consumer is scheduled on a busy machine (a smaller buffer got the bridge cut off
	// and the updates in between lost). About 60 bytes an event, allocated once.
	bridgeBuffer = 1 << 16
	// deliverMax is the most bus events delivered with one folder look-up.
	deliverMax = 1000
	// clientWritesPending is how many messages may wait for one client's connection
	// (mochi's default); past it, messages to that client are dropped and counted.
	clientWritesPending = 8 * 1024
	// clientWriteBuffer gathers the messages waiting for a client into writes of up to
	// this many bytes instead of one websocket frame each.
	clientWriteBuffer = 16 * 1024
)

func (b *Broker) subscribe(ctx context.Context) (*bus.Subscription, error) {
	return bus.SubscribeBuffer(ctx, b.opts.Live.Bus(), bridgeBuffer, "val:*", "msg:*", displayTopicPrefix+"*", live.AccessTopic)
}

// Close stops the broker and disconnects its clients; later calls do nothing.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() {
		b.cancel()
		err = b.server.Close()
	})
	return err
}

// Handler accepts MQTT over websocket (subprotocol "mqtt").
func (b *Broker) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols: []string{"mqtt", "mqttv3.1"}, OriginPatterns: b.opts.OriginPatterns,
		})
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		defer cancel()
		nc := websocket.NetConn(ctx, conn, websocket.MessageBinary)
		if err := b.server.EstablishConnection("ws", nc); err != nil && !errors.Is(err, context.Canceled) {
			b.opts.Log.DebugContext(ctx, "mqtt websocket client ended", "err", err)
		}
		_ = nc.Close()
	})
}

// deliver publishes what the bus carries to this instance's MQTT clients: "d," lines for
// stored values, {"<type>": parameters} for folder messages, display lines as sent. On an
// access change, every client is checked again and dropped when its key or its
// subscriptions no longer hold. If the bus cuts the bridge off anyway, it says so and
// subscribes again.
func (b *Broker) deliver(ctx context.Context, sub *bus.Subscription) {
	for {
		b.drain(ctx, sub.C())
		err := sub.Err()
		sub.Close()
		if ctx.Err() != nil || err == nil || errors.Is(err, bus.ErrClosed) {
			return
		}
		b.bridgeCutOffs.Add(1)
		b.opts.Log.Warn("mqtt bridge: cut off by the bus; subscribing again (updates in between are lost)", "err", err)
		for {
			if sub, err = b.subscribe(ctx); err == nil {
				break
			}
			if ctx.Err() != nil || errors.Is(err, bus.ErrClosed) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// drain delivers the events of one subscription until it ends, in batches: whatever has
// arrived (up to deliverMax events, an access change ending a batch) is published with
// the folders of its topics looked up in one query.
func (b *Broker) drain(ctx context.Context, events <-chan bus.Event) {
	for {
		var e bus.Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case e, ok = <-events:
			if !ok {
				return
			}
		}
		batch := []bus.Event{e}
	gather:
		for len(batch) < deliverMax && e.Topic != live.AccessTopic {
			select {
			case e, ok = <-events:
				if !ok {
					break gather
				}
				batch = append(batch, e)
			default:
				break gather
			}
		}
		b.deliverBatch(ctx, batch)
		if !ok {
			return
		}
	}
}

type outMessage struct {
	topic   string
	payload []byte
}

func (b *Broker) deliverBatch(ctx context.Context, batch []bus.Event) {
	var out []outMessage
	add := func(folderPath string, payload []byte) {
		if topic := strings.TrimPrefix(folderPath, "/"); topic != "" {
			out = append(out, outMessage{topic, payload})
		}
	}
	recheck := false
	for _, e := range batch {
		switch {
		case strings.HasPrefix(e.Topic, "val:"):
			if !b.anyClient() {
				continue // no MQTT client is connected: do not decode and format the values
			}
			for _, v := range live.DecodeValues(e.Payload) {
				text, ok := rhizoapi.ValueText(v)
				if !ok {
					continue
				}
				line := "d," + lastName(v.Path) + "," + rhizoapi.ISOTime(v.Timestamp, " Z") + "," + text
				add(tree.ParentPath(v.Path), []byte(line))
			}
		case strings.HasPrefix(e.Topic, "msg:"):
			var m live.Message
			if json.Unmarshal(e.Payload, &m) != nil || rhizoapi.HandledTypes[m.Type] {
				continue
			}
			p := m.Parameters
			if p == nil {
				p = map[string]any{}
			}
			payload, err := json.Marshal(map[string]any{m.Type: p})
			if err == nil {
				add(m.FolderPath, payload)
			}
		case strings.HasPrefix(e.Topic, displayTopicPrefix):
			add(strings.TrimPrefix(e.Topic, displayTopicPrefix), e.Payload)
		case e.Topic == live.AccessTopic:
			recheck = true // the last event of its batch
		}
	}
	if len(out) > 0 {
		// The broker asks the hook whether each subscriber may read each topic: answer
		// from one query for the batch's folders instead of one query a message.
		seen := map[string]bool{}
		var paths []string
		for _, m := range out {
			if !seen[m.topic] {
				seen[m.topic] = true
				paths = append(paths, "/"+m.topic)
			}
		}
		if found, err := b.lookup(ctx, paths); err == nil {
			b.delivering.Store(&delivery{folders: found, topics: seen, decided: map[readDecision]bool{}})
		}
		for _, m := range out {
			b.publish(m.topic, m.payload)
		}
		b.delivering.Store(nil)
	}
	if recheck {
		b.recheck(ctx)
	}
}

// delivery holds the folders of the topics being delivered and the read decisions made
// for them, for the broker's per-subscriber checks during one batch.
type delivery struct {
	folders map[string]*ent.Resource // by path; absent: no such folder
	topics  map[string]bool          // the topics looked up

	mu      sync.Mutex
	decided map[readDecision]bool
}

type readDecision struct {
	cl    *mqtt.Client
	topic string
}

// canRead answers whether cl may read topic from the batch's look-up; known is false
// when the topic is not one of the batch's.
func (d *delivery) canRead(ctx context.Context, b *Broker, cl *mqtt.Client, topic string) (ok, known bool) {
	if !d.topics[topic] {
		return false, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := readDecision{cl, topic}
	if ok, known := d.decided[k]; known {
		return ok, true
	}
	folder := d.folders["/"+topic]
	v := b.viewer(cl)
	ok = v != nil && folder != nil && tree.IsContainer(folder.Type) && b.opts.Authz.Require(ctx, v, folder, access.Read) == nil
	d.decided[k] = ok
	return ok, true
}

// anyClient reports whether any MQTT client is connected to this instance's broker.
func (b *Broker) anyClient() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.clients) > 0
}

func (b *Broker) publish(topic string, payload []byte) {
	if err := b.server.Publish(topic, payload, false, 0); err != nil {
		b.opts.Log.Warn("mqtt publish", "topic", topic, "err", err)
	}
}

// recheck drops clients whose key was revoked or who lost read access to a topic they
// subscribed to.
func (b *Broker) recheck(ctx context.Context) {
	b.mu.Lock()
	clients := make(map[*mqtt.Client]string, len(b.clients))
	for cl, s := range b.clients {
		clients[cl] = s.secret
	}
	b.mu.Unlock()
	// Every subscribed folder in one look-up.
	var paths []string
	for cl := range clients {
		for filter := range cl.State.Subscriptions.GetAll() {
			if p, ok := topicPath(filter); ok {
				paths = append(paths, p)
			}
		}
	}
	found, err := b.lookup(ctx, paths)
	if err != nil {
		// Refuse rather than guess: clients with subscriptions are dropped (and may
		// connect again).
		b.opts.Log.WarnContext(ctx, "mqtt: folders not looked up after an access change", "err", err)
		found = nil
	}
	for cl, secret := range clients {
		fresh, err := b.opts.Authz.AuthenticateKey(ctx, secret)
		ok := err == nil
		if ok {
			b.mu.Lock()
			if s := b.clients[cl]; s != nil {
				s.v = fresh
			}
			b.mu.Unlock()
			for filter := range cl.State.Subscriptions.GetAll() {
				if !b.allowedIn(ctx, found, fresh, filter, access.Read) {
					ok = false
					break
				}
			}
		}
		if !ok {
			_ = b.server.DisconnectClient(cl, packets.ErrNotAuthorized)
		}
	}
}

func (b *Broker) viewer(cl *mqtt.Client) *access.Viewer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.clients[cl]; s != nil {
		return s.v
	}
	return nil
}

// allowed checks level on the folder a topic names; wildcards and unknown or hidden
// folders are refused.
func (b *Broker) allowed(ctx context.Context, v *access.Viewer, topic string, level access.Level) bool {
	path, ok := topicPath(topic)
	if v == nil || !ok {
		return false
	}
	found, err := b.lookup(ctx, []string{path})
	return err == nil && b.allowedIn(ctx, found, v, topic, level)
}

// allowedIn is allowed with the folders looked up already.
func (b *Broker) allowedIn(ctx context.Context, found map[string]*ent.Resource, v *access.Viewer, topic string, level access.Level) bool {
	path, ok := topicPath(topic)
	if v == nil || !ok {
		return false
	}
	folder := found[path]
	if folder == nil || !tree.IsContainer(folder.Type) {
		return false
	}
	return b.opts.Authz.Require(ctx, v, folder, level) == nil
}

// topicPath is the folder path an exact topic names; wildcards and system topics name none.
func topicPath(topic string) (string, bool) {
	if topic == "" || strings.ContainsAny(topic, "#+") || strings.HasPrefix(topic, "$") {
		return "", false
	}
	path, err := tree.CleanPath("/" + topic)
	return path, err == nil
}

// handle acts on a message a client published to topic. It reports whether the broker
// should still deliver the packet itself (never: everything travels through the bus, so
// subscribers on every instance get it once).
func (b *Broker) handle(ctx context.Context, v *access.Viewer, topic string, payload []byte) {
	folder := "/" + topic
	payload = bytes.TrimSpace(payload)
	switch {
	case len(payload) > 0 && payload[0] == '{':
		var msg map[string]json.RawMessage
		if err := json.Unmarshal(payload, &msg); err != nil {
			b.opts.Log.DebugContext(ctx, "mqtt: payload is not JSON", "topic", topic)
			return
		}
		for typ, raw := range msg {
			if typ == "update" {
				b.update(ctx, v, topic, raw)
				continue
			}
			var p map[string]any
			if err := json.Unmarshal(raw, &p); err != nil {
				p = map[string]any{"value": string(raw)}
			}
			if _, err := b.opts.Messages.Send(ctx, v, folder, typ, p); err != nil {
				b.opts.Log.InfoContext(ctx, "mqtt: message refused", "topic", topic, "type", typ, "err", err)
			}
		}
	case bytes.HasPrefix(payload, []byte("s,")):
		parts := strings.SplitN(string(payload), ",", 4)
		if len(parts) != 4 {
			return
		}
		at, err := rhizoapi.ParseTime(parts[2])
		if err != nil {
			return
		}
		b.store(ctx, v, topic, []series.Item{{Path: folder + "/" + parts[1], Value: parts[3], Time: &at}})
	default: // "d," lines and anything else: shown, not stored
		if err := b.opts.Live.Bus().Publish(context.WithoutCancel(ctx), displayTopicPrefix+folder, payload); err != nil {
			b.opts.Log.WarnContext(ctx, "mqtt: display line", "topic", topic, "err", err)
		}
	}
}

// update stores {"$t": time, "<name>": value, ...} in the sequences of folder.
func (b *Broker) update(ctx context.Context, v *access.Viewer, topic string, raw json.RawMessage) {
	folder := "/" + topic
	var p map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return
	}
	var at *time.Time
	if s, ok := p["$t"].(string); ok {
		t, err := rhizoapi.ParseTime(s)
		if err != nil {
			return
		}
		at = &t
	}
	items := make([]series.Item, 0, len(p))
	for name, value := range p {
		if name == "$t" {
			continue
		}
		switch x := value.(type) {
		case json.Number:
			value = x.String()
		case string:
		default:
			bs, _ := json.Marshal(x)
			value = string(bs)
		}
		items = append(items, series.Item{Path: folder + "/" + name, Value: value, Time: at})
	}
	b.store(ctx, v, topic, items)
}

// hook connects mochi to the authorizer and the domain.
type hook struct {
	mqtt.HookBase
	b *Broker
}

func (h *hook) ID() string { return "rhizoflex" }

func (h *hook) Provides(x byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnDisconnect, mqtt.OnPublishDropped}, []byte{x})
}

// OnPublishDropped counts a message a client's full pending-write queue had no room for,
// and says so in the log (at most every ten seconds, with the total so far).
func (h *hook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	n := h.b.clientDropped.Add(1)
	now := time.Now().Unix()
	if last := h.b.lastDropLog.Load(); now-last >= 10 && h.b.lastDropLog.CompareAndSwap(last, now) {
		h.b.opts.Log.Warn("mqtt: message dropped, client too slow", "client", cl.ID, "topic", pk.TopicName, "dropped_total", n)
	}
}

// OnConnectAuthenticate accepts user name "key" with a valid API key as password.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if string(pk.Connect.Username) != "key" {
		return false
	}
	v, err := h.b.opts.Authz.AuthenticateKey(context.Background(), string(pk.Connect.Password))
	if err != nil {
		return false
	}
	h.b.mu.Lock()
	h.b.clients[cl] = &session{v: v, secret: string(pk.Connect.Password)}
	h.b.mu.Unlock()
	return true
}

// OnACLCheck: subscribing needs read on the topic's folder, publishing write.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if !write {
		if d := h.b.delivering.Load(); d != nil {
			if ok, known := d.canRead(h.b.ctx, h.b, cl, topic); known {
				return ok
			}
		}
	}
	level := access.Read
	if write {
		level = access.Write
	}
	return h.b.allowed(h.b.ctx, h.b.viewer(cl), topic, level)
}

// OnPublish hands the message to the domain and keeps the broker from delivering it
// itself: what subscribers see comes back through the bus.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	v := h.b.viewer(cl)
	if v == nil {
		return pk, packets.ErrRejectPacket
	}
	h.b.handle(h.b.ctx, v, pk.TopicName, pk.Payload)
	return pk, packets.CodeSuccessIgnore
}

func (h *hook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.b.mu.Lock()
	delete(h.b.clients, cl)
	h.b.mu.Unlock()
}

func lastName(path string) string { return path[strings.LastIndex(path, "/")+1:] }
