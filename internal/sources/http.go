package sources

import (
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/live"
	"github.com/rhizoflex/rhizoflex/internal/series"
	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/das3"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Stream MIME types (spec 1.2).
const (
	mimeDas2Binary = "application/vnd.das2.das2stream"
	mimeDas2Text   = "text/vnd.das2.das2stream; charset=utf-8"
	mimeDas3Binary = "application/vnd.das.stream"
	mimeDas3Text   = "text/vnd.das.stream; charset=utf-8"
	mimeCSV        = "text/csv; charset=utf-8"
)

// AuthorizeFunc decides whether the request's viewer may read res. res is nil when
// nothing (or nothing that is a source) is at the id, with missing saying so. It returns
// nil, or a fault error: UNAUTHENTICATED (401 with a Basic realm), NOT_FOUND (hidden or
// missing) or FORBIDDEN.
type AuthorizeFunc func(r *http.Request, res *ent.Resource, missing error) error

// Options configure Handler.
type Options struct {
	Service   *Service
	Prefix    string // where the handler is mounted, e.g. "/das" (no trailing slash)
	Authorize AuthorizeFunc
	Realm     string // the Basic realm of 401 answers
	Site      string // the server=id line
	BaseURL   string // absolute URL of the site for catalog links ("" = from the request)
	Log       *slog.Logger
	Live      *live.Live    // the bus of follow=1 and flexRT (nil: no live tail)
	WSOrigins []string      // origins (host patterns) besides the server's own allowed to open flexRT
	Readers   ReaderSources // reader sources of sources_dir (nil: none)
}

type handler struct {
	Options
}

// Handler serves the das2.2 server API ({prefix}/server?server=...) and the dasFlex path
// API ({prefix}/source/<id>/flex, /das2, /das2.d2t) over the sources the viewer may read.
func Handler(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Realm == "" {
		o.Realm = "rhizoflex"
	}
	if o.Site == "" {
		o.Site = "rhizoflex"
	}
	return &handler{o}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	if hd.Get("Access-Control-Allow-Origin") == "" {
		// Credentials are never allowed with "*": browsers send none, so only public data
		// can be read cross-origin.
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Allow-Methods", "GET")
		hd.Set("Access-Control-Allow-Headers", "Content-Type")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		h.fail(w, r, 2, http.StatusMethodNotAllowed, das.IllegalArgument, "only GET is served here")
		return
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, 2, http.StatusBadRequest, das.IllegalArgument, err.Error())
		return
	}
	p := strings.TrimPrefix(r.URL.Path, h.Prefix)
	switch {
	case p == "" || p == "/":
		h.intro(w)
	case p == "/server":
		h.server(w, r, q)
	case p == "/catalog.json", p == "/root.json":
		h.catalog(w, r)
	case p == "/nodes.csv":
		h.nodes(w, r)
	case p == "/id.txt":
		h.id(w)
	case p == "/id.json":
		h.idJSON(w, r)
	case p == "/logo.png":
		h.logo(w)
	case p == "/peers.xml":
		h.peers(w)
	case p == "/source" || p == "/source/":
		h.directory(w, r)
	case strings.HasPrefix(p, "/source/"):
		id := strings.TrimPrefix(p, "/source/")
		switch {
		case strings.HasSuffix(id, "/flex"):
			h.data(w, r, strings.TrimSuffix(id, "/flex"), q, false)
		case strings.HasSuffix(id, "/flexRT"):
			h.data(w, r, strings.TrimSuffix(id, "/flexRT"), q, true)
		case strings.HasSuffix(id, "/das2"):
			h.data(w, r, strings.TrimSuffix(id, "/das2"), q.fromDas2(), false)
		case strings.HasSuffix(id, "/das2.d2t"):
			h.dsdf(w, r, strings.TrimSuffix(id, "/das2.d2t"))
		case strings.HasSuffix(id, "/flex.json"):
			h.streamSrc(w, r, strings.TrimSuffix(id, "/flex.json"))
		case strings.HasSuffix(id, ".json"):
			h.sourceSet(w, r, strings.TrimSuffix(id, ".json"))
		case strings.HasSuffix(id, ".html"):
			h.form(w, r, strings.TrimSuffix(id, ".html"))
		default:
			h.fail(w, r, 2, http.StatusNotFound, "NoSuchDataSource", "nothing is served at "+r.URL.Path+": use source/<id>/flex, source/<id>/das2, source/<id>/das2.d2t, source/<id>.json, source/<id>.html or source/<id>/flex.json")
		}
	default:
		h.fail(w, r, 2, http.StatusNotFound, "NoSuchDataSource", "nothing is served at "+r.URL.Path)
	}
}

// server answers the das2.2 verbs (spec 2.2-2.7).
func (h *handler) server(w http.ResponseWriter, r *http.Request, q query) {
	verb, ok := q.get("server")
	if !ok {
		h.intro(w)
		return
	}
	switch strings.ToLower(verb) {
	case "list", "discovery":
		h.list(w, r)
	case "dsdf":
		id, ok := q.get("dataset")
		if !ok {
			h.fail(w, r, 2, http.StatusBadRequest, das.IllegalArgument, "missing query parameter dataset")
			return
		}
		h.dsdf(w, r, id)
	case "dataset", "compactdataset":
		id, ok := q.get("dataset")
		if !ok {
			h.fail(w, r, 2, http.StatusBadRequest, das.IllegalArgument, "missing query parameter dataset")
			return
		}
		h.data(w, r, id, q.fromDas2(), false)
	case "id":
		h.id(w)
	case "peers":
		h.peers(w)
	case "logo":
		h.logo(w)
	case "image":
		h.fail(w, r, 2, http.StatusNotImplemented, "NotImplemented", "server=image is not implemented")
	default:
		h.fail(w, r, 2, http.StatusBadRequest, das.IllegalArgument,
			fmt.Sprintf("unknown server=%s: use list, discovery, dsdf, dataset, id, logo or peers", verb))
	}
}

func (h *handler) intro(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	base := html.EscapeString(h.Prefix)
	_, _ = fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>%[1]s das server</title>
<h1>%[1]s das server</h1>
<p>Every numeric sequence you may read, and every reader source of the operator, is a das2 / das3 / CSV data source.
<a href="%[2]s/source/">Query forms of the sources</a>, <a href="%[2]s/server?server=list">the das2 source list</a>.</p>
<p>Data: <code>%[2]s/server?server=dataset&amp;dataset=ID&amp;start_time=..&amp;end_time=..</code> or
<code>%[2]s/source/ID/flex?read.time.min=..&amp;read.time.max=..&amp;format.type=das|csv&amp;format.version=2|3</code>.</p>
`, html.EscapeString(h.Site), base)
}

// list answers server=list and server=discovery: directories, then the sources in them;
// reader sources after the sequences (a sequence whose id a reader source takes is left out).
func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	srcs, err := h.Service.List(r.Context(), access.ViewerFrom(r.Context()))
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	rdrs, err := h.readerListLines(r.Context())
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	var b strings.Builder
	dirs := map[string]bool{}
	line := func(id, desc string) {
		for i := 0; i < len(id); i++ {
			if id[i] == '/' && !dirs[id[:i+1]] {
				dirs[id[:i+1]] = true
				b.WriteString(id[:i+1] + "\n")
			}
		}
		b.WriteString(id + "|" + desc + "\n")
	}
	for _, s := range srcs {
		if _, taken := rdrs[s.ID]; !taken {
			line(s.ID, s.Description())
		}
	}
	if h.Readers != nil {
		for _, def := range h.Readers.ReaderList() {
			if desc := rdrs[def.ID]; desc != "" {
				line(def.ID, desc)
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// source finds and authorizes the source at id, answering the request itself when it
// cannot be served. A hidden source answers exactly like a missing one.
func (h *handler) source(w http.ResponseWriter, r *http.Request, id string, version int) (Source, bool) {
	res, err := h.Service.Lookup(r.Context(), id)
	if err != nil && !fault.Is(err, fault.NotFound) && !fault.Is(err, fault.BadInput) {
		h.internal(w, r, version, err)
		return Source{}, false
	}
	var missing error
	if err != nil || (!IsSource(res) && !isFolderSource(res)) {
		res, missing = nil, fault.New(fault.NotFound, "no data source %s", id)
	}
	err = h.Authorize(r, res, missing)
	if err == nil {
		src, lerr := h.Service.Load(r.Context(), res)
		if lerr == nil {
			return src, true
		}
		if !fault.Is(lerr, fault.NotFound) {
			h.internal(w, r, version, lerr)
			return Source{}, false
		}
		// A folder source with no sequence in it: answered as a missing id is.
		res, err = nil, h.Authorize(r, nil, lerr)
	}
	if c := fault.CodeOf(err); res != nil && (c == fault.NotFound || c == fault.Unauthenticated) {
		if src, ok := Embargoed(res, time.Now()); ok {
			return src, true
		}
	}
	h.refuse(w, r, id, version, err)
	return Source{}, false
}

// refuse answers a request that Authorize (or the embargo) refused.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, id string, version int, err error) {
	switch fault.CodeOf(err) {
	case fault.Unauthenticated:
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.Realm+`"`)
		h.fail(w, r, version, http.StatusUnauthorized, "Unauthorized", "sign in or send an API key (HTTP Basic, the key as password) to read "+id)
	case fault.NotFound:
		h.fail(w, r, version, http.StatusNotFound, "NoSuchDataSource", "no data source "+id)
	case fault.Forbidden:
		h.fail(w, r, version, http.StatusForbidden, "Forbidden", fault.SafeMessage(err))
	default:
		h.internal(w, r, version, err)
	}
}

// dsdf answers server=dsdf: the source's description as one das2.2 stream header (2.3).
func (h *handler) dsdf(w http.ResponseWriter, r *http.Request, id string) {
	if def, ok := h.reader(id); ok {
		h.readerDsdf(w, r, def)
		return
	}
	src, ok := h.source(w, r, id, 2)
	if !ok {
		return
	}
	ds, err := Dataset(src)
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	props := das.Properties{
		{Name: "description", Value: src.Description(), Untyped: true},
		{Name: "das2Stream", Value: "1", Untyped: true},
	}
	// data_XX: a <y> plane's name | its sequence's title or name | its units.
	j := 0
	for _, d := range ds.Dims {
		if d.Kind == das.Data && j < 100 {
			v := src.Vars[j]
			props = append(props, das.Property{Name: fmt.Sprintf("data_%02d", j),
				Value: strings.TrimSuffix(d.Name+" | "+varTitle(v)+" | "+rawUnits(v), " | "), Untyped: true})
			j++
		}
	}
	if h.Service.Authz != nil && h.Service.Authz.Require(r.Context(), &access.Viewer{}, src.Res, access.Read) != nil {
		props = append(props, das.Property{Name: "securityRealm", Value: h.Realm, Untyped: true})
	}
	first, last, has, err := h.Service.Coverage(r.Context(), src)
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	if has {
		lo := dasTimeOf(first).Floor(0)
		hi := dasTimeOf(last).Floor(0).Add(1)
		props = append(props, das.Property{Name: "validRange", Value: rangeText(lo, hi), Untyped: true})
		props = append(props, das.Property{Name: "exampleRange_00", Value: rangeText(max(lo, hi.Add(-86400)), hi) + " UTC | the last day with data", Untyped: true})
	}
	w.Header().Set("Content-Type", mimeDas2Text)
	wr := das2.NewWriter(w, das2.WriterOptions{})
	if err := wr.Stream(&das.Stream{Version: "2.2", Props: props}); err != nil {
		h.Log.WarnContext(r.Context(), "das dsdf", "id", id, "err", err)
		return
	}
	_ = wr.Close()
}

func rangeText(lo, hi dastime.Time) string {
	return string(dastime.AppendISO(nil, lo, 0)) + " to " + string(dastime.AppendISO(nil, hi, 0))
}

// data answers a data request in the flex convention (das2 requests are translated
// first); ws: the flexRT websocket.
func (h *handler) data(w http.ResponseWriter, r *http.Request, id string, q query, ws bool) {
	out, err := q.parseOutput()
	if err != nil {
		h.fail(w, r, out.version, http.StatusBadRequest, das.IllegalArgument, err.Error())
		return
	}
	rd, err := q.parseRead()
	if err != nil {
		h.fail(w, r, out.version, http.StatusBadRequest, das.IllegalArgument, err.Error())
		return
	}
	follow := false
	if v, ok := q.get("follow"); ok {
		follow = truthy(v)
		if err := checkFollow(q, rd, follow, h.Live != nil); err != nil {
			h.fail(w, r, out.version, http.StatusBadRequest, das.IllegalArgument, err.Error())
			return
		}
	}
	if def, ok := h.reader(id); ok {
		h.readerData(w, r, def, q, out, rd, ws)
		return
	}
	if ws && (out.version != 3 || out.csv) {
		h.fail(w, r, out.version, http.StatusBadRequest, das.IllegalArgument, "flexRT sends das3 streams only: leave format.type and format.version out")
		return
	}
	src, ok := h.source(w, r, id, out.version)
	if !ok {
		return
	}
	if !src.PublicBefore.IsZero() && ToTime(rd.Max).After(src.PublicBefore) {
		// das2 readAccess AGE: semantics: a range reaching into the embargo needs
		// credentials (401, the client prompts) or, signed in, is refused (403).
		msg := "values of " + id + " are public only before " + src.PublicBefore.Format(time.RFC3339)
		if access.ViewerFrom(r.Context()).Anonymous() {
			h.refuse(w, r, id, out.version, fault.New(fault.Unauthenticated, "%s", msg))
		} else {
			h.refuse(w, r, id, out.version, fault.New(fault.Forbidden, "%s", msg))
		}
		return
	}
	if ws {
		h.websocket(w, r, src, rd, out, follow)
		return
	}
	lw := h.answer(w, r, out, func(ext string) string { return filename(src, rd, ext) })
	if follow {
		// Subscribed before the history is read: nothing stored meanwhile is missed.
		updates, err := h.Live.SequenceUpdates(r.Context(), access.ViewerFrom(r.Context()), src.Res)
		if err != nil {
			h.internal(w, r, out.version, err)
			return
		}
		h.follow(r, lw, src, rd, out, updates)
		return
	}
	h.stream(r, lw, src, rd, out)
}

// stream writes the values of rd to lw (which starts the answer with its first bytes).
func (h *handler) stream(r *http.Request, lw lazyStarter, src Source, rd Read, out output) {
	out.opts.FlushEvery = series.ReadChunk
	sink, err := convert.NewWriter(lw, out.opts)
	if err != nil {
		lw.failed(err)
		return
	}
	res, err := h.Service.Stream(r.Context(), src, rd, sink, excType(out.version))
	if !res.Started {
		if err != nil {
			lw.failed(err)
			return
		}
		h.noData(lw, src, rd, sink, out)
		return
	}
	if err != nil && !IsCanceled(err) {
		h.Log.ErrorContext(r.Context(), "das stream failed after output began", "id", src.ID, "err", err)
	}
}

// follow writes the live tail of src to lw.
func (h *handler) follow(r *http.Request, lw lazyStarter, src Source, rd Read, out output, updates *live.Stream[live.Value]) {
	sink, err := convert.NewWriter(lw, out.opts)
	if err != nil {
		lw.failed(err)
		return
	}
	if err := h.Service.Follow(r.Context(), src, rd, sink, updates, excType(out.version)); err != nil && !IsCanceled(err) {
		h.Log.InfoContext(r.Context(), "das live tail ended", "id", src.ID, "err", err)
	}
}

// checkFollow validates follow=1: it needs the live bus, read.time.max=now and no
// reduction.
func checkFollow(q query, rd Read, follow, haveLive bool) error {
	if !follow {
		return nil
	}
	if !haveLive {
		return bad("follow is not available on this server")
	}
	if v, _ := q.get("read.time.max"); !strings.EqualFold(v, "now") {
		return bad("follow needs %s=now", q.name("read.time.max"))
	}
	if rd.Bin > 0 {
		return bad("%s cannot be combined with follow", q.name("bin.time.max"))
	}
	return nil
}

// noData ends an empty answer: 200 with a NoDataInInterval (v2) / NoMatchingData (v3)
// exception; CSV, which cannot carry one, answers its header row (when asked for) only.
func (h *handler) noData(lw lazyStarter, src Source, rd Read, sink das.Sink, out output) {
	_ = sink.Stream(StreamHeader(src, rd))
	if out.csv {
		if ds, err := Dataset(src); err == nil {
			_ = sink.Dataset(ds)
		}
	} else {
		_ = sink.Exception(&das.Exception{Type: excType(out.version)(das.NoDataInInterval),
			Message: "no data in the interval " + rangeText(rd.Min, rd.Max)})
	}
	_ = sink.Close()
	lw.start()
}

func excType(version int) func(string) string {
	if version == 3 {
		return das.ExceptionType3
	}
	return das.ExceptionType2
}

// contentType is the MIME type, file extension and disposition of an answer (spec 5.4).
// Browsers get text types relabelled text/plain so that they display them.
func contentType(out output, browser bool) (ctype, ext string, inline bool) {
	switch {
	case out.csv:
		return mimeCSV, "csv", false
	case out.version == 3 && out.opts.Text:
		ctype, ext, inline = mimeDas3Text, "d3t", true
	case out.version == 3:
		return mimeDas3Binary, "d3b", false
	case out.opts.Text:
		ctype, ext, inline = mimeDas2Text, "d2t", true
	default:
		return mimeDas2Binary, "d2s", false
	}
	if browser {
		ctype = "text/plain; charset=utf-8"
	}
	return ctype, ext, inline
}

func browser(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// filename is <last id component>_<start>[_<end>][_bin-<N>s].<ext> (spec 5.4).
func filename(src Source, rd Read, ext string) string {
	name := strings.ToLower(src.Res.Name)
	name = strings.Map(func(c rune) rune {
		if c < 0x80 && (c == '-' || c == '.' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return c
		}
		return '_'
	}, name)
	name += "_" + fileTime(rd.Min)
	if rd.Max-rd.Min != dastime.Time(86400e9) {
		name += "_" + fileTime(rd.Max)
	}
	if rd.Bin > 0 {
		name += "_bin-" + strconv.FormatFloat(rd.Bin, 'f', -1, 64) + "s"
	}
	return name + "." + ext
}

func fileTime(t dastime.Time) string {
	s := string(dastime.AppendISO(nil, t.Floor(0), 0)) // YYYY-MM-DDTHH:MM:SS
	s = strings.ReplaceAll(s, ":", "-")
	s = strings.TrimSuffix(s, "-00")    // seconds
	s = strings.TrimSuffix(s, "T00-00") // midnight
	return s
}

// fail answers an error before any output: the status and a das exception of the
// requested version (spec 2.6, 5.5), or the bare message for a browser.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, version, status int, typ, msg string) {
	hd := w.Header()
	hd.Del("Content-Disposition")
	if browser(r) {
		hd.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = fmt.Fprintln(w, msg)
		return
	}
	if version == 3 {
		hd.Set("Content-Type", mimeDas3Text)
		w.WriteHeader(status)
		_ = das3.WriteError(w, das.ExceptionType3(typ), msg)
		return
	}
	hd.Set("Content-Type", mimeDas2Text)
	w.WriteHeader(status)
	_ = das2.WriteError(w, das.ExceptionType2(typ), msg)
}

// internal logs err and answers 500 with a safe message (nothing when the client left).
func (h *handler) internal(w http.ResponseWriter, r *http.Request, version int, err error) {
	if IsCanceled(err) || r.Context().Err() != nil {
		return
	}
	h.Log.ErrorContext(r.Context(), "das request failed", "path", r.URL.Path, "err", err)
	msg := "internal error"
	var fe *fault.Error
	if errors.As(err, &fe) {
		msg = fault.SafeMessage(err)
	}
	h.fail(w, r, version, http.StatusInternalServerError, das.ServerError, msg)
}

// answer is the lazily started response of a data request: its content type and file
// name (name gets the extension) go out with the first bytes.
func (h *handler) answer(w http.ResponseWriter, r *http.Request, out output, name func(ext string) string) *lazyWriter {
	ctype, ext, inline := contentType(out, browser(r))
	return &lazyWriter{w: w, rc: http.NewResponseController(w), begin: func(hd http.Header) {
		disp := "attachment"
		if inline {
			disp = "inline"
		}
		hd.Set("Content-Type", ctype)
		hd.Set("Content-Disposition", disp+`; filename="`+name(ext)+`"`)
		hd.Set("Expires", "now")
	}, internal: func(err error) { h.internal(w, r, out.version, err) }}
}

// lazyWriter sends the status line and headers with the first bytes of output (spec 2.5
// step 7), and flushes every write to the client so plots can start.
type lazyWriter struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	begin    func(http.Header)
	internal func(error)
	started  bool
}

// lazyStarter is where a data answer goes: an HTTP response that sends its headers with
// the first bytes, or a websocket.
type lazyStarter interface {
	Write(p []byte) (int, error)
	start()
	// failed answers an error that happened before any output.
	failed(err error)
}

func (l *lazyWriter) failed(err error) {
	if !l.started {
		l.internal(err)
	}
}

func (l *lazyWriter) start() {
	if !l.started {
		l.started = true
		l.begin(l.w.Header())
		l.w.WriteHeader(http.StatusOK)
	}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.start()
	n, err := l.w.Write(p)
	if err == nil {
		_ = l.rc.Flush()
	}
	return n, err
}
