package notify_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/notify"
	"github.com/rhizoflex/rhizoflex/internal/notify/notifytest"
)

// Both senders of e-mail serve password resets.
var (
	_ access.Mailer = (*notify.SMTPMailer)(nil)
	_ access.Mailer = (*notify.Notifier)(nil)
)

func mailer(t *testing.T, cfg notify.SMTPConfig) *notify.SMTPMailer {
	t.Helper()
	m, err := notify.NewSMTPMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The mail arrives as written: envelope, headers, a subject and body beyond ASCII.
func TestSMTPMailerDelivers(t *testing.T) {
	srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{})
	m := mailer(t, srv.Config())
	subject := "Température haute — /lab/ctrl 🌡"
	body := "Line one\nLigne deux: 23,5 °C\n\n" + strings.Repeat("a long line ", 20) + "\n.\nA dot line above.\n"
	to := []string{"ada@example.org", "bob@example.net"}
	if err := m.SendMail(t.Context(), to, subject, body); err != nil {
		t.Fatal(err)
	}
	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d mails arrived, want 1", len(mails))
	}
	got := mails[0]
	if got.From != "hub@rhizoflex.test" || !slices.Equal(got.To, to) {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	if h := got.Header.Get("To"); !strings.Contains(h, "<ada@example.org>") || !strings.Contains(h, "<bob@example.net>") {
		t.Errorf("To header %q", h)
	}
	if h := got.Header.Get("From"); !strings.Contains(h, "rhizoflex") || !strings.Contains(h, "<hub@rhizoflex.test>") {
		t.Errorf("From header %q", h)
	}
	if got.Header.Get("Date") == "" || got.Header.Get("Message-Id") == "" {
		t.Errorf("Date or Message-Id missing:\n%s", got.Raw)
	}
	if got.Subject != subject {
		t.Errorf("subject %q, want %q", got.Subject, subject)
	}
	if !sameBody(got.Body, body) {
		t.Errorf("body\n%q\nwant\n%q", got.Body, body)
	}

	// access.Mailer: one address.
	if err := m.Send(t.Context(), "carol@example.com", "reset", "token 123"); err != nil {
		t.Fatal(err)
	}
	if mails := srv.Mails(); len(mails) != 2 || !slices.Equal(mails[1].To, []string{"carol@example.com"}) || !sameBody(mails[1].Body, "token 123") {
		t.Errorf("second mail: %+v", mails[len(mails)-1])
	}
}

// STARTTLS and implicit TLS with authentication; a server without STARTTLS is refused
// under "starttls", and a refused recipient or password is an error.
func TestSMTPMailerTLSAndAuth(t *testing.T) {
	for _, mode := range []string{notify.TLSStartTLS, notify.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{TLS: mode, Username: "hub", Password: "s3cret"})
			if err := mailer(t, srv.Config()).SendMail(t.Context(), []string{"ada@example.org"}, "over tls", "hello"); err != nil {
				t.Fatal(err)
			}
			if n := len(srv.Mails()); n != 1 {
				t.Fatalf("%d mails, want 1", n)
			}
			cfg := srv.Config()
			cfg.Password = "wrong"
			if err := mailer(t, cfg).SendMail(t.Context(), []string{"ada@example.org"}, "x", "y"); err == nil || !strings.Contains(err.Error(), "535") {
				t.Errorf("a wrong password: %v, want a 535 refusal", err)
			}
			cfg = srv.Config()
			cfg.CAFile = ""
			if err := mailer(t, cfg).SendMail(t.Context(), []string{"ada@example.org"}, "x", "y"); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("an untrusted certificate: %v, want a certificate error", err)
			}
			if n := len(srv.Mails()); n != 1 {
				t.Errorf("%d mails after refused attempts, want 1", n)
			}
		})
	}
	t.Run("starttls required", func(t *testing.T) {
		srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{})
		cfg := srv.Config()
		cfg.TLS = notify.TLSStartTLS
		if err := mailer(t, cfg).SendMail(t.Context(), []string{"ada@example.org"}, "x", "y"); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("sent in the clear although starttls was required: %v", err)
		}
		if n := len(srv.Mails()); n != 0 {
			t.Errorf("%d mails arrived", n)
		}
	})
	t.Run("no password in the clear", func(t *testing.T) {
		srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{Username: "hub", Password: "s3cret", InsecureAuth: true})
		cfg := srv.Config()
		cfg.TLS = notify.TLSNone
		if err := mailer(t, cfg).SendMail(t.Context(), []string{"ada@example.org"}, "x", "y"); err == nil {
			t.Error("authenticated without TLS")
		}
		if p := srv.Passwords(); len(p) != 0 {
			t.Errorf("the password went in the clear: %q", p)
		}
	})
	t.Run("recipient refused", func(t *testing.T) {
		srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{Reject: []string{"gone@example.org"}})
		err := mailer(t, srv.Config()).SendMail(t.Context(), []string{"gone@example.org"}, "x", "y")
		if err == nil || !strings.Contains(err.Error(), "550") {
			t.Errorf("refused recipient: %v", err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		srv := notifytest.StartSMTP(t, notifytest.SMTPOptions{})
		cfg := srv.Config()
		cfg.Port = closedPort(t)
		if err := mailer(t, cfg).SendMail(t.Context(), []string{"ada@example.org"}, "x", "y"); err == nil {
			t.Error("no error from a closed port")
		}
	})
}

func TestSMTPConfigValidate(t *testing.T) {
	good := notify.SMTPConfig{Host: "smtp.example.org", From: "hub@example.org"}
	if err := good.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*notify.SMTPConfig)
		want string
	}{
		{"no host", func(c *notify.SMTPConfig) { c.Host = "" }, "smtp.host is required"},
		{"host with port", func(c *notify.SMTPConfig) { c.Host = "smtp.example.org:587" }, "smtp.host"},
		{"bad port", func(c *notify.SMTPConfig) { c.Port = 70000 }, "smtp.port"},
		{"bad tls", func(c *notify.SMTPConfig) { c.TLS = "ssl" }, `smtp.tls "ssl" must be none, starttls or tls`},
		{"user without password", func(c *notify.SMTPConfig) { c.Username = "hub" }, "smtp.username and smtp.password"},
		{"no from", func(c *notify.SMTPConfig) { c.From = "" }, "smtp.from is required"},
		{"bad from", func(c *notify.SMTPConfig) { c.From = "hub at example" }, "smtp.from"},
		{"negative timeout", func(c *notify.SMTPConfig) { c.Timeout = -time.Second }, "smtp.timeout"},
		{"missing CA file", func(c *notify.SMTPConfig) { c.CAFile = "/nonexistent/ca.pem" }, "smtp.ca_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !errors.Is(err, notify.ErrBadConfig) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want an error saying %q", err, c.want)
			}
			if _, err := notify.NewSMTPMailer(cfg); err == nil {
				t.Error("NewSMTPMailer accepted it")
			}
		})
	}
	if (notify.SMTPConfig{}).Configured() || !good.Configured() {
		t.Error("Configured")
	}
}
