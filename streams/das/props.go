package das

import (
	"strconv"
	"strings"
)

// ParseDas2Property converts one das2.2 properties attribute (TYPE:NAME="VALUE").
// known is false for a type prefix outside spec 3.5.
func ParseDas2Property(prefix, name, value string) (p Property, known bool) {
	p = Property{Name: name, Value: value, Das2Type: prefix}
	known = true
	switch prefix {
	case "":
		p.Untyped = true
	case "String", "string":
	case "boolean":
		p.Type = "bool"
	case "int":
		p.Type = "integer"
	case "double":
		p.Type = "real"
	case "doubleArray":
		p.Type = "realArray"
	case "Datum":
		p.Type = "real"
		if i := strings.IndexByte(value, ' '); i > 0 {
			p.Value, p.Units = value[:i], strings.TrimSpace(value[i+1:])
		}
	case "DatumRange":
		p.Type = "realRange"
		if i := strings.Index(value, " to "); i > 0 {
			hi := value[i+4:]
			if j := strings.IndexByte(hi, ' '); j > 0 {
				p.Value, p.Units = value[:i+4+j], strings.TrimSpace(hi[j+1:])
			}
		}
		if p.Units == "UTC" {
			p.Type = "datetimeRange"
		}
	case "Time":
		p.Type = "datetime"
	case "TimeRange":
		p.Type = "datetimeRange"
	default:
		known = false
	}
	return p, known
}

// Das2Attr returns the das2.2 attribute name (with type prefix) and value for p.
func (p Property) Das2Attr() (string, string) {
	prefix := p.Das2Type
	if prefix == "" && !p.Untyped {
		switch p.Type {
		case "", "string":
			prefix = "String"
		case "bool":
			prefix = "boolean"
		case "integer":
			prefix = "int"
		case "real":
			prefix = "double"
			if p.Units != "" {
				prefix = "Datum"
			}
		case "realArray":
			prefix = "doubleArray"
		case "realRange", "integerRange":
			prefix = "DatumRange"
		case "datetime":
			prefix = "Time"
		case "datetimeRange":
			prefix = "DatumRange"
		default:
			prefix = "String"
		}
	}
	v := p.Value
	if p.Units != "" && (prefix == "Datum" || prefix == "DatumRange") {
		v += " " + p.Units
	}
	if p.Type == "datetimeRange" && prefix == "DatumRange" && p.Units == "" {
		v += " UTC"
	}
	if prefix == "" {
		return p.Name, v
	}
	return prefix + ":" + p.Name, v
}

// Das3Type returns the das3 type of p ("" for string).
func (p Property) Das3Type() string {
	if p.Type == "string" {
		return ""
	}
	return p.Type
}

// ValidPropName reports whether name satisfies [a-zA-Z][a-zA-Z0-9_]* (at most 63
// bytes), the rule every das reader accepts.
func ValidPropName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// ValidPlaneName reports whether name is a usable plane or variable name
// ([a-zA-Z][a-zA-Z0-9_.]*; the '.' is what reducers append).
func ValidPlaneName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// Seconds reads a duration property (das2.2 Datum "120 s", das3 real with units)
// in seconds.
func (ps Properties) Seconds(name string) (float64, bool) {
	p, ok := ps.Get(name)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(p.Value), 64)
	if err != nil {
		return 0, false
	}
	f, ok := secondsPer(p.Units)
	if !ok {
		return 0, false
	}
	return v * f, true
}

func secondsPer(units string) (float64, bool) {
	switch units {
	case "s", "sec", "seconds", "":
		return 1, true
	case "ms":
		return 1e-3, true
	case "us", "μs":
		return 1e-6, true
	case "ns":
		return 1e-9, true
	case "min", "minute", "minutes":
		return 60, true
	case "hr", "hour", "hours", "h":
		return 3600, true
	case "day", "days", "d":
		return 86400, true
	}
	return 0, false
}

// FillFor finds the fill value of a das2.2 plane: the plane's own properties, then
// the packet's, then the stream's, trying each name in turn; DefaultFill otherwise.
func FillFor(names []string, levels ...Properties) (string, float64) {
	for _, ps := range levels {
		for _, n := range names {
			if p, ok := ps.Get(n); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(p.Value), 64); err == nil {
					return p.Value, f
				}
			}
		}
	}
	return "", DefaultFill
}

// FormatSeconds prints a bin width for xCacheResInfo: " (1 minute Averages)".
func FormatSeconds(w float64) string {
	unit, div := "s", 1.0
	switch {
	case w < 1:
		unit, div = "ms", 1e-3
	case w >= 86400:
		unit, div = "day", 86400
	case w >= 3600:
		unit, div = "hour", 3600
	case w >= 60:
		unit, div = "minute", 60
	}
	return strconv.FormatFloat(w/div, 'g', 6, 64) + " " + unit
}

// UnitsOK applies the rule of thumb of spec 3.8 for units the das2C parser
// accepts: no parentheses, '#', '_', '!' IDL escapes or log10 names.
func UnitsOK(u string) bool {
	return !strings.ContainsAny(u, "()#_!") && !strings.Contains(u, "log10")
}
