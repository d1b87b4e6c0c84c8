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

// DecodeRecord fills rec from payload p (exactly the record's wire bytes), reading
// vars in wire order. When infer is set, text formats are learned from the fields.
// The error, a *FormatError, carries the offset within p.
func DecodeRecord(p []byte, vars []*Variable, rec *Record, infer bool) error {
	off := 0
	for _, v := range vars {
		n := v.Enc.Size
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
				field := TrimField(p[off : off+n])
				if v.IsTime() {
					t, err := dastime.Parse(field)
					if err != nil {
						return &FormatError{Offset: int64(off), Rule: "3.7 timeN value", Msg: "invalid time text", Err: err}
					}
					rec.Ints[v.Slot+i] = int64(t)
					if infer && i == 0 {
						v.Text = InferTimeFormat(field)
					}
				} else {
					x, err := strconv.ParseFloat(string(field), 64)
					if err != nil {
						return &FormatError{Offset: int64(off), Rule: "3.7 asciiN value", Msg: fmt.Sprintf("cannot parse %q as a number", field)}
					}
					rec.Floats[v.Slot+i] = x
					if infer && i == 0 {
						v.Text = InferTextFormat(field)
					}
				}
				off += n
			}
		}
	}
	return nil
}

// Field pairs a record variable (Src: where the values live in a Record) with
// the variable describing how to write it (Out: encoding, units, text format).
// Out may be Src itself.
type Field struct {
	Src, Out *Variable
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
		items := src.Items
		sameNum := src.IsInt() == out.IsInt() && (src.Epoch == out.Epoch || (!src.IsTime() && !out.IsTime()))
		switch out.Enc.Kind {
		case EncReal:
			if !src.IsInt() && sameNum {
				s := rec.Floats[src.Slot : src.Slot+items]
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
					t, ok := rec.Time(src, i)
					if !ok {
						return dst, errTimeRange(src)
					}
					x = dastime.ToFloat(out.Epoch, t)
				} else {
					x = rec.Float(src, i)
				}
				dst = AppendReal(dst, x, out.Enc)
			}
		case EncInt, EncUint:
			for i := 0; i < items; i++ {
				var x int64
				switch {
				case src.IsInt() && sameNum && src.Enc.Kind != EncText:
					x = rec.Ints[src.Slot+i]
				case out.IsTime() && src.IsTime():
					t, ok := rec.Time(src, i)
					if !ok {
						return dst, errTimeRange(src)
					}
					if out.Epoch == dastime.TT2000 {
						x = dastime.ToTT2000(t)
					} else {
						x = int64(math.Round(dastime.ToFloat(out.Epoch, t)))
					}
				default:
					x = int64(math.Round(rec.Float(src, i)))
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
				if out.IsTime() {
					t, ok := rec.Time(src, i)
					if !ok {
						return dst, errTimeRange(src)
					}
					dst = AppendTimeText(dst, t, out.Enc.Size, tf, sep)
					continue
				}
				var ok bool
				x := rec.Float(src, i)
				dst, ok = AppendText(dst, x, out.Enc.Size, tf, sep)
				if !ok {
					return dst, fmt.Errorf("das: value %g does not fit a %d-byte text field", x, out.Enc.Size)
				}
			}
		}
	}
	return dst, nil
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
