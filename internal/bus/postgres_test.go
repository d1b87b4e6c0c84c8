package bus_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

// pgInstances opens n PostgreSQL buses on one fresh migrated database, each with its own
// pool and listener, as n server instances would.
func pgInstances(t *testing.T, n int, opts bus.PostgresOptions) ([]*bus.Postgres, []*sql.DB) {
	t.Helper()
	dbs, url := dbtest.Instances(t, "postgres", n)
	var buses []*bus.Postgres
	var pools []*sql.DB
	for _, db := range dbs {
		b, err := bus.NewPostgres(t.Context(), db.SQL, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		buses = append(buses, b)
		pools = append(pools, db.SQL)
	}
	return buses, pools
}

func TestPostgresTwoInstances(t *testing.T) {
	buses, _ := pgInstances(t, 2, bus.PostgresOptions{Options: bus.Options{Buffer: testBuffer}})
	checkTwoInstances(t, buses[0], buses[1])
}

// Payloads over NOTIFY's 8,000 bytes go through bus_payloads, on both sides of the limit
// and far beyond it; binary bytes arrive intact and exactly once everywhere.
func TestPostgresLargePayload(t *testing.T) {
	buses, pools := pgInstances(t, 2, bus.PostgresOptions{Options: bus.Options{Buffer: testBuffer}})
	a, b := buses[0], buses[1]
	subA := subscribe(t, a, "blob:/*")
	subB := subscribe(t, b, "blob:/*")

	// Base64 turns 3 bytes into 4: sizes around 5,950 bytes straddle the limit.
	var sizes []int
	for n := 5900; n <= 6000; n += 3 {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 0, 1, 100_000, 1<<20)
	payloads := make([][]byte, len(sizes))
	for i, n := range sizes {
		payloads[i] = make([]byte, n)
		_, _ = rand.Read(payloads[i])
		publish(t, a, "blob:/x", string(payloads[i]))
	}
	publish(t, a, "blob:/end", "")
	for name, sub := range map[string]*bus.Subscription{"publisher": subA, "other instance": subB} {
		for i, want := range payloads {
			if e := next(t, sub); !bytes.Equal(e.Payload, want) || e.Origin != a.Origin() {
				t.Fatalf("%s: payload %d (%d bytes) arrived as %d bytes from %q", name, i, len(want), len(e.Payload), e.Origin)
			}
		}
		if e := next(t, sub); e.Topic != "blob:/end" {
			t.Fatalf("%s: extra event on %s (%d bytes)", name, e.Topic, len(e.Payload))
		}
	}

	var stored int
	if err := pools[0].QueryRow(`SELECT count(*) FROM bus_payloads`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == 0 || stored >= len(sizes) {
		t.Fatalf("%d of %d payloads stored: the inline/stored split is off", stored, len(sizes))
	}
	if err := bus.DeleteExpired(a, t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if err := pools[0].QueryRow(`SELECT count(*) FROM bus_payloads`).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("after cleanup: %d payloads left (%v)", stored, err)
	}
}

// Killing the listeners' connections loses at most what is sent during the outage; the
// listeners reconnect and events flow again, in order.
func TestPostgresListenerReconnects(t *testing.T) {
	channel := "rhizoflex_bus_reconnect_" + rand.Text()
	buses, pools := pgInstances(t, 2, bus.PostgresOptions{Options: bus.Options{Buffer: testBuffer}, Channel: channel})
	a, b := buses[0], buses[1]
	subB := subscribe(t, b, "r:x")
	checkInOrder(t, a, subB, "r:x", 5)

	var killed int
	if err := pools[0].QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND query = 'LISTEN "' || $1 || '"'`, channel).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 {
		t.Fatalf("terminated %d listener connections, want 2", killed)
	}
	waitForProbe(t, a, subB, "r:x")
	checkInOrder(t, a, subB, "r:x", 20)
}

// Deployments in different schemas of one database never hear each other.
func TestPostgresSchemasIsolated(t *testing.T) {
	one, _ := pgInstances(t, 1, bus.PostgresOptions{})
	two, _ := pgInstances(t, 2, bus.PostgresOptions{})
	sub := subscribe(t, two[1], "t")
	// Were the channels shared, the first notification would reach two[1] first.
	publish(t, one[0], "t", "from the other deployment")
	publish(t, two[0], "t", "own")
	if e := next(t, sub); string(e.Payload) != "own" {
		t.Fatalf("got %q", e.Payload)
	}
}

func TestOpenChoosesTransport(t *testing.T) {
	ctx := t.Context()
	pgURL := dbtest.URL(t, "postgres")
	pg, err := database.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	if _, err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  bus.Config
		want string
	}{
		{"sqlite", bus.Config{Dialect: "sqlite3"}, "*bus.Hub"},
		{"postgres", bus.Config{Dialect: pg.Dialect, DB: pg.SQL, DatabaseURL: pgURL}, "*bus.Postgres"},
		{"forced local", bus.Config{URL: "local", Dialect: pg.Dialect, DB: pg.SQL, DatabaseURL: pgURL}, "*bus.Hub"},
		{"nats", bus.Config{URL: natsURL(), Dialect: pg.Dialect, SubjectPrefix: "rftest.open"}, "*bus.NATS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := bus.Open(ctx, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = b.Close() }()
			if got := typeName(b); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			// Every transport delivers to its own instance exactly once.
			sub := subscribe(t, b, "t:*")
			publish(t, b, "t:1", "x")
			publish(t, b, "t:2", "y")
			if e := next(t, sub); string(e.Payload) != "x" {
				t.Fatalf("got %q", e.Payload)
			}
			if e := next(t, sub); string(e.Payload) != "y" {
				t.Fatalf("got %q", e.Payload)
			}
		})
	}
	for _, bad := range []bus.Config{
		{URL: "redis://user:secret@host"},
		{Dialect: "postgres"}, // no pool
	} {
		if b, err := bus.Open(ctx, bad); err == nil {
			_ = b.Close()
			t.Errorf("Open(%+v) accepted", bad)
		} else if bytes.Contains([]byte(err.Error()), []byte("secret")) {
			t.Errorf("error shows the password: %v", err)
		}
	}
	_, err = bus.Open(ctx, bus.Config{URL: "nats://127.0.0.1:1"})
	if err == nil {
		t.Error("NATS on a closed port accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := bus.Open(cctx, bus.Config{Dialect: pg.Dialect, DB: pg.SQL, DatabaseURL: pgURL}); err == nil {
		t.Error("Open with a cancelled context succeeded")
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *bus.Hub:
		return "*bus.Hub"
	case *bus.Postgres:
		return "*bus.Postgres"
	case *bus.NATS:
		return "*bus.NATS"
	}
	return "?"
}
