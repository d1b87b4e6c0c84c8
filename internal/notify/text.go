package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TextConfig is how the server reaches its text-message provider: a Twilio-compatible
// endpoint that takes a form post (To, From, Body) with HTTP Basic auth, e.g.
// https://api.twilio.com/2010-04-01/Accounts/<account>/Messages.json. An empty URL means
// text messages are not configured.
type TextConfig struct {
	URL string `koanf:"url"`
	// Username and Password are the Basic auth credentials (Twilio: account SID and auth
	// token).
	Username string `koanf:"username"`
	Password string `koanf:"password"`
	// From is the sending number (E.164) or sender id the provider knows.
	From string `koanf:"from"`
	// Timeout bounds one request (default 15 s).
	Timeout time.Duration `koanf:"timeout"`
}

// Configured reports whether text messages are configured at all.
func (c TextConfig) Configured() bool { return c.URL != "" }

// Validate says what is wrong with a configuration, naming the setting. The URL must use
// https, except on a loopback address: the credentials go with every request.
func (c TextConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: text."+format, append([]any{ErrBadConfig}, args...)...))
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		bad("url is required")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		bad("url %q must be an absolute http(s) URL", c.URL)
	case u.User != nil:
		bad("url must not carry credentials; use text.username and text.password")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		bad("url %q must use https (plain http only to a loopback address): the credentials go with every request", c.URL)
	}
	if c.Username == "" || c.Password == "" {
		bad("username and text.password are required")
	}
	if strings.TrimSpace(c.From) == "" {
		bad("from is required (the sending number)")
	} else if strings.IndexFunc(c.From, unicode.IsControl) >= 0 {
		bad("from %q holds control characters", c.From)
	}
	if c.Timeout < 0 {
		bad("timeout %s must be positive", c.Timeout)
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TextSender posts text messages to the provider, one request per number. It is safe for
// concurrent use.
type TextSender struct {
	cfg  TextConfig
	http *http.Client
}

// NewTextSender checks cfg and returns a sender over it.
func NewTextSender(cfg TextConfig) (*TextSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &TextSender{cfg: cfg, http: &http.Client{
		Timeout: cfg.Timeout,
		// A redirect would turn the POST into a GET and repeat the credentials elsewhere:
		// it is an answer like any other non-2xx one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// ProviderError is a non-2xx answer of the text-message provider.
type ProviderError struct {
	Status int
	// Message is the provider's own explanation, trimmed (Twilio's JSON "message", or the
	// start of the body); it may be empty.
	Message string
}

func (e *ProviderError) Error() string {
	s := fmt.Sprintf("text-message provider answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// maxProviderMessage bounds how much of a provider's answer goes into errors and records.
const maxProviderMessage = 300

// SendText sends message to one number.
func (s *TextSender) SendText(ctx context.Context, to, message string) error {
	form := url.Values{"To": {to}, "From": {s.cfg.From}, "Body": {message}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("text message: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(s.cfg.Username, s.cfg.Password)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("text message: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &ProviderError{Status: resp.StatusCode, Message: providerMessage(body)}
	}
	if err != nil {
		return fmt.Errorf("text message: read answer: %w", err)
	}
	return nil
}

// providerMessage extracts the explanation of a refusal: the "message" of a JSON body (as
// Twilio sends), else the body's text, on one line and cut to maxProviderMessage bytes.
func providerMessage(body []byte) string {
	var j struct {
		Message string `json:"message"`
	}
	text := string(body)
	if json.Unmarshal(body, &j) == nil && j.Message != "" {
		text = j.Message
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "?")
	}
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	return truncate(text, maxProviderMessage)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
