package hapi

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

var errTime = errors.New("not a HAPI time")

var end24 = regexp.MustCompile(`^24(:00(:00(\.0*)?)?)?$`)

// epoch2000 is dastime's origin.
var epoch2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseTime reads a HAPI restricted ISO 8601 time (spec 3.7.6.1): YYYY-MM-DD or
// YYYY-DDD, optionally followed by T and a truncated hh[:mm[:ss[.fraction]]],
// and the truncated dates YYYY and YYYY-MM; the trailing Z is optional (UTC is
// assumed). Missing fields take their smallest value.
func ParseTime(s string) (time.Time, error) {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return time.Time{}, errTime
	}
	d := strings.TrimSuffix(s, "Z")
	switch {
	case len(d) == 4: // YYYY
		d += "-01-01"
	case len(d) == 7 && d[4] == '-' && !strings.Contains(d, "T"): // YYYY-MM
		d += "-01"
	}
	if strings.HasSuffix(d, "T") {
		return time.Time{}, errTime
	}
	// hour 24 (24, 24:00, 24:00:00[.000]) is the end of the day (schema
	// HAPIDateTime).
	var day time.Duration
	if date, clock, has := strings.Cut(d, "T"); has && strings.HasPrefix(clock, "24") && end24.MatchString(clock) {
		d, day = date, 24*time.Hour
	}
	t, err := dastime.ParseString(d)
	if err != nil {
		return time.Time{}, errTime
	}
	return FromDas(t).Add(day), nil
}

// FromDas converts a dastime.Time to a time.Time in UTC.
func FromDas(t dastime.Time) time.Time { return epoch2000.Add(time.Duration(t)) }

// ToDas converts a time.Time to a dastime.Time.
func ToDas(t time.Time) dastime.Time { return dastime.Time(t.Sub(epoch2000)) }

// formatDate writes a startDate/stopDate: seconds, with a fraction only when needed.
func formatDate(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.999999999Z")
}

// appendTime appends t as YYYY-MM-DDThh:mm:ss[.f]Z with digits fractional digits
// (0..9), truncated: 20 + digits + (1 if digits > 0) bytes.
func appendTime(dst []byte, t dastime.Time, digits int) []byte {
	dst = dastime.AppendISO(dst, t.Floor(digits), digits)
	return append(dst, 'Z')
}

// timeLength is the byte length of appendTime's output.
func timeLength(digits int) int {
	if digits == 0 {
		return 20
	}
	return 21 + digits
}
