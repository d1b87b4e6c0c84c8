package sources

import (
	_ "embed"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// logoPNG is the server=logo and logo.png answer.
//
//go:embed logo.png
var logoPNG []byte

func (h *handler) logo(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(logoPNG)
}

func (h *handler) id(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, h.Site)
}

// idJSON answers id.json: the site name and where the server is.
func (h *handler) idJSON(w http.ResponseWriter, r *http.Request) {
	base := h.baseURL(r)
	writeJSON(w, map[string]any{
		"label": h.Site, "title": h.Site + " das server",
		"server": base + "/server", "catalog": base + "/root.json", "logo": base + "/logo.png",
	})
}

// peers answers server=peers and peers.xml: this server knows no peers.
func (h *handler) peers(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<das2server>\n  <peers>\n  </peers>\n</das2server>\n"))
}

// nodes answers nodes.csv: one row per catalog node (spec 5.6, "Flat lists"), CRLF, every
// non-empty field quoted.
func (h *handler) nodes(w http.ResponseWriter, r *http.Request) {
	srcs, err := h.Service.List(r.Context(), access.ViewerFrom(r.Context()))
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	base := h.baseURL(r)
	var b strings.Builder
	row := func(fields ...string) {
		for i, f := range fields {
			if i > 0 {
				b.WriteByte(',')
			}
			if f != "" {
				b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
			}
		}
		b.WriteString("\r\n")
	}
	head := []string{"LocalID", "Type", "Title", "URL", "Item-MIME"}
	for range provides {
		head = append(head, "Provides-MIME")
	}
	row(head...)
	pad := func(fields []string) []string {
		for len(fields) < len(head) {
			fields = append(fields, "")
		}
		return fields
	}
	rdrs, err := h.readerListLines(r.Context())
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	source := func(id, desc string) {
		u := base + "/source/" + id
		row(pad([]string{id, "SourceSet", desc, u + ".json", "application/json"})...)
		row(append([]string{id + "/flex", "HttpStreamSrc", desc, u + "/flex.json", "application/json"}, provides...)...)
		row(pad([]string{id + "/das2", "Das2DSDF", desc, u + "/das2.d2t", "text/vnd.das2.das2stream", mimeDas2Binary})...)
	}
	for _, s := range srcs {
		if _, taken := rdrs[s.ID]; !taken {
			source(s.ID, s.Description())
		}
	}
	h.visibleReaders(rdrs, source)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// directory answers source/: an HTML list of the sources with links to their forms.
func (h *handler) directory(w http.ResponseWriter, r *http.Request) {
	srcs, err := h.Service.List(r.Context(), access.ViewerFrom(r.Context()))
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><meta charset=\"utf-8\"><title>%[1]s das sources</title>\n<h1>%[1]s das sources</h1>\n<ul>\n", html.EscapeString(h.Site))
	rdrs, err := h.readerListLines(r.Context())
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	item := func(id, desc string) {
		fmt.Fprintf(&b, "<li><a href=\"%s.html\">%s</a> %s</li>\n", html.EscapeString(h.Prefix+"/source/"+pathEscape(id)), html.EscapeString(id), html.EscapeString(desc))
	}
	for _, s := range srcs {
		if _, taken := rdrs[s.ID]; !taken {
			item(s.ID, s.Description())
		}
	}
	h.visibleReaders(rdrs, item)
	b.WriteString("</ul>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// pathEscape escapes each segment of a source id for a URL path.
func pathEscape(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// form answers source/<id>.html: an HTML query form whose example links fill in the last
// day with data in every format.
func (h *handler) form(w http.ResponseWriter, r *http.Request, id string) {
	if def, ok := h.reader(id); ok {
		if h.readerAllowed(w, r, def, 2, time.Time{}) {
			h.readerForm(w, def)
		}
		return
	}
	src, ok := h.source(w, r, id, 2)
	if !ok {
		return
	}
	first, last, has, err := h.Service.Coverage(r.Context(), src)
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	flex := h.Prefix + "/source/" + pathEscape(src.ID) + "/flex"
	lo, hi := "", ""
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, "<!doctype html><meta charset=\"utf-8\"><title>%[1]s</title>\n<h1>%[1]s</h1>\n<p>%[2]s</p>\n", e(src.ID), e(src.Description()))
	if has {
		a, z := dasTimeOf(first).Floor(0), dasTimeOf(last).Floor(0).Add(1)
		ex := max(a, z.Add(-86400))
		lo, hi = string(dastime.AppendISO(nil, ex, 0)), string(dastime.AppendISO(nil, z, 0))
		fmt.Fprintf(&b, "<p>Data from %s to %s.</p>\n<p>The last day with data:</p>\n<ul>\n", e(string(dastime.AppendISO(nil, a, 0))), e(string(dastime.AppendISO(nil, z, 0))))
		rng := "read.time.min=" + url.QueryEscape(lo) + "&read.time.max=" + url.QueryEscape(hi)
		for _, l := range []struct{ label, q string }{
			{"das3 binary", ""}, {"das3 text", "&format.serial=text"},
			{"das2 binary", "&format.version=2"}, {"das2 text", "&format.version=2&format.serial=text"},
			{"CSV", "&format.type=csv&format.headers=true"},
			{"das2 text, about 2000 bins", "&format.version=2&format.serial=text&bin.time.max=" + fmt.Sprint(float64(z-ex)/1e9/2000)},
		} {
			fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", e(flex+"?"+rng+l.q), e(l.label))
		}
		b.WriteString("</ul>\n")
	} else {
		b.WriteString("<p>No values are stored yet.</p>\n")
	}
	fmt.Fprintf(&b, `<form method="get" action="%s">
<p><label>From <input name="read.time.min" value="%s" required></label>
<label>to <input name="read.time.max" value="%s" required></label>
<label>bins of at most <input name="bin.time.max" size="6"> s</label></p>
<p><label>Format <select name="format.type"><option>das</option><option>csv</option></select></label>
<label>version <select name="format.version"><option>3</option><option>2</option></select></label>
<label>serialization <select name="format.serial"><option>binary</option><option>text</option></select></label>
<label>CSV header row <select name="format.headers"><option>false</option><option>true</option></select></label></p>
<p><button>Get the data</button></p>
</form>
`, e(flex), e(lo), e(hi))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
