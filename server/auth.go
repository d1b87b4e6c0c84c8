package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/alexedwards/scs/v2"

	"github.com/rhizoflex/rhizoflex/graph"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/rhizoapi"
)

// newSessionManager configures scs: database store, HttpOnly, SameSite=Lax, Secure when
// configured, idle and absolute timeouts.
func newSessionManager(cfg Config, store *access.SessionStore) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = cfg.SessionLifetime
	sm.IdleTimeout = cfg.SessionIdleTimeout
	sm.Cookie.Name = "rhizoflex_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		slog.ErrorContext(r.Context(), "session store", "err", err)
		http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
	}
	return sm
}

// keyFromAuthorization extracts a key secret from "Bearer <key>" or HTTP Basic with the
// key as password (das2 clients can only do Basic).
func keyFromAuthorization(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return "", false
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		return strings.TrimSpace(rest), true
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return "", false
		}
		_, password, ok := strings.Cut(string(raw), ":")
		return password, ok
	}
	return "", false
}

// authenticate puts the viewer in the request context: an API key from the Authorization
// header, else the session's user, else anonymous. A bad key is refused with 401 rather
// than silently treated as anonymous.
func (a *App) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var v *access.Viewer
		// Controllers without a key send a placeholder one while they ask for a PIN.
		if h := r.Header.Get("Authorization"); h != "" && !strings.HasPrefix(r.URL.Path, rhizoapi.PinPrefix) {
			secret, ok := keyFromAuthorization(h)
			if !ok {
				unauthorized(w, "unsupported Authorization header: use Bearer <key> or Basic with the key as password")
				return
			}
			var err error
			v, err = a.authz.AuthenticateKey(ctx, secret)
			if fault.Is(err, fault.Unauthenticated) && a.passwordBasic(r) {
				v, err = a.basicLogin(r)
			}
			if err != nil {
				var rl *access.RateLimitError
				if errors.As(err, &rl) {
					w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
					http.Error(w, fault.SafeMessage(err), http.StatusTooManyRequests)
					return
				}
				if fault.Is(err, fault.Unauthenticated) && a.passwordBasic(r) {
					// das clients parse Basic realm="(.*)" and prompt again.
					w.Header().Set("WWW-Authenticate", `Basic realm="`+a.cfg.SiteName+`"`)
					http.Error(w, fault.SafeMessage(err), http.StatusUnauthorized)
					return
				}
				if fault.Is(err, fault.Unauthenticated) {
					unauthorized(w, fault.SafeMessage(err))
					return
				}
				a.log.ErrorContext(ctx, "authenticate key", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		} else {
			v = &access.Viewer{}
			if id := a.sessions.GetInt(ctx, graph.SessionUserKey); id != 0 {
				u, err := a.db.Client.User.Get(ctx, id)
				if err == nil && !u.Deleted && a.sessions.GetInt(ctx, graph.SessionEpochKey) == u.SessionEpoch {
					v.User = u
				} else if err := a.sessions.Destroy(ctx); err != nil {
					a.log.WarnContext(ctx, "drop stale session", "err", err)
				}
			}
			if err := a.authz.LoadMemberships(ctx, v); err != nil {
				a.log.ErrorContext(ctx, "load memberships", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
		}
		ctx = access.WithViewer(ctx, v)
		ctx = graph.WithRemoteAddr(ctx, a.clientIP(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// passwordBasic reports whether r may sign in with HTTP Basic e-mail (or user name) and
// password: only das and HAPI reads (GET, HEAD under das_prefix and /hapi), whose clients
// (Autoplot, das2py, HAPI clients) can do nothing else. Elsewhere a browser's cached Basic
// credentials would be a cross-site request forgery hole.
func (a *App) passwordBasic(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		(strings.HasPrefix(r.URL.Path, a.cfg.DasPrefix+"/") || strings.HasPrefix(r.URL.Path, hapiPrefix+"/"))
}

// basicLogin signs in with HTTP Basic login and password for this request only, through
// the login limiter (failures count like failed logins).
func (a *App) basicLogin(r *http.Request) (*access.Viewer, error) {
	user, password, ok := r.BasicAuth()
	if !ok || user == "" {
		return nil, fault.New(fault.Unauthenticated, "invalid or revoked API key")
	}
	u, err := a.authz.Login(r.Context(), a.limiter, user, password, a.clientIP(r))
	if err != nil {
		return nil, err
	}
	v := &access.Viewer{User: u}
	if err := a.authz.LoadMemberships(r.Context(), v); err != nil {
		return nil, err
	}
	return v, nil
}

// clientIP is the client's address: the TCP peer, or, when the peer is a trusted proxy, the
// nearest untrusted address in X-Forwarded-For (read from the right, as proxies append).
func (a *App) clientIP(r *http.Request) string {
	peer := r.RemoteAddr
	if ap, err := netip.ParseAddrPort(peer); err == nil {
		peer = ap.Addr().String()
	}
	if !a.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop != "" && !a.trusted(hop) {
			return hop
		}
	}
	return peer
}

func (a *App) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range a.cfg.TrustedProxies {
		if prefix, err := netip.ParsePrefix(p); err == nil && prefix.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// unauthorized answers 401 in a shape both GraphQL clients and people can read.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="rhizoflex", Basic realm="rhizoflex"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": string(fault.Unauthenticated)}}},
	})
}

// csrf refuses cross-origin state-changing requests that rely on the cookie. Requests that
// carry an Authorization header are not cookie-bound and pass.
func (a *App) csrf(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range a.cfg.CORSOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			a.log.Warn("ignoring bad CORS origin", "origin", o, "err", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "cross-origin request refused: send it from an allowed origin or authenticate with an API key", http.StatusForbidden)
	}))
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// hintWriter applies graph.HTTPHints to the status line.
type hintWriter struct {
	http.ResponseWriter
	hints *graph.HTTPHints
	wrote bool
}

func (h *hintWriter) WriteHeader(code int) {
	if !h.wrote {
		h.wrote = true
		code = h.hints.Apply(code, h.Header().Set)
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *hintWriter) Write(b []byte) (int, error) {
	if !h.wrote {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

func (h *hintWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func withHints(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hints := &graph.HTTPHints{}
		next.ServeHTTP(&hintWriter{ResponseWriter: w, hints: hints}, r.WithContext(graph.WithHTTPHints(r.Context(), hints)))
	})
}

// logMailer is the e-mail sender until SMTP is configured: it writes mails to the log.
type logMailer struct{ log *slog.Logger }

func (m logMailer) Send(ctx context.Context, to, subject, body string) error {
	m.log.InfoContext(ctx, "e-mail (log sink; SMTP not configured)", "to", to, "subject", subject, "body", body)
	return nil
}
