package readers

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DSDF is a parsed data source definition file: IDL-flavoured `key = value` lines
// (das-protocols.md 2.4). Numbered keys (`exampleRange_01`, `exampleRange01`) are kept
// by their base name and index; a key without a suffix is index 0.
type DSDF struct {
	File    string
	entries map[string][]Entry // by base key, sorted by index
}

// Entry is one key's value with where it came from.
type Entry struct {
	Key   string // as written
	Index int    // the two-digit suffix, 0 without one
	Value string // quotes stripped, continuation lines joined
	Line  int    // first line of the entry, 1-based
}

// Error is a problem with one definition file, named by file, line and key so that an
// operator can go straight to it.
type Error struct {
	File string
	Line int // 0 when the problem is not on one line (a missing key)
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// MaxDSDFBytes bounds one definition file.
const MaxDSDFBytes = 1 << 20

var (
	keyPattern      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
	numberedPattern = regexp.MustCompile(`^(.*?[A-Za-z])_?([0-9]{2})$`)
)

// ParseDSDF reads a DSDF. file names it in errors.
func ParseDSDF(file string, r io.Reader) (*DSDF, error) {
	d := &DSDF{File: file, entries: map[string][]Entry{}}
	sc := bufio.NewScanner(io.LimitReader(r, MaxDSDFBytes+1))
	sc.Buffer(make([]byte, 64*1024), MaxDSDFBytes+1)
	var (
		pending      strings.Builder // a logical line continued with `$`
		pendingStart int
		quoteCut     bool // the continued part ended with a quote that was removed
		lineNo       int
		total        int
	)
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		total += len(raw) + 1
		if total > MaxDSDFBytes {
			return nil, &Error{File: file, Line: lineNo, Msg: fmt.Sprintf("file is larger than %d bytes", MaxDSDFBytes)}
		}
		line := stripComment(raw)
		line = strings.TrimRight(line, " \t\r")
		if pending.Len() > 0 || pendingStart > 0 {
			part := strings.TrimLeft(line, " \t")
			if quoteCut && strings.HasPrefix(part, "'") || quoteCut && strings.HasPrefix(part, `"`) {
				part = part[1:]
			}
			line = pending.String() + part
		} else {
			pendingStart = lineNo
		}
		if strings.HasSuffix(line, "$") {
			body := strings.TrimRight(strings.TrimSuffix(line, "$"), " \t")
			body = strings.TrimRight(strings.TrimSuffix(body, "+"), " \t")
			quoteCut = strings.HasSuffix(body, "'") || strings.HasSuffix(body, `"`)
			if quoteCut {
				body = body[:len(body)-1]
			}
			pending.Reset()
			pending.WriteString(body)
			continue
		}
		start := pendingStart
		pending.Reset()
		pendingStart = 0
		quoteCut = false
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := d.add(line, start); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: file, Line: lineNo + 1, Msg: fmt.Sprintf("reading: %v", err)}
	}
	if pendingStart > 0 {
		return nil, &Error{File: file, Line: pendingStart, Msg: "the file ends inside a line continued with $"}
	}
	return d, nil
}

// stripComment drops everything from the first `;` on: das2 servers treat `;` as a
// comment everywhere, so values cannot hold one.
func stripComment(s string) string {
	if i := strings.IndexByte(s, ';'); i >= 0 {
		return s[:i]
	}
	return s
}

func (d *DSDF) add(line string, lineNo int) error {
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return &Error{File: d.File, Line: lineNo, Msg: fmt.Sprintf("expected key = value, got %q", strings.TrimSpace(line))}
	}
	k = strings.TrimSpace(k)
	if !keyPattern.MatchString(k) {
		return &Error{File: d.File, Line: lineNo, Msg: fmt.Sprintf("%q is not a valid key", k)}
	}
	v, err := unquote(strings.TrimSpace(v))
	if err != nil {
		return &Error{File: d.File, Line: lineNo, Key: k, Msg: err.Error()}
	}
	base, idx := splitNumbered(k)
	for _, e := range d.entries[base] {
		if e.Index == idx {
			return &Error{File: d.File, Line: lineNo, Key: k, Msg: fmt.Sprintf("defined twice (first on line %d)", e.Line)}
		}
	}
	d.entries[base] = append(d.entries[base], Entry{Key: k, Index: idx, Value: v, Line: lineNo})
	sort.SliceStable(d.entries[base], func(i, j int) bool { return d.entries[base][i].Index < d.entries[base][j].Index })
	return nil
}

// unquote strips one pair of matching single or double quotes; a value that opens a
// quote must close it.
func unquote(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	q := v[0]
	if q != '\'' && q != '"' {
		return v, nil
	}
	if len(v) < 2 || v[len(v)-1] != q {
		return "", fmt.Errorf("unterminated quoted value %s", v)
	}
	return v[1 : len(v)-1], nil
}

func splitNumbered(k string) (string, int) {
	if m := numberedPattern.FindStringSubmatch(k); m != nil {
		n, _ := strconv.Atoi(m[2])
		return m[1], n
	}
	return k, 0
}

// Get returns the value of key (index 0) and whether it is set.
func (d *DSDF) Get(key string) (string, bool) {
	e, ok := d.Entry(key)
	return e.Value, ok
}

// Entry returns key's index-0 entry.
func (d *DSDF) Entry(key string) (Entry, bool) {
	for _, e := range d.entries[key] {
		if e.Index == 0 {
			return e, true
		}
	}
	return Entry{}, false
}

// Numbered returns every entry of a numbered key, by index.
func (d *DSDF) Numbered(key string) []Entry { return d.entries[key] }

// At returns key's entry with the given index.
func (d *DSDF) At(key string, index int) (Entry, bool) {
	for _, e := range d.entries[key] {
		if e.Index == index {
			return e, true
		}
	}
	return Entry{}, false
}

// Keys returns every base key, sorted.
func (d *DSDF) Keys() []string {
	keys := make([]string, 0, len(d.entries))
	for k := range d.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
