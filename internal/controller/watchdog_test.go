package controller_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/controllerstatus"
	"github.com/rhizoflex/rhizoflex/ent/outgoingmessage"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/controller"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

func setMinutes(t *testing.T, c *ent.Client, controllerID, minutes int) {
	t.Helper()
	err := c.ControllerStatus.Update().Where(controllerstatus.ControllerID(controllerID)).SetWatchdogMinutes(minutes).Exec(t.Context())
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) check(t *testing.T) {
	t.Helper()
	if err := w.svc.CheckWatchdogs(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (w *world) watchdog(t *testing.T, id int) {
	t.Helper()
	if err := w.svc.RecordWatchdog(t.Context(), id, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

func subjects(w *world) []string {
	var out []string
	for _, m := range w.smtp.Mails() {
		out = append(out, m.Subject)
	}
	return out
}

const (
	offline = "[rhizoflex] /lab/ctrl is offline: no watchdog for 10 minutes"
	back    = "[rhizoflex] /lab/ctrl is back online"
)

// When the watchdog minutes pass without a watchdog the recipients are told once; when a
// watchdog comes again they are told once that it is back; and so on.
func TestWatchdogNotices(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		setMinutes(t, db.Client, w.ctrl.ID, 10)
		if err := w.svc.SetRecipients(ctx, w.ctrl.ID, []int{w.ada.ID, w.bob.ID}); err != nil {
			t.Fatal(err)
		}
		w.watchdog(t, w.ctrl.ID)
		w.check(t)
		w.clock.Advance(10 * time.Minute) // exactly the minutes: not yet late
		w.check(t)
		if got := subjects(w); len(got) != 0 {
			t.Fatalf("notices before the minutes passed: %q", got)
		}

		w.clock.Advance(time.Second)
		w.check(t)
		w.check(t)
		w.clock.Advance(time.Hour)
		w.check(t)
		mails := w.smtp.Mails()
		if got := subjects(w); !slices.Equal(got, []string{offline}) {
			t.Fatalf("notices %q, want one offline notice", got)
		}
		m := mails[0]
		if !slices.Equal(m.To, []string{"ada@example.org", "bob@example.org"}) ||
			!strings.Contains(m.Body, "The controller /lab/ctrl has sent no watchdog message since 2026-03-01 12:00:00 UTC; it should send one at least every 10 minutes.") ||
			!strings.Contains(m.Body, "You will get one more message when it is back.") ||
			!strings.Contains(m.Body, "you are a watchdog recipient of /lab/ctrl") || !strings.Contains(m.Body, "https://hub.example.org\n") {
			t.Errorf("offline notice to %q:\n%s", m.To, m.Body)
		}
		st := w.status(t, w.ctrl.ID)
		if !st.WatchdogOfflineNotified || !st.LastWatchdogNoticeAt.Equal(start.Add(10*time.Minute+time.Second)) {
			t.Errorf("after the offline notice: notified %v at %v", st.WatchdogOfflineNotified, st.LastWatchdogNoticeAt)
		}

		w.clock.Advance(time.Minute)
		w.watchdog(t, w.ctrl.ID)
		w.check(t)
		w.check(t)
		if got := subjects(w); !slices.Equal(got, []string{offline, back}) {
			t.Fatalf("notices %q, want offline then back", got)
		}
		if body := w.smtp.Mails()[1].Body; !strings.Contains(body, "The controller /lab/ctrl is back: it sent a watchdog message at 2026-03-01 13:11:01 UTC. It was reported offline at 2026-03-01 12:10:01 UTC.") {
			t.Errorf("back-online notice:\n%s", body)
		}

		// Silent again: a new outage, a new notice.
		w.clock.Advance(11 * time.Minute)
		w.check(t)
		if got := subjects(w); !slices.Equal(got, []string{offline, back, offline}) {
			t.Fatalf("notices %q, want a second offline notice", got)
		}

		// The notices are recorded for the organization, on behalf of the controller.
		recs, err := db.Client.OutgoingMessage.Query().Order(outgoingmessage.ByID()).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("%d records, want 3", len(recs))
		}
		for i, r := range recs {
			if r.Result != outgoingmessage.ResultSent || r.Subject != subjects(w)[i] || r.ControllerID == nil || *r.ControllerID != w.ctrl.ID ||
				r.OrganizationID == nil || *r.OrganizationID != w.org.ID || !slices.Equal(r.Recipients, []string{"ada@example.org", "bob@example.org"}) {
				t.Errorf("record %d: %+v", i, r)
			}
		}
	})
}

// Who is not watched: a controller that never sent a watchdog, one without recipients,
// one with the watchdog off, a deleted one. Turning the watchdog off forgets a report.
func TestWatchdogNotWatched(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		mk := func(path string, minutes int, recipients bool, watchdog bool) *ent.Resource {
			t.Helper()
			r, err := tree.CreateController(ctx, db.Client, path, false)
			if err != nil {
				t.Fatal(err)
			}
			setMinutes(t, db.Client, r.ID, minutes)
			if recipients {
				if err := w.svc.SetRecipients(ctx, r.ID, []int{w.ada.ID}); err != nil {
					t.Fatal(err)
				}
			}
			if watchdog {
				w.watchdog(t, r.ID)
			}
			return r
		}
		mk("/lab/never", 5, true, false)
		quiet := mk("/lab/nobody", 5, false, true)
		mk("/lab/off", 0, false, true)
		gone := mk("/lab/gone", 5, false, true)
		if err := db.Client.Resource.UpdateOneID(gone.ID).SetDeleted(true).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour)
		w.check(t)
		if got := subjects(w); len(got) != 0 {
			t.Fatalf("notices %q, want none", got)
		}
		// Recipients added while it is silent: reported on the next round.
		if err := w.svc.SetRecipients(ctx, quiet.ID, []int{w.bob.ID}); err != nil {
			t.Fatal(err)
		}
		w.check(t)
		if got := subjects(w); !slices.Equal(got, []string{"[rhizoflex] /lab/nobody is offline: no watchdog for 5 minutes"}) {
			t.Fatalf("notices %q", got)
		}
		// Watchdog off while reported: forgotten without a notice, and no back-online
		// notice when it is turned on again with a fresh watchdog.
		setMinutes(t, db.Client, quiet.ID, 0)
		w.check(t)
		if w.status(t, quiet.ID).WatchdogOfflineNotified {
			t.Error("report kept with the watchdog off")
		}
		setMinutes(t, db.Client, quiet.ID, 5)
		w.watchdog(t, quiet.ID)
		w.check(t)
		if got := len(w.smtp.Mails()); got != 1 {
			t.Errorf("%d notices, want still 1", got)
		}
	})
}

// Two instances checking at the same moment, many times over, send each notice once.
func TestWatchdogRace(t *testing.T) {
	eachInstances(t, 2, func(t *testing.T, dbs []*database.DB) {
		w := newWorld(t, dbs[0].Client)
		setMinutes(t, dbs[0].Client, w.ctrl.ID, 10)
		if err := w.svc.SetRecipients(t.Context(), w.ctrl.ID, []int{w.ada.ID}); err != nil {
			t.Fatal(err)
		}
		services := []*controller.Service{w.service(dbs[0].Client), w.service(dbs[1].Client)}
		// Half the checkers run whole rounds; the other half act on one view of the row
		// read before any of them claimed, as a round that read just before another
		// instance's claim would.
		race := func() {
			t.Helper()
			stale, err := dbs[0].Client.ControllerStatus.Query().Where(controllerstatus.ControllerID(w.ctrl.ID)).
				WithController().Only(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, svc := range services {
				for range 4 {
					wg.Go(func() {
						if err := svc.CheckWatchdogs(t.Context()); err != nil {
							t.Error(err)
						}
					})
					wg.Go(func() {
						if err := svc.CheckOne(t.Context(), stale); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
		}
		w.watchdog(t, w.ctrl.ID)
		w.clock.Advance(11 * time.Minute)
		race()
		if got := subjects(w); !slices.Equal(got, []string{offline}) {
			t.Fatalf("after the silent race: %q, want one offline notice", got)
		}
		w.watchdog(t, w.ctrl.ID)
		race()
		if got := subjects(w); !slices.Equal(got, []string{offline, back}) {
			t.Fatalf("after the back race: %q, want offline then back", got)
		}
	})
}

// The watchdog as a cluster job: two runners on one database, driven by one manual
// clock, send each notice once, on the round it is due.
func TestWatchdogJob(t *testing.T) {
	eachInstances(t, 2, func(t *testing.T, dbs []*database.DB) {
		w := newWorld(t, dbs[0].Client)
		setMinutes(t, dbs[0].Client, w.ctrl.ID, 10)
		if err := w.svc.SetRecipients(t.Context(), w.ctrl.ID, []int{w.ada.ID}); err != nil {
			t.Fatal(err)
		}
		w.watchdog(t, w.ctrl.ID)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		for i, db := range dbs {
			runner := cluster.NewRunner(db.SQL, cluster.Options{Holder: string(rune('a' + i)), Clock: w.clock, Logger: testLogger(t)})
			job := w.service(db.Client).WatchdogJob(0)
			if job.Name != controller.WatchdogJobName || job.Every != time.Minute {
				t.Fatalf("job %q every %s", job.Name, job.Every)
			}
			wg.Go(func() {
				if err := runner.Run(ctx, job); err != nil {
					t.Error(err)
				}
			})
		}
		rounds := func(n int) {
			t.Helper()
			for range n {
				bctx, bcancel := context.WithTimeout(t.Context(), wait)
				err := w.clock.BlockUntil(bctx, 2)
				bcancel()
				if err != nil {
					t.Fatalf("runners did not go back to sleep: %v", err)
				}
				w.clock.Advance(time.Minute)
			}
			bctx, bcancel := context.WithTimeout(t.Context(), wait)
			defer bcancel()
			if err := w.clock.BlockUntil(bctx, 2); err != nil {
				t.Fatalf("runners did not go back to sleep: %v", err)
			}
		}
		rounds(10) // 10 minutes: not late yet
		if got := subjects(w); len(got) != 0 {
			t.Fatalf("notices %q at 10 minutes", got)
		}
		rounds(1)
		if got := subjects(w); !slices.Equal(got, []string{offline}) {
			t.Fatalf("notices %q at 11 minutes, want one offline notice", got)
		}
		rounds(5)
		w.watchdog(t, w.ctrl.ID)
		rounds(1)
		rounds(5)
		if got := subjects(w); !slices.Equal(got, []string{offline, back}) {
			t.Fatalf("notices %q, want offline then back", got)
		}
	})
}
