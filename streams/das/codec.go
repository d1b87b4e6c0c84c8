package das

import (
	"fmt"
	"math"
	"strconv"

	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// FormatError reports a stream that breaks a rule of the das specification.
type FormatError struct {
	Offset int64  // byte offset in the stream (or in the header for header errors)
	Rule   string // spec section and rule, e.g. "3.2 header length"
	Msg    string
	Err    error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
	if e.Rule != "" {
		s += " (rule " + e.Rule + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// DecodeRecord fills rec from payload p, reading vars in wire order, and returns
// the number of bytes used: exactly the fixed record size unless some items are
// variable-length text. p must hold at least the fixed-size items (the dataset's
// WireBytes). When infer is set, text formats are learned from the fields. The
// error, a *FormatError, carries the offset within p.
func DecodeRecord(p []byte, vars []*Variable, rec *Record, infer bool) (int, error) {
	off := 0
	varSeen := false // callers pass at least the fixed-size bytes: only items after a variable-length one can run short
	for _, v := range vars {
		n := v.Enc.Size
		varSeen = varSeen || v.Enc.Var
		if varSeen && !v.Enc.Var && len(p)-off < v.Items*n {
			return off, &FormatError{Offset: int64(off), Rule: "7.5 data length", Msg: fmt.Sprintf("record ends %d bytes short of its items", v.Items*n-(len(p)-off))}
		}
		switch v.Enc.Kind {
		case EncReal:
			dst := rec.Floats[v.Slot : v.Slot+v.Items]
			if n == 8 {
				if v.Enc.BigEndian {
					for i := range dst {
						dst[i] = math.Float64frombits(be64(p[off:]))
						off += 8
					}
				} else {
					for i := range dst {
						dst[i] = math.Float64frombits(le64(p[off:]))
						off += 8
					}
				}
			} else {
				if v.Enc.BigEndian {
					for i := range dst {
						dst[i] = float64(math.Float32frombits(be32(p[off:])))
						off += 4
					}
				} else {
					for i := range dst {
						dst[i] = float64(math.Float32frombits(le32(p[off:])))
						off += 4
					}
				}
			}
		case EncInt, EncUint:
			dst := rec.Ints[v.Slot : v.Slot+v.Items]
			for i := range dst {
				dst[i] = DecodeInt(p[off:off+n], v.Enc)
				off += n
			}
		case EncText:
			for i := 0; i < v.Items; i++ {
				start := off
				var field []byte
				if v.Enc.Var {
					var ok bool
					field, off, ok = nextVarItem(p, off, v.Enc.Term)
					if !ok {
						return off, &FormatError{Offset: int64(off), Rule: "4.6 variable-length items", Msg: fmt.Sprintf("record ends after %d of %d items", i, v.Items)}
					}
				} else {
					field = TrimField(p[off : off+n])
					off += n
				}
				if v.IsTime() {
					t, err := dastime.Parse(field)
					if err != nil {
						return start, &FormatError{Offset: int64(start), Rule: "3.7 timeN value", Msg: "invalid time text", Err: err}
					}
					rec.Ints[v.Slot+i] = int64(t)
					if infer && i == 0 {
						v.Text = InferTimeFormat(field)
					}
					continue
				}
				if len(field) == 0 && v.Enc.Var {
					// An empty item between explicit terminators is a missing value.
					rec.Floats[v.Slot+i] = v.FillVal
					continue
				}
				x, err := strconv.ParseFloat(string(field), 64)
				if err != nil {
					return start, &FormatError{Offset: int64(start), Rule: "3.7 asciiN value", Msg: fmt.Sprintf("cannot parse %q as a number", field)}
				}
				rec.Floats[v.Slot+i] = x
				if infer && i == 0 {
					v.Text = InferTextFormat(field)
				}
			}
		}
	}
	return off, nil
}

// nextVarItem reads one variable-length text item at p[off:] as das2C does (spec
// 4.6): with an explicit terminator the item is every byte up to it, trimmed, and
// may be empty; otherwise leading whitespace is skipped and the item is a run of
// non-whitespace. One terminator byte after the item is consumed. ok is false
// when no item is left.
func nextVarItem(p []byte, off int, term byte) (item []byte, next int, ok bool) {
	if term != 0 && term != ' ' {
		if off >= len(p) {
			return nil, off, false
		}
		start := off
		for off < len(p) && p[off] != term && p[off] != 0 {
			off++
		}
		item = TrimField(p[start:off])
		if off < len(p) && p[off] == term {
			off++
		}
		return item, off, true
	}
	for off < len(p) && (isSpace(p[off]) || p[off] == 0) {
		off++
	}
	if off >= len(p) {
		return nil, off, false
	}
	start := off
	for off < len(p) && !isSpace(p[off]) && p[off] != 0 {
		off++
	}
	item = p[start:off]
	if off < len(p) && isSpace(p[off]) {
		off++
	}
	return item, off, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// Field pairs a record variable (Src: where the values live in a Record) with
// the variable describing how to write it (Out: encoding, units, text format).
// Out may be Src itself. A field writes Out.Items items of Src starting at item
// Lo, so one variable can be split across fields (and packets).
type Field struct {
	Src, Out *Variable
	Lo       int
}

// FieldsOf returns identity fields for vars.
func FieldsOf(vars []*Variable) []Field {
	fs := make([]Field, len(vars))
	for i, v := range vars {
		fs[i] = Field{Src: v, Out: v}
	}
	return fs
}

// AppendRecord appends rec's values as described by fields (wire order), converting
// times between epochs and numbers to text as needed. Text fields end with a space,
// the record's last field with '\n'.
func AppendRecord(dst []byte, fields []Field, rec *Record) ([]byte, error) {
	last := len(fields) - 1
	for k, f := range fields {
		src, out := f.Src, f.Out
		items, slot := out.Items, src.Slot+f.Lo
		sameNum := src.IsInt() == out.IsInt() && (src.Epoch == out.Epoch || (!src.IsTime() && !out.IsTime()))
		switch out.Enc.Kind {
		case EncReal:
			if !src.IsInt() && sameNum {
				s := rec.Floats[slot : slot+items]
				switch {
				case out.Enc.Size == 8 && out.Enc.BigEndian:
					for _, x := range s {
						dst = appendBE64(dst, math.Float64bits(x))
					}
				case out.Enc.Size == 8:
					for _, x := range s {
						dst = appendLE64(dst, math.Float64bits(x))
					}
				case out.Enc.BigEndian:
					for _, x := range s {
						dst = appendBE32(dst, math.Float32bits(float32(x)))
					}
				default:
					for _, x := range s {
						dst = appendLE32(dst, math.Float32bits(float32(x)))
					}
				}
				continue
			}
			for i := 0; i < items; i++ {
				var x float64
				if out.IsTime() && src.IsTime() {
					t, ok := rec.Time(src, f.Lo+i)
					if !ok {
						return dst, errTimeRange(src)
					}
					x = dastime.ToFloat(out.Epoch, t)
				} else {
					x = rec.Float(src, f.Lo+i)
				}
				dst = AppendReal(dst, x, out.Enc)
			}
		case EncInt, EncUint:
			for i := 0; i < items; i++ {
				var x int64
				switch {
				case src.IsInt() && sameNum && src.Enc.Kind != EncText:
					x = rec.Ints[slot+i]
				case out.IsTime() && src.IsTime():
					t, ok := rec.Time(src, f.Lo+i)
					if !ok {
						return dst, errTimeRange(src)
					}
					if out.Epoch == dastime.TT2000 {
						x = dastime.ToTT2000(t)
					} else {
						x = int64(math.Round(dastime.ToFloat(out.Epoch, t)))
					}
				default:
					x = int64(math.Round(rec.Float(src, f.Lo+i)))
				}
				dst = AppendInt(dst, x, out.Enc)
			}
		case EncText:
			// An unconverted text field prints like its source, whose format the
			// reader may have learned after the header was copied.
			tf := out.Text
			if src.Enc == out.Enc {
				tf = src.Text
			}
			for i := 0; i < items; i++ {
				sep := byte(' ')
				if k == last && i == items-1 {
					sep = '\n'
				}
				if out.Enc.Var && out.Enc.Term != 0 {
					sep = out.Enc.Term
				}
				if out.IsTime() {
					t, ok := rec.Time(src, f.Lo+i)
					if !ok {
						return dst, errTimeRange(src)
					}
					if out.Enc.Var {
						dst = append(appendVarTime(dst, t), sep)
						continue
					}
					dst = AppendTimeText(dst, t, out.Enc.Size, tf, sep)
					continue
				}
				x := rec.Float(src, f.Lo+i)
				if out.Enc.Var {
					// The shortest text that reads back as the same float64.
					dst = append(strconv.AppendFloat(dst, x, 'g', -1, 64), sep)
					continue
				}
				var ok bool
				dst, ok = AppendText(dst, x, out.Enc.Size, tf, sep)
				if !ok {
					return dst, fmt.Errorf("das: value %g does not fit a %d-byte text field", x, out.Enc.Size)
				}
			}
		}
	}
	return dst, nil
}

// appendVarTime prints t with as few fraction digits (0, 3, 6 or 9) as it needs.
func appendVarTime(dst []byte, t dastime.Time) []byte {
	frac := 9
	for frac > 0 && t.Floor(frac-3) == t {
		frac -= 3
	}
	return dastime.AppendISO(dst, t, frac)
}

func errTimeRange(v *Variable) error {
	return fmt.Errorf("das: time value in %q outside the representable range", v.Units)
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[7]) | uint64(b[6])<<8 | uint64(b[5])<<16 | uint64(b[4])<<24 |
		uint64(b[3])<<32 | uint64(b[2])<<40 | uint64(b[1])<<48 | uint64(b[0])<<56
}

func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
}

func appendLE64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func appendBE64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendLE32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendBE32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
