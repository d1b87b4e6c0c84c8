package server

import (
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/notify/notifytest"
)

// A controller's life over GraphQL: online with its client version while its websocket is
// open, status merged, watchdog recorded, e-mail and text messages sent through real
// servers on loopback, throttled, recorded for the organization's admins, offline after.
func TestControllerLifeOverGraphQL(t *testing.T) {
	smtpServer := notifytest.StartSMTP(t, notifytest.SMTPOptions{})
	textProvider := notifytest.StartText(t)
	eachServer2(t, func(c *Config) {
		c.SMTP = smtpServer.Config()
		c.Text = textProvider.Config()
	}, func(t *testing.T, ts *testServer) {
		member := ts.login(t, "lmember")
		info := func() string {
			t.Helper()
			r := member.do(t, `{ resource(path: "/lab/ctrl") { controller { online clientVersion lastConnectAt lastWatchdogAt status watchdogMinutes watchdogRecipients } } }`, nil).ok(t)
			return string(r.Data["resource"])
		}
		if got := info(); !strings.Contains(got, `"online":false`) {
			t.Fatalf("before connecting: %s", got)
		}
		ws := ts.dialWS(t, nil, map[string]any{"Authorization": "Bearer " + ts.world.Keys["ctrlkey"], "clientVersion": "rig/2.3"})
		if got := info(); !strings.Contains(got, `"online":true`) || !strings.Contains(got, `"clientVersion":"rig/2.3"`) || strings.Contains(got, `"lastConnectAt":null`) {
			t.Fatalf("connected: %s", got)
		}
		ctrl := ts.bearer(t, ts.world.Keys["ctrlkey"])
		ctrl.do(t, `mutation { updateControllerStatus(status: {firmware: "2.3", disk: {free: 812}}) { id } }`, nil).ok(t)
		ctrl.do(t, `mutation { updateControllerStatus(status: {disk: {used: 5}}) { id } }`, nil).ok(t)
		ctrl.do(t, `mutation { sendMessage(type: "watchdog") { id } }`, nil).ok(t)
		member.do(t, `mutation { setWatchdog(path: "/lab/ctrl", minutes: 10, recipients: ["ladmin@example.com"]) { id } }`, nil).ok(t)
		got := info()
		for _, want := range []string{`"firmware":"2.3"`, `"free":812`, `"used":5`, `"watchdogMinutes":10`, `"watchdogRecipients":["ladmin@example.com"]`} {
			if !strings.Contains(got, want) {
				t.Fatalf("controller info lacks %s: %s", want, got)
			}
		}
		if strings.Contains(got, `"lastWatchdogAt":null`) {
			t.Fatalf("watchdog not recorded: %s", got)
		}
		// Recipients must be users who may read the controller; unknown looks the same.
		for _, email := range []string{"omember@example.com", "nobody@example.com"} {
			r := member.do(t, `mutation($e: String!) { setWatchdog(path: "/lab/ctrl", minutes: 10, recipients: [$e]) { id } }`, map[string]any{"e": email})
			if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "is not a user who may read") {
				t.Fatalf("recipient %s: %s", email, r.raw)
			}
		}
		// E-mail through the SMTP server on loopback; the 11th in an hour is refused.
		send := `mutation($n: Int!) { sendMessage(type: "send_email", parameters: {emailAddresses: ["ops@example.org"], subject: "pump", body: "stalled", n: $n}) { id } }`
		for i := range 10 {
			ctrl.do(t, send, map[string]any{"n": i}).ok(t)
		}
		if r := ctrl.do(t, send, map[string]any{"n": 10}); r.code() != "RATE_LIMITED" {
			t.Fatalf("11th e-mail: %s", r.raw)
		}
		mails := smtpServer.Mails()
		if len(mails) < 10 || mails[len(mails)-1].To[0] != "ops@example.org" || mails[len(mails)-1].Subject != "pump" || !strings.Contains(mails[len(mails)-1].Body, "stalled") {
			t.Fatalf("mails: %d %+v", len(mails), mails[len(mails)-1])
		}
		// A user cannot make the server send e-mail.
		if r := member.do(t, `mutation { sendMessage(path: "/lab/ctrl", type: "send_email", parameters: {emailAddresses: ["x@example.org"], subject: "s", body: "b"}) { id } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("user sending e-mail: %s", r.raw)
		}
		// A text message through the provider on loopback.
		ctrl.do(t, `mutation { sendMessage(type: "send_text_message", parameters: {phoneNumbers: ["+1 555 0100"], message: "hello"}) { id } }`, nil).ok(t)
		reqs := textProvider.Requests()
		if len(reqs) == 0 || reqs[len(reqs)-1].To != "+15550100" || reqs[len(reqs)-1].Body != "hello" {
			t.Fatalf("text requests: %+v", reqs)
		}
		// Records for the organization's admins, not for members.
		if r := member.do(t, `{ organization(name: "lab") { outgoingMessages { edges { node { kind } } } } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("member reading outgoing records: %s", r.raw)
		}
		var org struct {
			OutgoingMessages struct {
				Edges []struct {
					Node struct{ Kind, Result, Subject string }
				}
			}
		}
		ts.login(t, "ladmin").do(t, `{ organization(name: "lab") { outgoingMessages(first: 100) { edges { node { kind result subject recipients controller { path } } } } } }`, nil).ok(t).decode(t, "organization", &org)
		counts := map[string]int{}
		for _, e := range org.OutgoingMessages.Edges {
			counts[e.Node.Kind+"/"+e.Node.Result]++
		}
		if counts["email/sent"] != 10 || counts["email/throttled"] != 1 || counts["text/sent"] != 1 {
			t.Fatalf("outgoing records: %v", counts)
		}
		// Closing the websocket takes it offline.
		_ = ws.conn.CloseNow()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(info(), `"online":false`) {
			if time.Now().After(deadline) {
				t.Fatalf("still online after the websocket closed: %s", info())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// eachServer2 is eachServer with a configuration change.
func eachServer2(t *testing.T, mutate func(*Config), fn func(t *testing.T, ts *testServer)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { fn(t, newTestServer(t, d, mutate)) })
	}
}
