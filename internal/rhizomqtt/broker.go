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
	Log      *slog.Logger
	// TCPAddress, when set, also serves MQTT over TCP there.
	TCPAddress string
	// OriginPatterns are the extra hosts a browser websocket may come from.
	OriginPatterns []string
}

// Broker is the embedded MQTT broker.
type Broker struct {
	opts      Options
	server    *mqtt.Server
	cancel    context.CancelFunc
	closeOnce sync.Once

	mu      sync.Mutex
	clients map[*mqtt.Client]*session
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
	b := &Broker{opts: opts, clients: map[*mqtt.Client]*session{}}
	b.server = mqtt.New(&mqtt.Options{InlineClient: true, Logger: opts.Log.With("component", "mqtt")})
	if err := b.server.AddHook(&hook{b: b}, nil); err != nil {
		return nil, fmt.Errorf("mqtt hook: %w", err)
	}
	if opts.TCPAddress != "" {
		if err := b.server.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: opts.TCPAddress})); err != nil {
			return nil, fmt.Errorf("mqtt listener on %s: %w", opts.TCPAddress, err)
		}
	}
	if err := b.server.Serve(); err != nil {
		return nil, fmt.Errorf("mqtt broker: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	sub, err := b.subscribe(ctx)
	if err != nil {
		cancel()
		_ = b.server.Close()
		return nil, fmt.Errorf("mqtt bridge: %w", err)
	}
	queue := make(chan bus.Event, bridgeQueue)
	go b.deliver(ctx, queue)
	go b.follow(ctx, sub, queue)
	return b, nil
}

// bridgeQueue absorbs bursts (a group commit announces many values at once) between the
// bus and the broker, so the bridge is not cut off as a slow consumer.
const bridgeQueue = 1 << 16

func (b *Broker) subscribe(ctx context.Context) (*bus.Subscription, error) {
	return b.opts.Live.Bus().Subscribe(ctx, "val:*", "msg:*", displayTopicPrefix+"*", live.AccessTopic)
}

// follow moves bus events into the queue; if the bus cuts the subscription off anyway,
// it says so and subscribes again.
func (b *Broker) follow(ctx context.Context, sub *bus.Subscription, queue chan<- bus.Event) {
	for {
		dropped := 0
		for e := range sub.C() {
			select {
			case queue <- e:
			default:
				dropped++
			}
		}
		err := sub.Err()
		sub.Close()
		if dropped > 0 {
			b.opts.Log.Warn("mqtt bridge: updates dropped, MQTT clients too slow", "dropped", dropped)
		}
		if ctx.Err() != nil || err == nil || errors.Is(err, bus.ErrClosed) {
			return
		}
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
// subscriptions no longer hold.
func (b *Broker) deliver(ctx context.Context, queue <-chan bus.Event) {
	for {
		var e bus.Event
		select {
		case <-ctx.Done():
			return
		case e = <-queue:
		}
		switch {
		case strings.HasPrefix(e.Topic, "val:"):
			for _, v := range live.DecodeValues(e.Payload) {
				text, ok := rhizoapi.ValueText(v)
				if !ok {
					continue
				}
				line := "d," + lastName(v.Path) + "," + rhizoapi.ISOTime(v.Timestamp, " Z") + "," + text
				b.publish(tree.ParentPath(v.Path), []byte(line))
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
				b.publish(m.FolderPath, payload)
			}
		case strings.HasPrefix(e.Topic, displayTopicPrefix):
			b.publish(strings.TrimPrefix(e.Topic, displayTopicPrefix), e.Payload)
		case e.Topic == live.AccessTopic:
			b.recheck(ctx)
		}
	}
}

func (b *Broker) publish(folderPath string, payload []byte) {
	topic := strings.TrimPrefix(folderPath, "/")
	if topic == "" {
		return
	}
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
				if !b.allowed(ctx, fresh, filter, access.Read) {
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
	if v == nil || topic == "" || strings.ContainsAny(topic, "#+") || strings.HasPrefix(topic, "$") {
		return false
	}
	folder, err := tree.ByPath(ctx, b.opts.Client, "/"+topic)
	if err != nil || !tree.IsContainer(folder.Type) {
		return false
	}
	return b.opts.Authz.Require(ctx, v, folder, level) == nil
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
				b.update(ctx, v, folder, raw)
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
		b.store(ctx, v, []series.Item{{Path: folder + "/" + parts[1], Value: parts[3], Time: &at}})
	default: // "d," lines and anything else: shown, not stored
		if err := b.opts.Live.Bus().Publish(context.WithoutCancel(ctx), displayTopicPrefix+folder, payload); err != nil {
			b.opts.Log.WarnContext(ctx, "mqtt: display line", "topic", topic, "err", err)
		}
	}
}

// update stores {"$t": time, "<name>": value, ...} in the sequences of folder.
func (b *Broker) update(ctx context.Context, v *access.Viewer, folder string, raw json.RawMessage) {
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
	b.store(ctx, v, items)
}

// store stores the items the viewer may write (others are skipped, as the original did).
func (b *Broker) store(ctx context.Context, v *access.Viewer, items []series.Item) {
	kept := items[:0]
	for _, it := range items {
		seq, err := tree.ByPath(ctx, b.opts.Client, it.Path)
		if err != nil || seq.Type != tree.Sequence || b.opts.Authz.Require(ctx, v, seq, access.Write) != nil {
			continue
		}
		it.Resource = seq
		kept = append(kept, it)
	}
	if len(kept) == 0 {
		return
	}
	stored, itemErrs, err := b.opts.Store(ctx, kept)
	if err != nil {
		b.opts.Log.InfoContext(ctx, "mqtt: values refused", "errors", len(itemErrs), "err", err)
		return
	}
	b.opts.Live.PublishValues(ctx, stored)
}

// hook connects mochi to the authorizer and the domain.
type hook struct {
	mqtt.HookBase
	b *Broker
}

func (h *hook) ID() string { return "rhizoflex" }

func (h *hook) Provides(x byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnDisconnect}, []byte{x})
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
	level := access.Read
	if write {
		level = access.Write
	}
	return h.b.allowed(context.Background(), h.b.viewer(cl), topic, level)
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
	h.b.handle(context.Background(), v, pk.TopicName, pk.Payload)
	return pk, packets.CodeSuccessIgnore
}

func (h *hook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.b.mu.Lock()
	delete(h.b.clients, cl)
	h.b.mu.Unlock()
}

func lastName(path string) string { return path[strings.LastIndex(path, "/")+1:] }
