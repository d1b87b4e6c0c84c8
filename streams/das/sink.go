package das

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Sink receives a decoded stream event by event: one Stream first, then datasets,
// records, comments and exceptions in stream order, then Close once. Writers,
// reducers and verifiers are Sinks; readers drive them. A Sink must not retain a
// *Record after Record returns (readers reuse it); headers may be retained.
type Sink interface {
	Stream(*Stream) error
	Dataset(*Dataset) error
	Record(*Record) error
	Comment(*Comment) error
	Exception(*Exception) error
	// Close flushes buffered output. It does not close the underlying writer.
	Close() error
}

// Violation is a rule of spec section 7 that a stream breaks without stopping the
// decoder (fatal framing problems are returned as *FormatError instead).
type Violation struct {
	Offset int64
	Rule   string
	Msg    string
}

func (v Violation) String() string {
	return fmt.Sprintf("offset %d: %s (rule %s)", v.Offset, v.Msg, v.Rule)
}

// CheckFunc receives Violations; readers ignore them when it is nil.
type CheckFunc func(Violation)

// Element is a parsed XML element: the small tree the header parsers work on.
type Element struct {
	Name     string
	Attrs    []xml.Attr
	Children []*Element
	Text     string
}

// Attr returns an attribute value.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// AttrName returns the attribute's name as written (with its das2.2 type prefix).
func AttrName(a xml.Attr) string {
	if a.Name.Space != "" {
		return a.Name.Space + ":" + a.Name.Local
	}
	return a.Name.Local
}

const maxDepth = 16

// ErrXML wraps header XML errors.
var ErrXML = errors.New("malformed header XML")

// ParseXML parses one XML document into an Element tree. The input is bounded by
// the packet size limit, and the depth by maxDepth.
func ParseXML(b []byte) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []*Element
	var root *Element
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, fmt.Errorf("%w: more than one root element", ErrXML)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("%w: nested deeper than %d", ErrXML, maxDepth)
			}
			el := &Element{Name: qname(t.Name), Attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, el)
			} else {
				root = el
			}
			stack = append(stack, el)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].Name != qname(t.Name) {
				return nil, fmt.Errorf("%w: unexpected </%s>", ErrXML, qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrXML)
			}
		case xml.ProcInst, xml.Comment:
		case xml.Directive:
			return nil, fmt.Errorf("%w: directives are not allowed", ErrXML)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrXML)
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: unclosed <%s>", ErrXML, stack[len(stack)-1].Name)
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// EscapeAttr escapes s for a double-quoted XML attribute.
func EscapeAttr(s string) string {
	if !strings.ContainsAny(s, "&<>\"\n\r\t") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\n':
			b.WriteString("&#10;")
		case '\r':
			b.WriteString("&#13;")
		case '\t':
			b.WriteString("&#9;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// EscapeText escapes s for XML character data.
func EscapeText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
