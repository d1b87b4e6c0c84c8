// Package dastime parses and formats the time strings of das streams and converts
// between the das time epochs (us2000, t2000, t1970, mj1958, ns1970, TT2000).
//
// A Time is an int64 count of nanoseconds since 2000-01-01T00:00:00 UTC on a
// clock where every day has 86400 seconds (the us2000 convention, times 1000),
// so it covers 1707-09-22 to 2292-04-10. Only TT2000 knows leap seconds.
//
// It imports only the standard library.
package dastime

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Time is nanoseconds since 2000-01-01T00:00:00 UTC, 86400 s per day.
type Time int64

const (
	nsPerSec = int64(1e9)
	nsPerDay = 86400 * nsPerSec
	// days from 0000-03-01 (proleptic Gregorian) to 2000-01-01.
	days2000 = 730425 // 719468 (Hinnant's 0000-03-01 to 1970) + 10957
)

// Bounds of a Time in whole years (years outside are rejected by Parse).
const (
	MinYear = 1708
	MaxYear = 2291
)

// Error reports a time string that cannot be parsed, with the byte position.
type Error struct {
	Input string
	Pos   int
	Msg   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("dastime: %s at byte %d of %q", e.Msg, e.Pos, e.Input)
}

// daysFromCivil returns days since 2000-01-01 for a proleptic Gregorian date.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - days2000
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += days2000
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

var monthDays = [13]int64{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func daysIn(y, m int64) int64 {
	if m == 2 && isLeap(y) {
		return 29
	}
	return monthDays[m]
}

// Date builds a Time from calendar fields; it does not validate them.
func Date(year, month, day, hour, min, sec, nsec int) Time {
	d := daysFromCivil(int64(year), int64(month), int64(day))
	return Time(d*nsPerDay + int64(hour)*3600*nsPerSec + int64(min)*60*nsPerSec + int64(sec)*nsPerSec + int64(nsec))
}

// Fields splits t into calendar fields.
func (t Time) Fields() (year, month, day, hour, min, sec, nsec int) {
	days := int64(t) / nsPerDay
	rem := int64(t) % nsPerDay
	if rem < 0 {
		rem += nsPerDay
		days--
	}
	y, m, d := civilFromDays(days)
	s := rem / nsPerSec
	return int(y), int(m), int(d), int(s / 3600), int(s / 60 % 60), int(s % 60), int(rem % nsPerSec)
}

// yearDay returns the day of year (1-based).
func (t Time) yearDay() int {
	y, m, d, _, _, _, _ := t.Fields()
	return int(daysFromCivil(int64(y), int64(m), int64(d)) - daysFromCivil(int64(y), 1, 1) + 1)
}

// Parse reads every form of spec 2.5: YYYY-MM-DD or YYYY-DDD, optionally followed by
// 'T' or one space and HH[:MM[:SS[.fraction]]],
// and an optional trailing 'Z'. Fractions beyond nanoseconds are truncated.
// Surrounding spaces are ignored. It never allocates unless it fails.
func Parse(b []byte) (Time, error) {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	t, pos, msg := parse(b[i:j])
	if msg != "" {
		return 0, &Error{Input: string(b), Pos: pos + i, Msg: msg}
	}
	return t, nil
}

// ParseString is Parse for a string.
func ParseString(s string) (Time, error) {
	return Parse([]byte(s))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func digits(b []byte, at, n int) (int64, bool) {
	if at+n > len(b) {
		return 0, false
	}
	var v int64
	for k := at; k < at+n; k++ {
		c := b[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func parse(b []byte) (Time, int, string) {
	if len(b) == 0 {
		return 0, 0, "empty time"
	}
	year, ok := digits(b, 0, 4)
	if !ok {
		return 0, 0, "expected a 4-digit year"
	}
	if year < MinYear || year > MaxYear {
		return 0, 0, "year outside 1708..2291"
	}
	if len(b) < 5 || b[4] != '-' {
		return 0, 4, "expected '-' after the year"
	}
	var days int64
	var p int
	// Calendar date has MM-DD, day of year has DDD.
	if len(b) >= 10 && b[7] == '-' {
		month, ok := digits(b, 5, 2)
		if !ok || month < 1 || month > 12 {
			return 0, 5, "invalid month"
		}
		day, ok := digits(b, 8, 2)
		if !ok || day < 1 || day > daysIn(year, month) {
			return 0, 8, "invalid day of month"
		}
		days = daysFromCivil(year, month, day)
		p = 10
	} else {
		doy, ok := digits(b, 5, 3)
		if !ok {
			return 0, 5, "expected MM-DD or a 3-digit day of year"
		}
		max := int64(365)
		if isLeap(year) {
			max = 366
		}
		if doy < 1 || doy > max {
			return 0, 5, "invalid day of year"
		}
		days = daysFromCivil(year, 1, 1) + doy - 1
		p = 8
	}
	ns := days * nsPerDay
	if p == len(b) {
		return Time(ns), p, ""
	}
	if b[p] == 'Z' && p+1 == len(b) {
		return Time(ns), p, ""
	}
	if b[p] != 'T' && b[p] != ' ' {
		return 0, p, "expected 'T' or a space after the date"
	}
	p++
	hour, ok := digits(b, p, 2)
	if !ok || hour > 23 {
		return 0, p, "invalid hour"
	}
	ns += hour * 3600 * nsPerSec
	p += 2
	if p < len(b) && b[p] == ':' {
		p++
		min, ok := digits(b, p, 2)
		if !ok || min > 59 {
			return 0, p, "invalid minute"
		}
		ns += min * 60 * nsPerSec
		p += 2
		if p < len(b) && b[p] == ':' {
			p++
			sec, ok := digits(b, p, 2)
			if !ok || sec > 60 {
				return 0, p, "invalid second"
			}
			ns += sec * nsPerSec
			p += 2
			if p < len(b) && b[p] == '.' {
				p++
				start := p
				var frac int64
				scale := int64(1e8)
				for p < len(b) && b[p] >= '0' && b[p] <= '9' {
					frac += int64(b[p]-'0') * scale
					scale /= 10
					p++
				}
				if p == start {
					return 0, p, "expected digits after '.'"
				}
				ns += frac
			}
		}
	}
	if p < len(b) && b[p] == 'Z' {
		p++
	}
	if p != len(b) {
		return 0, p, "unexpected character"
	}
	return Time(ns), p, ""
}

// Round rounds t to a multiple of 10^(9-frac) nanoseconds (frac in 0..9), the
// precision a string with frac digits shows: to the nearest, ties to even, as
// printf's %.Nf (and so das2C's text times) rounds a tie.
func (t Time) Round(frac int) Time {
	if frac >= 9 || frac < 0 {
		return t
	}
	q := int64(math.Pow10(9 - frac))
	v := int64(t.Floor(frac))
	r := int64(t) - v
	if 2*r > q || (2*r == q && (v/q)&1 != 0) {
		v += q
	}
	return Time(v)
}

// Floor truncates t down to a multiple of 10^(9-frac) nanoseconds (frac in 0..9).
func (t Time) Floor(frac int) Time {
	if frac >= 9 || frac < 0 {
		return t
	}
	q := int64(math.Pow10(9 - frac))
	r := int64(t) % q
	if r < 0 {
		r += q
	}
	return t - Time(r)
}

// AppendISO appends YYYY-MM-DDTHH:MM:SS[.f...] with frac fractional digits (0..9),
// after rounding t to that precision.
func AppendISO(dst []byte, t Time, frac int) []byte {
	t = t.Round(frac)
	y, mo, d, h, mi, s, ns := t.Fields()
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, mo)
	dst = append(dst, '-')
	dst = append2(dst, d)
	return appendClock(dst, h, mi, s, ns, frac)
}

// AppendDOY appends YYYY-DDDTHH:MM:SS[.f...] (day-of-year form).
func AppendDOY(dst []byte, t Time, frac int) []byte {
	t = t.Round(frac)
	y, _, _, h, mi, s, ns := t.Fields()
	dst = append4(dst, y)
	dst = append(dst, '-')
	doy := t.yearDay()
	dst = append(dst, byte('0'+doy/100), byte('0'+doy/10%10), byte('0'+doy%10))
	return appendClock(dst, h, mi, s, ns, frac)
}

func appendClock(dst []byte, h, mi, s, ns, frac int) []byte {
	dst = append(dst, 'T')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	if frac > 0 {
		if frac > 9 {
			frac = 9
		}
		dst = append(dst, '.')
		div := 100000000
		for k := 0; k < frac; k++ {
			dst = append(dst, byte('0'+ns/div%10))
			div /= 10
		}
	}
	return dst
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10%10), byte('0'+v%10)) }
func append4(dst []byte, v int) []byte {
	if v < 0 || v > 9999 {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// String formats t as ISO with nanoseconds.
func (t Time) String() string { return string(AppendISO(nil, t, 9)) }

// ErrUnits reports an epoch unit this package does not know.
var ErrUnits = errors.New("dastime: not a time unit")

// Epoch identifies a numeric time unit.
type Epoch int

// Numeric time units of spec 3.8. TT2000 values are integers; the others are reals.
const (
	NotEpoch Epoch = iota
	US2000
	T2000
	T1970
	MJ1958
	NS1970
	TT2000
)

// EpochOf maps a units string to its Epoch (NotEpoch if it is no time unit).
func EpochOf(units string) Epoch {
	switch units {
	case "us2000":
		return US2000
	case "t2000":
		return T2000
	case "t1970":
		return T1970
	case "mj1958":
		return MJ1958
	case "ns1970":
		return NS1970
	case "TT2000", "tt2000":
		return TT2000
	}
	return NotEpoch
}

func (e Epoch) String() string {
	switch e {
	case US2000:
		return "us2000"
	case T2000:
		return "t2000"
	case T1970:
		return "t1970"
	case MJ1958:
		return "mj1958"
	case NS1970:
		return "ns1970"
	case TT2000:
		return "TT2000"
	}
	return ""
}

const (
	ns1970to2000   = 946684800 * nsPerSec
	days1958to2000 = 15340
)

// FromFloat converts a real value in epoch e to a Time. NaN and values outside the
// Time range give ok=false.
func FromFloat(e Epoch, v float64) (Time, bool) {
	var ns float64
	switch e {
	case US2000:
		ns = v * 1e3
	case T2000:
		ns = v * 1e9
	case T1970:
		ns = v*1e9 - float64(ns1970to2000)
	case MJ1958:
		ns = (v - days1958to2000) * 86400e9
	case NS1970:
		ns = v - float64(ns1970to2000)
	case TT2000:
		if !(v > -9.2e18 && v < 9.2e18) {
			return 0, false
		}
		return FromTT2000(int64(v)), true
	default:
		return 0, false
	}
	if !(ns > -9.2e18 && ns < 9.2e18) {
		return 0, false
	}
	return Time(math.Round(ns)), true
}

// ToFloat converts t to a real value in epoch e.
func ToFloat(e Epoch, t Time) float64 {
	switch e {
	case US2000:
		return float64(t) / 1e3
	case T2000:
		return float64(t) / 1e9
	case T1970:
		return float64(int64(t)+ns1970to2000) / 1e9
	case MJ1958:
		return float64(t)/86400e9 + days1958to2000
	case NS1970:
		return float64(int64(t) + ns1970to2000)
	case TT2000:
		return float64(ToTT2000(t))
	}
	return math.NaN()
}

// US2000 returns t as microseconds since 2000 (the reducers' internal clock).
func (t Time) US2000() float64 { return float64(t) / 1e3 }

// leap seconds: TAI-UTC in seconds from the given UTC day (days since 2000-01-01).
var leapTable = [...]struct {
	day  int64
	leap int64
}{
	{daysFromCivil(1972, 1, 1), 10}, {daysFromCivil(1972, 7, 1), 11}, {daysFromCivil(1973, 1, 1), 12},
	{daysFromCivil(1974, 1, 1), 13}, {daysFromCivil(1975, 1, 1), 14}, {daysFromCivil(1976, 1, 1), 15},
	{daysFromCivil(1977, 1, 1), 16}, {daysFromCivil(1978, 1, 1), 17}, {daysFromCivil(1979, 1, 1), 18},
	{daysFromCivil(1980, 1, 1), 19}, {daysFromCivil(1981, 7, 1), 20}, {daysFromCivil(1982, 7, 1), 21},
	{daysFromCivil(1983, 7, 1), 22}, {daysFromCivil(1985, 7, 1), 23}, {daysFromCivil(1988, 1, 1), 24},
	{daysFromCivil(1990, 1, 1), 25}, {daysFromCivil(1991, 1, 1), 26}, {daysFromCivil(1992, 7, 1), 27},
	{daysFromCivil(1993, 7, 1), 28}, {daysFromCivil(1994, 7, 1), 29}, {daysFromCivil(1996, 1, 1), 30},
	{daysFromCivil(1997, 7, 1), 31}, {daysFromCivil(1999, 1, 1), 32}, {daysFromCivil(2006, 1, 1), 33},
	{daysFromCivil(2009, 1, 1), 34}, {daysFromCivil(2012, 7, 1), 35}, {daysFromCivil(2015, 7, 1), 36},
	{daysFromCivil(2017, 1, 1), 37},
}

// LeapSeconds returns TAI-UTC in seconds at t (10 before 1972: the drifting
// pre-1972 offsets are not modelled).
func LeapSeconds(t Time) int64 {
	day := int64(t) / nsPerDay
	if int64(t) < 0 && int64(t)%nsPerDay != 0 {
		day--
	}
	l := int64(10)
	for _, e := range leapTable {
		if day < e.day {
			break
		}
		l = e.leap
	}
	return l
}

// J2000 (2000-01-01T12:00:00 TT) is 11:58:55.816 UTC; 32 leap seconds then.
const j2000UTC = (11*3600+58*60+55)*nsPerSec + 816e6

// ToTT2000 converts a UTC time to CDF TT2000 nanoseconds.
func ToTT2000(t Time) int64 {
	return int64(t) - j2000UTC + (LeapSeconds(t)-32)*nsPerSec
}

// FromTT2000 converts CDF TT2000 nanoseconds to UTC. A time inside a leap second
// maps to the first instant of the following day.
func FromTT2000(tt int64) Time {
	at := func(g Time) Time { return Time(tt + j2000UTC - (LeapSeconds(g)-32)*nsPerSec) }
	prev, g := Time(tt+j2000UTC), at(Time(tt+j2000UTC))
	for k := 0; k < 8; k++ {
		next := at(g)
		if next == g {
			return g
		}
		if next == prev {
			// A two-cycle happens only inside a leap second.
			return max(g, next)
		}
		prev, g = g, next
	}
	return g
}

// Add returns t plus sec seconds (rounded to the nanosecond).
func (t Time) Add(sec float64) Time { return t + Time(math.Round(sec*1e9)) }
