package bus

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// maxNotify is PostgreSQL's limit on a NOTIFY payload (it must be shorter than 8000 bytes
// in the default configuration).
const maxNotify = 8000

// Kinds of notification: the event inline (payload base64) or a reference to a row of
// bus_payloads. The kind byte doubles as the format version.
const (
	kindInline = 'i'
	kindRef    = 'r'
)

// PostgresOptions configure the LISTEN/NOTIFY transport.
type PostgresOptions struct {
	Options
	// Channel is the NOTIFY channel. Default "rhizoflex_bus_" + the current schema, so
	// that two deployments in one database (whose bus_payloads tables differ) never hear
	// each other.
	Channel string
	// PayloadTTL is how long a large payload stays in bus_payloads for the listeners to
	// read it back (default 10 minutes).
	PayloadTTL time.Duration
	// PingInterval is how often the idle listener connection is checked (default 30 s),
	// so a silently dead connection is noticed and re-established.
	PingInterval time.Duration
}

// Postgres is a Bus over PostgreSQL LISTEN/NOTIFY on one channel. Every instance listens
// on a connection of its own; an event published here goes out as one notification
// (committed before Publish returns) and reaches this instance's subscribers through its
// own listener too, so every instance sees all events in commit order. Payloads too large for a notification go into bus_payloads and the
// notification carries the row id; instances with a subscriber for the topic read it back.
//
// What an outage loses: PostgreSQL keeps notifications only for connected listeners, so
// while this instance's listener is disconnected (it reconnects by itself, with backoff
// from 100 ms to 10 s) it misses what others publish; the reconnect is logged. Publishing
// fails with an error while the database is unreachable. A listener lagging behind by more
// than PayloadTTL misses large payloads (logged).
type Postgres struct {
	hub      *Hub
	db       *sql.DB
	listener *pq.Listener
	channel  string
	opts     PostgresOptions
	log      *slog.Logger

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewPostgres starts listening with a connection opened from dsn (the database URL of db)
// and publishes through db, whose search_path must reach the bus_payloads table. It
// returns once the listener is subscribed, so every event published after it returns
// reaches this instance. ctx bounds that wait.
func NewPostgres(ctx context.Context, db *sql.DB, dsn string, opts PostgresOptions) (*Postgres, error) {
	var err error
	if opts.Options, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	if opts.PayloadTTL <= 0 {
		opts.PayloadTTL = 10 * time.Minute
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.Channel == "" {
		var schema string
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("bus: current schema: %w", err)
		}
		opts.Channel = defaultChannel(schema)
	}
	hub, err := NewHub(opts.Options)
	if err != nil {
		return nil, err
	}
	p := &Postgres{hub: hub, db: db, channel: opts.Channel, opts: opts, log: opts.Logger}
	p.listener = pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, p.event)

	listened := make(chan error, 1)
	go func() { listened <- p.listener.Listen(p.channel) }()
	select {
	case err = <-listened:
	case <-ctx.Done():
		_ = p.listener.Close() // a pending Listen returns net.ErrClosed
		if err = <-listened; err == nil || errors.Is(err, net.ErrClosed) {
			err = ctx.Err()
		}
	}
	if err != nil {
		_ = p.listener.Close()
		_ = hub.Close()
		return nil, fmt.Errorf("bus: listen on PostgreSQL channel %q: %w", p.channel, err)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	p.wg.Add(2)
	go p.receive(runCtx)
	go p.maintain(runCtx)
	return p, nil
}

// defaultChannel names the channel after the schema; identifiers stop at 63 bytes.
func defaultChannel(schema string) string {
	c := "rhizoflex_bus_" + schema
	if len(c) > 63 {
		sum := sha256.Sum256([]byte(schema))
		c = "rhizoflex_bus_" + hex.EncodeToString(sum[:12])
	}
	return c
}

// Origin returns this instance's id.
func (p *Postgres) Origin() string { return p.hub.Origin() }

// Subscribe starts a subscription on this instance; see Bus.Subscribe.
func (p *Postgres) Subscribe(ctx context.Context, patterns ...string) (*Subscription, error) {
	return p.hub.Subscribe(ctx, patterns...)
}

// SubscribeBuffer is Subscribe with its own buffer; see Hub.SubscribeBuffer.
func (p *Postgres) SubscribeBuffer(ctx context.Context, n int, patterns ...string) (*Subscription, error) {
	return p.hub.SubscribeBuffer(ctx, n, patterns...)
}

// Publish notifies every instance, this one included (through its own listener). An
// error means no subscriber anywhere got the event (unless the commit succeeded and only
// its acknowledgement was lost).
func (p *Postgres) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ValidTopic(topic); err != nil {
		return err
	}
	if p.hub.isClosed() {
		return ErrClosed
	}
	msg := encodeNotification(kindInline, p.hub.origin, topic, base64.StdEncoding.EncodeToString(payload))
	var err error
	if len(msg) < maxNotify {
		_, err = p.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, p.channel, msg)
	} else {
		// One statement: the row and the notification commit together, so a listener
		// never hears of a row it cannot read.
		head := encodeNotification(kindRef, p.hub.origin, topic, "")
		_, err = p.db.ExecContext(ctx, `WITH p AS (INSERT INTO bus_payloads (payload, created_at) VALUES ($1, now()) RETURNING id)
SELECT pg_notify($2, $3 || p.id::text) FROM p`, payload, p.channel, head)
	}
	if err != nil {
		return fmt.Errorf("bus: notify: %w", err)
	}
	// This instance's subscribers get the event from the listener like everyone else's, so
	// every instance sees all events in one order: the order PostgreSQL committed them.
	return nil
}

// Close stops listening and ends every subscription.
func (p *Postgres) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		_ = p.listener.Close() // closes Notify, which ends receive
		p.wg.Wait()
		_ = p.hub.Close()
	})
	return nil
}

// event logs the listener's connection changes.
func (p *Postgres) event(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventDisconnected:
		p.log.Warn("bus: PostgreSQL listener disconnected; reconnecting", "channel", p.channel, "err", err)
	case pq.ListenerEventConnectionAttemptFailed:
		p.log.Warn("bus: PostgreSQL listener cannot connect", "channel", p.channel, "err", err)
	case pq.ListenerEventReconnected:
		p.log.Info("bus: PostgreSQL listener reconnected", "channel", p.channel)
	}
}

// receive delivers the notifications until the listener is closed.
func (p *Postgres) receive(ctx context.Context) {
	defer p.wg.Done()
	for n := range p.listener.Notify {
		if n == nil {
			p.log.Warn("bus: events published by other instances while the PostgreSQL listener was down are lost", "channel", p.channel)
			continue
		}
		if err := p.handle(ctx, n.Extra); err != nil && ctx.Err() == nil {
			p.log.Error("bus: dropped a notification", "channel", p.channel, "err", err)
		}
	}
}

func (p *Postgres) handle(ctx context.Context, msg string) error {
	kind, origin, topic, body, err := decodeNotification(msg)
	if err != nil {
		return err
	}
	if !p.hub.wants(topic) {
		return nil // nobody here listens
	}
	var payload []byte
	switch kind {
	case kindInline:
		if payload, err = base64.StdEncoding.DecodeString(body); err != nil {
			return fmt.Errorf("notification payload: %w", err)
		}
	case kindRef:
		id, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return fmt.Errorf("notification payload id %q: %w", body, err)
		}
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err = p.db.QueryRowContext(qctx, `SELECT payload FROM bus_payloads WHERE id = $1`, id).Scan(&payload)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("payload %d of topic %q is gone (older than %s)", id, topic, p.opts.PayloadTTL)
		}
		if err != nil {
			return fmt.Errorf("read payload %d: %w", id, err)
		}
	}
	if err := p.hub.deliver(Event{Topic: topic, Payload: payload, Origin: origin}); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// maintain pings the listener and deletes expired payloads until ctx ends.
func (p *Postgres) maintain(ctx context.Context) {
	defer p.wg.Done()
	ping := time.NewTicker(p.opts.PingInterval)
	defer ping.Stop()
	sweep := time.NewTicker(min(p.opts.PayloadTTL/2, time.Minute))
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			// A failed ping closes the dead connection; the listener then reconnects.
			_ = p.listener.Ping()
		case <-sweep.C:
			if err := p.deleteExpired(ctx, p.opts.PayloadTTL); err != nil && ctx.Err() == nil {
				p.log.Warn("bus: delete expired payloads", "err", err)
			}
		}
	}
}

// deleteExpired deletes the stored payloads older than ttl. Every instance does it; the
// deletes are idempotent.
func (p *Postgres) deleteExpired(ctx context.Context, ttl time.Duration) error {
	_, err := p.db.ExecContext(ctx, `DELETE FROM bus_payloads WHERE created_at < now() - $1::bigint * interval '1 microsecond'`, ttl.Microseconds())
	return err
}

// encodeNotification frames an event as text: kind, origin, ' ', topic length, ' ',
// topic, body. Origins have no spaces and topics are valid UTF-8 without NUL, so the
// result is valid NOTIFY text and needs no escaping.
func encodeNotification(kind byte, origin, topic, body string) string {
	var b strings.Builder
	b.Grow(1 + len(origin) + 1 + 5 + 1 + len(topic) + len(body))
	b.WriteByte(kind)
	b.WriteString(origin)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(topic)))
	b.WriteByte(' ')
	b.WriteString(topic)
	b.WriteString(body)
	return b.String()
}

var errBadNotification = errors.New("bad notification")

func decodeNotification(msg string) (kind byte, origin, topic, body string, err error) {
	if msg == "" || (msg[0] != kindInline && msg[0] != kindRef) {
		return 0, "", "", "", fmt.Errorf("%w: unknown kind", errBadNotification)
	}
	kind = msg[0]
	origin, rest, ok := strings.Cut(msg[1:], " ")
	if !ok {
		return 0, "", "", "", fmt.Errorf("%w: no origin", errBadNotification)
	}
	n, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return 0, "", "", "", fmt.Errorf("%w: no topic length", errBadNotification)
	}
	size, err := strconv.Atoi(n)
	if err != nil || size <= 0 || size > len(rest) {
		return 0, "", "", "", fmt.Errorf("%w: topic length %q", errBadNotification, n)
	}
	return kind, origin, rest[:size], rest[size:], nil
}
