package readers

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/shlex"
)

// StreamFormat is what a reader writes on stdout.
type StreamFormat int

// Reader output formats.
const (
	Das2 StreamFormat = 2
	Das3 StreamFormat = 3
)

// Definition is one reader source: what its DSDF says, checked and typed.
type Definition struct {
	ID          string // path below the sources directory, without extension
	File        string
	Description string
	Reader      []string // argv prefix: the program and its fixed arguments
	Format      StreamFormat
	TechContact string
	SciContact  string
	Examples    []Example
	ValidRange  string
	// RequiresInterval readers take INTERVAL START END (ephemeris sources).
	RequiresInterval bool
	Items            []string
	Params           []ParamDoc
	Reducible        bool
	DropParams       bool
	ReadAccess       []AccessRule // empty: public
	SecurityRealm    string
	CacheLevels      []CacheLevel
	DSDF             *DSDF
	// template is a JSON source's reader command line (nil for DSDF sources, whose
	// Reader is followed by [INTERVAL] START END PARAMS).
	template []templateWord
}

// Example is one example range (exampleRange_NN and its companions).
type Example struct {
	Range    string // "START to END [UNITS]"
	Label    string // the text after `|`
	Interval string
	Params   string
}

// ParamDoc documents one flag the reader accepts in `params`.
type ParamDoc struct {
	Flag        string
	Description string
}

// AccessKind says what a readAccess rule tests.
type AccessKind string

// readAccess rule kinds.
const (
	AccessAge   AccessKind = "AGE"   // data older than Age is public
	AccessGroup AccessKind = "GROUP" // members of the organization Name
	AccessUser  AccessKind = "USER"  // the user with e-mail Name
)

// AccessRule is one alternative of a readAccess list; any rule that holds grants access.
type AccessRule struct {
	Kind AccessKind
	Name string
	Age  time.Duration
}

// CacheLevel is one cacheLevel_NN: blocks of Period reduced to Resolution (0 = the
// reader's intrinsic resolution) for requests whose normalized params equal Params.
type CacheLevel struct {
	Resolution time.Duration
	Period     string
	Params     string // normalized (NormalizeParams)
	RawParams  string // as written, passed to the reader
}

// Cache block periods.
var cachePeriods = map[string]bool{"persecond": true, "perminute": true, "hourly": true, "daily": true, "monthly": true}

// MaxReaderArgs bounds the words of a reader command.
const MaxReaderArgs = 64

// Define checks a parsed DSDF and returns the source it defines.
func Define(id string, d *DSDF) (*Definition, error) {
	def := &Definition{ID: id, File: d.File, DSDF: d, Reducible: true}
	fail := func(key string, format string, args ...any) error {
		e, _ := d.Entry(key)
		return &Error{File: d.File, Line: e.Line, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	required := func(key string) (string, error) {
		e, ok := d.Entry(key)
		if !ok {
			return "", &Error{File: d.File, Key: key, Msg: "required key is missing"}
		}
		if strings.TrimSpace(e.Value) == "" {
			return "", &Error{File: d.File, Line: e.Line, Key: e.Key, Msg: "required value is empty"}
		}
		return strings.TrimSpace(e.Value), nil
	}
	var err error
	if def.Description, err = required("description"); err != nil {
		return nil, err
	}
	reader, err := required("reader")
	if err != nil {
		return nil, err
	}
	if def.Reader, err = shlex.Split(reader); err != nil {
		return nil, fail("reader", "cannot split into words: %v", err)
	}
	if len(def.Reader) == 0 || len(def.Reader) > MaxReaderArgs {
		return nil, fail("reader", "needs a program and at most %d words", MaxReaderArgs)
	}
	switch {
	case truthy(d, "das3Stream"):
		def.Format = Das3
	case truthy(d, "das2Stream"):
		def.Format = Das2
	case truthy(d, "qstream"):
		return nil, fail("qstream", "QStream readers are not supported; readers must write das2 or das3")
	default:
		return nil, &Error{File: d.File, Key: "das2Stream", Msg: "required key is missing (or das3Stream = 1)"}
	}
	if def.TechContact, err = required("techContact"); err != nil {
		return nil, err
	}
	def.SciContact, _ = d.Get("sciContact")
	def.ValidRange, _ = d.Get("validRange")
	def.RequiresInterval = truthy(d, "requiresInterval") || truthy(d, "requiresResolution")
	def.DropParams = truthy(d, "dropParams")
	def.SecurityRealm, _ = d.Get("securityRealm")
	if r, ok := d.Get("reducer"); ok {
		switch strings.ToLower(strings.TrimSpace(r)) {
		case "not_reducible", "not_reducable", "pre_reduced":
			def.Reducible = false
		}
	}
	if v, ok := d.Get("reducible"); ok && strings.TrimSpace(v) == "0" {
		def.Reducible = false
	}
	for _, e := range d.Numbered("exampleRange") {
		ex := Example{Range: strings.TrimSpace(e.Value)}
		if r, label, ok := strings.Cut(e.Value, "|"); ok {
			ex.Range, ex.Label = strings.TrimSpace(r), strings.TrimSpace(label)
		}
		if !strings.Contains(ex.Range, " to ") {
			return nil, &Error{File: d.File, Line: e.Line, Key: e.Key, Msg: fmt.Sprintf("%q is not START to END", ex.Range)}
		}
		if v, ok := d.At("exampleInterval", e.Index); ok {
			ex.Interval = v.Value
		}
		if v, ok := d.At("exampleParams", e.Index); ok {
			ex.Params = v.Value
		}
		def.Examples = append(def.Examples, ex)
	}
	if len(def.Examples) == 0 {
		return nil, &Error{File: d.File, Key: "exampleRange_00", Msg: "required key is missing"}
	}
	for _, k := range []string{"item", "data"} {
		for _, e := range d.Numbered(k) {
			id, _, _ := strings.Cut(e.Value, "|")
			def.Items = append(def.Items, strings.TrimSpace(id))
		}
	}
	for _, e := range d.Numbered("param") {
		flag, desc, _ := strings.Cut(e.Value, "|")
		def.Params = append(def.Params, ParamDoc{Flag: strings.TrimSpace(flag), Description: strings.TrimSpace(desc)})
	}
	if e, ok := d.Entry("readAccess"); ok {
		if def.ReadAccess, err = parseReadAccess(e.Value); err != nil {
			return nil, &Error{File: d.File, Line: e.Line, Key: e.Key, Msg: err.Error()}
		}
	}
	for _, e := range d.Numbered("cacheLevel") {
		cl, err := parseCacheLevel(e.Value)
		if err != nil {
			return nil, &Error{File: d.File, Line: e.Line, Key: e.Key, Msg: err.Error()}
		}
		def.CacheLevels = append(def.CacheLevels, cl)
	}
	return def, nil
}

func truthy(d *DSDF, key string) bool {
	v, _ := d.Get(key)
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// parseReadAccess reads `AGE:1y6m|GROUP:name|USER:name`.
func parseReadAccess(s string) ([]AccessRule, error) {
	var rules []AccessRule
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, name, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%q is not KIND:VALUE (AGE, GROUP or USER)", part)
		}
		r := AccessRule{Kind: AccessKind(strings.ToUpper(strings.TrimSpace(kind))), Name: strings.TrimSpace(name)}
		switch r.Kind {
		case AccessAge:
			age, err := parseAge(r.Name)
			if err != nil {
				return nil, err
			}
			r.Age, r.Name = age, ""
		case AccessGroup, AccessUser:
		default:
			return nil, fmt.Errorf("unknown readAccess kind %q (want AGE, GROUP or USER)", kind)
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("empty readAccess")
	}
	return rules, nil
}

var agePart = regexp.MustCompile(`([0-9]+)\s*([ymwdhs])`)

// parseAge reads das2 readAccess ages such as `1y6m`, `30d`, `12h`: y years (365 days),
// m months (30 days), w weeks, d days, h hours, s seconds.
func parseAge(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	parts := agePart.FindAllStringSubmatchIndex(s, -1)
	covered := 0
	var total time.Duration
	for _, p := range parts {
		if strings.TrimSpace(s[covered:p[0]]) != "" {
			break
		}
		n, err := strconv.Atoi(s[p[2]:p[3]])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("age %q is out of range", s)
		}
		unit := map[string]time.Duration{"y": 365 * 24 * time.Hour, "m": 30 * 24 * time.Hour, "w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "s": time.Second}[s[p[4]:p[5]]]
		total += time.Duration(n) * unit
		covered = p[1]
	}
	if len(parts) == 0 || strings.TrimSpace(s[covered:]) != "" || total <= 0 {
		return 0, fmt.Errorf("age %q is not like 1y6m, 30d or 12h", s)
	}
	return total, nil
}

// parseCacheLevel reads `RES | PERIOD [| params]`.
func parseCacheLevel(s string) (CacheLevel, error) {
	parts := strings.Split(s, "|")
	if len(parts) < 2 || len(parts) > 3 {
		return CacheLevel{}, fmt.Errorf("%q is not RES | PERIOD [| params]", s)
	}
	var cl CacheLevel
	res := strings.TrimSpace(parts[0])
	if !strings.EqualFold(res, "intrinsic") {
		d, err := parseResolution(res)
		if err != nil {
			return CacheLevel{}, err
		}
		cl.Resolution = d
	}
	cl.Period = strings.ToLower(strings.TrimSpace(parts[1]))
	if !cachePeriods[cl.Period] {
		return CacheLevel{}, fmt.Errorf("period %q is not persecond, perminute, hourly, daily or monthly", cl.Period)
	}
	if len(parts) == 3 {
		cl.RawParams = strings.TrimSpace(parts[2])
		cl.Params = NormalizeParams(parts[2])
	} else {
		cl.Params = NormalizeParams("")
	}
	return cl, nil
}

// parseResolution reads `60 s`, `250 ms`, `60`.
func parseResolution(s string) (time.Duration, error) {
	num, unit := s, "s"
	if i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }); i >= 0 {
		num, unit = strings.TrimSpace(s[:i]), strings.ToLower(strings.TrimSpace(s[i:]))
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v > 1e9 {
		return 0, fmt.Errorf("resolution %q is not a positive number of s or ms", s)
	}
	switch unit {
	case "s", "sec", "seconds":
		return time.Duration(v * float64(time.Second)), nil
	case "ms":
		return time.Duration(v * float64(time.Millisecond)), nil
	}
	return 0, fmt.Errorf("resolution %q: unit must be s or ms", s)
}

// NormalizeParams is the cache key of a params value (das-protocols.md 2.8): `_noparam`
// when empty, else the words with `-` replaced by `_`, sorted and joined with `_`.
func NormalizeParams(p string) string {
	words := strings.Fields(p)
	if len(words) == 0 {
		return "_noparam"
	}
	for i, w := range words {
		words[i] = strings.ReplaceAll(w, "-", "_")
	}
	slices.Sort(words)
	return strings.Join(words, "_")
}
