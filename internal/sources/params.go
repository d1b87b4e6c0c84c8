package sources

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// query is a request's parameters: the first value of each key, keys in the flex
// convention, with the name the client used kept for messages.
type query struct {
	vals  map[string]string
	names map[string]string // flex key -> key as sent
}

// parseQuery splits a raw query on '&' and ';' (old das2 redirects use ';'), decoding '+'
// and %XX; empty values count as absent (spec 5.2).
func parseQuery(raw string) (query, error) {
	q := query{vals: map[string]string{}, names: map[string]string{}}
	for _, pair := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return q, fmt.Errorf("bad query parameter name %q", k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return q, fmt.Errorf("bad value of query parameter %s", key)
		}
		val = strings.TrimSpace(val)
		if _, seen := q.vals[key]; seen || val == "" {
			continue
		}
		q.vals[key] = val
		q.names[key] = key
	}
	return q, nil
}

func (q query) get(k string) (string, bool) {
	v, ok := q.vals[k]
	return v, ok
}

// name is the key as the client sent it (for messages).
func (q query) name(k string) string {
	if n, ok := q.names[k]; ok {
		return n
	}
	return k
}

// das2Keys maps the das2 key convention to the flex one (spec 5.2), in priority order.
var das2Keys = []struct{ from, to string }{
	{"start_time", "read.time.min"}, {"start", "read.time.min"}, {"time.min", "read.time.min"},
	{"end_time", "read.time.max"}, {"stop", "read.time.max"}, {"time.max", "read.time.max"},
	{"resolution", "bin.time.max"}, {"interval", "bin.time.max"},
	{"params", "read.opts"},
}

// fromDas2 translates a das2-convention query (server=dataset, source/<id>/das2): start_time
// and friends, resolution (or interval, its 2.3 synonym), ascii; defaults to das2.2 binary.
func (q query) fromDas2() query {
	out := query{vals: map[string]string{}, names: map[string]string{}}
	for k, v := range q.vals {
		switch k {
		case "server", "dataset":
			continue
		}
		out.vals[k], out.names[k] = v, k
	}
	for _, m := range das2Keys {
		v, ok := q.vals[m.from]
		if !ok {
			continue
		}
		delete(out.vals, m.from)
		if _, set := out.vals[m.to]; set && out.names[m.to] != m.to {
			continue // an earlier das2 spelling won
		}
		out.vals[m.to], out.names[m.to] = v, m.from
	}
	for _, m := range das2Keys {
		if _, set := out.vals[m.to]; !set && out.names[m.to] == "" {
			out.names[m.to] = m.from // name a missing key as the das2 client knows it
		}
	}
	if v, ok := q.vals["ascii"]; ok {
		delete(out.vals, "ascii")
		if truthy(v) {
			out.vals["format.serial"], out.names["format.serial"] = "text", "ascii"
		}
	}
	for k, v := range map[string]string{"format.type": "das", "format.version": "2"} {
		if _, ok := out.vals[k]; !ok {
			out.vals[k], out.names[k] = v, k
		}
	}
	return out
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// badParam is a request parameter error: HTTP 400 with a das exception naming it.
type badParam struct{ msg string }

func (e *badParam) Error() string { return e.msg }

func bad(format string, args ...any) error { return &badParam{msg: fmt.Sprintf(format, args...)} }

// output is the requested output format.
type output struct {
	opts    convert.Options
	version int // 2 or 3 (das); the exception version for CSV errors
	csv     bool
}

// Default format.version of the flex API.
const defaultFlexVersion = "3"

// parseOutput reads format.* (spec 5.2). It returns the output even on error, with the
// version as far as it could tell, so the error can be written in that version.
func (q query) parseOutput() (output, error) {
	out := output{version: 2}
	ver, ok := q.get("format.version")
	if !ok {
		ver = defaultFlexVersion
	}
	switch strings.ToLower(ver) {
	case "2", "2.2", "das2":
		out.version = 2
	case "3", "3.0", "das3":
		out.version = 3
	default:
		return out, bad("%s must be 2 or 3 (got %q)", q.name("format.version"), ver)
	}
	typ, _ := q.get("format.type")
	switch strings.ToLower(typ) {
	case "", "das":
		out.opts.Format = convert.Das2
		if out.version == 3 {
			out.opts.Format = convert.Das3
		}
	case "csv":
		out.csv = true
		out.opts.Format = convert.CSV
	default:
		return out, bad("%s must be das or csv (got %q)", q.name("format.type"), typ)
	}
	if s, ok := q.get("format.serial"); ok {
		switch strings.ToLower(s) {
		case "binary":
		case "text":
			out.opts.Text = true
		default:
			return out, bad("%s must be binary or text (got %q)", q.name("format.serial"), s)
		}
	}
	if s, ok := q.get("format.secfrac"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 9 {
			return out, bad("%s must be an integer from 0 to 9 (got %q)", q.name("format.secfrac"), s)
		}
		out.opts.TimeFrac = n
		if n == 0 {
			out.opts.TimeFrac = -1
		}
	}
	if s, ok := q.get("format.sigdigit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 || n > 17 {
			return out, bad("%s must be an integer from 2 to 17 (got %q)", q.name("format.sigdigit"), s)
		}
		out.opts.SigDigits = n
	}
	if s, ok := q.get("format.delim"); ok {
		switch {
		case s == "tab" || s == `\t`:
			out.opts.Delim = '\t'
		case len(s) == 1 && s != `"` && s != "\r" && s != "\n":
			out.opts.Delim = s[0]
		default:
			return out, bad("%s must be one character or tab (got %q)", q.name("format.delim"), s)
		}
	}
	out.opts.NoHeaders = true
	if s, ok := q.get("format.headers"); ok {
		switch strings.ToLower(s) {
		case "1", "true", "yes", "on", "headers":
			out.opts.NoHeaders = false
		case "0", "false", "no", "off":
		default:
			return out, bad("%s must be true or false (got %q)", q.name("format.headers"), s)
		}
	}
	return out, nil
}

// parseRead reads read.time.min, read.time.max and bin.time.max.
func (q query) parseRead() (Read, error) {
	var r Read
	var err error
	if r.Min, err = q.time("read.time.min"); err != nil {
		return r, err
	}
	if r.Max, err = q.time("read.time.max"); err != nil {
		return r, err
	}
	if r.Max <= r.Min {
		return r, bad("%s must be after %s", q.name("read.time.max"), q.name("read.time.min"))
	}
	if s, ok := q.get("bin.time.max"); ok {
		r.Bin, err = strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(r.Bin) || math.IsInf(r.Bin, 0) || r.Bin < 0 {
			return r, bad("%s must be a number of seconds >= 0 (got %q)", q.name("bin.time.max"), s)
		}
	}
	return r, nil
}

func (q query) time(k string) (dastime.Time, error) {
	s, ok := q.get(k)
	if !ok {
		return 0, bad("missing query parameter %s", q.name(k))
	}
	if strings.EqualFold(s, "now") {
		return dasTimeOf(time.Now()), nil
	}
	t, err := dastime.ParseString(s)
	if err != nil {
		return 0, bad("%s is not a time (got %q): use YYYY-MM-DD[THH:MM[:SS[.fff]]], YYYY-DDD or now", q.name(k), s)
	}
	return t, nil
}
