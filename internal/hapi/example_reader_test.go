package hapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/examples/sources/genreader/gen"
	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
)

// genCatalog serves the example reader's products (examples/sources/genreader),
// run in process for the requested range and decoded like a reader's stdout.
type genCatalog struct {
	sets map[string]*Dataset
}

func runGen(ctx context.Context, product string, start, stop time.Time, sink das.Sink) error {
	var out, errs bytes.Buffer
	if code := gen.Run([]string{product, formatDate(start), formatDate(stop)}, &out, &errs); code != 0 {
		return fmt.Errorf("genreader exit %d: %s", code, errs.String())
	}
	_, err := convert.Decode(ctx, &out, sink, nil)
	return err
}

func (c *genCatalog) List(context.Context, *http.Request) ([]Entry, error) {
	return []Entry{{ID: "waveform"}, {ID: "spectrogram"}}, nil
}

func (c *genCatalog) Describe(_ context.Context, _ *http.Request, id string) (*Dataset, error) {
	if ds, found := c.sets[id]; found {
		return ds, nil
	}
	return nil, ErrNotFound
}

func (c *genCatalog) Stream(ctx context.Context, _ *http.Request, id string, start, stop time.Time, sink das.Sink) error {
	if _, found := c.sets[id]; !found {
		return ErrNotFound
	}
	return runGen(ctx, id, start, stop, sink)
}

// TestExampleReaderPassesVerifierRules: the shipped example sources, their
// parameters learnt from an example run with FirstHeader, pass the verifier's
// rules in every format and for each parameter alone.
func TestExampleReaderPassesVerifierRules(t *testing.T) {
	c := &genCatalog{sets: map[string]*Dataset{}}
	for product, cadence := range map[string]time.Duration{"waveform": time.Second, "spectrogram": time.Minute} {
		hdr, err := FirstHeader(func(s das.Sink) error { return runGen(t.Context(), product, t0, t0.Add(time.Hour), s) })
		if err != nil {
			t.Fatal(product, err)
		}
		c.sets[product] = &Dataset{ID: product, Start: t0.AddDate(-1, 0, 0), Cadence: cadence, Header: hdr,
			SampleStart: t0, SampleStop: t0.Add(time.Hour)}
	}
	srv := httptest.NewServer(New(c, Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	for _, id := range []string{"waveform", "spectrogram"} {
		t.Run(id, func(t *testing.T) {
			in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset="+id).body)
			start, stop := t0.Add(90*time.Second), t0.Add(time.Hour)
			q := "/hapi/data?dataset=" + id + "&start=" + formatDate(start) + "&stop=" + formatDate(stop)
			rows := verifyCSV(t, in, string(get(t, srv.URL, q).body), start, stop)
			want := map[string]int{"waveform": 3600 - 90, "spectrogram": 58}[id]
			if len(rows) != want {
				t.Errorf("%d rows, want %d", len(rows), want)
			}
			bin := decodeBinary(t, in, get(t, srv.URL, q+"&format=binary").body, start, stop)
			for i := range bin {
				if strings.Join(bin[i], ",") != strings.Join(rows[i], ",") {
					t.Fatalf("row %d: binary %v, csv %v", i, bin[i], rows[i])
				}
			}
			if _, js := verifyJSON(t, get(t, srv.URL, q+"&format=json").body, start, stop); len(js) != len(rows) {
				t.Errorf("json %d rows", len(js))
			}
			for _, p := range in.Parameters {
				pin := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset="+id+"&parameters="+p.Name).body)
				if got := verifyCSV(t, pin, string(get(t, srv.URL, q+"&parameters="+p.Name).body), start, stop); len(got) != len(rows) {
					t.Errorf("parameters=%s: %d rows", p.Name, len(got))
				}
			}
		})
	}
	in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=spectrogram").body)
	if p := in.Parameters[1]; p.Name != "spec" || len(p.Size) != 1 || p.Size[0] != 32 || len(p.Bins) != 1 || p.Bins[0].Centers[31] != 320 {
		t.Errorf("spectrogram parameter %+v", p)
	}
	if in.StopDate == "" {
		t.Error("open-ended stopDate missing")
	}
}

// TestExampleReaderTwoPacketTypes: a reader writing two packet types (genreader both: a
// waveform each second as packet 1, a spectrum each minute as packet 2) is described by the
// union of their parameters and served one row per instant, the spectrum joined to the
// waveform row of its minute, fill elsewhere; in every format and per parameter.
func TestExampleReaderTwoPacketTypes(t *testing.T) {
	c := &genCatalog{sets: map[string]*Dataset{}}
	for _, product := range []string{"waveform", "spectrogram", "both"} {
		hdrs, err := Headers(func(s das.Sink) error { return runGen(t.Context(), product, t0, t0.Add(time.Hour), s) }, 10000)
		if err != nil {
			t.Fatal(product, err)
		}
		if want := map[string]int{"both": 2}[product]; len(hdrs) != max(want, 1) {
			t.Fatalf("%s: %d headers", product, len(hdrs))
		}
		c.sets[product] = &Dataset{ID: product, Start: t0.AddDate(-1, 0, 0), Header: hdrs[0], Others: hdrs[1:], SampleStart: t0, SampleStop: t0.Add(time.Hour)}
	}
	srv := httptest.NewServer(New(c, Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)

	in := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=both").body)
	if len(in.Parameters) != 3 || in.Parameters[1].Name != "E" || in.Parameters[2].Name != "spec" || len(in.Parameters[2].Size) != 1 ||
		in.Parameters[2].Size[0] != 32 || len(in.Parameters[2].Bins) != 1 || in.Parameters[2].Bins[0].Centers[31] != 320 {
		t.Fatalf("parameters %+v", in.Parameters)
	}
	fill := "-1e+31"
	if f := string(in.Parameters[2].Fill); f != `"`+fill+`"` {
		t.Fatalf("spec fill %v", f)
	}

	start, stop := t0.Add(30*time.Second), t0.Add(181*time.Second)
	rng := "&start=" + formatDate(start) + "&stop=" + formatDate(stop)
	rows := verifyCSV(t, in, string(get(t, srv.URL, "/hapi/data?dataset=both"+rng).body), start, stop)
	wave := verifyCSV(t, verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=waveform").body), string(get(t, srv.URL, "/hapi/data?dataset=waveform"+rng).body), start, stop)
	spec := verifyCSV(t, verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=spectrogram").body), string(get(t, srv.URL, "/hapi/data?dataset=spectrogram"+rng).body), start, stop)
	if len(rows) != 151 || len(wave) != 151 || len(spec) != 3 {
		t.Fatalf("%d rows (waveform %d, spectrogram %d)", len(rows), len(wave), len(spec))
	}
	joined := 0
	for i, row := range rows {
		if row[0] != wave[i][0] || row[1] != wave[i][1] {
			t.Fatalf("row %d %v, waveform %v", i, row[:2], wave[i])
		}
		want := slices.Repeat([]string{fill}, 32)
		if joined < len(spec) && spec[joined][0] == row[0] {
			want = spec[joined][1:]
			joined++
		}
		if !slices.Equal(row[2:], want) {
			t.Fatalf("row %d spectrum %v, want %v", i, row[2:], want)
		}
	}
	if joined != 3 {
		t.Fatalf("%d spectra joined", joined)
	}
	bin := decodeBinary(t, in, get(t, srv.URL, "/hapi/data?dataset=both&format=binary"+rng).body, start, stop)
	for i := range rows {
		if i >= len(bin) || !slices.Equal(bin[i], rows[i]) {
			t.Fatalf("binary row %d differs from csv %v", i, rows[i])
		}
	}
	if _, js := verifyJSON(t, get(t, srv.URL, "/hapi/data?dataset=both&format=json"+rng).body, start, stop); len(js) != len(rows) {
		t.Errorf("json %d rows", len(js))
	}
	// One parameter alone: the spectrum column of the same rows.
	pin := verifyInfo(t, get(t, srv.URL, "/hapi/info?dataset=both&parameters=spec").body)
	only := verifyCSV(t, pin, string(get(t, srv.URL, "/hapi/data?dataset=both&parameters=spec"+rng).body), start, stop)
	if len(only) != len(rows) || !slices.Equal(only[30], append([]string{rows[30][0]}, rows[30][2:]...)) {
		t.Fatalf("parameters=spec: %d rows, row 30 %v", len(only), only[min(30, len(only)-1)])
	}
}
