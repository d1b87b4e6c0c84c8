package das

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// EncKind is the family of a wire encoding.
type EncKind int

// Encoding kinds.
const (
	EncNone EncKind = iota
	EncReal
	EncInt
	EncUint
	EncText
)

// Encoding is the wire form of one item.
type Encoding struct {
	Kind      EncKind
	Size      int // bytes per item (0 when Var)
	BigEndian bool
	// Var marks das3 variable-length utf8 items (itemBytes="*", spec 4.6): an item
	// ends at the byte Term, or, when Term is 0, at one whitespace byte after a run
	// of non-whitespace (leading whitespace skipped).
	Var  bool
	Term byte
}

// Das2Name returns the das2.2 type attribute for e (time selects timeN for text).
func (e Encoding) Das2Name(time bool) (string, bool) {
	switch e.Kind {
	case EncReal:
		switch {
		case e.Size == 8 && e.BigEndian:
			return "sun_real8", true
		case e.Size == 4 && e.BigEndian:
			return "sun_real4", true
		case e.Size == 8:
			return "little_endian_real8", true
		case e.Size == 4:
			return "little_endian_real4", true
		}
	case EncText:
		if time {
			return "time" + strconv.Itoa(e.Size), true
		}
		return "ascii" + strconv.Itoa(e.Size), true
	}
	return "", false
}

// ParseDas2Encoding reads a das2.2 type attribute; time reports a timeN encoding.
func ParseDas2Encoding(s string) (e Encoding, time bool, ok bool) {
	switch s {
	case "sun_real8", "double":
		return Encoding{Kind: EncReal, Size: 8, BigEndian: true}, false, true
	case "sun_real4", "float":
		return Encoding{Kind: EncReal, Size: 4, BigEndian: true}, false, true
	case "little_endian_real8":
		return Encoding{Kind: EncReal, Size: 8}, false, true
	case "little_endian_real4":
		return Encoding{Kind: EncReal, Size: 4}, false, true
	}
	for _, p := range [...]string{"ascii", "time"} {
		if rest, found := strings.CutPrefix(s, p); found {
			n, err := strconv.Atoi(rest)
			if err != nil || n < 1 || n > 99 {
				return Encoding{}, false, false
			}
			return Encoding{Kind: EncText, Size: n}, p == "time", true
		}
	}
	return Encoding{}, false, false
}

// Das3Name returns the das3 encoding attribute.
func (e Encoding) Das3Name() string {
	switch e.Kind {
	case EncReal:
		if e.BigEndian {
			return "BEreal"
		}
		return "LEreal"
	case EncInt:
		if e.Size == 1 {
			return "byte"
		}
		if e.BigEndian {
			return "BEint"
		}
		return "LEint"
	case EncUint:
		if e.Size == 1 {
			return "ubyte"
		}
		if e.BigEndian {
			return "BEuint"
		}
		return "LEuint"
	case EncText:
		return "utf8"
	}
	return ""
}

// ParseDas3Encoding reads a das3 encoding name and item size.
func ParseDas3Encoding(name string, size int) (Encoding, bool) {
	var e Encoding
	switch name {
	case "byte":
		e = Encoding{Kind: EncInt, Size: 1}
	case "ubyte":
		e = Encoding{Kind: EncUint, Size: 1}
	case "BEint", "LEint":
		e = Encoding{Kind: EncInt, Size: size, BigEndian: name[0] == 'B'}
	case "BEuint", "LEuint":
		e = Encoding{Kind: EncUint, Size: size, BigEndian: name[0] == 'B'}
	case "BEreal", "LEreal":
		e = Encoding{Kind: EncReal, Size: size, BigEndian: name[0] == 'B'}
	case "utf8":
		e = Encoding{Kind: EncText, Size: size}
	default:
		return Encoding{}, false
	}
	if e.Size != size {
		return Encoding{}, false
	}
	switch e.Kind {
	case EncInt, EncUint:
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return Encoding{}, false
		}
	case EncReal:
		if size != 4 && size != 8 {
			return Encoding{}, false
		}
	case EncText:
		if size < 1 || size > MaxPacket {
			return Encoding{}, false
		}
	}
	return e, true
}

// TextFormat says how text items are printed. Readers infer it from the first
// record they decode so that a re-encoded stream matches its input.
type TextFormat struct {
	Conv   byte // 'e' (default) or 'f' for numbers
	Digits int  // digits after the decimal point; -1 = widest that fits
	// Times: day-of-year form, and the number of characters printed (0 = widest).
	DOY     bool
	TimeLen int
}

// DefaultTextFormat is 'e' with as many digits as fit a negative number.
var DefaultTextFormat = TextFormat{Conv: 'e', Digits: -1}

// digitsFor returns the mantissa digits of an 'e' number that fit width w with a sign
// and a 2-digit exponent: "-d.ddde+XX".
func digitsFor(w int) int {
	d := w - 7
	if d < 0 {
		d = 0
	}
	if d > 16 {
		d = 16
	}
	return d
}

// AppendText appends v formatted into exactly width-1 bytes (right-aligned), then
// sep. It lowers the precision when the number does not fit; ok is false if even
// zero digits do not fit.
func AppendText(dst []byte, v float64, width int, f TextFormat, sep byte) ([]byte, bool) {
	w := width - 1
	conv := f.Conv
	if conv == 0 {
		conv = 'e'
	}
	d := f.Digits
	if d < 0 {
		d = digitsFor(w)
	}
	start := len(dst)
	for {
		dst = strconv.AppendFloat(dst[:start], v, conv, d, 64)
		n := len(dst) - start
		if n <= w {
			pad := w - n
			if pad > 0 {
				dst = append(dst, spaces[:pad]...)
				copy(dst[start+pad:], dst[start:start+n])
				copy(dst[start:start+pad], spaces[:pad])
			}
			return append(dst, sep), true
		}
		if d == 0 {
			if conv == 'f' {
				conv, d = 'e', digitsFor(w)
				continue
			}
			return dst[:start], false
		}
		d--
	}
}

var spaces = []byte(strings.Repeat(" ", 64))

// AppendTimeText appends t in a width-byte time field: the time, left-aligned and
// padded with spaces to width-1 bytes, then sep.
func AppendTimeText(dst []byte, t dastime.Time, width int, f TextFormat, sep byte) []byte {
	w := width - 1
	n := f.TimeLen
	if n <= 0 || n > w {
		n = w
	}
	start := len(dst)
	dst = appendTimeLen(dst, t, n, f.DOY)
	for len(dst)-start < w {
		dst = append(dst, ' ')
	}
	return append(dst, sep)
}

// appendTimeLen prints the longest ISO form not longer than n characters, the way
// das2C's default time formats do (encoding.c): a form that shows seconds rounds
// them to the digits shown, ties to even (printf %.Nf); a shorter form cuts the
// time (printf %02d of the minute or hour: truncation).
func appendTimeLen(dst []byte, t dastime.Time, n int, doy bool) []byte {
	base := 19 // YYYY-MM-DDTHH:MM:SS
	if doy {
		base = 17
	}
	var full []byte
	var buf [40]byte
	switch {
	case n >= base+2:
		frac := min(n-base-1, 9)
		if doy {
			return dastime.AppendDOY(dst, t, frac)
		}
		return dastime.AppendISO(dst, t, frac)
	case n >= base:
		t = t.Round(0)
	default:
		t = t.Floor(0)
	}
	// Whole fields only (year, month or day of year, day, hour, minute, second);
	// the caller pads the rest of the field.
	cuts := []int{19, 16, 13, 10, 7, 4}
	if doy {
		cuts = []int{17, 14, 11, 8, 4}
		full = dastime.AppendDOY(buf[:0], t, 0)
	} else {
		full = dastime.AppendISO(buf[:0], t, 0)
	}
	for _, c := range cuts {
		if c <= n {
			return append(dst, full[:c]...)
		}
	}
	return dst
}

// InferTextFormat reads the printing style of a trimmed number field.
func InferTextFormat(field []byte) TextFormat {
	dot := -1
	for i, c := range field {
		switch c {
		case '.':
			dot = i
		case 'e', 'E':
			d := 0
			if dot >= 0 {
				d = i - dot - 1
			}
			return TextFormat{Conv: 'e', Digits: d}
		}
	}
	if dot >= 0 {
		return TextFormat{Conv: 'f', Digits: len(field) - dot - 1}
	}
	if len(field) > 0 && (field[0] == '-' || field[0] == '+' || (field[0] >= '0' && field[0] <= '9')) {
		return TextFormat{Conv: 'f', Digits: 0}
	}
	return DefaultTextFormat
}

// InferTimeFormat reads the style of a trimmed time field.
func InferTimeFormat(field []byte) TextFormat {
	doy := len(field) >= 8 && field[4] == '-' && (len(field) == 8 || field[8] == 'T' || field[8] == ' ')
	return TextFormat{DOY: doy, TimeLen: len(field)}
}

// TrimField trims spaces, tabs, CR and LF around a text field.
func TrimField(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == 0) {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r' || b[j-1] == 0) {
		j--
	}
	return b[i:j]
}

// DecodeReal reads a binary real item.
func DecodeReal(b []byte, e Encoding) float64 {
	if e.Size == 8 {
		if e.BigEndian {
			return math.Float64frombits(binary.BigEndian.Uint64(b))
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	if e.BigEndian {
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
}

// AppendReal appends a binary real item.
func AppendReal(dst []byte, v float64, e Encoding) []byte {
	if e.Size == 8 {
		if e.BigEndian {
			return binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	if e.BigEndian {
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(v)))
	}
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)))
}

// DecodeInt reads a binary integer item (unsigned values keep their bits).
func DecodeInt(b []byte, e Encoding) int64 {
	var u uint64
	switch e.Size {
	case 1:
		u = uint64(b[0])
	case 2:
		if e.BigEndian {
			u = uint64(binary.BigEndian.Uint16(b))
		} else {
			u = uint64(binary.LittleEndian.Uint16(b))
		}
	case 4:
		if e.BigEndian {
			u = uint64(binary.BigEndian.Uint32(b))
		} else {
			u = uint64(binary.LittleEndian.Uint32(b))
		}
	default:
		if e.BigEndian {
			u = binary.BigEndian.Uint64(b)
		} else {
			u = binary.LittleEndian.Uint64(b)
		}
	}
	if e.Kind == EncInt && e.Size < 8 {
		shift := 64 - 8*uint(e.Size)
		return int64(u<<shift) >> shift
	}
	return int64(u)
}

// AppendInt appends a binary integer item.
func AppendInt(dst []byte, v int64, e Encoding) []byte {
	u := uint64(v)
	switch e.Size {
	case 1:
		return append(dst, byte(u))
	case 2:
		if e.BigEndian {
			return binary.BigEndian.AppendUint16(dst, uint16(u))
		}
		return binary.LittleEndian.AppendUint16(dst, uint16(u))
	case 4:
		if e.BigEndian {
			return binary.BigEndian.AppendUint32(dst, uint32(u))
		}
		return binary.LittleEndian.AppendUint32(dst, uint32(u))
	}
	if e.BigEndian {
		return binary.BigEndian.AppendUint64(dst, u)
	}
	return binary.LittleEndian.AppendUint64(dst, u)
}
