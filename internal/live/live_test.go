package live_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/bus"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// A consumer that stops reading is cut off with a reason while 100 others keep receiving
// every message, in order.
func TestSlowConsumerIsCutOffOthersKeepUp(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	w := fixture.Build(t, db)
	hub, err := bus.NewHub(bus.Options{Buffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	authz := access.NewAuthorizer(db.Client)
	l := live.New(hub, db.Client, authz, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	folder, err := tree.ByPath(ctx, db.Client, "/lab/data")
	if err != nil {
		t.Fatal(err)
	}
	v := &access.Viewer{User: w.Users["lmember"]}
	if err := authz.LoadMemberships(ctx, v); err != nil {
		t.Fatal(err)
	}
	slow, err := l.FolderMessages(ctx, v, folder, live.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Each message is published once every reader has the previous one: the readers keep
	// up by construction, the slow one falls behind by one message each time.
	const n, readers = 200, 100
	acks := make(chan int, readers)
	for range readers {
		s, err := l.FolderMessages(ctx, v, folder, live.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			want := 1
			for m := range s.C() {
				if m.ID != want {
					acks <- -m.ID
					return
				}
				acks <- m.ID
				want++
			}
		}()
	}
	for i := 1; i <= n; i++ {
		l.PublishMessage(ctx, live.Message{ID: i, FolderID: folder.ID, FolderPath: folder.Path, Type: "tick", Timestamp: time.Now()})
		for range readers {
			select {
			case got := <-acks:
				if got != i {
					t.Fatalf("message %d: a reader that keeps up got %d", i, got)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("message %d did not reach every reader", i)
			}
		}
	}
	// The slow one: it read nothing, so it was cut off; its channel ends with the reason.
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-slow.C():
			if ok {
				continue
			}
			if err := slow.Err(); err == nil || !strings.Contains(err.Error(), "too slow") {
				t.Fatalf("slow consumer ended with %v", err)
			}
			return
		case <-deadline:
			t.Fatal("slow consumer was not cut off")
		}
	}
}
