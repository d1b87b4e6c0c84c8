package reduce_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/dastest"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
)

const fill = "-1.0000000e+31"

var t0 = dastime.Date(2024, 1, 1, 0, 0, 0, 0)

// scalarDS is a das2.2-style packet: <x little_endian_real8 us2000> + one <y>, or a
// <yscan> of n items when n > 1.
func scalarDS(id, n int) *das.Dataset {
	x := &das.Variable{Use: "center", Semantic: "datetime", Units: "us2000", Items: 1, Enc: das.Encoding{Kind: das.EncReal, Size: 8}}
	y := &das.Variable{Use: "center", Semantic: "real", Units: "nT", Items: n, Enc: das.Encoding{Kind: das.EncReal, Size: 8}, FillVal: das.DefaultFill}
	yd := &das.Dim{Kind: das.Data, Plane: das.PlaneY, Name: "v", Vars: []*das.Variable{y}}
	ds := &das.Dataset{ID: id, Name: "v", Rank: 1, Shape: []int{-1}}
	if n > 1 {
		yd.Plane = das.PlaneYScan
		yd.YTags = das.YTags{Form: das.TagsInterval, Interval: "1", Values: make([]float64, n), Units: "Hz"}
		ds.Rank, ds.Shape = 2, []int{-1, n}
	}
	ds.Dims = []*das.Dim{{Kind: das.Coord, Plane: das.PlaneX, PhysDim: "time", Axis: "x", Vars: []*das.Variable{x}}, yd}
	if err := ds.Layout(); err != nil {
		panic(err)
	}
	return ds
}

type point struct {
	id   int
	sec  float64
	vals []float64
}

func run(t *testing.T, opt reduce.Options, dss []*das.Dataset, pts []point) *dastest.Log {
	t.Helper()
	var l dastest.Log
	r, err := reduce.New(&l, opt)
	if err != nil {
		t.Fatal(err)
	}
	must(t, r.Stream(&das.Stream{Version: "2.2", Props: das.Properties{{Name: "xTagWidth", Type: "real", Units: "s", Value: "10", Das2Type: "Datum"}}}))
	recs := map[int]*das.Record{}
	for _, ds := range dss {
		must(t, r.Dataset(ds))
		rec := &das.Record{}
		rec.Reset(ds)
		recs[ds.ID] = rec
	}
	for _, p := range pts {
		rec := recs[p.id]
		rec.Floats[0] = t0.US2000() + p.sec*1e6
		copy(rec.Floats[1:], p.vals)
		must(t, r.Record(rec))
	}
	must(t, r.Close())
	if !l.Closed {
		t.Error("Close was not passed on")
	}
	return &l
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, l *dastest.Log, want ...string) {
	t.Helper()
	got := l.Records()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const F = das.DefaultFill

func TestBins(t *testing.T) {
	begin := reduce.Options{Width: 60, Begin: t0, HasBegin: true}
	one := []*das.Dataset{scalarDS(1, 1)}
	t.Run("fill skipped, all-fill bin is fill, centers", func(t *testing.T) {
		l := run(t, begin, one, []point{
			{1, 0, []float64{1}}, {1, 10, []float64{2}}, {1, 20, []float64{3}}, {1, 25, []float64{F}},
			{1, 70, []float64{10}},
			{1, 130, []float64{F}}, {1, 140, []float64{5}},
			{1, 250, []float64{F}},
		})
		check(t, l,
			"1;2024-01-01T00:00:30.000;2.0000000e+00",
			"1;2024-01-01T00:01:30.000;1.0000000e+01",
			"1;2024-01-01T00:02:30.000;5.0000000e+00",
			"1;2024-01-01T00:04:30.000;"+fill)
	})
	t.Run("aligned to the first record without a begin", func(t *testing.T) {
		l := run(t, reduce.Options{Width: 60}, one, []point{
			{1, 15, []float64{1}}, {1, 74, []float64{3}}, {1, 75, []float64{4}},
		})
		check(t, l,
			"1;2024-01-01T00:00:45.000;2.0000000e+00",
			"1;2024-01-01T00:01:45.000;4.0000000e+00")
	})
	t.Run("aligned to begin, points before it in bins before it", func(t *testing.T) {
		l := run(t, reduce.Options{Width: 60, Begin: t0.Add(30), HasBegin: true}, one, []point{
			{1, -100, []float64{5}}, {1, 0, []float64{1}}, {1, 40, []float64{3}}, {1, 95, []float64{7}},
		})
		check(t, l,
			"1;2023-12-31T23:58:00.000;5.0000000e+00",
			"1;2024-01-01T00:00:00.000;1.0000000e+00",
			"1;2024-01-01T00:01:00.000;3.0000000e+00",
			"1;2024-01-01T00:02:00.000;7.0000000e+00")
	})
	t.Run("time going back before the first record", func(t *testing.T) {
		l := run(t, reduce.Options{Width: 60}, one, []point{
			{1, 100, []float64{1}}, {1, 70, []float64{3}}, {1, 45, []float64{5}}, {1, 39, []float64{7}},
		})
		check(t, l,
			"1;2024-01-01T00:02:10.000;1.0000000e+00",
			"1;2024-01-01T00:01:10.000;4.0000000e+00",
			"1;2024-01-01T00:00:10.000;7.0000000e+00")
	})
	t.Run("non-monotonic input gives one output per run", func(t *testing.T) {
		l := run(t, begin, one, []point{
			{1, 10, []float64{1}}, {1, 70, []float64{2}}, {1, 20, []float64{3}}, {1, 30, []float64{5}},
		})
		check(t, l,
			"1;2024-01-01T00:00:30.000;1.0000000e+00",
			"1;2024-01-01T00:01:30.000;2.0000000e+00",
			"1;2024-01-01T00:00:30.000;4.0000000e+00")
	})
	t.Run("packet IDs are independent", func(t *testing.T) {
		l := run(t, begin, []*das.Dataset{scalarDS(1, 1), scalarDS(2, 1)}, []point{
			{1, 0, []float64{1}}, {2, 5, []float64{100}}, {1, 30, []float64{3}}, {1, 61, []float64{9}},
			{2, 50, []float64{200}}, {2, 65, []float64{50}},
		})
		check(t, l,
			"1;2024-01-01T00:00:30.000;2.0000000e+00",
			"2;2024-01-01T00:00:30.000;1.5000000e+02",
			"1;2024-01-01T00:01:30.000;9.0000000e+00",
			"2;2024-01-01T00:01:30.000;5.0000000e+01")
	})
	t.Run("spectra average per item with fill", func(t *testing.T) {
		l := run(t, reduce.Options{Width: 60, Begin: t0, HasBegin: true, Min: true, Max: true, Count: true}, []*das.Dataset{scalarDS(1, 3)}, []point{
			{1, 0, []float64{1, F, 4}}, {1, 30, []float64{3, F, 8}},
		})
		// avg[3] min[3] max[3] count[3]
		check(t, l, "1;2024-01-01T00:00:30.000;2.0000000e+00;"+fill+";6.0000000e+00;"+
			"1.0000000e+00;"+fill+";4.0000000e+00;3.0000000e+00;"+fill+";8.0000000e+00;"+
			"2.0000000e+00;0.0000000e+00;2.0000000e+00")
	})
}

func TestMinMaxHeader(t *testing.T) {
	var out bytes.Buffer
	w := das2.NewWriter(&out, das2.WriterOptions{})
	r, err := reduce.New(w, reduce.Options{Width: 60, Min: true, Max: true})
	must(t, err)
	_, err = convert.Decode(t.Context(), bytes.NewReader(dastest.ReadGolden(t, "d22_scalar_le.d2s")), r, nil)
	must(t, err)
	must(t, r.Close())
	s := out.String()
	for _, want := range []string{
		`Datum:xTagWidth="120 s"`, `Datum:xCacheResolution="120 s"`, `String:xCacheResInfo=" (1 minute Averages)"`,
		`<y type="little_endian_real4" name="bmag.min" units="nT">`, `String:operation="BIN_MIN"`,
		`String:operation="BIN_AVG"`, `name="bmag.max"`, `String:source="bmag"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s:\n%s", want, s)
		}
	}
	var l dastest.Log
	_, err = convert.Decode(t.Context(), &out, &l, nil)
	must(t, err)
	check(t, &l,
		"1;2024-01-01T00:00:30.000;1.2340000e+01;1.2340000e+01;1.2340000e+01",
		"1;2024-01-01T00:01:30.000;1.2500000e+01;1.2500000e+01;1.2500000e+01",
		"1;2024-01-01T00:02:30.000;1.2610000e+01;1.2610000e+01;1.2610000e+01",
		"1;2024-01-01T00:03:30.000;1.2700000e+01;1.2700000e+01;1.2700000e+01",
		"1;2024-01-01T00:04:30.000;1.2660000e+01;1.2660000e+01;1.2660000e+01")
}

// TestDas3 reduces the TT2000 and spectrogram samples: 120 s bins of two records.
func TestDas3(t *testing.T) {
	cases := map[string][]string{
		"d3_scalar_tt2000.d3b": {
			"1;2024-01-01T00:01:00.000;1.2420000e+01",
			"1;2024-01-01T00:03:00.000;1.2655000e+01",
			"1;2024-01-01T00:05:00.000;1.2660000e+01",
		},
		// Means 1.8/3.6/5.4/7.2e-10 etc., printed through float32 like das3_csv.
		"d3_spectrogram_text.d3t": {
			"1;2024-01-01T00:01:00.000;1.8000000e-10;3.6000000e-10;5.3999999e-10;7.2000000e-10",
			"1;2024-01-01T00:03:00.000;4.2000001e-10;8.4000001e-10;1.2600000e-09;1.6800000e-09",
			"1;2024-01-01T00:05:00.000;5.9999999e-10;1.2000000e-09;1.8000000e-09;2.4000000e-09",
		},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			var l dastest.Log
			r, err := reduce.New(&l, reduce.Options{Width: 120, Begin: t0, HasBegin: true})
			must(t, err)
			_, err = convert.Decode(t.Context(), bytes.NewReader(dastest.ReadGolden(t, file)), r, nil)
			must(t, err)
			must(t, r.Close())
			check(t, &l, want...)
		})
	}
}

func TestExceptionFlushesFirst(t *testing.T) {
	var l dastest.Log
	r, err := reduce.New(&l, reduce.Options{Width: 3600})
	must(t, err)
	ds := scalarDS(1, 1)
	must(t, r.Stream(&das.Stream{}))
	must(t, r.Dataset(ds))
	var rec das.Record
	rec.Reset(ds)
	rec.Floats[0], rec.Floats[1] = 0, 4
	must(t, r.Record(&rec))
	must(t, r.Exception(&das.Exception{Type: das.ServerError, Message: "boom"}))
	n := len(l.Lines)
	if n < 2 || !strings.HasPrefix(l.Lines[n-1], "exception") || !strings.HasPrefix(l.Lines[n-2], "1;") {
		t.Errorf("events %q: the open bin must precede the exception", l.Lines)
	}
}

func TestBadWidth(t *testing.T) {
	for _, w := range []float64{0, -1} {
		if _, err := reduce.New(&dastest.Log{}, reduce.Options{Width: w}); !errors.Is(err, reduce.ErrWidth) {
			t.Errorf("width %v: %v", w, err)
		}
	}
}
