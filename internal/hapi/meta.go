package hapi

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// query is a request's parameters, each given at most once.
type query map[string]string

// parseQuery checks the request parameters against allowed: a malformed query or a
// repeated parameter is 1400, an unknown one 1401. It writes the error and returns
// false when the request fails.
func (h *Handler) parseQuery(w http.ResponseWriter, r *http.Request, allowed ...string) (query, bool) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, 1400, "malformed query")
		return nil, false
	}
	q := query{}
	for k, v := range vals {
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			h.fail(w, r, 1401, "")
			return nil, false
		}
		if len(v) > 1 {
			h.fail(w, r, 1400, "a request parameter is repeated")
			return nil, false
		}
		q[k] = v[0]
	}
	return q, true
}

// one returns the value of the first of names present (HAPI 3 names and their
// HAPI 2 aliases), failing with 1400 when both spellings are given.
func (q query) one(names ...string) (string, bool, bool) {
	var val string
	found := 0
	for _, n := range names {
		if v, ok := q[n]; ok {
			val = v
			found++
		}
	}
	return val, found > 0, found <= 1
}

type aboutObject struct {
	HAPI        string `json:"HAPI"`
	Status      status `json:"status"`
	ID          string `json:"id"`
	Title       string `json:"title"`
	Contact     string `json:"contact"`
	Description string `json:"description,omitempty"`
}

func (h *Handler) about(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.parseQuery(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, aboutObject{
		HAPI: Version, Status: ok(1200), ID: h.opt.ID, Title: h.opt.Title,
		Contact: h.opt.Contact, Description: h.opt.Description,
	})
}

// Formats lists the output formats served.
var Formats = []string{"csv", "binary", "json"}

func (h *Handler) capabilities(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.parseQuery(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		HAPI          string   `json:"HAPI"`
		Status        status   `json:"status"`
		OutputFormats []string `json:"outputFormats"`
		Depth         []string `json:"catalogDepthOptions"`
	}{Version, ok(1200), Formats, []string{"dataset", "all"}})
}

type catalogEntry struct {
	ID    string      `json:"id"`
	Title string      `json:"title,omitempty"`
	Info  *infoObject `json:"info,omitempty"`
}

func (h *Handler) catalog(w http.ResponseWriter, r *http.Request) {
	q, good := h.parseQuery(w, r, "depth", "resolve_references")
	if !good || !h.resolveOK(w, r, q) {
		return
	}
	depth := q["depth"]
	if depth != "" && depth != "dataset" && depth != "all" {
		h.fail(w, r, 1413, "")
		return
	}
	entries, err := h.cat.List(r.Context(), r)
	if err != nil {
		h.catalogError(w, r, err)
		return
	}
	out := make([]catalogEntry, 0, len(entries))
	for _, e := range entries {
		ce := catalogEntry{ID: e.ID, Title: e.Title}
		if depth == "all" {
			ds, err := h.cat.Describe(r.Context(), r, e.ID)
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized) {
				continue // gone or hidden since List
			}
			if err != nil {
				h.catalogError(w, r, err)
				return
			}
			cols := datasetColumns(ds, timeDigits(ds))
			ce.Info = h.infoOf(ds, cols, nil, "")
		}
		out = append(out, ce)
	}
	writeJSON(w, http.StatusOK, struct {
		HAPI    string         `json:"HAPI"`
		Status  status         `json:"status"`
		Catalog []catalogEntry `json:"catalog"`
	}{Version, ok(1200), out})
}

// resolveOK checks resolve_references: we never send references, so both values
// are served alike.
func (h *Handler) resolveOK(w http.ResponseWriter, r *http.Request, q query) bool {
	switch q["resolve_references"] {
	case "", "true", "false":
		return true
	}
	h.fail(w, r, 1412, "")
	return false
}

// infoObject is the info response (spec 3.6.2); HAPI and status are omitted
// inside a catalog.
type infoObject struct {
	HAPI            string      `json:"HAPI,omitempty"`
	Status          *status     `json:"status,omitempty"`
	Format          string      `json:"format,omitempty"`
	Parameters      []Parameter `json:"parameters"`
	StartDate       string      `json:"startDate"`
	StopDate        string      `json:"stopDate"`
	Cadence         string      `json:"cadence,omitempty"`
	SampleStartDate string      `json:"sampleStartDate,omitempty"`
	SampleStopDate  string      `json:"sampleStopDate,omitempty"`
	MaxRequest      string      `json:"maxRequestDuration,omitempty"`
	Description     string      `json:"description,omitempty"`
}

// stopOf is the dataset's stopDate: Stop, or now for an open-ended dataset.
func (h *Handler) stopOf(ds *Dataset) time.Time {
	if ds.Stop.IsZero() {
		return h.opt.Now().UTC().Truncate(time.Second)
	}
	return ds.Stop
}

// infoOf builds the info object of the selected columns; st nil omits HAPI and
// status (catalog depth=all).
func (h *Handler) infoOf(ds *Dataset, cols []*column, st *status, format string) *infoObject {
	in := &infoObject{
		Status: st, Format: format,
		StartDate: formatDate(ds.Start), StopDate: formatDate(h.stopOf(ds)),
		Description: ds.Description,
	}
	if st != nil {
		in.HAPI = Version
	}
	for _, c := range cols {
		in.Parameters = append(in.Parameters, c.Parameter)
	}
	if ds.Cadence > 0 {
		in.Cadence = isoDuration(ds.Cadence)
	}
	if ds.MaxRequest > 0 {
		in.MaxRequest = isoDuration(ds.MaxRequest)
	}
	if !ds.SampleStart.IsZero() && !ds.SampleStop.IsZero() {
		in.SampleStartDate, in.SampleStopDate = formatDate(ds.SampleStart), formatDate(ds.SampleStop)
	}
	return in
}

// isoDuration writes d as an ISO 8601 duration in seconds (PT1S, PT0.001S).
func isoDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// selectColumns applies a parameters= list: the time column always first, the
// others in info order. Unknown names are 1407, out of order or repeated 1411.
func (h *Handler) selectColumns(w http.ResponseWriter, r *http.Request, all []*column, list string) ([]*column, bool) {
	if list == "" {
		return all, true
	}
	index := make(map[string]int, len(all))
	for i, c := range all {
		index[c.Name] = i
	}
	names := strings.Split(list, ",")
	at := make([]int, len(names))
	for k, n := range names {
		i, found := index[n]
		if !found {
			h.fail(w, r, 1407, "")
			return nil, false
		}
		at[k] = i
	}
	for k := 1; k < len(at); k++ {
		if at[k] <= at[k-1] {
			h.fail(w, r, 1411, "")
			return nil, false
		}
	}
	sel := []*column{all[0]}
	for _, i := range at {
		if i != 0 {
			sel = append(sel, all[i])
		}
	}
	return sel, true
}

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	q, good := h.parseQuery(w, r, "dataset", "id", "parameters", "resolve_references")
	if !good || !h.resolveOK(w, r, q) {
		return
	}
	id, found, single := q.one("dataset", "id")
	if !single {
		h.fail(w, r, 1400, "give dataset or id, not both")
		return
	}
	if !found || id == "" {
		h.fail(w, r, 1400, "dataset is required")
		return
	}
	ds, err := h.cat.Describe(r.Context(), r, id)
	if err != nil {
		h.catalogError(w, r, err)
		return
	}
	cols, good := h.selectColumns(w, r, datasetColumns(ds, timeDigits(ds)), q["parameters"])
	if !good {
		return
	}
	st := ok(1200)
	writeJSON(w, http.StatusOK, h.infoOf(ds, cols, &st, ""))
}

var landingPage = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} - HAPI</title></head>
<body>
<h1>{{.Title}}</h1>
<p>This is a <a href="https://hapi-server.org/">HAPI</a> {{.Version}} server.
Contact: {{.Contact}}.</p>
{{with .Description}}<p>{{.}}</p>{{end}}
<ul>
<li><a href="{{.Prefix}}/about">about</a></li>
<li><a href="{{.Prefix}}/capabilities">capabilities</a></li>
<li><a href="{{.Prefix}}/catalog">catalog</a></li>
</ul>
<h2>Datasets you may read</h2>
<ul>
{{range .Entries}}<li><a href="{{$.Prefix}}/info?dataset={{.ID}}">{{.ID}}</a>{{with .Title}} {{.}}{{end}}</li>
{{else}}<li>none</li>
{{end}}</ul>
</body></html>
`))

func (h *Handler) landing(w http.ResponseWriter, r *http.Request) {
	if _, good := h.parseQuery(w, r); !good {
		return
	}
	entries, err := h.cat.List(r.Context(), r)
	if err != nil {
		h.catalogError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err = landingPage.Execute(w, map[string]any{
		"Title": h.opt.Title, "Version": Version, "Contact": h.opt.Contact,
		"Description": h.opt.Description, "Prefix": h.opt.Prefix, "Entries": entries,
	})
	if err != nil {
		h.log.WarnContext(r.Context(), "hapi: landing page", "err", err)
	}
}
