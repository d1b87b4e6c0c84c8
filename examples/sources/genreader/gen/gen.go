// Package gen generates the example reader's deterministic das2.2 streams (see
// examples/sources/genreader).
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/das3"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// Cadences of the two products, in nanoseconds.
const (
	waveStep = int64(1e9)
	specStep = int64(60e9)
	channels = 32
)

// Run writes the stream args ask for (PRODUCT START END [params...]) and returns the
// exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) < 3 {
		_, _ = fmt.Fprintln(stderr, "usage: genreader waveform|spectrogram|both START END [params...]")
		return 2
	}
	mode := args[0]
	start, err1 := dastime.ParseString(args[1])
	end, err2 := dastime.ParseString(args[2])
	if err1 != nil || err2 != nil {
		_, _ = fmt.Fprintf(stderr, "genreader: bad time range %q to %q\n", args[1], args[2])
		return 2
	}
	scale, fail, v3 := 1.0, false, false
	var pause time.Duration
	for _, p := range args[3:] {
		switch {
		case p == "--fail":
			fail = true
		case p == "--das3":
			v3 = true
		case strings.HasPrefix(p, "--sleep="):
			d, err := time.ParseDuration(strings.TrimPrefix(p, "--sleep="))
			if err != nil || d < 0 || d > time.Minute {
				_, _ = fmt.Fprintf(stderr, "genreader: bad %s (a duration up to 1m)\n", p)
				return 2
			}
			pause = d
		case strings.HasPrefix(p, "--scale="):
			v, err := strconv.ParseFloat(strings.TrimPrefix(p, "--scale="), 64)
			if err != nil {
				_, _ = fmt.Fprintf(stderr, "genreader: bad %s\n", p)
				return 2
			}
			scale = v
		default:
			_, _ = fmt.Fprintf(stderr, "genreader: unknown parameter %q\n", p)
			return 2
		}
	}
	var (
		ds   *das.Dataset
		spec *das.Dataset // the second packet type of both
		step int64
	)
	switch mode {
	case "waveform":
		ds, step = dataset(1, "E", "V m**-1", 1), waveStep
	case "spectrogram":
		ds, step = dataset(1, "spec", "V**2 m**-2 Hz**-1", channels), specStep
	case "both":
		ds, step = dataset(1, "E", "V m**-1", 1), waveStep
		spec = dataset(2, "spec", "V**2 m**-2 Hz**-1", channels)
	default:
		_, _ = fmt.Fprintf(stderr, "genreader: unknown product %q\n", mode)
		return 2
	}
	time.Sleep(pause)
	bw := bufio.NewWriterSize(stdout, 64*1024)
	var w das.Sink = das2.NewWriter(bw, das2.WriterOptions{})
	if v3 {
		w = das3.NewWriter(bw, das3.WriterOptions{})
	}
	title := "genreader " + mode
	if err := w.Stream(&das.Stream{Version: "2.2", Props: das.Properties{{Name: "title", Value: title}}}); err != nil {
		return fail2(stderr, err)
	}
	if err := w.Dataset(ds); err != nil {
		return fail2(stderr, err)
	}
	if spec != nil {
		if err := w.Dataset(spec); err != nil {
			return fail2(stderr, err)
		}
	}
	if fail {
		_ = w.Close()
		_ = bw.Flush()
		_, _ = fmt.Fprintln(stderr, "genreader: failing as asked (--fail)")
		return 3
	}
	rec, srec := &das.Record{}, &das.Record{}
	rec.Reset(ds)
	if spec != nil {
		srec.Reset(spec)
	}
	first := (int64(start) + step - 1) / step * step // first multiple of step at or after start
	if int64(start) < 0 {
		first = int64(start) / step * step
	}
	for t := first; t < int64(end); t += step {
		if mode == "spectrogram" {
			spectrum(rec, t, scale)
		} else {
			waveform(rec, t, scale)
		}
		if err := w.Record(rec); err != nil {
			return fail2(stderr, err)
		}
		if spec != nil && t%specStep == 0 {
			spectrum(srec, t, scale)
			if err := w.Record(srec); err != nil {
				return fail2(stderr, err)
			}
		}
	}
	if err := w.Close(); err != nil {
		return fail2(stderr, err)
	}
	if err := bw.Flush(); err != nil {
		return fail2(stderr, err)
	}
	return 0
}

// waveform fills rec with the waveform value at t (ns since 2000).
func waveform(rec *das.Record, t int64, scale float64) {
	rec.Floats[0] = float64(t) / 1e3 // us2000
	sec := float64(t) / 1e9
	rec.Floats[1] = scale * (math.Sin(2*math.Pi*sec/3600) + 0.1*math.Sin(2*math.Pi*sec/600))
}

// spectrum fills rec with the spectrum at t (ns since 2000).
func spectrum(rec *das.Record, t int64, scale float64) {
	rec.Floats[0] = float64(t) / 1e3 // us2000
	sec := float64(t) / 1e9
	for k := range channels {
		f := float64(k+1) * 10
		rec.Floats[1+k] = scale * 1e-6 / f * (1.5 + math.Sin(2*math.Pi*sec/86400+float64(k)/5))
	}
}

func fail2(stderr io.Writer, err error) int {
	_, _ = fmt.Fprintln(stderr, "genreader:", err)
	return 1
}

// dataset is X (us2000 real8) and a <y> (items == 1) or <yscan> of real4 values.
func dataset(id int, name, units string, items int) *das.Dataset {
	x := &das.Variable{Use: "center", Semantic: "datetime", Units: "us2000", Items: 1, Enc: das.Encoding{Kind: das.EncReal, Size: 8}, Epoch: dastime.US2000}
	y := &das.Variable{Use: "center", Semantic: "real", Units: units, Items: items, Enc: das.Encoding{Kind: das.EncReal, Size: 4}, FillVal: das.DefaultFill, Text: das.DefaultTextFormat}
	yd := &das.Dim{Kind: das.Data, Plane: das.PlaneY, Name: name, Vars: []*das.Variable{y}}
	ds := &das.Dataset{ID: id, Name: name, Rank: 1, Shape: []int{-1}}
	if items > 1 {
		yd.Plane = das.PlaneYScan
		tags := make([]float64, items)
		for i := range tags {
			tags[i] = float64(i+1) * 10
		}
		yd.YTags = das.YTags{Form: das.TagsInterval, Interval: "10", Min: "10", Values: tags, Units: "Hz"}
		ds.Rank, ds.Shape = 2, []int{-1, items}
	}
	ds.Dims = []*das.Dim{{Kind: das.Coord, Plane: das.PlaneX, PhysDim: "time", Axis: "x", Vars: []*das.Variable{x}}, yd}
	if err := ds.Layout(); err != nil {
		panic(err)
	}
	return ds
}
