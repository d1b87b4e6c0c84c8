package notifytest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/notify"
)

// TextRequest is one request the text-message endpoint received.
type TextRequest struct {
	Method, ContentType string
	// User and Password are the Basic auth credentials ("" without).
	User, Password string
	To, From, Body string
}

// TextProvider is a Twilio-compatible endpoint on loopback: it answers 201 with a JSON
// message resource, or what Fail tells it to.
type TextProvider struct {
	URL string

	mu       sync.Mutex
	requests []TextRequest
	fail     map[string]failure // by To; "" for every number
}

type failure struct {
	status int
	body   string
}

// Credentials of the endpoint; Config uses them.
const (
	TextUser     = "AC0123456789abcdef"
	TextPassword = "token-0123456789"
	TextFrom     = "+15550001111"
)

// StartText starts an endpoint that stops when the test ends.
func StartText(t testing.TB) *TextProvider {
	t.Helper()
	p := &TextProvider{fail: map[string]failure{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL + "/2010-04-01/Accounts/" + TextUser + "/Messages.json"
	return p
}

// Config is a notify.TextConfig that reaches the endpoint.
func (p *TextProvider) Config() notify.TextConfig {
	return notify.TextConfig{URL: p.URL, Username: TextUser, Password: TextPassword, From: TextFrom, Timeout: 30 * time.Second}
}

// Fail makes the endpoint answer status and body for messages to number ("" for all).
func (p *TextProvider) Fail(number string, status int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail[number] = failure{status, body}
}

// Requests returns what the endpoint received, in order.
func (p *TextProvider) Requests() []TextRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]TextRequest(nil), p.requests...)
}

func (p *TextProvider) serve(w http.ResponseWriter, r *http.Request) {
	req := TextRequest{Method: r.Method, ContentType: r.Header.Get("Content-Type")}
	req.User, req.Password, _ = r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.To, req.From, req.Body = r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	p.mu.Lock()
	p.requests = append(p.requests, req)
	f, failing := p.fail[req.To]
	if !failing {
		f, failing = p.fail[""]
	}
	p.mu.Unlock()
	if failing {
		if strings.HasPrefix(strings.TrimSpace(f.body), "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	if req.User != TextUser || req.Password != TextPassword {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code": 20003, "message": "Authenticate", "status": 401}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"sid": "SM0123", "status": "queued"}`))
}
