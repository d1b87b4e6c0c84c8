// Package hapi serves HAPI 3.3 (the Heliophysics Application Programmer's Interface,
// hapi-server/data-specification) over any Catalog of das datasets: the landing page,
// about, capabilities, catalog, info and data endpoints, with CSV, binary and JSON
// output streamed record by record in constant memory.
//
// The package knows nothing about sequences, readers or permissions: a Catalog
// answers what a caller may read and streams das records; this package derives the
// HAPI parameters from the das dataset header and writes the HAPI wire formats.
package hapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
)

// Version is the HAPI specification version served.
const Version = "3.3"

// Sentinel errors a Catalog returns; the handler maps them to HAPI statuses.
var (
	// ErrNotFound is a dataset that does not exist or that the caller may not read:
	// both answer 1406 with HTTP 404, identically.
	ErrNotFound = errors.New("hapi: dataset not found")
	// ErrUnauthorized is an unauthenticated caller asking for a protected dataset:
	// HTTP 401 with a Basic challenge.
	ErrUnauthorized = errors.New("hapi: authentication required")
)

// BusyError is a Catalog that cannot start a request now (every reader slot is
// taken): HTTP 503 with Retry-After and status 1500.
type BusyError struct{ RetryAfter time.Duration }

func (e *BusyError) Error() string {
	return "hapi: busy, retry after " + e.RetryAfter.String()
}

// Catalog is what the HAPI server reads: the datasets a caller may read, their
// descriptions and their records. Every method gets the HTTP request so that the
// implementation can authenticate the caller.
type Catalog interface {
	// List returns the datasets this caller may read, in catalog order.
	List(ctx context.Context, r *http.Request) ([]Entry, error)
	// Describe returns one dataset, or ErrNotFound for a missing or hidden one
	// (the same answer), or ErrUnauthorized.
	Describe(ctx context.Context, r *http.Request, id string) (*Dataset, error)
	// Stream writes the das records of [start, stop) to sink: the stream header,
	// dataset headers, then records. It must not call sink.Close. Records outside
	// the range, out of order or repeated are dropped by the handler.
	Stream(ctx context.Context, r *http.Request, id string, start, stop time.Time, sink das.Sink) error
}

// Entry is one catalog line.
type Entry struct {
	ID    string
	Title string
}

// Dataset describes one HAPI dataset.
type Dataset struct {
	ID          string
	Title       string
	Description string
	// Start and Stop bound the data (HAPI startDate and stopDate). A zero Stop is
	// an open-ended (growing) dataset: stopDate is the current time and requests
	// may reach beyond it.
	Start, Stop time.Time
	// Cadence is the nominal time between records (0 when unknown).
	Cadence time.Duration
	// SampleStart and SampleStop bound an example range (both or neither).
	SampleStart, SampleStop time.Time
	// MaxRequest, when positive, is the longest stop - start a data request may
	// ask for (longer ones answer 1408); info reports it as maxRequestDuration.
	MaxRequest time.Duration
	// TimeDigits is the number of fractional-second digits of the Time parameter
	// (1..9); 0 derives it from Cadence (3 unless the cadence is below 1 ms).
	TimeDigits int
	// Header is the das dataset header the parameters are derived from: one
	// parameter per packet variable other than the time coordinate.
	Header *das.Dataset
	// Others are the headers of the stream's further packet IDs (a reader writing
	// several packet types): their parameters not in Header follow Header's, and a
	// row carries fill where its packet lacks a parameter.
	Others []*das.Dataset
}

// Options configure a Handler.
type Options struct {
	// Prefix is the URL path of the landing page, "/hapi" by default; the
	// endpoints are Prefix+"/about" and so on.
	Prefix string
	// ID, Title, Contact and Description fill the about endpoint.
	ID, Title, Contact, Description string
	// Realm names the Basic authentication realm of 401 answers.
	Realm string
	// FlushEvery is the number of records between flushes of data output
	// (default 1000).
	FlushEvery int
	// FlushInterval flushes a row written this long after the previous flush,
	// so that slow sources reach the client (default 1 s).
	FlushInterval time.Duration
	Logger        *slog.Logger
	// Now returns the current time (open-ended stopDate); time.Now by default.
	Now func() time.Time
}

// Handler serves the HAPI endpoints under Options.Prefix.
type Handler struct {
	cat Catalog
	opt Options
	log *slog.Logger
}

// New returns a Handler over cat.
func New(cat Catalog, opt Options) *Handler {
	if opt.Prefix == "" {
		opt.Prefix = "/hapi"
	}
	opt.Prefix = strings.TrimSuffix(opt.Prefix, "/")
	if opt.ID == "" {
		opt.ID = "rhizoflex"
	}
	if opt.Title == "" {
		opt.Title = "rhizoflex data server"
	}
	if opt.Contact == "" {
		opt.Contact = "the server administrator"
	}
	if opt.Realm == "" {
		opt.Realm = "rhizoflex"
	}
	if opt.FlushEvery <= 0 {
		opt.FlushEvery = 1000
	}
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{cat: cat, opt: opt, log: log}
}

// ServeHTTP routes a HAPI request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD")
	hd.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		hd.Set("Allow", "GET, HEAD")
		writeStatus(w, http.StatusMethodNotAllowed, status{Code: 1400, Message: message(1400) + ": only GET and HEAD"})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, h.opt.Prefix)
	if !ok {
		unknownEndpoint(w)
		return
	}
	switch rest {
	case "", "/":
		h.landing(w, r)
		return
	}
	if len(rest) > 1 && strings.HasSuffix(rest, "/") {
		// The spec recommends redirecting a trailing slash away.
		u := *r.URL
		u.Path = strings.TrimSuffix(u.Path, "/")
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
		return
	}
	switch rest {
	case "/about":
		h.about(w, r)
	case "/capabilities":
		h.capabilities(w, r)
	case "/catalog":
		h.catalog(w, r)
	case "/info":
		h.info(w, r)
	case "/data":
		h.data(w, r)
	default:
		unknownEndpoint(w)
	}
}

// unknownEndpoint answers a path HAPI does not define: HTTP 404 (nothing is there), with
// the HAPI status 1400 body clients parse.
func unknownEndpoint(w http.ResponseWriter) {
	writeStatus(w, http.StatusNotFound, status{Code: 1400, Message: message(1400) + " (unknown endpoint: use about, capabilities, catalog, info or data)"})
}

// catalogError maps a Catalog error to a HAPI answer and writes it.
func (h *Handler) catalogError(w http.ResponseWriter, r *http.Request, err error) {
	var busy *BusyError
	switch {
	case errors.Is(err, ErrNotFound):
		h.fail(w, r, 1406, "")
	case errors.Is(err, ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.opt.Realm+`", charset="UTF-8"`)
		writeStatus(w, http.StatusUnauthorized, status{Code: 1400, Message: "HAPI error 1400: Bad request - authentication required"})
	case errors.As(err, &busy):
		secs := int(math.Ceil(busy.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		writeStatus(w, http.StatusServiceUnavailable, status{Code: 1500, Message: message(1500) + " (too many data requests are running; retry later)"})
	case errors.Is(err, context.Canceled):
		// The client went away: nobody reads the answer.
	default:
		h.log.ErrorContext(r.Context(), "hapi: catalog", "path", r.URL.Path, "err", err)
		h.fail(w, r, 1500, "")
	}
}
