package dastime_test

import (
	"errors"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

func TestParse(t *testing.T) {
	want := dastime.Date(2024, 1, 1, 0, 1, 0, 0)
	cases := []struct {
		in   string
		want dastime.Time
	}{
		{"2024-01-01T00:01:00.000", want},
		{"2024-01-01T00:01", want},
		{"2024-01-01 00:01:00", want},
		{"2024-01-01T00:01:00Z", want},
		{"2024-01-01T00:01Z", want},
		{"  2024-001T00:01:00.000  ", want},
		{"2024-001 00:01", want},
		{"2024-01-01", dastime.Date(2024, 1, 1, 0, 0, 0, 0)},
		{"2024-001", dastime.Date(2024, 1, 1, 0, 0, 0, 0)},
		{"2024-01-01Z", dastime.Date(2024, 1, 1, 0, 0, 0, 0)},
		{"2024-01-01T12", dastime.Date(2024, 1, 1, 12, 0, 0, 0)},
		{"2024-366T23:59:59.999999999", dastime.Date(2024, 12, 31, 23, 59, 59, 999999999)},
		{"2024-02-29T01:02:03.5", dastime.Date(2024, 2, 29, 1, 2, 3, 500000000)},
		{"2000-01-01T00:00:00.0000000019", 1}, // beyond ns: truncated
		{"1999-12-31T23:59:59", -1e9},
		{"1708-01-01", dastime.Date(1708, 1, 1, 0, 0, 0, 0)},
	}
	for _, c := range cases {
		got, err := dastime.ParseString(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in  string
		pos int
	}{
		{"", 0}, {"20240101", 4}, {"2024-13-01", 5}, {"2024-02-30", 8}, {"2023-366", 5}, {"2024-000", 5},
		{"2024-01-01X00", 10}, {"2024-01-01T24:00", 11}, {"2024-01-01T10:60", 14}, {"2024-01-01T10:00:61", 17},
		{"2024-01-01T10:00:00.", 20}, {"2024-01-01T10:00:00.5x", 21}, {"0001-01-01", 0}, {"abcd-01-01", 0},
	}
	for _, c := range cases {
		_, err := dastime.ParseString(c.in)
		var te *dastime.Error
		if !errors.As(err, &te) {
			t.Errorf("Parse(%q): error %v, want *dastime.Error", c.in, err)
			continue
		}
		if te.Pos != c.pos {
			t.Errorf("Parse(%q): error at %d (%v), want %d", c.in, te.Pos, err, c.pos)
		}
	}
}

func TestFormat(t *testing.T) {
	tm := dastime.Date(2024, 3, 1, 4, 5, 6, 789123456)
	cases := []struct {
		got, want string
	}{
		{string(dastime.AppendISO(nil, tm, 3)), "2024-03-01T04:05:06.789"},
		{string(dastime.AppendISO(nil, tm, 0)), "2024-03-01T04:05:07"},
		{string(dastime.AppendISO(nil, tm, 9)), "2024-03-01T04:05:06.789123456"},
		{string(dastime.AppendISO(nil, tm, 6)), "2024-03-01T04:05:06.789123"},
		{string(dastime.AppendDOY(nil, tm, 3)), "2024-061T04:05:06.789"},
		{string(dastime.AppendISO(nil, dastime.Date(1999, 12, 31, 23, 59, 59, 999600000), 3)), "2000-01-01T00:00:00.000"},
		{string(dastime.AppendISO(nil, dastime.Date(1970, 1, 1, 0, 0, 0, 0), 0)), "1970-01-01T00:00:00"},
		{tm.String(), "2024-03-01T04:05:06.789123456"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestEpochs(t *testing.T) {
	tm := dastime.Date(2024, 1, 1, 0, 1, 0, 0)
	cases := []struct {
		e dastime.Epoch
		v float64
	}{
		{dastime.US2000, 757382460e6},
		{dastime.T2000, 757382460},
		{dastime.T1970, 1704067260},
		{dastime.MJ1958, 24106 + 60.0/86400},
		{dastime.NS1970, 1704067260e9},
	}
	for _, c := range cases {
		if got := dastime.ToFloat(c.e, tm); got != c.v && (c.e != dastime.MJ1958 || got-c.v > 1e-9 || c.v-got > 1e-9) {
			t.Errorf("%s: ToFloat = %v, want %v", c.e, got, c.v)
		}
		back, ok := dastime.FromFloat(c.e, c.v)
		if !ok || (back-tm) > 1000 || (tm-back) > 1000 {
			t.Errorf("%s: FromFloat(%v) = %v, want %v", c.e, c.v, back, tm)
		}
		if dastime.EpochOf(c.e.String()) != c.e {
			t.Errorf("EpochOf(%q) != %v", c.e.String(), c.e)
		}
	}
	if _, ok := dastime.FromFloat(dastime.US2000, 1e300); ok {
		t.Error("FromFloat accepted 1e300 us2000")
	}
	if dastime.EpochOf("UTC") != dastime.NotEpoch {
		t.Error("UTC is not an epoch")
	}
}

func TestTT2000(t *testing.T) {
	cases := []struct {
		utc dastime.Time
		tt  int64
	}{
		{dastime.Date(2024, 1, 1, 0, 0, 0, 0), 757339269184000000}, // spec 4.9
		{dastime.Date(2000, 1, 1, 11, 58, 55, 816000000), 0},       // J2000
		{dastime.Date(2017, 1, 1, 0, 0, 0, 0), 536500869184000000},
		{dastime.Date(2016, 12, 31, 23, 59, 59, 0), 536500867184000000},
		{dastime.Date(1990, 1, 1, 0, 0, 0, 0), -315575942816000000},
	}
	for _, c := range cases {
		if got := dastime.ToTT2000(c.utc); got != c.tt {
			t.Errorf("ToTT2000(%v) = %d, want %d", c.utc, got, c.tt)
		}
		if got := dastime.FromTT2000(c.tt); got != c.utc {
			t.Errorf("FromTT2000(%d) = %v, want %v", c.tt, got, c.utc)
		}
	}
	// The leap second 2016-12-31T23:59:60 maps to the next day.
	if got := dastime.FromTT2000(536500868184000000); got != dastime.Date(2017, 1, 1, 0, 0, 0, 0) {
		t.Errorf("leap second maps to %v", got)
	}
	if dastime.LeapSeconds(dastime.Date(2024, 1, 1, 0, 0, 0, 0)) != 37 || dastime.LeapSeconds(dastime.Date(1960, 1, 1, 0, 0, 0, 0)) != 10 {
		t.Error("LeapSeconds table")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2024-01-01T00:01:00.000", "2024-001T00:01", "2024-01-01 00:00:00Z", "2024-01-01", "1999-12-31T23:59:60.5", "9999-99-99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := dastime.ParseString(s)
		if err != nil {
			return
		}
		iso := dastime.AppendISO(nil, tm, 9)
		back, err := dastime.Parse(iso)
		if err != nil || back != tm {
			t.Fatalf("%q -> %v -> %s -> %v, %v", s, int64(tm), iso, int64(back), err)
		}
		doy := dastime.AppendDOY(nil, tm, 9)
		if back, err := dastime.Parse(doy); err != nil || back != tm {
			t.Fatalf("%q -> %s -> %v, %v", s, doy, back, err)
		}
	})
}

// TestRoundTiesToEven: text times round like printf's %.Nf, which das2C's time
// formats use: to the nearest, a tie to the even digit (issue 12, finding 6).
func TestRoundTiesToEven(t *testing.T) {
	at := func(sec, nsec int) dastime.Time { return dastime.Date(2024, 1, 1, 0, 1, sec, nsec) }
	cases := []struct {
		t    dastime.Time
		frac int
		want string
	}{
		{at(45, 250000000), 1, "2024-01-01T00:01:45.2"},       // a tie: 2 is even
		{at(45, 750000000), 1, "2024-01-01T00:01:45.8"},       // a tie: 7 is odd (truncation would give .7)
		{at(45, 350000000), 1, "2024-01-01T00:01:45.4"},       // a tie: 3 is odd
		{at(45, 260000000), 1, "2024-01-01T00:01:45.3"},       // not a tie
		{at(45, 500000000), 0, "2024-01-01T00:01:46"},         // 45 is odd
		{at(46, 500000000), 0, "2024-01-01T00:01:46"},         // 46 is even
		{at(59, 999500000), 3, "2024-01-01T00:02:00.000"},     // a tie carries into the minute
		{dastime.Time(-1500000000), 0, "1999-12-31T23:59:58"}, // -1.5 s: even -2
		{dastime.Time(-2500000000), 0, "1999-12-31T23:59:58"}, // -2.5 s: even -2
	}
	for _, c := range cases {
		if got := string(dastime.AppendISO(nil, c.t, c.frac)); got != c.want {
			t.Errorf("AppendISO(%v, %d) = %s, want %s", c.t, c.frac, got, c.want)
		}
	}
	if got := at(45, 999999999).Floor(0); got != at(45, 0) {
		t.Errorf("Floor = %v", got)
	}
	if got := dastime.Time(-1).Floor(3); got != -1000000 {
		t.Errorf("Floor(-1ns, 3) = %d", got)
	}
}
