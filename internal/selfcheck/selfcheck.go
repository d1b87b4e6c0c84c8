// Package selfcheck requests every reader source's first example range in every output
// format, checks what comes back with the das verifier (CSV: a well-formed table), and
// records pass or fail and latency per source, so that a broken reader or archive is seen
// by an admin before a scientist finds it.
package selfcheck

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/sourcehealth"
	"github.com/rhizoflex/rhizoflex/internal/readers"
	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
	"github.com/rhizoflex/rhizoflex/streams/verify"
)

// Format is one output format the check requests.
type Format struct {
	Name string
	Opt  convert.Options
}

// Formats are every output format a client can ask for.
var Formats = []Format{
	{"das2", convert.Options{Format: convert.Das2}},
	{"das2-text", convert.Options{Format: convert.Das2, Text: true}},
	{"das3", convert.Options{Format: convert.Das3}},
	{"das3-text", convert.Options{Format: convert.Das3, Text: true}},
	{"csv", convert.Options{Format: convert.CSV}},
}

// FormatResult is one format's outcome.
type FormatResult struct {
	Format    string `json:"format"`
	OK        bool   `json:"ok"`
	Records   int64  `json:"records"`
	Bytes     int64  `json:"bytes"`
	LatencyMS int64  `json:"latencyMs"`
	Error     string `json:"error,omitempty"`
}

// Result is one source's outcome.
type Result struct {
	Source    string
	OK        bool
	CheckedAt time.Time
	Latency   time.Duration
	Error     string // the first failure
	Formats   []FormatResult
}

// StreamFunc runs a reader source for a time range into a writer (the catalog's path, so
// the cache is checked too).
type StreamFunc func(ctx context.Context, def *readers.Definition, req readers.Request, start, stop time.Time, w io.Writer, opt convert.Options) error

// Check requests def's first example range in every format.
func Check(ctx context.Context, def *readers.Definition, stream StreamFunc) Result {
	res := Result{Source: def.ID, OK: true, CheckedAt: time.Now()}
	ex := def.Examples[0]
	start, stop, err := exampleRange(ex.Range)
	if err != nil {
		res.OK, res.Error = false, err.Error()
		return res
	}
	req := readers.Request{Start: readers.ReaderTime(start), End: readers.ReaderTime(stop), Params: ex.Params, Interval: ex.Interval, RequestID: "selfcheck"}
	begin := time.Now()
	for _, f := range Formats {
		fr := checkFormat(ctx, def, req, start, stop, f, stream)
		res.Formats = append(res.Formats, fr)
		if !fr.OK && res.OK {
			res.OK, res.Error = false, f.Name+": "+fr.Error
		}
	}
	res.Latency = time.Since(begin)
	return res
}

func checkFormat(ctx context.Context, def *readers.Definition, req readers.Request, start, stop time.Time, f Format, stream StreamFunc) FormatResult {
	fr := FormatResult{Format: f.Name}
	begin := time.Now()
	pr, pw := io.Pipe()
	counted := &counter{w: pw}
	done := make(chan error, 1)
	go func() {
		err := stream(ctx, def, req, start, stop, counted, f.Opt)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	var checkErr error
	if f.Opt.Format == convert.CSV {
		fr.Records, checkErr = checkCSV(pr)
	} else {
		var rep *verify.Report
		rep, checkErr = verify.Stream(ctx, pr)
		if checkErr == nil {
			fr.Records = rep.Records
			for _, v := range rep.Violations {
				if rep.Records == 0 && strings.Contains(v.Rule, "empty result") {
					continue // an empty answer is reported as no data below
				}
				checkErr = fmt.Errorf("the stream breaks the das rules: %v", v)
				break
			}
		}
	}
	_, _ = io.Copy(io.Discard, pr) // let the writer finish whatever the check left unread
	streamErr := <-done
	fr.LatencyMS = time.Since(begin).Milliseconds()
	fr.Bytes = counted.n
	switch {
	case streamErr != nil:
		fr.Error = streamErr.Error()
	case checkErr != nil:
		fr.Error = checkErr.Error()
	case fr.Records == 0:
		fr.Error = "no data in the example range"
	default:
		fr.OK = true
	}
	return fr
}

// checkCSV reads a CSV answer: a header row, then rows of the same width.
func checkCSV(r io.Reader) (int64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	if _, err := cr.Read(); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		return 0, fmt.Errorf("csv header: %w", err)
	}
	var n int64
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("csv row %d: %w", n+1, err)
		}
		n++
	}
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// exampleRange reads `START to END [UTC]`.
func exampleRange(s string) (time.Time, time.Time, error) {
	a, b, ok := strings.Cut(s, " to ")
	if !ok {
		return time.Time{}, time.Time{}, fmt.Errorf("example range %q is not START to END", s)
	}
	b = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(b), "UTC"))
	t0, err0 := dastime.ParseString(strings.TrimSpace(a))
	t1, err1 := dastime.ParseString(b)
	if err := errors.Join(err0, err1); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("example range %q: %w", s, err)
	}
	return readers.GoTime(t0), readers.GoTime(t1), nil
}

// Record stores a result, replacing the source's previous one.
func Record(ctx context.Context, client *ent.Client, r Result) error {
	formats := make([]map[string]any, 0, len(r.Formats))
	for _, f := range r.Formats {
		m := map[string]any{"format": f.Format, "ok": f.OK, "records": f.Records, "bytes": f.Bytes, "latencyMs": f.LatencyMS}
		if f.Error != "" {
			m["error"] = f.Error
		}
		formats = append(formats, m)
	}
	errText := r.Error
	if len(errText) > 2000 {
		errText = errText[:2000]
	}
	err := client.SourceHealth.Create().
		SetSource(r.Source).SetOk(r.OK).SetCheckedAt(r.CheckedAt).SetLatencyMs(r.Latency.Milliseconds()).
		SetError(errText).SetFormats(formats).
		OnConflictColumns(sourcehealth.FieldSource).UpdateNewValues().Exec(ctx)
	if err != nil {
		return fmt.Errorf("recording the self-check of %s: %w", r.Source, err)
	}
	return nil
}

// Run checks every source of set, records each result and forgets sources that are gone.
// It returns the results in source order.
func Run(ctx context.Context, client *ent.Client, set *readers.Set, stream StreamFunc, log *slog.Logger) ([]Result, error) {
	var results []Result
	var ids []string
	for _, def := range set.List() {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		r := Check(ctx, def, stream)
		results = append(results, r)
		ids = append(ids, def.ID)
		if err := Record(ctx, client, r); err != nil {
			return results, err
		}
		if !r.OK {
			log.Warn("source self-check failed", "source", r.Source, "err", r.Error)
		}
	}
	if _, err := client.SourceHealth.Delete().Where(sourcehealth.SourceNotIn(ids...)).Exec(ctx); err != nil {
		return results, fmt.Errorf("forgetting removed sources: %w", err)
	}
	return results, nil
}

// List returns every recorded result, failures first, then by source.
func List(ctx context.Context, client *ent.Client) ([]*ent.SourceHealth, error) {
	out, err := client.SourceHealth.Query().Order(ent.Asc(sourcehealth.FieldOk), ent.Asc(sourcehealth.FieldSource)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("source health: %w", err)
	}
	return out, nil
}

// FormatsOf decodes a recorded result's formats.
func FormatsOf(h *ent.SourceHealth) []FormatResult {
	b, err := json.Marshal(h.Formats)
	if err != nil {
		return nil
	}
	var out []FormatResult
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}
