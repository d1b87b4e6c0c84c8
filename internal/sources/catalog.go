package sources

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Catalog node types and versions (spec 5.6).
const (
	catalogVersion   = "0.5"
	sourceSetVersion = "0.1"
	streamSrcVersion = "0.7"
)

var provides = []string{mimeDas3Binary, "text/vnd.das.stream", mimeDas2Binary, "text/vnd.das2.das2stream", "text/csv"}

// baseURL is the absolute URL of the mount: the configured base URL, else the request's host.
func (h *handler) baseURL(r *http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimSuffix(h.BaseURL, "/") + h.Prefix
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + h.Prefix
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// catalog answers catalog.json: a Catalog node listing the sources the caller may read.
func (h *handler) catalog(w http.ResponseWriter, r *http.Request) {
	srcs, err := h.Service.List(r.Context(), access.ViewerFrom(r.Context()))
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	base := h.baseURL(r)
	entries := map[string]any{}
	for _, s := range srcs {
		entries[s.ID] = map[string]any{
			"type": "SourceSet", "title": s.Description(),
			"urls": []string{base + "/source/" + s.ID + ".json"},
		}
	}
	rdrs, err := h.readerListLines(r.Context())
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	for id, desc := range rdrs {
		delete(entries, id) // a reader source takes its id from a sequence
		if desc != "" {
			entries[id] = map[string]any{"type": "SourceSet", "title": desc, "urls": []string{base + "/source/" + id + ".json"}}
		}
	}
	writeJSON(w, map[string]any{
		"type": "Catalog", "version": catalogVersion, "label": h.Site, "title": h.Site + " das sources",
		"catalog": entries,
	})
}

// sourceSet answers source/<id>.json: the ways to read one source.
func (h *handler) sourceSet(w http.ResponseWriter, r *http.Request, id string) {
	if def, ok := h.reader(id); ok {
		if h.readerAllowed(w, r, def, 2, time.Time{}) {
			writeJSON(w, sourceSetNode(h.baseURL(r)+"/source/"+def.ID, lastName(def.ID), def.Description))
		}
		return
	}
	src, ok := h.source(w, r, id, 2)
	if !ok {
		return
	}
	writeJSON(w, sourceSetNode(h.baseURL(r)+"/source/"+src.ID, src.Res.Name, src.Description()))
}

// sourceSetNode is a SourceSet node: the flex API and the das2 DSDF of one source.
func sourceSetNode(base, label, title string) map[string]any {
	return map[string]any{
		"type": "SourceSet", "version": sourceSetVersion, "label": label, "title": title,
		"catalog": map[string]any{
			"flex": map[string]any{
				"type": "HttpStreamSrc", "purpose": "primary-stream", "label": "Primary Source",
				"mime": "application/json", "provides": provides, "urls": []string{base + "/flex.json"},
			},
			"das2": map[string]any{
				"type": "Das2DSDF", "purpose": "primary-stream", "label": "Das2 Source",
				"mime": "text/vnd.das2.das2stream", "provides": []string{mimeDas2Binary}, "urls": []string{base + "/das2.d2t"},
			},
		},
	}
}

// lastName is the part of an id after its last slash.
func lastName(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// streamSrc answers source/<id>/flex.json: the HttpStreamSrc node describing the flex API
// of one source. Both the camelCase keys of dasFlex 0.7 and the snake_case ones das2py
// reads are written.
func (h *handler) streamSrc(w http.ResponseWriter, r *http.Request, id string) {
	if def, ok := h.reader(id); ok {
		if h.readerAllowed(w, r, def, 2, time.Time{}) {
			writeJSON(w, h.readerStreamSrc(r, def))
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
	auth := map[string]any{"required": h.Service.Authz.Require(r.Context(), &access.Viewer{}, src.Res, access.Read) != nil}
	params := map[string]any{
		"read.time.min":   map[string]any{"required": true, "type": "isotime", "label": "Min Time", "title": "Start of the range (inclusive)"},
		"read.time.max":   map[string]any{"required": true, "type": "isotime", "label": "Max Time", "title": "End of the range (exclusive)"},
		"bin.time.max":    map[string]any{"required": false, "type": "real", "units": "s", "title": "Largest acceptable bin width"},
		"format.type":     map[string]any{"required": false, "type": "enum", "enum": []string{"das", "csv"}},
		"format.version":  map[string]any{"required": false, "type": "enum", "enum": []string{"2", "3"}},
		"format.serial":   map[string]any{"required": false, "type": "enum", "enum": []string{"text", "binary"}},
		"format.secfrac":  map[string]any{"required": false, "type": "integer", "range": []int{0, 9}},
		"format.sigdigit": map[string]any{"required": false, "type": "integer", "range": []int{2, 17}},
		"format.delim":    map[string]any{"required": false, "type": "string"},
		"format.headers":  map[string]any{"required": false, "type": "boolean"},
	}
	protocol := map[string]any{
		"method": "GET", "convention": "HTTP/1.1",
		"baseUrls": []string{h.baseURL(r) + "/source/" + src.ID + "/flex"}, "base_urls": []string{h.baseURL(r) + "/source/" + src.ID + "/flex"},
		"authorization": auth, "httpParams": params, "http_params": params,
	}
	if auth["required"] == true {
		protocol["authentications"] = []any{map[string]any{"method": "HTTP/Basic", "realm": h.Realm}}
	}
	timeCoord := map[string]any{"label": "Time", "props": map[string]any{
		"min":   map[string]any{"label": "Minimum", "value": nil, "set": map[string]any{"param": "read.time.min", "required": true}},
		"max":   map[string]any{"label": "Maximum", "value": nil, "set": map[string]any{"param": "read.time.max", "required": true}},
		"res":   map[string]any{"label": "Resolution", "value": nil, "units": "s", "set": map[string]any{"param": "bin.time.max", "required": false}},
		"units": map[string]any{"value": "UTC"},
	}}
	var examples []any
	if has {
		lo := dasTimeOf(first).Floor(0)
		hi := dasTimeOf(last).Floor(0).Add(1)
		ex := max(lo, hi.Add(-86400))
		timeCoord["validRange"] = []string{string(dastime.AppendISO(nil, lo, 0)), string(dastime.AppendISO(nil, hi, 0))}
		examples = append(examples, map[string]any{"label": "The last day with data", "settings": map[string]any{
			"coords/time/props/min": string(dastime.AppendISO(nil, ex, 0)),
			"coords/time/props/max": string(dastime.AppendISO(nil, hi, 0)),
			"coords/time/props/res": float64(hi-ex) / 1e9 / 2000,
		}})
	}
	ds, err := Dataset(src)
	if err != nil {
		h.internal(w, r, 2, err)
		return
	}
	writeJSON(w, map[string]any{
		"type": "HttpStreamSrc", "version": streamSrcVersion, "label": src.Res.Name, "title": src.Description(),
		"protocol": protocol,
		"interface": map[string]any{
			"coords":   map[string]any{"time": timeCoord},
			"data":     dataVars(src, ds),
			"examples": examples,
		},
	})
}

// dataVars is the interface's data section: one entry per <y>.
func dataVars(src Source, ds *das.Dataset) map[string]any {
	out := map[string]any{}
	j := 0
	for _, d := range ds.Dims {
		if d.Kind != das.Data {
			continue
		}
		v := src.Vars[j]
		j++
		out[d.Name] = map[string]any{"label": v.Name, "title": varTitle(v), "props": map[string]any{"units": map[string]any{"value": rawUnits(v)}}}
	}
	return out
}
