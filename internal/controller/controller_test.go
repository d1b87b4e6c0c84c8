package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/controller"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/notify"
	"github.com/rhizoflex/rhizoflex/internal/notify/notifytest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// start has a fraction of a second, so stored times must keep their microseconds.
var start = time.Date(2026, 3, 1, 12, 0, 0, 123_456_000, time.UTC)

// wait only turns a hang into a failure.
const wait = 30 * time.Second

type world struct {
	c                *ent.Client
	org, other       *ent.Organization
	ctrl, ctrl2      *ent.Resource
	ada, bob, eve    *ent.User
	smtp             *notifytest.SMTPServer
	clock            *cluster.ManualClock
	svc              *controller.Service
	notifierOfClient func(*ent.Client) *notify.Notifier
}

func newWorld(t *testing.T, c *ent.Client) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{c: c, clock: cluster.NewManualClock(start)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.org, err = account.CreateOrganization(ctx, c, "lab", "Lab")
	must(err)
	w.other, err = account.CreateOrganization(ctx, c, "other", "Other")
	must(err)
	w.ctrl, err = tree.CreateController(ctx, c, "/lab/ctrl", false)
	must(err)
	w.ctrl2, err = tree.CreateController(ctx, c, "/lab/ctrl2", false)
	must(err)
	for _, u := range []struct {
		p     **ent.User
		email string
		org   *ent.Organization
	}{{&w.ada, "ada@example.org", w.org}, {&w.bob, "bob@example.org", w.org}, {&w.eve, "eve@example.org", w.other}} {
		*u.p, err = c.User.Create().SetEmail(u.email).Save(ctx)
		must(err)
		_, err = account.AddMember(ctx, c, u.org.ID, (*u.p).ID, false)
		must(err)
	}
	w.smtp = notifytest.StartSMTP(t, notifytest.SMTPOptions{})
	mailer, err := notify.NewSMTPMailer(w.smtp.Config())
	must(err)
	w.notifierOfClient = func(c *ent.Client) *notify.Notifier {
		return notify.New(c, notify.Options{Email: mailer, Clock: w.clock, Logger: testLogger(t)})
	}
	w.svc = w.service(c)
	return w
}

func (w *world) service(c *ent.Client) *controller.Service {
	return controller.New(c, controller.Options{Clock: w.clock, Notifier: w.notifierOfClient(c), BaseURL: "https://hub.example.org/"})
}

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

func (w *world) status(t *testing.T, id int) *ent.ControllerStatus {
	t.Helper()
	st, err := w.svc.Status(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (w *world) online(t *testing.T, id int) bool {
	t.Helper()
	on, err := w.svc.Online(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return on
}

// eachInstances runs fn per dialect with n databases, each over its own pool, on one
// fresh migrated database, as n instances would have.
func eachInstances(t *testing.T, n int, fn func(t *testing.T, dbs []*database.DB)) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			dbs, _ := dbtest.Instances(t, d, n)
			fn(t, dbs)
		})
	}
}

// A connected controller is online while its heartbeat is fresher than the TTL, on every
// instance; it goes offline by itself when the heartbeat ages out (its instance died), and
// at once when its connection closes, unless a newer connection holds it.
func TestLiveness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		if w.online(t, w.ctrl.ID) {
			t.Fatal("online before connecting")
		}
		first, err := w.svc.Connected(ctx, w.ctrl.ID, " rhizo-client 0.9\n\x00")
		if err != nil {
			t.Fatal(err)
		}
		st := w.status(t, w.ctrl.ID)
		if st.ClientVersion != "rhizo-client 0.9" || !st.LastConnectAt.Equal(start) || !st.HeartbeatAt.Equal(start) || !first.Equal(start) {
			t.Errorf("after connect: version %q, connect %v, heartbeat %v", st.ClientVersion, st.LastConnectAt, st.HeartbeatAt)
		}
		if !w.online(t, w.ctrl.ID) || w.online(t, w.ctrl2.ID) {
			t.Error("ctrl must be online, ctrl2 not")
		}
		if w.svc.OnlineTTL() != time.Minute || w.svc.HeartbeatInterval() != 20*time.Second {
			t.Errorf("TTL %s, interval %s", w.svc.OnlineTTL(), w.svc.HeartbeatInterval())
		}

		// Its instance dies: no beat, no disconnect.
		w.clock.Advance(59 * time.Second)
		if !w.online(t, w.ctrl.ID) {
			t.Error("offline after 59 s")
		}
		w.clock.Advance(time.Second)
		if w.online(t, w.ctrl.ID) {
			t.Error("still online when the heartbeat is a TTL old")
		}
		if !w.svc.IsOnline(w.status(t, w.ctrl.ID), start.Add(59*time.Second)) || w.svc.IsOnline(nil, start) {
			t.Error("IsOnline")
		}

		// One UPDATE beats for several.
		if err := w.svc.Heartbeat(ctx, w.ctrl.ID, w.ctrl2.ID, w.ctrl.ID); err != nil {
			t.Fatal(err)
		}
		if !w.online(t, w.ctrl.ID) || !w.online(t, w.ctrl2.ID) {
			t.Error("a heartbeat brings them online")
		}

		// It reconnects before the old connection is noticed closed: closing the old one
		// leaves it online, closing the new one takes it offline at once.
		w.clock.Advance(10 * time.Second)
		second, err := w.svc.Connected(ctx, w.ctrl.ID, "rhizo-client 1.0")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Disconnected(ctx, w.ctrl.ID, first); err != nil {
			t.Fatal(err)
		}
		if !w.online(t, w.ctrl.ID) {
			t.Error("the old connection closing took it offline")
		}
		if err := w.svc.Disconnected(ctx, w.ctrl.ID, second); err != nil {
			t.Fatal(err)
		}
		if w.online(t, w.ctrl.ID) {
			t.Error("online after its connection closed")
		}
		st = w.status(t, w.ctrl.ID)
		if st.ClientVersion != "rhizo-client 1.0" || !st.LastOnlineAt.Equal(w.clock.Now()) || !st.LastConnectAt.Equal(second) {
			t.Errorf("after disconnect: %+v", st)
		}

		if _, err := w.svc.Connected(ctx, w.ctrl.ID, strings.Repeat("é", 80)); err != nil {
			t.Errorf("a long version: %v", err)
		} else if v := w.status(t, w.ctrl.ID).ClientVersion; len(v) != 100 {
			t.Errorf("version of %d bytes, want it cut to 100", len(v))
		}
		if _, err := w.svc.Connected(ctx, 999999, "x"); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown controller: %v", err)
		}
	})
}

// KeepAlive beats for what the instance holds, every third of the TTL.
func TestKeepAlive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db.Client)
		if _, err := w.svc.Connected(t.Context(), w.ctrl.ID, "v"); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		held := []int{w.ctrl.ID}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.svc.KeepAlive(ctx, func() []int {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(held)
			})
		}()
		defer func() {
			cancel()
			<-done
		}()
		sleeping := func() {
			t.Helper()
			bctx, bcancel := context.WithTimeout(t.Context(), wait)
			defer bcancel()
			if err := w.clock.BlockUntil(bctx, 1); err != nil {
				t.Fatal(err)
			}
		}
		sleeping()
		for range 5 {
			w.clock.Advance(20 * time.Second)
			sleeping()
			if !w.online(t, w.ctrl.ID) || !w.status(t, w.ctrl.ID).HeartbeatAt.Equal(w.clock.Now()) {
				t.Fatalf("not kept alive at %v", w.clock.Now())
			}
		}
		mu.Lock()
		held = nil
		mu.Unlock()
		for range 3 {
			w.clock.Advance(20 * time.Second)
			sleeping()
		}
		if w.online(t, w.ctrl.ID) {
			t.Error("online a minute after its instance let go")
		}
	})
}

// jsonEqual compares values as JSON documents.
func jsonEqual(t *testing.T, got, want any) bool {
	t.Helper()
	norm := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return reflect.DeepEqual(norm(got), norm(want))
}

// The status is a JSON merge patch target: objects merge recursively, nil removes a key;
// a result over the size limit is refused and changes nothing.
func TestMergeStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		_, err := w.svc.MergeStatus(ctx, w.ctrl.ID, map[string]any{
			"mode": "run", "disk": map[string]any{"free": 12.5, "total": 100}, "old": true,
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.svc.MergeStatus(ctx, w.ctrl.ID, map[string]any{
			"disk": map[string]any{"free": 11, "total": nil, "unit": "GB"}, "old": nil, "pumps": []any{1, 2},
			"absent": nil,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"mode": "run", "disk": map[string]any{"free": 11, "unit": "GB"}, "pumps": []any{1, 2}}
		if !jsonEqual(t, got, want) || !jsonEqual(t, w.status(t, w.ctrl.ID).Status, want) {
			t.Errorf("merged %v, stored %v, want %v", got, w.status(t, w.ctrl.ID).Status, want)
		}
		_, err = w.svc.MergeStatus(ctx, w.ctrl.ID, map[string]any{"log": strings.Repeat("x", 64<<10)})
		if !fault.Is(err, fault.BadInput) || !strings.Contains(fault.SafeMessage(err), "at most 65536") {
			t.Errorf("oversized status: %v", err)
		}
		if !jsonEqual(t, w.status(t, w.ctrl.ID).Status, want) {
			t.Error("a refused merge changed the status")
		}
		small := controller.New(db.Client, controller.Options{Clock: w.clock, MaxStatusBytes: 10})
		if _, err := small.MergeStatus(ctx, w.ctrl2.ID, map[string]any{"k": "0123456789"}); !fault.Is(err, fault.BadInput) {
			t.Errorf("configured limit: %v", err)
		}

		// A controller without a status row gets one; an unknown one is NOT_FOUND.
		if _, err := db.Client.ControllerStatus.Delete().Where(controllerstatus.ControllerID(w.ctrl2.ID)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := w.svc.MergeStatus(ctx, w.ctrl2.ID, map[string]any{"a": 1}); err != nil || !jsonEqual(t, got, map[string]any{"a": 1}) {
			t.Errorf("status of a controller without a row: %v %v", got, err)
		}
		if _, err := w.svc.MergeStatus(ctx, 999999, map[string]any{"a": 1}); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown controller: %v", err)
		}
		folder, err := tree.ByPath(ctx, db.Client, "/lab/ctrl/status")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.MergeStatus(ctx, folder.ID, map[string]any{"a": 1}); !fault.Is(err, fault.BadInput) {
			t.Errorf("a plain folder: %v", err)
		}
	})
}

// Merges from two instances at once all land.
func TestMergeStatusConcurrent(t *testing.T) {
	eachInstances(t, 2, func(t *testing.T, dbs []*database.DB) {
		w := newWorld(t, dbs[0].Client)
		const each = 15
		var wg sync.WaitGroup
		for i, db := range dbs {
			svc := controller.New(db.Client, controller.Options{Clock: w.clock})
			for j := range each {
				wg.Go(func() {
					key := fmt.Sprintf("k%d_%d", i, j)
					if _, err := svc.MergeStatus(t.Context(), w.ctrl.ID, map[string]any{key: j, "nested": map[string]any{key: true}}); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		st := w.status(t, w.ctrl.ID).Status
		nested, _ := st["nested"].(map[string]any)
		if len(st) != 2*each+1 || len(nested) != 2*each {
			t.Errorf("%d keys and %d nested keys, want %d and %d: a merge was lost", len(st), len(nested), 2*each+1, 2*each)
		}
	})
}

// Recipients are members of the controller's organization; their addresses come back
// in id order, deleted users left out.
func TestRecipients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		emails := func(id int) []string {
			t.Helper()
			e, err := w.svc.RecipientEmails(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		if err := w.svc.SetRecipients(ctx, w.ctrl.ID, []int{w.bob.ID, w.ada.ID, w.bob.ID}); err != nil {
			t.Fatal(err)
		}
		if got := emails(w.ctrl.ID); !slices.Equal(got, []string{"ada@example.org", "bob@example.org"}) {
			t.Errorf("recipients %q", got)
		}
		many := make([]int, controller.MaxRecipients+1)
		for i := range many {
			many[i] = 1000 + i
		}
		for _, c := range []struct {
			name string
			ids  []int
			want string
		}{
			{"outsider", []int{w.ada.ID, w.eve.ID}, "not a member of its organization"},
			{"unknown user", []int{999999}, "not a member"},
			{"too many", many, "21 watchdog recipients; at most 20"},
		} {
			err := w.svc.SetRecipients(ctx, w.ctrl.ID, c.ids)
			if !fault.Is(err, fault.BadInput) || !strings.Contains(fault.SafeMessage(err), c.want) {
				t.Errorf("%s: %v, want BAD_USER_INPUT saying %q", c.name, err, c.want)
			}
		}
		if got := emails(w.ctrl.ID); len(got) != 2 {
			t.Errorf("a refused change changed the recipients: %q", got)
		}
		if err := db.Client.User.UpdateOneID(w.bob.ID).SetDeleted(true).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := emails(w.ctrl.ID); !slices.Equal(got, []string{"ada@example.org"}) {
			t.Errorf("a deleted user is still a recipient: %q", got)
		}
		if err := w.svc.SetRecipients(ctx, w.ctrl.ID, []int{w.bob.ID}); !fault.Is(err, fault.BadInput) {
			t.Errorf("a deleted user was accepted: %v", err)
		}
		if err := w.svc.SetRecipients(ctx, w.ctrl.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got := emails(w.ctrl.ID); len(got) != 0 {
			t.Errorf("recipients after clearing: %q", got)
		}
	})
}

// One person may watch several controllers.
func TestRecipientsShared(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		if err := w.svc.SetRecipients(ctx, w.ctrl.ID, []int{w.ada.ID, w.bob.ID}); err != nil {
			t.Fatal(err)
		}
		err := w.svc.SetRecipients(ctx, w.ctrl2.ID, []int{w.ada.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			id   int
			want []string
		}{{w.ctrl.ID, []string{"ada@example.org", "bob@example.org"}}, {w.ctrl2.ID, []string{"ada@example.org"}}} {
			got, err := w.svc.RecipientEmails(ctx, c.id)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("controller %d: %q %v, want %q", c.id, got, err, c.want)
			}
		}
	})
}
