package notify_test

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/outgoingmessage"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/account"
	"github.com/rhizoflex/rhizoflex/internal/cluster"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/notify"
	"github.com/rhizoflex/rhizoflex/internal/notify/notifytest"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// start has a fraction of a second, so stored times must keep their microseconds.
var start = time.Date(2026, 3, 1, 12, 0, 0, 123_456_000, time.UTC)

type world struct {
	c           *ent.Client
	org, other  *ent.Organization
	ctrl, ctrl2 *ent.Resource
	user        *ent.User
	smtp        *notifytest.SMTPServer
	text        *notifytest.TextProvider
	clock       *cluster.ManualClock
}

func newWorld(t *testing.T, c *ent.Client) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{c: c, clock: cluster.NewManualClock(start)}
	var err error
	if w.org, err = account.CreateOrganization(ctx, c, "lab", "Lab"); err != nil {
		t.Fatal(err)
	}
	if w.other, err = account.CreateOrganization(ctx, c, "other", "Other"); err != nil {
		t.Fatal(err)
	}
	if w.ctrl, err = tree.CreateController(ctx, c, "/lab/ctrl", false); err != nil {
		t.Fatal(err)
	}
	if w.ctrl2, err = tree.CreateController(ctx, c, "/lab/ctrl2", false); err != nil {
		t.Fatal(err)
	}
	if w.user, err = c.User.Create().SetEmail("ada@example.org").Save(ctx); err != nil {
		t.Fatal(err)
	}
	w.smtp = notifytest.StartSMTP(t, notifytest.SMTPOptions{Reject: []string{"gone@example.org"}})
	w.text = notifytest.StartText(t)
	return w
}

func (w *world) notifier(t *testing.T, limits notify.Limits) *notify.Notifier {
	t.Helper()
	return notify.New(w.c, notify.Options{
		Email: mailer(t, w.smtp.Config()), Text: texter(t, w.text.Config()), Clock: w.clock, Limits: limits,
		Logger: testLogger(t),
	})
}

func (w *world) controller() notify.Sender { return notify.ControllerSender(w.org.ID, w.ctrl.ID) }

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

// sameBody compares mail bodies up to the line end a mail gets at its end.
func sameBody(got, want string) bool {
	return strings.TrimRight(got, "\n") == strings.TrimRight(want, "\n")
}

func records(t *testing.T, c *ent.Client) []*ent.OutgoingMessage {
	t.Helper()
	recs, err := c.OutgoingMessage.Query().Order(outgoingmessage.ByID()).All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func last(t *testing.T, c *ent.Client) *ent.OutgoingMessage {
	t.Helper()
	recs := records(t, c)
	if len(recs) == 0 {
		t.Fatal("no record")
	}
	return recs[len(recs)-1]
}

func idOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// A controller's e-mail arrives and is recorded with who, to whom, when and the result.
func TestSendEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{})
		err := n.SendEmail(t.Context(), w.controller(), []string{"ada@example.org", " bob@example.net ", "ADA@example.org"},
			"Tank 3 low", "Level 12 %.\nRefill soon.\n")
		if err != nil {
			t.Fatal(err)
		}
		mails := w.smtp.Mails()
		if len(mails) != 1 {
			t.Fatalf("%d mails, want 1", len(mails))
		}
		if m := mails[0]; !slices.Equal(m.To, []string{"ada@example.org", "bob@example.net"}) || m.Subject != "Tank 3 low" ||
			!sameBody(m.Body, "Level 12 %.\nRefill soon.\n") {
			t.Errorf("mail to %q subject %q body %q", m.To, m.Subject, m.Body)
		}
		rec := last(t, db.Client)
		if rec.Kind != outgoingmessage.KindEmail || rec.Result != outgoingmessage.ResultSent || rec.Error != "" ||
			!slices.Equal(rec.Recipients, []string{"ada@example.org", "bob@example.net"}) ||
			rec.Subject != "Tank 3 low" || rec.Body != "Level 12 %.\nRefill soon.\n" ||
			idOf(rec.OrganizationID) != w.org.ID || idOf(rec.ControllerID) != w.ctrl.ID || rec.UserID != nil ||
			!rec.CreatedAt.Equal(start) {
			t.Errorf("record %+v", rec)
		}
	})
}

// The 11th e-mail within an hour is refused with RATE_LIMITED and recorded; refused ones do
// not count, text messages and other controllers have limits of their own, and the
// window slides.
func TestThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{})
		to := []string{"ada@example.org"}
		for i := range 10 {
			if err := n.SendEmail(ctx, w.controller(), to, fmt.Sprint("mail ", i), "x"); err != nil {
				t.Fatalf("mail %d: %v", i, err)
			}
			w.clock.Advance(time.Minute)
		}
		err := n.SendEmail(ctx, w.controller(), to, "mail 10", "x")
		var rl *access.RateLimitError
		if !fault.Is(err, fault.RateLimited) || !errors.As(err, &rl) {
			t.Fatalf("11th mail: %v, want RATE_LIMITED", err)
		}
		if want := "this controller may send at most 10 e-mails per hour; try again in 50m0s"; fault.SafeMessage(err) != want {
			t.Errorf("message %q, want %q", fault.SafeMessage(err), want)
		}
		if rl.RetryAfter != 50*time.Minute {
			t.Errorf("retry after %s, want 50m", rl.RetryAfter)
		}
		rec := last(t, db.Client)
		if rec.Result != outgoingmessage.ResultThrottled || rec.Subject != "mail 10" ||
			!strings.Contains(rec.Error, "at most 10 e-mails per hour") || idOf(rec.ControllerID) != w.ctrl.ID {
			t.Errorf("throttled record %+v", rec)
		}
		if got := len(w.smtp.Mails()); got != 10 {
			t.Errorf("%d mails arrived, want 10", got)
		}
		// Refused again; refusals do not count toward the limit.
		if err := n.SendEmail(ctx, w.controller(), to, "mail 11", "x"); !fault.Is(err, fault.RateLimited) {
			t.Fatalf("12th mail: %v", err)
		}
		// Text messages and the other controller are counted apart.
		if err := n.SendText(ctx, w.controller(), []string{"+15551234567"}, "hi"); err != nil {
			t.Errorf("text after 10 mails: %v", err)
		}
		if err := n.SendEmail(ctx, notify.ControllerSender(w.org.ID, w.ctrl2.ID), to, "other", "x"); err != nil {
			t.Errorf("other controller: %v", err)
		}
		// An hour after the first mail it has left the window: one more goes, then no more.
		w.clock.Advance(50*time.Minute + time.Second)
		if err := n.SendEmail(ctx, w.controller(), to, "mail 12", "x"); err != nil {
			t.Errorf("after the window slid: %v", err)
		}
		if err := n.SendEmail(ctx, w.controller(), to, "mail 13", "x"); !fault.Is(err, fault.RateLimited) {
			t.Errorf("the window holds 10 again: %v", err)
		}
		counts := map[outgoingmessage.Result]int{}
		for _, r := range records(t, db.Client) {
			if idOf(r.ControllerID) == w.ctrl.ID && r.Kind == outgoingmessage.KindEmail {
				counts[r.Result]++
			}
		}
		if counts[outgoingmessage.ResultSent] != 11 || counts[outgoingmessage.ResultThrottled] != 3 {
			t.Errorf("records %v, want 11 sent and 3 throttled", counts)
		}

		// The limit is configurable, and applies to users by user.
		strict := w.notifier(t, notify.Limits{Throttle: 1})
		u := notify.UserSender(w.org.ID, w.user.ID)
		if err := strict.SendText(ctx, u, []string{"+15551234567"}, "one"); err != nil {
			t.Fatal(err)
		}
		err = strict.SendText(ctx, u, []string{"+15551234567"}, "two")
		if !fault.Is(err, fault.RateLimited) || !strings.Contains(fault.SafeMessage(err), "this user may send at most 1 text messages per hour") {
			t.Errorf("second text of a user under limit 1: %v", err)
		}
	})
}

// eachInstances runs fn per dialect with n ent clients, each over its own pool, on one
// fresh migrated database, as n instances would have.
func eachInstances(t *testing.T, n int, fn func(t *testing.T, clients []*ent.Client)) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			dbs, _ := dbtest.Instances(t, d, n)
			clients := make([]*ent.Client, len(dbs))
			for i, db := range dbs {
				clients[i] = db.Client
			}
			fn(t, clients)
		})
	}
}

// Two instances sending at once for one controller never pass the limit together.
func TestThrottleAcrossInstances(t *testing.T) {
	eachInstances(t, 2, func(t *testing.T, clients []*ent.Client) {
		w := newWorld(t, clients[0])
		var notifiers []*notify.Notifier
		for _, c := range clients {
			notifiers = append(notifiers, notify.New(c, notify.Options{Email: mailer(t, w.smtp.Config()), Clock: w.clock}))
		}
		const perInstance = 8
		var wg sync.WaitGroup
		errs := make(chan error, 2*perInstance)
		for _, n := range notifiers {
			for i := range perInstance {
				wg.Go(func() {
					errs <- n.SendEmail(t.Context(), w.controller(), []string{"ada@example.org"}, fmt.Sprint("race ", i), "x")
				})
			}
		}
		wg.Wait()
		close(errs)
		var sent, limited int
		for err := range errs {
			switch {
			case err == nil:
				sent++
			case fault.Is(err, fault.RateLimited):
				limited++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if sent != 10 || limited != 2*perInstance-10 {
			t.Errorf("%d sent and %d refused, want 10 and %d", sent, limited, 2*perInstance-10)
		}
		if got := len(w.smtp.Mails()); got != 10 {
			t.Errorf("%d mails arrived, want 10", got)
		}
		if got := len(records(t, clients[1])); got != 2*perInstance {
			t.Errorf("%d records, want %d", got, 2*perInstance)
		}
	})
}

// Without settings, sending fails with a clear message and a 'failed' record.
func TestNotConfigured(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db.Client)
		n := notify.New(db.Client, notify.Options{Clock: w.clock})
		for _, c := range []struct {
			send func() error
			kind outgoingmessage.Kind
			want string
		}{
			{func() error {
				return n.SendEmail(t.Context(), w.controller(), []string{"ada@example.org"}, "s", "b")
			}, outgoingmessage.KindEmail, "e-mail is not configured on this server"},
			{func() error {
				return n.SendText(t.Context(), w.controller(), []string{"+15551234567"}, "m")
			}, outgoingmessage.KindText, "text messages are not configured on this server"},
		} {
			err := c.send()
			if !fault.Is(err, notify.Unavailable) || !errors.Is(err, notify.ErrNotConfigured) || fault.SafeMessage(err) != c.want {
				t.Errorf("%s: error %v (safe %q), want UNAVAILABLE %q", c.kind, err, fault.SafeMessage(err), c.want)
			}
			rec := last(t, db.Client)
			if rec.Kind != c.kind || rec.Result != outgoingmessage.ResultFailed || rec.Error != c.want {
				t.Errorf("%s: record %+v", c.kind, rec)
			}
		}
	})
}

// A refused or unreachable mail server and a refusing provider give 'failed' records
// with the reason.
func TestDeliveryFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{})

		err := n.SendEmail(ctx, w.controller(), []string{"gone@example.org"}, "s", "b")
		if !fault.Is(err, notify.Unavailable) || strings.Contains(fault.SafeMessage(err), "127.0.0.1") {
			t.Errorf("refused mail: %v (safe %q)", err, fault.SafeMessage(err))
		}
		if rec := last(t, db.Client); rec.Result != outgoingmessage.ResultFailed || !strings.Contains(rec.Error, "550") {
			t.Errorf("refused mail record %+v", rec)
		}

		down := w.smtp.Config()
		down.Port = closedPort(t)
		nd := notify.New(db.Client, notify.Options{Email: mailer(t, down), Clock: w.clock, Logger: testLogger(t)})
		if err := nd.SendEmail(ctx, w.controller(), []string{"ada@example.org"}, "s", "b"); !fault.Is(err, notify.Unavailable) {
			t.Errorf("server down: %v", err)
		}
		if rec := last(t, db.Client); rec.Result != outgoingmessage.ResultFailed || rec.Error == "" || strings.HasPrefix(rec.Error, "interrupted") {
			t.Errorf("server down record %+v", rec)
		}

		// One of two numbers refused: the attempt failed, the other number got it.
		w.text.Fail("+442079460958", 400, `{"code": 21614, "message": "'To' number is not a valid mobile number", "status": 400}`)
		err = n.SendText(ctx, w.controller(), []string{"+15551234567", "+44 20 7946 0958"}, "hello")
		if want := "the text message to +442079460958 was not sent: text-message provider answered 400 Bad Request: 'To' number is not a valid mobile number"; !fault.Is(err, notify.Unavailable) || fault.SafeMessage(err) != want {
			t.Errorf("refused text: %v\nsafe %q\nwant %q", err, fault.SafeMessage(err), want)
		}
		rec := last(t, db.Client)
		if rec.Kind != outgoingmessage.KindText || rec.Result != outgoingmessage.ResultFailed ||
			!strings.HasPrefix(rec.Error, "sent to 1 of 2 numbers; +442079460958: ") || !strings.Contains(rec.Error, "not a valid mobile number") {
			t.Errorf("refused text record %+v", rec)
		}
		if got := len(w.text.Requests()); got != 2 {
			t.Errorf("%d provider requests, want 2", got)
		}
	})
}

// A text message goes to each number in E.164 form, once, and is recorded.
func TestSendText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{})
		err := n.SendText(t.Context(), w.controller(), []string{"+1 (555) 123-4567", "+44 20 7946 0958", "+15551234567"}, "Pump 2 stopped")
		if err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, r := range w.text.Requests() {
			to = append(to, r.To)
			if r.Body != "Pump 2 stopped" || r.From != notifytest.TextFrom || r.User != notifytest.TextUser || r.Password != notifytest.TextPassword {
				t.Errorf("request %+v", r)
			}
		}
		want := []string{"+15551234567", "+442079460958"}
		if !slices.Equal(to, want) {
			t.Errorf("sent to %q, want %q", to, want)
		}
		rec := last(t, db.Client)
		if rec.Kind != outgoingmessage.KindText || rec.Result != outgoingmessage.ResultSent || !slices.Equal(rec.Recipients, want) ||
			rec.Body != "Pump 2 stopped" || rec.Subject != "" || idOf(rec.ControllerID) != w.ctrl.ID {
			t.Errorf("record %+v", rec)
		}
	})
}

// Bad input is BAD_USER_INPUT, sends nothing and records nothing.
func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{})
		ok := []string{"ada@example.org"}
		many := make([]string, 21)
		for i := range many {
			many[i] = fmt.Sprintf("u%d@example.org", i)
		}
		email := func(to []string, subject, body string) func() error {
			return func() error { return n.SendEmail(t.Context(), w.controller(), to, subject, body) }
		}
		text := func(numbers []string, msg string) func() error {
			return func() error { return n.SendText(t.Context(), w.controller(), numbers, msg) }
		}
		for _, c := range []struct {
			name string
			send func() error
			want string
		}{
			{"no recipient", email(nil, "s", "b"), "no recipient"},
			{"21 recipients", email(many, "s", "b"), "21 recipients; at most 20"},
			{"not an address", email([]string{"ada@example.org", "ada at example"}, "s", "b"), `recipient 2 ("ada at example") is not a valid e-mail address`},
			{"display name", email([]string{"Ada <ada@example.org>"}, "s", "b"), "not a valid e-mail address"},
			{"header injection", email([]string{"ada@example.org\r\nBcc: eve@example.org"}, "s", "b"), "not a valid e-mail address"},
			{"empty address", email([]string{" "}, "s", "b"), "not a valid e-mail address"},
			{"subject on two lines", email(ok, "a\r\nBcc: eve@example.org", "b"), "subject must be UTF-8 text on one line"},
			{"long subject", email(ok, strings.Repeat("s", 251), "b"), "the subject has 251 bytes; at most 250"},
			{"long body", email(ok, "s", strings.Repeat("b", 64<<10+1)), "the body has 65537 bytes; at most 65536"},
			{"binary body", email(ok, "s", "\xff\xfe"), "the body must be UTF-8 text"},
			{"no number", text(nil, "m"), "no recipient"},
			{"national number", text([]string{"555 123 4567"}, "m"), "not a valid phone number in international form"},
			{"letters", text([]string{"+1555CALLNOW"}, "m"), "not a valid phone number"},
			{"too short", text([]string{"+12345"}, "m"), "not a valid phone number"},
			{"empty message", text([]string{"+15551234567"}, "  \n"), "the text message is empty"},
			{"long message", text([]string{"+15551234567"}, strings.Repeat("é", 1601)), "1601 characters; at most 1600"},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := c.send()
				if !fault.Is(err, fault.BadInput) || !strings.Contains(fault.SafeMessage(err), c.want) {
					t.Errorf("error %v, want BAD_USER_INPUT saying %q", err, c.want)
				}
			})
		}
		if recs := records(t, db.Client); len(recs) != 0 {
			t.Errorf("%d records of refused input", len(recs))
		}
		if len(w.smtp.Mails()) != 0 || len(w.text.Requests()) != 0 {
			t.Error("something was sent")
		}
		if err := n.SendEmail(t.Context(), notify.Sender{}, ok, "s", "b"); fault.CodeOf(err) != fault.Internal {
			t.Errorf("a sender that is nobody: %v", err)
		}
	})
}

// The server's own mail is never throttled; a password reset's body is not recorded.
func TestSystemMail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{Throttle: 2})
		if err := n.Send(ctx, "ada@example.org", "rhizoflex password reset", "Reset token: 0123abcd"); err != nil {
			t.Fatal(err)
		}
		if m := w.smtp.Mails(); len(m) != 1 || !sameBody(m[0].Body, "Reset token: 0123abcd") {
			t.Fatalf("reset mail %+v", m)
		}
		rec := last(t, db.Client)
		if rec.Body != "" || rec.Subject != "rhizoflex password reset" || !slices.Equal(rec.Recipients, []string{"ada@example.org"}) ||
			rec.OrganizationID != nil || rec.ControllerID != nil || rec.Result != outgoingmessage.ResultSent {
			t.Errorf("reset record %+v", rec)
		}
		for i := range 5 {
			if err := n.SendEmail(ctx, notify.SystemSender(w.org.ID, w.ctrl.ID), []string{"ada@example.org"}, "notice", "x"); err != nil {
				t.Fatalf("system notice %d: %v", i, err)
			}
		}
	})
}

// An organization's records, newest first, page by page; another organization's stay out.
func TestList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		w := newWorld(t, db.Client)
		n := w.notifier(t, notify.Limits{})
		otherCtrl, err := tree.CreateController(ctx, db.Client, "/other/ctrl", false)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range 7 {
			ctrl := w.ctrl
			if i%3 == 2 {
				ctrl = w.ctrl2
			}
			subject := fmt.Sprint("mail ", i)
			if err := n.SendEmail(ctx, notify.ControllerSender(w.org.ID, ctrl.ID), []string{"ada@example.org"}, subject, "x"); err != nil {
				t.Fatal(err)
			}
			if err := n.SendEmail(ctx, notify.ControllerSender(w.other.ID, otherCtrl.ID), []string{"eve@example.org"}, "other", "x"); err != nil {
				t.Fatal(err)
			}
			want = append([]string{subject}, want...)
			if i != 3 { // two records at the same instant: the id breaks the tie
				w.clock.Advance(time.Second)
			}
		}
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			p, err := n.List(ctx, w.org.ID, notify.ListOptions{First: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Messages {
				got = append(got, m.Subject)
			}
			if !p.HasNextPage {
				if pages != 2 {
					t.Errorf("%d pages, want 3", pages+1)
				}
				break
			}
			after = p.EndCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("listed %q, want %q", got, want)
		}

		p, err := n.List(ctx, w.org.ID, notify.ListOptions{ControllerID: w.ctrl2.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Messages) != 2 || p.Messages[0].Subject != "mail 5" || p.Messages[1].Subject != "mail 2" || p.HasNextPage {
			t.Errorf("controller 2's records: %d, next %v", len(p.Messages), p.HasNextPage)
		}
		if p, err := n.List(ctx, w.org.ID+100, notify.ListOptions{}); err != nil || len(p.Messages) != 0 || p.EndCursor != "" {
			t.Errorf("unknown organization: %v %+v", err, p)
		}
		for _, o := range []notify.ListOptions{{First: 101}, {First: -1}, {After: "not-a-cursor"}, {After: "bm90OmE"}} {
			if _, err := n.List(ctx, w.org.ID, o); !fault.Is(err, fault.BadInput) {
				t.Errorf("List(%+v): %v, want BAD_USER_INPUT", o, err)
			}
		}
	})
}
