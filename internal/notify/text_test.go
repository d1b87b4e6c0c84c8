package notify_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/notify"
	"github.com/rhizoflex/rhizoflex/internal/notify/notifytest"
)

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func texter(t *testing.T, cfg notify.TextConfig) *notify.TextSender {
	t.Helper()
	s, err := notify.NewTextSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The provider gets a form post with To, From, Body and Basic auth.
func TestTextSenderPosts(t *testing.T) {
	p := notifytest.StartText(t)
	msg := "Tank 3 low: 12 % — refill & check\nline 2"
	if err := texter(t, p.Config()).SendText(t.Context(), "+15551234567", msg); err != nil {
		t.Fatal(err)
	}
	reqs := p.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	want := notifytest.TextRequest{
		Method: http.MethodPost, ContentType: "application/x-www-form-urlencoded",
		User: notifytest.TextUser, Password: notifytest.TextPassword,
		To: "+15551234567", From: notifytest.TextFrom, Body: msg,
	}
	if reqs[0] != want {
		t.Errorf("request\n%+v\nwant\n%+v", reqs[0], want)
	}
}

// A non-2xx answer is a ProviderError carrying the provider's message, trimmed.
func TestTextSenderProviderErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"twilio json", 400, `{"code": 21211, "message": "The 'To' number +15551234567 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			"text-message provider answered 400 Bad Request: The 'To' number +15551234567 is not a valid phone number."},
		{"plain text", 503, "\n  upstream\r\n   unavailable \t\n", "text-message provider answered 503 Service Unavailable: upstream unavailable"},
		{"empty", 500, "", "text-message provider answered 500 Internal Server Error"},
		{"long", 502, strings.Repeat("x", 5000), "text-message provider answered 502 Bad Gateway: xxxx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := notifytest.StartText(t)
			p.Fail("", c.status, c.body)
			err := texter(t, p.Config()).SendText(t.Context(), "+15551234567", "hi")
			var pe *notify.ProviderError
			if !errors.As(err, &pe) || pe.Status != c.status || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if len(pe.Message) > 300 {
				t.Errorf("provider message of %d bytes not trimmed", len(pe.Message))
			}
		})
	}
	t.Run("wrong credentials", func(t *testing.T) {
		p := notifytest.StartText(t)
		cfg := p.Config()
		cfg.Password = "wrong"
		err := texter(t, cfg).SendText(t.Context(), "+15551234567", "hi")
		if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Authenticate") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("redirect is not followed", func(t *testing.T) {
		target := notifytest.StartText(t)
		redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
		t.Cleanup(redirect.Close)
		cfg := target.Config()
		cfg.URL = redirect.URL
		err := texter(t, cfg).SendText(t.Context(), "+15551234567", "hi")
		var pe *notify.ProviderError
		if !errors.As(err, &pe) || pe.Status != http.StatusFound {
			t.Errorf("error %v, want a 302 ProviderError", err)
		}
		if n := len(target.Requests()); n != 0 {
			t.Errorf("the redirect target got %d requests", n)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		p := notifytest.StartText(t)
		cfg := p.Config()
		cfg.URL = "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/Messages.json"
		if err := texter(t, cfg).SendText(t.Context(), "+15551234567", "hi"); err == nil {
			t.Error("no error from a closed port")
		}
	})
}

func TestTextConfigValidate(t *testing.T) {
	good := notify.TextConfig{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", Username: "AC1", Password: "tok", From: "+15550001111"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*notify.TextConfig)
		want string
	}{
		{"no url", func(c *notify.TextConfig) { c.URL = "" }, "text.url is required"},
		{"relative url", func(c *notify.TextConfig) { c.URL = "/Messages.json" }, "absolute http(s) URL"},
		{"ftp", func(c *notify.TextConfig) { c.URL = "ftp://example.org/x" }, "absolute http(s) URL"},
		{"plain http", func(c *notify.TextConfig) { c.URL = "http://sms.example.org/send" }, "must use https"},
		{"credentials in url", func(c *notify.TextConfig) { c.URL = "https://a:b@sms.example.org/send" }, "must not carry credentials"},
		{"no password", func(c *notify.TextConfig) { c.Password = "" }, "text.username and text.password are required"},
		{"no from", func(c *notify.TextConfig) { c.From = " " }, "text.from is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !errors.Is(err, notify.ErrBadConfig) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want an error saying %q", err, c.want)
			}
		})
	}
	loop := good
	loop.URL = "http://127.0.0.1:8080/send"
	if err := loop.Validate(); err != nil {
		t.Errorf("plain http to loopback: %v", err)
	}
}
