// Package bus is the one way events move in rhizoflex: publish/subscribe on named topics,
// fanned out to the subscribers of this instance by a Hub and, with a cluster transport,
// to every other instance through PostgreSQL LISTEN/NOTIFY or NATS.
//
// Topics are opaque strings chosen by the publishers (e.g. "folder:/org/a/b"). A
// subscription names exact topics and prefix patterns: a pattern ending in "*" right after
// a '/' or ':' (e.g. "folder:/org/a/*") matches every topic starting with the text before
// the '*'. Because a prefix must end at a separator, "folder:/org/a/*" can never match the
// sibling "folder:/org/ab".
//
// Every subscriber has a bounded buffer. A subscriber that lets it fill up is cut off: its
// channel is closed and Err reports ErrSlowConsumer. Publishing never waits for a
// subscriber.
//
// The package may import the standard library, github.com/lib/pq and
// github.com/nats-io/nats.go; it knows nothing of rhizoflex's domain (no graph, server,
// ent or other internal packages), and it uses the bus_payloads table through raw SQL.
package bus

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Event is one published message as a subscriber receives it.
type Event struct {
	Topic string
	// Payload is shared by every subscriber of the event: read it, never modify it.
	Payload []byte
	// Origin is the Origin of the bus instance that published the event.
	Origin string
}

// Bus publishes events and subscribes to them. Implementations: *Hub (in process),
// *Postgres (LISTEN/NOTIFY) and *NATS. A cluster bus delivers every event exactly once to
// every matching subscriber on every connected instance, including the publishing one,
// in publish order per topic from one publisher.
type Bus interface {
	// Publish sends payload on topic. The bus keeps its own copy of payload.
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe receives the events whose topic matches one of patterns (exact topics or
	// prefix patterns ending in "/*" or ":*") until ctx ends, the subscription is closed,
	// it falls too far behind, or the bus closes.
	Subscribe(ctx context.Context, patterns ...string) (*Subscription, error)
	// Origin is the id of this bus instance, put on every event it publishes.
	Origin() string
	// Close ends every subscription (Err reports ErrClosed) and releases the transport.
	Close() error
}

// Errors reported by the bus.
var (
	// ErrSlowConsumer ends a subscription whose buffer was full when an event arrived.
	ErrSlowConsumer = errors.New("bus: subscriber too slow, its buffer was full")
	// ErrClosed is returned by a closed bus and ends its subscriptions.
	ErrClosed = errors.New("bus: closed")
	// ErrBadTopic reports a topic or pattern the bus cannot carry.
	ErrBadTopic = errors.New("bus: bad topic")
)

// SubscribeBuffer subscribes with a buffer of n events instead of the bus's default, when
// the transport supports it (all of this package's do); otherwise it is Subscribe.
func SubscribeBuffer(ctx context.Context, b Bus, n int, patterns ...string) (*Subscription, error) {
	if bb, ok := b.(interface {
		SubscribeBuffer(ctx context.Context, n int, patterns ...string) (*Subscription, error)
	}); ok {
		return bb.SubscribeBuffer(ctx, n, patterns...)
	}
	return b.Subscribe(ctx, patterns...)
}

// MaxTopicLen bounds a topic in bytes, so a reference to a stored payload always fits in a
// PostgreSQL notification.
const MaxTopicLen = 4096

// DefaultBuffer is the per-subscriber buffer when Options.Buffer is zero.
const DefaultBuffer = 256

// Options are common to every transport.
type Options struct {
	// Buffer is the number of events a subscriber may fall behind before it is cut off
	// (default DefaultBuffer).
	Buffer int
	// Origin identifies this instance on the events it publishes; it must differ between
	// running instances. Default: random. At most 64 characters of [A-Za-z0-9._-].
	Origin string
	// Logger receives transport trouble (reconnects, lost notifications). Default
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.Origin == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		o.Origin = hex.EncodeToString(b)
	} else if !validOrigin(o.Origin) {
		return o, fmt.Errorf("bus: origin %q: use 1 to 64 characters of [A-Za-z0-9._-]", o.Origin)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

func validOrigin(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// ValidTopic reports why topic cannot be published, or nil: it must be 1 to MaxTopicLen
// bytes of UTF-8 without NUL or '*'.
func ValidTopic(topic string) error {
	switch {
	case topic == "":
		return fmt.Errorf("%w: empty", ErrBadTopic)
	case len(topic) > MaxTopicLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrBadTopic, MaxTopicLen)
	case !utf8.ValidString(topic):
		return fmt.Errorf("%w: not UTF-8", ErrBadTopic)
	case strings.ContainsAny(topic, "\x00*"):
		return fmt.Errorf("%w: %q contains NUL or '*'", ErrBadTopic, topic)
	}
	return nil
}

// isSep reports whether c may end a prefix pattern.
func isSep(c byte) bool { return c == '/' || c == ':' }

// parsePattern splits a subscription pattern into an exact topic or a prefix.
func parsePattern(p string) (topic string, prefix bool, err error) {
	if base, ok := strings.CutSuffix(p, "*"); ok {
		if base == "" || !isSep(base[len(base)-1]) {
			return "", false, fmt.Errorf("%w: pattern %q: '*' must follow '/' or ':'", ErrBadTopic, p)
		}
		if err := ValidTopic(base); err != nil {
			return "", false, err
		}
		return base, true, nil
	}
	if err := ValidTopic(p); err != nil {
		return "", false, err
	}
	return p, false, nil
}

// Config chooses and configures a transport for Open.
type Config struct {
	// URL is the bus_url setting: empty picks the transport from the database (PostgreSQL
	// LISTEN/NOTIFY on PostgreSQL, in process otherwise); "local" forces in process;
	// "nats://..." or "tls://..." (comma-separated for several servers) picks NATS.
	URL string
	// Dialect is the database dialect ("postgres" or "sqlite3", as database.DB.Dialect).
	Dialect string
	// DB and DatabaseURL are the database pool and its URL (the listener opens its own
	// connection with it); needed for LISTEN/NOTIFY only.
	DB          *sql.DB
	DatabaseURL string
	// SubjectPrefix prefixes the NATS subject (default DefaultSubjectPrefix).
	SubjectPrefix string
	Options
}

// Open returns the bus cfg asks for. ctx bounds connecting only.
func Open(ctx context.Context, cfg Config) (Bus, error) {
	switch {
	case strings.HasPrefix(cfg.URL, "nats://"), strings.HasPrefix(cfg.URL, "tls://"):
		return NewNATS(ctx, cfg.URL, NATSOptions{Options: cfg.Options, SubjectPrefix: cfg.SubjectPrefix})
	case cfg.URL == "local":
		return NewHub(cfg.Options)
	case cfg.URL != "":
		scheme, _, _ := strings.Cut(cfg.URL, ":") // the rest may hold credentials
		return nil, fmt.Errorf("bus: bus_url scheme %q: use nats://host:port, tls://host:port, local, or leave it empty", scheme)
	case cfg.Dialect == "postgres":
		if cfg.DB == nil || cfg.DatabaseURL == "" {
			return nil, errors.New("bus: PostgreSQL bus needs the database pool and URL")
		}
		return NewPostgres(ctx, cfg.DB, cfg.DatabaseURL, PostgresOptions{Options: cfg.Options})
	default:
		return NewHub(cfg.Options)
	}
}
