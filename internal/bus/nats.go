package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultSubjectPrefix starts the NATS subject when NATSOptions.SubjectPrefix is empty.
const DefaultSubjectPrefix = "rhizoflex."

// frameVersion starts every NATS message; a receiver drops versions it does not know.
const frameVersion = 1

// NATSOptions configure the NATS transport.
type NATSOptions struct {
	Options
	// SubjectPrefix namespaces the subject (default DefaultSubjectPrefix); deployments
	// sharing a NATS server need different prefixes. The subject is prefix + "bus".
	SubjectPrefix string
	// Connect adds nats.go options (credentials, TLS, ...). The bus's own handlers are
	// applied after them.
	Connect []nats.Option
}

// NATS is a Bus over core NATS on one subject. An event published here goes to the server,
// which delivers it to every instance, this one included, so every instance sees all
// events in the one order the server received them; Publish flushes, so an event published
// after another returned (on any instance) comes after it. The payload travels as bytes,
// up to the server's max_payload (1 MB by default).
//
// What an outage loses: core NATS delivers at most once. While this instance is
// disconnected (it reconnects forever, logging each change) it misses what others
// publish; what it publishes meanwhile is buffered by nats.go (8 MB by default) and sent
// after the reconnect — Publish fails once that buffer is full.
type NATS struct {
	hub     *Hub
	nc      *nats.Conn
	subject string
	log     *slog.Logger
	closed  chan struct{} // closed by nats.go's ClosedHandler

	closeOnce sync.Once
}

// NewNATS connects to the NATS server(s) at url (comma-separated for several) and
// subscribes. It returns once the server has registered the subscription, so every event
// published after it returns reaches this instance. ctx bounds that wait.
func NewNATS(ctx context.Context, url string, opts NATSOptions) (*NATS, error) {
	var err error
	if opts.Options, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	prefix := opts.SubjectPrefix
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	if !strings.HasSuffix(prefix, ".") {
		prefix += "."
	}
	subject := prefix + "bus"
	if !validSubject(subject) {
		return nil, fmt.Errorf("bus: NATS subject prefix %q: use dot-separated tokens without spaces or wildcards", opts.SubjectPrefix)
	}
	hub, err := NewHub(opts.Options)
	if err != nil {
		return nil, err
	}
	n := &NATS{hub: hub, subject: subject, log: opts.Logger, closed: make(chan struct{})}

	connect := []nats.Option{
		nats.Name("rhizoflex " + hub.origin),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DrainTimeout(5 * time.Second),
	}
	connect = append(connect, opts.Connect...)
	connect = append(connect,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("bus: NATS disconnected; events published elsewhere until the reconnect are lost", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			n.log.Info("bus: NATS reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			n.log.Error("bus: NATS error", "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(n.closed) }),
	)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n.nc, err = nats.Connect(url, connect...)
	if err != nil {
		_ = hub.Close()
		return nil, fmt.Errorf("bus: connect to NATS: %w", err)
	}
	if _, err := n.nc.Subscribe(subject, n.handle); err != nil {
		n.abort()
		return nil, fmt.Errorf("bus: subscribe to NATS subject %q: %w", subject, err)
	}
	fctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := n.nc.FlushWithContext(fctx); err != nil {
		n.abort()
		return nil, fmt.Errorf("bus: NATS subscription not confirmed: %w", err)
	}
	return n, nil
}

func (n *NATS) abort() {
	n.nc.Close()
	_ = n.hub.Close()
}

func validSubject(s string) bool {
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// Origin returns this instance's id.
func (n *NATS) Origin() string { return n.hub.Origin() }

// Subscribe starts a subscription on this instance; see Bus.Subscribe.
func (n *NATS) Subscribe(ctx context.Context, patterns ...string) (*Subscription, error) {
	return n.hub.Subscribe(ctx, patterns...)
}

// SubscribeBuffer is Subscribe with its own buffer; see Hub.SubscribeBuffer.
func (n *NATS) SubscribeBuffer(ctx context.Context, size int, patterns ...string) (*Subscription, error) {
	return n.hub.SubscribeBuffer(ctx, size, patterns...)
}

// Publish hands the event to the NATS server, which delivers it to every instance, this
// one included.
func (n *NATS) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ValidTopic(topic); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.hub.isClosed() {
		return ErrClosed
	}
	if err := n.nc.Publish(n.subject, encodeFrame(n.hub.origin, topic, payload)); err != nil {
		return fmt.Errorf("bus: NATS publish: %w", err)
	}
	// Flushed before returning, so an event published after this one returns (on any
	// instance) reaches the server after it; this instance's subscribers get it back
	// from the server like everyone else's, so every instance sees one order.
	// While disconnected the event waits in nats.go's buffer (sent after the reconnect).
	if n.nc.IsConnected() {
		if err := n.nc.FlushTimeout(flushTimeout); err != nil && n.nc.IsConnected() {
			return fmt.Errorf("bus: NATS flush: %w", err)
		}
	}
	return nil
}

// flushTimeout bounds the wait for the server to confirm it has an event.
const flushTimeout = 10 * time.Second

// Close sends what is still buffered, closes the connection and ends every subscription.
func (n *NATS) Close() error {
	n.closeOnce.Do(func() {
		if err := n.nc.Drain(); err != nil {
			n.nc.Close()
		}
		select {
		case <-n.closed:
		case <-time.After(10 * time.Second):
			n.nc.Close()
		}
		_ = n.hub.Close()
	})
	return nil
}

// handle runs on nats.go's delivery goroutine for the subscription, one message at a
// time, which keeps the publish order.
func (n *NATS) handle(m *nats.Msg) {
	origin, topic, payload, err := decodeFrame(m.Data)
	if err != nil {
		n.log.Error("bus: dropped a NATS message", "err", err)
		return
	}
	if !n.hub.wants(string(topic)) {
		return
	}
	// nats.go gives each message its own copy of the data, so payload needs no copy.
	_ = n.hub.deliver(Event{Topic: string(topic), Payload: payload, Origin: string(origin)})
}

// encodeFrame lays out an event as version, uvarint-prefixed origin and topic, payload.
func encodeFrame(origin, topic string, payload []byte) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen32+len(origin)+len(topic)+len(payload))
	b = append(b, frameVersion)
	b = binary.AppendUvarint(b, uint64(len(origin)))
	b = append(b, origin...)
	b = binary.AppendUvarint(b, uint64(len(topic)))
	b = append(b, topic...)
	return append(b, payload...)
}

var errBadFrame = errors.New("bad frame")

func decodeFrame(b []byte) (origin, topic, payload []byte, err error) {
	if len(b) == 0 || b[0] != frameVersion {
		return nil, nil, nil, fmt.Errorf("%w: unknown version", errBadFrame)
	}
	b = b[1:]
	field := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			err = fmt.Errorf("%w: truncated", errBadFrame)
			return nil
		}
		f := b[k : k+int(n)]
		b = b[k+int(n):]
		return f
	}
	origin = field()
	if err != nil {
		return nil, nil, nil, err
	}
	topic = field()
	if err != nil {
		return nil, nil, nil, err
	}
	if len(topic) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: empty topic", errBadFrame)
	}
	return origin, topic, b, nil
}
