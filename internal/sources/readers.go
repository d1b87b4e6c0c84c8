package sources

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/readers"
	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
)

// ReaderSources are the sources a reader program writes (sources_dir; internal/catalog
// implements it). A reader source's id wins over a sequence with the same path.
type ReaderSources interface {
	// Reader returns the reader source with exactly this id.
	Reader(id string) (*readers.Definition, bool)
	// ReaderList returns every reader source, by id.
	ReaderList() []*readers.Definition
	// ReaderAccess decides what the context's viewer may read of def.
	ReaderAccess(ctx context.Context, def *readers.Definition) (access.SourceDecision, error)
	// StreamReader writes def's data for req into sink, from the cache when a level
	// serves resolution res; a reader that writes nothing is no data (nil).
	StreamReader(ctx context.Context, def *readers.Definition, req readers.Request, start, stop time.Time, res time.Duration, sink das.Sink) error
}

// reader returns the reader source at id, if any.
func (h *handler) reader(id string) (*readers.Definition, bool) {
	if h.Readers == nil {
		return nil, false
	}
	return h.Readers.Reader(id)
}

// readerAllowed authorizes a reader source for the request, answering the refusal
// itself: invisible sources are missing (anonymous callers are asked to sign in); a range
// reaching past what AGE opens needs credentials (401) or is refused (403).
func (h *handler) readerAllowed(w http.ResponseWriter, r *http.Request, def *readers.Definition, version int, end time.Time) bool {
	d, err := h.Readers.ReaderAccess(r.Context(), def)
	if err != nil {
		h.internal(w, r, version, err)
		return false
	}
	anon := access.ViewerFrom(r.Context()).Anonymous()
	switch {
	case !d.Visible() && anon:
		h.refuse(w, r, def.ID, version, fault.New(fault.Unauthenticated, "sign in"))
	case !d.Visible():
		h.refuse(w, r, def.ID, version, fault.New(fault.NotFound, "no data source %s", def.ID))
	case !end.IsZero() && !d.Allows(end):
		msg := "data of " + def.ID + " are public only before " + d.PublicBefore.Format(time.RFC3339)
		if anon {
			h.refuse(w, r, def.ID, version, fault.New(fault.Unauthenticated, "%s", msg))
		} else {
			h.refuse(w, r, def.ID, version, fault.New(fault.Forbidden, "%s", msg))
		}
	default:
		return true
	}
	return false
}

// readerDsdf answers server=dsdf for a reader source: the client keys of its definition.
func (h *handler) readerDsdf(w http.ResponseWriter, r *http.Request, def *readers.Definition) {
	if !h.readerAllowed(w, r, def, 2, time.Time{}) {
		return
	}
	props := das.Properties{
		{Name: "description", Value: def.Description, Untyped: true},
		{Name: "das2Stream", Value: "1", Untyped: true},
		{Name: "techContact", Value: def.TechContact, Untyped: true},
	}
	if def.SciContact != "" {
		props = append(props, das.Property{Name: "sciContact", Value: def.SciContact, Untyped: true})
	}
	for i, ex := range def.Examples {
		v := ex.Range
		if ex.Label != "" {
			v += " | " + ex.Label
		}
		props = append(props, das.Property{Name: fmt.Sprintf("exampleRange_%02d", i), Value: v, Untyped: true})
		if ex.Params != "" {
			props = append(props, das.Property{Name: fmt.Sprintf("exampleParams_%02d", i), Value: ex.Params, Untyped: true})
		}
		if ex.Interval != "" {
			props = append(props, das.Property{Name: fmt.Sprintf("exampleInterval_%02d", i), Value: ex.Interval, Untyped: true})
		}
	}
	if def.ValidRange != "" {
		props = append(props, das.Property{Name: "validRange", Value: def.ValidRange, Untyped: true})
	}
	if def.RequiresInterval {
		props = append(props, das.Property{Name: "requiresInterval", Value: "1", Untyped: true})
	}
	for i, p := range def.Params {
		props = append(props, das.Property{Name: fmt.Sprintf("param_%02d", i), Value: strings.TrimSuffix(p.Flag+" | "+p.Description, " | "), Untyped: true})
	}
	for _, k := range []string{"item", "data", "coord"} {
		for _, e := range def.DSDF.Numbered(k) {
			props = append(props, das.Property{Name: fmt.Sprintf("%s_%02d", k, e.Index), Value: e.Value, Untyped: true})
		}
	}
	if !def.Reducible {
		props = append(props, das.Property{Name: "reducible", Value: "0", Untyped: true})
	}
	if len(def.ReadAccess) > 0 {
		realm := def.SecurityRealm
		if realm == "" {
			realm = h.Realm
		}
		props = append(props, das.Property{Name: "securityRealm", Value: realm, Untyped: true})
	}
	w.Header().Set("Content-Type", mimeDas2Text)
	wr := das2.NewWriter(w, das2.WriterOptions{})
	if err := wr.Stream(&das.Stream{Version: "2.2", Props: props}); err != nil {
		h.Log.WarnContext(r.Context(), "das dsdf", "id", def.ID, "err", err)
		return
	}
	_ = wr.Close()
}

// readerData answers a data request for a reader source: the reader (or the cache) into
// the requested writer, reduced when asked; failures before output are a status and an
// exception, after output an exception appended.
func (h *handler) readerData(w http.ResponseWriter, r *http.Request, def *readers.Definition, q query, out output, rd Read, ws bool) {
	if ws || q.vals["follow"] != "" && truthy(q.vals["follow"]) {
		h.fail(w, r, out.version, http.StatusBadRequest, das.IllegalArgument, "reader sources have no live tail (follow, flexRT)")
		return
	}
	start, stop := ToTime(rd.Min), ToTime(rd.Max)
	if !h.readerAllowed(w, r, def, out.version, stop) {
		return
	}
	req := readers.Request{Start: readers.ReaderTime(start), End: readers.ReaderTime(stop), RequestID: r.Header.Get("X-Request-Id")}
	req.Params, _ = q.get("read.opts")
	if def.RequiresInterval {
		if v, ok := q.get("read.time.interval"); ok {
			req.Interval = v
		} else if q.name("bin.time.max") == "interval" {
			// das2 clients send an interval source's interval as `interval`.
			req.Interval, rd.Bin = strconv.FormatFloat(rd.Bin, 'f', -1, 64), 0
		}
	}
	if _, err := readers.Argv(def, req); err != nil {
		h.fail(w, r, out.version, http.StatusBadRequest, das.IllegalArgument, err.Error())
		return
	}
	lw := h.answer(w, r, out, func(ext string) string { return readerFilename(def, start, stop, ext) })
	out.opts.FlushEvery = 1000
	writer, err := convert.NewWriter(lw, out.opts)
	if err != nil {
		h.internal(w, r, out.version, err)
		return
	}
	sink := writer
	var res time.Duration
	if rd.Bin > 0 && def.Reducible {
		res = time.Duration(rd.Bin * float64(time.Second))
		if sink, err = reduce.New(writer, reduce.Options{Width: rd.Bin, Begin: rd.Min, HasBegin: true}); err != nil {
			h.internal(w, r, out.version, err)
			return
		}
	}
	track := readers.Track(sink)
	err = h.Readers.StreamReader(r.Context(), def, req, start, stop, res, track)
	switch {
	case r.Context().Err() != nil:
		return // the client went away; the reader was killed
	case err == nil && track.Records == 0 && !track.Started:
		_ = writer.Stream(&das.Stream{Version: "2.2", Props: das.Properties{{Name: "title", Value: def.Description}}})
		if !out.csv {
			_ = writer.Exception(&das.Exception{Type: excType(out.version)(das.NoDataInInterval), Message: "no data in the interval " + rangeText(rd.Min, rd.Max)})
		}
		_ = writer.Close()
		lw.start()
	case err == nil:
		if track.Records == 0 && !out.csv {
			_ = sink.Exception(&das.Exception{Type: excType(out.version)(das.NoDataInInterval), Message: "no data in the interval " + rangeText(rd.Min, rd.Max)})
		}
		_ = sink.Close()
		lw.start()
	case !track.Started && !lw.started:
		h.readerFailed(w, r, def, out.version, err)
	default:
		h.Log.WarnContext(r.Context(), "reader failed after output began", "source", def.ID, "err", err)
		_ = sink.Exception(&das.Exception{Type: excType(out.version)(das.ServerError), Message: readerMessage(err)})
		_ = sink.Close()
	}
}

// readerFailed answers a reader failure before any output.
func (h *handler) readerFailed(w http.ResponseWriter, r *http.Request, def *readers.Definition, version int, err error) {
	var be *readers.BusyError
	var ae *readers.ArgumentError
	switch {
	case errors.As(err, &be):
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(be.RetryAfter.Seconds()))))
		h.fail(w, r, version, http.StatusServiceUnavailable, das.ServerError, be.Error())
	case errors.As(err, &ae):
		h.fail(w, r, version, http.StatusBadRequest, das.IllegalArgument, ae.Error())
	default:
		h.Log.WarnContext(r.Context(), "reader failed", "source", def.ID, "err", err)
		h.fail(w, r, version, http.StatusInternalServerError, das.ServerError, readerMessage(err))
	}
}

// readerMessage is what a client is told of a reader failure: the exit status and the
// reader's last stderr line (meant for the data's users), or that it ran out of time.
func readerMessage(err error) string {
	var ee *readers.ExitError
	var bo *readers.BadOutputError
	switch {
	case errors.As(err, &ee):
		return ee.Error()
	case errors.Is(err, readers.ErrTimeout):
		return "the reader ran out of time"
	case errors.As(err, &bo):
		return bo.Error()
	}
	return "the reader failed"
}

func readerFilename(def *readers.Definition, start, stop time.Time, ext string) string {
	name := strings.ReplaceAll(def.ID, "/", "_")
	return name + "_" + start.UTC().Format("20060102T150405") + "_" + stop.UTC().Format("20060102T150405") + "." + ext
}

// readerListLines are server=list lines of the reader sources the viewer may see.
func (h *handler) readerListLines(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if h.Readers == nil {
		return out, nil
	}
	for _, def := range h.Readers.ReaderList() {
		d, err := h.Readers.ReaderAccess(ctx, def)
		if err != nil {
			return nil, err
		}
		if d.Visible() {
			out[def.ID] = def.Description
		} else {
			out[def.ID] = "" // taken: a sequence with this id is not listed either
		}
	}
	return out, nil
}

// readerStreamSrc is the HttpStreamSrc node of a reader source: the flex parameters (and
// read.opts with the flags its definition documents), its valid range and examples.
func (h *handler) readerStreamSrc(r *http.Request, def *readers.Definition) map[string]any {
	params := map[string]any{
		"read.time.min":  map[string]any{"required": true, "type": "isotime", "label": "Min Time", "title": "Start of the range (inclusive)"},
		"read.time.max":  map[string]any{"required": true, "type": "isotime", "label": "Max Time", "title": "End of the range (exclusive)"},
		"format.type":    map[string]any{"required": false, "type": "enum", "enum": []string{"das", "csv"}},
		"format.version": map[string]any{"required": false, "type": "enum", "enum": []string{"2", "3"}},
		"format.serial":  map[string]any{"required": false, "type": "enum", "enum": []string{"text", "binary"}},
	}
	if def.Reducible {
		params["bin.time.max"] = map[string]any{"required": false, "type": "real", "units": "s", "title": "Largest acceptable bin width"}
	}
	if !def.DropParams {
		var flags []string
		for _, p := range def.Params {
			flags = append(flags, p.Flag)
		}
		params["read.opts"] = map[string]any{"required": false, "type": "string", "title": "Reader options (space separated)", "flags": flags}
	}
	if def.RequiresInterval {
		params["read.time.interval"] = map[string]any{"required": true, "type": "real", "units": "s"}
	}
	url := h.baseURL(r) + "/source/" + def.ID + "/flex"
	protocol := map[string]any{
		"method": "GET", "convention": "HTTP/1.1", "baseUrls": []string{url}, "base_urls": []string{url},
		"authorization": map[string]any{"required": len(def.ReadAccess) > 0}, "httpParams": params, "http_params": params,
	}
	if len(def.ReadAccess) > 0 {
		realm := def.SecurityRealm
		if realm == "" {
			realm = h.Realm
		}
		protocol["authentications"] = []any{map[string]any{"method": "HTTP/Basic", "realm": realm}}
	}
	timeCoord := map[string]any{"label": "Time", "props": map[string]any{
		"min":   map[string]any{"label": "Minimum", "value": nil, "set": map[string]any{"param": "read.time.min", "required": true}},
		"max":   map[string]any{"label": "Maximum", "value": nil, "set": map[string]any{"param": "read.time.max", "required": true}},
		"units": map[string]any{"value": "UTC"},
	}}
	if lo, hi, ok := strings.Cut(def.ValidRange, " to "); ok {
		timeCoord["validRange"] = []string{strings.TrimSpace(lo), strings.TrimSpace(hi)}
	}
	var examples []any
	for _, ex := range def.Examples {
		lo, hi, ok := exampleRange(ex)
		if !ok {
			continue
		}
		settings := map[string]any{"coords/time/props/min": lo, "coords/time/props/max": hi}
		if ex.Params != "" {
			settings["read.opts"] = ex.Params
		}
		examples = append(examples, map[string]any{"label": ex.Label, "settings": settings})
	}
	data := map[string]any{}
	for _, item := range def.Items {
		data[item] = map[string]any{"label": item}
	}
	return map[string]any{
		"type": "HttpStreamSrc", "version": streamSrcVersion, "label": lastName(def.ID), "title": def.Description,
		"protocol":  protocol,
		"interface": map[string]any{"coords": map[string]any{"time": timeCoord}, "data": data, "examples": examples},
	}
}

// exampleRange splits an example's "START to END [UTC]" into its times.
func exampleRange(ex readers.Example) (lo, hi string, ok bool) {
	lo, hi, ok = strings.Cut(ex.Range, " to ")
	return strings.TrimSpace(lo), strings.TrimSuffix(strings.TrimSpace(hi), " UTC"), ok
}

// visibleReaders calls f with every reader source of lines (readerListLines) the viewer
// may see, in id order.
func (h *handler) visibleReaders(lines map[string]string, f func(id, desc string)) {
	if h.Readers == nil {
		return
	}
	for _, def := range h.Readers.ReaderList() {
		if desc, ok := lines[def.ID]; ok && desc != "" {
			f(def.ID, desc)
		}
	}
}

// readerForm answers source/<id>.html of a reader source: links that read each example
// range in every format, and a query form filled in with the first example.
func (h *handler) readerForm(w http.ResponseWriter, def *readers.Definition) {
	flex := h.Prefix + "/source/" + pathEscape(def.ID) + "/flex"
	e := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><meta charset=\"utf-8\"><title>%[1]s</title>\n<h1>%[1]s</h1>\n<p>%[2]s</p>\n", e(def.ID), e(def.Description))
	if def.ValidRange != "" {
		fmt.Fprintf(&b, "<p>Valid range: %s.</p>\n", e(def.ValidRange))
	}
	formats := []struct{ label, q string }{
		{"das3 binary", ""}, {"das3 text", "&format.serial=text"},
		{"das2 binary", "&format.version=2"}, {"das2 text", "&format.version=2&format.serial=text"},
		{"CSV", "&format.type=csv&format.headers=true"},
	}
	var lo, hi, opts, interval string
	for i, ex := range def.Examples {
		a, z, ok := exampleRange(ex)
		if !ok {
			continue
		}
		if i == 0 {
			lo, hi, opts, interval = a, z, ex.Params, ex.Interval
		}
		label := ex.Label
		if label == "" {
			label = a + " to " + z
		}
		q := "read.time.min=" + url.QueryEscape(a) + "&read.time.max=" + url.QueryEscape(z)
		if ex.Params != "" && !def.DropParams {
			q += "&read.opts=" + url.QueryEscape(ex.Params)
		}
		if ex.Interval != "" && def.RequiresInterval {
			q += "&read.time.interval=" + url.QueryEscape(ex.Interval)
		}
		fmt.Fprintf(&b, "<p>Example: %s</p>\n<ul>\n", e(label))
		for _, f := range formats {
			fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", e(flex+"?"+q+f.q), e(f.label))
		}
		b.WriteString("</ul>\n")
	}
	fmt.Fprintf(&b, "<form method=\"get\" action=\"%s\">\n<p><label>From <input name=\"read.time.min\" value=\"%s\" required></label>\n<label>to <input name=\"read.time.max\" value=\"%s\" required></label>\n", e(flex), e(lo), e(hi))
	if def.Reducible {
		b.WriteString("<label>bins of at most <input name=\"bin.time.max\" size=\"6\"> s</label>\n")
	}
	if def.RequiresInterval {
		fmt.Fprintf(&b, "<label>interval <input name=\"read.time.interval\" value=\"%s\" size=\"6\" required> s</label>\n", e(interval))
	}
	b.WriteString("</p>\n")
	if !def.DropParams {
		fmt.Fprintf(&b, "<p><label>Reader options <input name=\"read.opts\" value=\"%s\"></label></p>\n", e(opts))
		if len(def.Params) > 0 {
			b.WriteString("<dl>\n")
			for _, p := range def.Params {
				fmt.Fprintf(&b, "<dt><code>%s</code></dt><dd>%s</dd>\n", e(p.Flag), e(p.Description))
			}
			b.WriteString("</dl>\n")
		}
	}
	b.WriteString(`<p><label>Format <select name="format.type"><option>das</option><option>csv</option></select></label>
<label>version <select name="format.version"><option>3</option><option>2</option></select></label>
<label>serialization <select name="format.serial"><option>binary</option><option>text</option></select></label>
<label>CSV header row <select name="format.headers"><option>false</option><option>true</option></select></label></p>
<p><button>Get the data</button></p>
</form>
`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
