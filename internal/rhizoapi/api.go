// Package rhizoapi is the original hub's wire API (REST /api/v1 and the /api/v1/websocket
// protocol, docs/RHIZO.md) translated onto the domain packages: every handler parses the
// original's parameters, checks access through internal/access and makes the same domain
// calls the GraphQL resolvers make. It may import ent, internal/* (not graph or server)
// and the standard library.
package rhizoapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/controller"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/messages"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// PinPrefix is where controllers without a key ask for one. They send a placeholder key
// ("x") in Basic auth, which the server must ignore there.
const PinPrefix = Prefix + "/pins"

// StoreFunc stores sequence values (series.Store, or the server's group commit).
type StoreFunc func(ctx context.Context, items []series.Item) ([]series.Stored, []series.ItemError, error)

// Presence marks controllers online while their websocket is open, exactly as the GraphQL
// websocket does.
type Presence interface {
	Connect(ctx context.Context, v *access.Viewer, clientVersion string) context.Context
	Disconnect(ctx context.Context)
}

// Options are the API's dependencies.
type Options struct {
	Client         *ent.Client
	Authz          *access.Authorizer
	Blobs          blob.Store
	Live           *live.Live
	Messages       *messages.Service
	Controllers    *controller.Service
	Presence       Presence
	Store          StoreFunc
	Log            *slog.Logger
	BulkThreshold  int64
	MaxUploadBytes int64
	MaxBodyBytes   int64
	// OriginPatterns are the extra hosts a browser websocket may come from.
	OriginPatterns []string
	// Extra routes below Prefix (the MQTT websocket listener).
	Extra map[string]http.Handler
	// Paths caches the lookups by path of values written (PUT /resources); nil: none.
	Paths *tree.PathCache
}

type api struct{ Options }

// Handler serves the API below Prefix.
func Handler(o Options) http.Handler {
	if o.Store == nil {
		o.Store = func(ctx context.Context, items []series.Item) ([]series.Stored, []series.ItemError, error) {
			return series.Store(ctx, o.Client, items)
		}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 100 << 20
	}
	a := &api{o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/resources/{path...}", a.wrap(a.getResource))
	mux.HandleFunc("PUT "+Prefix+"/resources/{path...}", a.wrap(a.putResource))
	mux.HandleFunc("POST "+Prefix+"/resources/{path...}", a.wrap(a.postResourcePath))
	mux.HandleFunc("DELETE "+Prefix+"/resources/{path...}", a.wrap(a.deleteResource))
	mux.HandleFunc("GET "+Prefix+"/resources", a.wrap(a.listByType))
	mux.HandleFunc("POST "+Prefix+"/resources", a.wrap(a.createResource))
	mux.HandleFunc("PUT "+Prefix+"/resources", a.wrap(a.updateMany))
	mux.HandleFunc("GET "+Prefix+"/keys", a.wrap(a.listKeys))
	mux.HandleFunc("POST "+Prefix+"/keys", a.wrap(a.createKey))
	mux.HandleFunc("DELETE "+Prefix+"/keys/{id}", a.wrap(a.deleteKey))
	mux.HandleFunc("GET "+Prefix+"/keys/{id}", a.wrap(notImplemented))
	mux.HandleFunc("PUT "+Prefix+"/keys/{id}", a.wrap(notImplemented))
	mux.HandleFunc("GET "+Prefix+"/users", a.wrap(a.listUsers))
	mux.HandleFunc("POST "+Prefix+"/users", a.wrap(notImplemented))
	mux.HandleFunc(Prefix+"/users/{id}", a.wrap(a.userRecord))
	mux.HandleFunc("GET "+Prefix+"/organizations", a.wrap(a.listOrganizations))
	mux.HandleFunc("POST "+Prefix+"/organizations", a.wrap(a.createOrganization))
	mux.HandleFunc("GET "+Prefix+"/organizations/{org}/users", a.wrap(a.orgUsers))
	mux.HandleFunc("POST "+Prefix+"/organizations/{org}/users", a.wrap(a.addOrgUser))
	mux.HandleFunc(Prefix+"/organizations/{org}/users/{user}", a.wrap(a.orgUser))
	mux.HandleFunc("POST "+Prefix+"/pins", a.wrap(a.createPin))
	mux.HandleFunc("GET "+Prefix+"/pins/{pin}", a.wrap(a.pollPin))
	mux.HandleFunc("PUT "+Prefix+"/pins/{pin}", a.wrap(a.enterPin))
	mux.HandleFunc("GET "+Prefix+"/system/stats", a.wrap(a.stats))
	mux.HandleFunc("GET "+Prefix+"/messages", a.wrap(notImplemented))
	mux.HandleFunc("POST "+Prefix+"/messages", a.wrap(a.postMessage))
	mux.HandleFunc("GET "+Prefix+"/websocket", a.websocket)
	mux.HandleFunc("GET "+Prefix+"/connectWebSocket", a.websocket)
	for p, h := range o.Extra {
		mux.Handle(Prefix+p, h)
	}
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such API route"})
	})
	return mux
}

// req is one request: its viewer and its parameters (query string plus form body, for
// every method, as the original read request.values).
type req struct {
	*http.Request
	ctx    context.Context
	v      *access.Viewer
	values url.Values
}

func (r *req) has(name string) bool { return r.values.Has(name) }

// get is the first value of the first of names that is present.
func (r *req) get(names ...string) string {
	for _, n := range names {
		if r.values.Has(n) {
			return r.values.Get(n)
		}
	}
	return ""
}

// flag is the original's boolean parameter: true for any non-empty value, "0" included.
func (r *req) flag(names ...string) bool { return r.get(names...) != "" }

// required is a parameter the original read as request.values[name] (400 when missing).
func (r *req) required(names ...string) (string, error) {
	for _, n := range names {
		if r.values.Has(n) {
			return r.values.Get(n), nil
		}
	}
	return "", fault.New(fault.BadInput, "missing parameter %s", names[0])
}

// intParam parses an optional integer parameter (the original answered 500 for a bad one).
func (r *req) intParam(name string, def int) (int, error) {
	s := strings.TrimSpace(r.get(name))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fault.New(fault.BadInput, "%s must be an integer", name)
	}
	return n, nil
}

// handlerFunc answers a request with a JSON value (nil: the body null) or an error.
type handlerFunc func(w http.ResponseWriter, r *req) (any, error)

// responded is returned by handlers that wrote the response themselves.
var responded = &struct{}{}

func (a *api) wrap(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		values, err := a.parse(w, hr)
		if err != nil {
			a.fail(w, hr, err)
			return
		}
		r := &req{Request: hr, ctx: hr.Context(), v: access.ViewerFrom(hr.Context()), values: values}
		out, err := h(w, r)
		if err != nil {
			a.fail(w, hr, err)
			return
		}
		if out == responded {
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// parse reads the query string and a form body (urlencoded or multipart) whatever the
// method: the original client sends GET parameters in the body.
func (a *api) parse(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	values := r.URL.Query()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, a.MaxUploadBytes)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return nil, bodyError(err)
		}
		for k, vs := range r.MultipartForm.Value {
			values[k] = append(values[k], vs...)
		}
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.MaxUploadBytes))
		if err != nil {
			return nil, bodyError(err)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fault.New(fault.BadInput, "the form body is not URL-encoded")
		}
		for k, vs := range form {
			values[k] = append(values[k], vs...)
		}
	}
	return values, nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fault.New(fault.BadInput, "the request body is larger than %d bytes", tooBig.Limit)
	}
	return fault.Wrap(err, fault.BadInput, "cannot read the request body")
}

func notImplemented(http.ResponseWriter, *req) (any, error) { return nil, nil }

// status maps an error code to the original's HTTP status.
func status(err error) int {
	switch fault.CodeOf(err) {
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.BadInput, fault.Conflict:
		return http.StatusBadRequest
	case fault.RateLimited:
		return http.StatusTooManyRequests
	case fault.Timeout, fault.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers {"message": ...} with the error's status; internal errors are logged and
// never shown.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	msg := fault.SafeMessage(err)
	if code == http.StatusInternalServerError {
		a.Log.ErrorContext(r.Context(), "rhizo api", "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	writeJSON(w, code, map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ok is the original's {"status": "ok", "id": N}.
func ok(id int) map[string]any { return map[string]any{"status": "ok", "id": id} }

// Timestamps.

// ParseTime is parseTime for the other faces (MQTT).
func ParseTime(s string) (time.Time, error) { return parseTime(s) }

// ISOTime formats as the original, ending with zulu ("Z", or " Z" in MQTT lines and
// controller statuses).
func ISOTime(t time.Time, zulu string) string { s := isoTime(t); return s[:len(s)-1] + zulu }

// parseTime reads the original's timestamps: YYYY-MM-DDTHH:MM:SS[.ffffff]Z, or with " Z".
// Anything else is a 400 (the original answered 500 for a missing Z).
func parseTime(s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	if strings.HasSuffix(t, " Z") {
		t = strings.TrimSuffix(t, " Z") + "Z"
	}
	parsed, err := time.Parse(time.RFC3339Nano, t)
	if err != nil {
		return time.Time{}, fault.New(fault.BadInput, "Invalid date/time.")
	}
	return parsed.UTC(), nil
}

// isoTime formats as the original: isoformat() + "Z", microseconds omitted when zero.
func isoTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05") + "Z"
	}
	return t.Format("2006-01-02T15:04:05.000000") + "Z"
}

// isoSpaceZ is the controller-status format (" Z" with a space), "" for none.
func isoSpaceZ(t *time.Time) string {
	if t == nil {
		return ""
	}
	s := isoTime(*t)
	return s[:len(s)-1] + " Z"
}
