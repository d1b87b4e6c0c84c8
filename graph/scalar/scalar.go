// Package scalar holds the GraphQL scalars whose input errors must reach clients as
// BAD_USER_INPUT with a message naming what is wrong (gqlgen's own return plain errors,
// which the error presenter can only call internal). It imports gqlgen's graphql package,
// internal/fault and the standard library.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// Years outside 1..9999 have no RFC 3339 form.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MarshalTime writes an RFC 3339 time in UTC with up to nanosecond digits. Unlike gqlgen's,
// it writes the zero time (year 1) as a time, not as null: year 1 is a valid timestamp.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime reads an RFC 3339 time between years 1 and 9999.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fault.New(fault.BadInput, "a time is an RFC 3339 string such as \"2026-01-02T15:04:05Z\", not %s", describe(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fault.Wrap(err, fault.BadInput,
			"%s is not an RFC 3339 time between years 1 and 9999 such as \"2026-01-02T15:04:05Z\"", quoteShort(s))
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fault.New(fault.BadInput, "time %s is outside years 1 to 9999", quoteShort(s))
	}
	return t, nil
}

// MarshalID writes an integer ID as a GraphQL ID (a string).
func MarshalID(id int) graphql.Marshaler { return graphql.MarshalIntID(id) }

// UnmarshalID reads an integer ID given as a string or a number.
func UnmarshalID(v any) (int, error) {
	switch x := v.(type) {
	case string:
		n, err := strconv.Atoi(x)
		if err == nil {
			return n, nil
		}
	case int:
		return x, nil
	case int64:
		if int64(int(x)) == x {
			return int(x), nil
		}
	case json.Number:
		n, err := strconv.Atoi(string(x))
		if err == nil {
			return n, nil
		}
	}
	return 0, fault.New(fault.BadInput, "an ID here is an integer, not %s", describe(v))
}

// MarshalJSON writes a JSON object.
func MarshalJSON(m map[string]any) graphql.Marshaler { return graphql.MarshalMap(m) }

// UnmarshalJSON reads a JSON object (given inline or as a variable).
func UnmarshalJSON(v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fault.New(fault.BadInput, "a JSON value here is an object ({...}), not %s", describe(v))
	}
	return m, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + quoteShort(x)
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case int, int64, float64, json.Number:
		return "the number " + fmt.Sprint(x)
	}
	return fmt.Sprintf("a %T", v)
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return strconv.Quote(s)
}
