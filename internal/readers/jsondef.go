package readers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// A JSON source file is the dasFlex form of a definition: the DSDF keys as JSON members
// (numbered keys as arrays: "exampleRange": ["2024-01-01 to 2024-01-02 | label"]) and a
// "commands" list whose order-1 command is the reader, its command line a template:
//
//	{"description": "Waves", "das2Stream": 1, "techContact": "T <t@x>",
//	 "exampleRange": ["2024-01-01 to 2024-01-02"],
//	 "commands": [{"order": 1, "template": "genreader waveform #[read.time.min] #[read.time.max] #[read.opts#@#]"}]}
//
// Template markers (das-protocols.md 5.3): #[KEY] (required), #[KEY # TEXT] (TEXT with @
// replaced by the value, KEY required), #[KEY # TEXT # ALT] (ALT when KEY is absent).
// Keys: read.time.min, read.time.max, read.time.interval, read.opts (the params words),
// _LOCAL_ID_, _THIS_DIRECTORY_. Commands of other orders (reducers, formatters) are
// ignored: rhizoflex reduces and formats itself. No shell runs: each marker's value is
// one argument however it is spelled.

// templateWord is one argument of a template: literal text and markers run together.
type templateWord []templatePart

type templatePart struct {
	lit    string
	marker *marker
}

type marker struct {
	key       string
	text, alt string
	hasText   bool
	hasAlt    bool
}

// template keys a request supplies.
var templateKeys = map[string]bool{
	"read.time.min": true, "read.time.max": true, "read.time.interval": true, "read.opts": true,
	"_LOCAL_ID_": true, "_THIS_DIRECTORY_": true,
}

// parseTemplate splits a command template into words: whitespace separates words outside
// markers and quotes; quotes group; markers stay whole.
func parseTemplate(s string) ([]templateWord, error) {
	var (
		words  []templateWord
		cur    templateWord
		lit    strings.Builder
		inWord bool
	)
	flushLit := func() {
		if lit.Len() > 0 {
			cur = append(cur, templatePart{lit: lit.String()})
			lit.Reset()
		}
	}
	endWord := func() {
		flushLit()
		if inWord {
			words = append(words, cur)
		}
		cur, inWord = nil, false
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case strings.HasPrefix(s[i:], "#["):
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed #[ at %d", i)
			}
			m, err := parseMarker(s[i+2 : i+end])
			if err != nil {
				return nil, err
			}
			flushLit()
			cur = append(cur, templatePart{marker: m})
			inWord = true
			i += end + 1
		case c == '\'' || c == '"':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unclosed quote at %d", i)
			}
			lit.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case unicode.IsSpace(rune(c)):
			endWord()
			i++
		default:
			lit.WriteByte(c)
			inWord = true
			i++
		}
	}
	endWord()
	if len(words) == 0 {
		return nil, errors.New("empty template")
	}
	if first := words[0]; len(first) != 1 || first[0].marker != nil {
		return nil, errors.New("the template must start with the program, not a marker")
	}
	return words, nil
}

func parseMarker(s string) (*marker, error) {
	parts := strings.Split(s, "#")
	m := &marker{key: strings.TrimSpace(parts[0])}
	if strings.ContainsAny(m.key, "()") {
		return nil, fmt.Errorf("marker #[%s]: sub-parameters are not supported", s)
	}
	if !templateKeys[m.key] {
		return nil, fmt.Errorf("marker #[%s]: unknown key %q", s, m.key)
	}
	if len(parts) > 3 {
		return nil, fmt.Errorf("marker #[%s]: too many #", s)
	}
	if len(parts) >= 2 {
		m.text, m.hasText = strings.TrimSpace(parts[1]), true
	}
	if len(parts) == 3 {
		m.alt, m.hasAlt = strings.TrimSpace(parts[2]), true
	}
	return m, nil
}

// expandTemplate builds argv from a template for one request. A word that is one
// marker expands to zero or more arguments (TEXT's words, with @ as one argument for
// the value; read.opts as its words); a word mixing text and markers is one argument.
func expandTemplate(words []templateWord, values map[string][]string) ([]string, error) {
	var argv []string
	for _, w := range words {
		if len(w) == 1 && w[0].marker != nil {
			args, err := expandMarker(w[0].marker, values)
			if err != nil {
				return nil, err
			}
			argv = append(argv, args...)
			continue
		}
		var b strings.Builder
		for _, p := range w {
			if p.marker == nil {
				b.WriteString(p.lit)
				continue
			}
			args, err := expandMarker(p.marker, values)
			if err != nil {
				return nil, err
			}
			b.WriteString(strings.Join(args, " "))
		}
		argv = append(argv, b.String())
	}
	return argv, nil
}

func expandMarker(m *marker, values map[string][]string) ([]string, error) {
	v, ok := values[m.key]
	if !ok || len(v) == 0 {
		if m.hasAlt {
			return strings.Fields(m.alt), nil
		}
		return nil, &ArgumentError{Name: m.key, Msg: "missing query parameter"}
	}
	if !m.hasText || m.text == "@" {
		return v, nil
	}
	var out []string
	for _, f := range strings.Fields(m.text) {
		if f == "@" {
			out = append(out, v...)
			continue
		}
		out = append(out, strings.ReplaceAll(f, "@", strings.Join(v, " ")))
	}
	return out, nil
}

// jsonSource is a JSON source file's commands; the other members become DSDF entries.
type jsonCommand struct {
	Order    int             `json:"order"`
	Label    string          `json:"label"`
	Template json.RawMessage `json:"template"`
}

// ParseJSONSource reads a dasFlex-style JSON source file into DSDF entries and the
// reader's template.
func ParseJSONSource(file string, r io.Reader) (*DSDF, []templateWord, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxDSDFBytes+1))
	if err != nil {
		return nil, nil, &Error{File: file, Msg: err.Error()}
	}
	if len(raw) > MaxDSDFBytes {
		return nil, nil, &Error{File: file, Msg: fmt.Sprintf("file is larger than %d bytes", MaxDSDFBytes)}
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, nil, &Error{File: file, Line: jsonErrorLine(raw, err), Msg: "not a JSON object: " + err.Error()}
	}
	d := &DSDF{File: file, entries: map[string][]Entry{}}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var tmpl []templateWord
	for _, k := range keys {
		v := members[k]
		line := keyLine(raw, k)
		if k == "commands" {
			var cmds []jsonCommand
			if err := json.Unmarshal(v, &cmds); err != nil {
				return nil, nil, &Error{File: file, Line: line, Key: k, Msg: "want a list of {order, template}: " + err.Error()}
			}
			for _, c := range cmds {
				if c.Order != 1 {
					continue
				}
				text, err := templateText(c.Template)
				if err != nil {
					return nil, nil, &Error{File: file, Line: line, Key: "commands.template", Msg: err.Error()}
				}
				if tmpl, err = parseTemplate(text); err != nil {
					return nil, nil, &Error{File: file, Line: line, Key: "commands.template", Msg: err.Error()}
				}
			}
			if tmpl == nil {
				return nil, nil, &Error{File: file, Line: line, Key: k, Msg: "no command of order 1 (the reader)"}
			}
			continue
		}
		if !keyPattern.MatchString(k) {
			return nil, nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("%q is not a valid key", k)}
		}
		vals, err := jsonValues(v)
		if err != nil {
			return nil, nil, &Error{File: file, Line: line, Key: k, Msg: err.Error()}
		}
		base, _ := splitNumbered(k)
		for i, s := range vals {
			d.entries[base] = append(d.entries[base], Entry{Key: k, Index: i, Value: s, Line: line})
		}
	}
	if tmpl == nil {
		return nil, nil, &Error{File: file, Key: "commands", Msg: "required key is missing"}
	}
	// Define wants a reader: the template's program.
	d.entries["reader"] = []Entry{{Key: "reader", Value: tmpl[0][0].lit, Line: keyLine(raw, "commands")}}
	return d, tmpl, nil
}

func templateText(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", errors.New("template must be a string or a list of strings")
	}
	return strings.Join(list, " "), nil
}

// jsonValues reads a member as the values of a (numbered) key: a string, number or
// bool is one value; an array holds the values of indexes 0, 1, ...
func jsonValues(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		if len(list) > 100 {
			return nil, errors.New("more than 100 values")
		}
		out := make([]string, 0, len(list))
		for _, item := range list {
			s, err := jsonScalar(item)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := jsonScalar(raw)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func jsonScalar(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return "", fmt.Errorf("want a string, number or boolean, got %s", raw)
}

// jsonErrorLine is the line of a JSON syntax error.
func jsonErrorLine(raw []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && int(se.Offset) <= len(raw) {
		return bytes.Count(raw[:se.Offset], []byte("\n")) + 1
	}
	return 0
}

// keyLine is the line where "key": first appears, 0 if not found.
func keyLine(raw []byte, key string) int {
	i := bytes.Index(raw, []byte(strconv.Quote(key)))
	if i < 0 {
		return 0
	}
	return bytes.Count(raw[:i], []byte("\n")) + 1
}
