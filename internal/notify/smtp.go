package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// The TLS modes of SMTPConfig.TLS.
const (
	// TLSNone sends in the clear (a relay on the same host or a trusted network). The
	// password is then never sent in the clear: only challenge mechanisms (SCRAM, CRAM-MD5)
	// may authenticate.
	TLSNone = "none"
	// TLSStartTLS upgrades a plain connection with STARTTLS and refuses a server that does
	// not offer it (default; port 587).
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS; port 465).
	TLSImplicit = "tls"
)

// DefaultTimeout bounds one delivery to the mail server or the text-message provider.
const DefaultTimeout = 15 * time.Second

// ErrBadConfig reports a configuration that cannot work.
var ErrBadConfig = errors.New("notify: bad configuration")

// SMTPConfig is how the server reaches its mail server. An empty Host means e-mail is not
// configured.
type SMTPConfig struct {
	Host string `koanf:"host"`
	// Port defaults by TLS mode: 25 (none), 587 (starttls), 465 (tls).
	Port     int    `koanf:"port"`
	Username string `koanf:"username"`
	Password string `koanf:"password"`
	// From is the sender of every mail: "rhizoflex <hub@example.org>" or a bare address.
	From string `koanf:"from"`
	// TLS is "none", "starttls" (default) or "tls".
	TLS string `koanf:"tls"`
	// Timeout bounds each step of a delivery (default 15 s).
	Timeout time.Duration `koanf:"timeout"`
	// CAFile names a PEM file of certificate authorities trusted besides the system's,
	// for a relay with a private certificate.
	CAFile string `koanf:"ca_file"`
}

// Configured reports whether e-mail is configured at all.
func (c SMTPConfig) Configured() bool { return c.Host != "" }

// withDefaults fills in the defaults.
func (c SMTPConfig) withDefaults() SMTPConfig {
	c.TLS = strings.ToLower(strings.TrimSpace(c.TLS))
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSNone:
			c.Port = 25
		case TLSImplicit:
			c.Port = 465
		default:
			c.Port = 587
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate says what is wrong with a configuration, naming the setting.
func (c SMTPConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: smtp."+format, append([]any{ErrBadConfig}, args...)...))
	}
	switch {
	case c.Host == "":
		bad("host is required")
	case strings.ContainsAny(c.Host, " /:@") && net.ParseIP(c.Host) == nil:
		bad("host %q must be a host name or an IP address (the port goes in smtp.port)", c.Host)
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("port %d is not a port number", c.Port)
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		bad("tls %q must be none, starttls or tls", c.TLS)
	}
	if (c.Username == "") != (c.Password == "") {
		bad("username and smtp.password go together: set both or neither")
	}
	if c.From == "" {
		bad("from is required (the sender address of every mail)")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("from %q is not an e-mail address: %v", c.From, err)
	}
	if c.Timeout < 0 {
		bad("timeout %s must be positive", c.Timeout)
	}
	if c.CAFile != "" {
		if _, err := loadCAs(c.CAFile); err != nil {
			bad("ca_file: %v", err)
		}
	}
	return errors.Join(errs...)
}

func loadCAs(path string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(path) //nolint:gosec // the operator names the file in the config
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// SMTPMailer sends e-mail through an SMTP server, one connection per mail. It is safe for
// concurrent use and implements access.Mailer.
type SMTPMailer struct {
	cfg  SMTPConfig
	from *mail.Address
	cas  *x509.CertPool // nil: the system's
}

// NewSMTPMailer checks cfg and returns a mailer over it.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("%w: smtp.from: %w", ErrBadConfig, err)
	}
	m := &SMTPMailer{cfg: cfg, from: from}
	if cfg.CAFile != "" {
		if m.cas, err = loadCAs(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("%w: smtp.ca_file: %w", ErrBadConfig, err)
		}
	}
	return m, nil
}

// Send sends one plain-text mail to one address (access.Mailer).
func (m *SMTPMailer) Send(ctx context.Context, to, subject, body string) error {
	return m.SendMail(ctx, []string{to}, subject, body)
}

// SendMail sends one plain-text mail with every address of to in its To header.
func (m *SMTPMailer) SendMail(ctx context.Context, to []string, subject, body string) error {
	msg := gomail.NewMsg()
	msg.FromMailAddress(m.from)
	if err := msg.To(to...); err != nil {
		return fmt.Errorf("smtp: recipients: %w", err)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, body)

	var conns connTracker
	defer conns.closeAll()
	client, err := gomail.NewClient(m.cfg.Host, m.clientOptions(conns.dial)...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}

func (m *SMTPMailer) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: m.cfg.Host, RootCAs: m.cas, MinVersion: tls.VersionTLS12}
}

// connTracker dials for go-mail and closes what it dialed when the delivery is over:
// go-mail leaves the connection open when the greeting, STARTTLS or authentication fails.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

// dial returns a dial function: plain TCP, or TLS from the first byte when cfg is set.
func (t *connTracker) dial(implicitTLS *tls.Config) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if implicitTLS != nil {
			conn, err = (&tls.Dialer{NetDialer: d, Config: implicitTLS}).DialContext(ctx, network, addr)
		} else {
			conn, err = d.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.conns = append(t.conns, conn)
		t.mu.Unlock()
		return conn, nil
	}
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.conns {
		_ = c.Close() // after a clean QUIT it is closed already
	}
}

func (m *SMTPMailer) clientOptions(dial func(*tls.Config) gomail.DialContextFunc) []gomail.Option {
	tlsCfg := m.tlsConfig()
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.cfg.Timeout),
		gomail.WithTLSConfig(tlsCfg),
	}
	switch m.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithDialContextFunc(dial(nil)))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithDialContextFunc(dial(tlsCfg)))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithDialContextFunc(dial(nil)))
	}
	if m.cfg.Username == "" {
		return opts
	}
	opts = append(opts, gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	if m.cfg.TLS == TLSImplicit {
		// go-mail counts a connection it did not dial itself as unencrypted and would then
		// discover only challenge mechanisms; PLAIN and LOGIN still refuse to run unless
		// the connection is TLS, which ours is from the first byte.
		return append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
			gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	// Autodiscovery picks the strongest mechanism the server offers and never sends the
	// password in the clear over an unencrypted connection.
	return append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
}
