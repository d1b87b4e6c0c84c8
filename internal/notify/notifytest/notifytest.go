// Package notifytest runs real counterparts of the Notifier's services inside a test: an
// SMTP server on loopback (github.com/emersion/go-smtp, with STARTTLS, implicit TLS and
// authentication as asked) and a Twilio-compatible text-message endpoint (httptest). Both
// keep what they received for the test to assert. Only tests import it.
//
// It may import internal/notify, the standard library and go-smtp/go-sasl.
package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rhizoflex/rhizoflex/internal/notify"
)

// Mail is one message the SMTP server accepted.
type Mail struct {
	// From and To are the envelope (MAIL FROM, RCPT TO).
	From string
	To   []string
	// Header is the parsed header; Subject is decoded, Body is decoded to text with "\n"
	// line ends.
	Header  mail.Header
	Subject string
	Body    string
	Raw     []byte
}

// SMTPOptions shape the test SMTP server.
type SMTPOptions struct {
	// TLS is notify.TLSNone (default), notify.TLSStartTLS or notify.TLSImplicit. With TLS
	// the server's certificate is self-signed for 127.0.0.1 and Config names it as CAFile.
	TLS string
	// Username and Password, when set, are required (AUTH PLAIN, offered only over TLS).
	Username, Password string
	// InsecureAuth offers AUTH PLAIN without TLS too, to show a client does not use it.
	InsecureAuth bool
	// Reject lists recipients refused with 550.
	Reject []string
}

// SMTPServer is an SMTP server on loopback that keeps every accepted mail.
type SMTPServer struct {
	Host   string
	Port   int
	caFile string
	opts   SMTPOptions

	mu        sync.Mutex
	mails     []Mail
	passwords []string
}

// StartSMTP starts a server that stops when the test ends.
func StartSMTP(t testing.TB, o SMTPOptions) *SMTPServer {
	t.Helper()
	if o.TLS == "" {
		o.TLS = notify.TLSNone
	}
	s := &SMTPServer{opts: o}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = o.InsecureAuth
	logger := &testLogger{t: t}
	srv.ErrorLog = logger
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.TLS != notify.TLSNone {
		cert, caFile := selfSigned(t)
		s.caFile = caFile
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if o.TLS == notify.TLSImplicit {
			ln = tls.NewListener(ln, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = addr.IP.String(), addr.Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close the listener too: a Close that runs before Serve registered the listener
		// (a test that never connects, on a busy machine) would leave Serve accepting.
		_ = ln.Close()
		<-done
		logger.stop()
	})
	return s
}

// Config is a notify.SMTPConfig that reaches the server.
func (s *SMTPServer) Config() notify.SMTPConfig {
	return notify.SMTPConfig{
		Host: s.Host, Port: s.Port, TLS: s.opts.TLS, CAFile: s.caFile,
		Username: s.opts.Username, Password: s.opts.Password,
		From: "rhizoflex <hub@rhizoflex.test>", Timeout: 30 * time.Second,
	}
}

// Addr is host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Mails returns the accepted mails in order.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Passwords returns every password a client sent, right or wrong.
func (s *SMTPServer) Passwords() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.passwords...)
}

type session struct {
	srv    *SMTPServer
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		s.srv.mu.Lock()
		s.srv.passwords = append(s.srv.passwords, password)
		s.srv.mu.Unlock()
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, r := range s.srv.opts.Reject {
		if strings.EqualFold(r, to) {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unreadable message: " + err.Error()}
	}
	m.From, m.To = s.from, append([]string(nil), s.to...)
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, m)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// parse decodes a plain-text mail as go-mail writes it.
func parse(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Mail{}, err
	}
	body := msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Mail{}, err
	}
	return Mail{Header: msg.Header, Subject: subject, Body: strings.ReplaceAll(string(text), "\r\n", "\n"), Raw: raw}, nil
}

// newlineStripper drops line breaks from base64 text.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 and writes it as a PEM file.
func selfSigned(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "notifytest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(file, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, file
}

// testLogger writes the server's errors to the test log until the test ends.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("smtp server: "+format, v...)
	}
}

func (l *testLogger) Println(v ...any) { l.Printf("%s", strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
