package readers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
)

// ErrNoOutput is a reader that exited 0 without writing anything: no data in the range.
var ErrNoOutput = errors.New("reader wrote nothing")

// BadOutputError is reader output that is not a das stream our readers accept.
type BadOutputError struct{ Err error }

func (e *BadOutputError) Error() string {
	return "reader output is not a valid das stream: " + e.Err.Error()
}
func (e *BadOutputError) Unwrap() error { return e.Err }

// Result says what one reader run delivered.
type Result struct {
	Records int64
	// Started is true once the sink got the stream header: an error after that must be
	// appended to the output (an exception packet), not sent as a status.
	Started bool
}

// Stream runs def's reader for req and decodes its stdout into sink (a writer, or a
// reducer in front of one). It does not close sink: the caller appends an exception or
// closes it. A reader that fails, times out or writes garbage ends with an error; the
// client going away (ctx) kills the reader.
func Stream(ctx context.Context, r *Runner, def *Definition, req Request, sink das.Sink) (Result, error) {
	run, err := r.Start(ctx, def, req)
	if err != nil {
		return Result{}, err
	}
	counted := &countingReader{r: run.Stdout}
	track := Track(sink)
	_, decodeErr := convert.Decode(ctx, counted, track, nil)
	if decodeErr != nil && !counted.eof {
		_ = run.Close() // bad output while the reader still writes: stop it
	}
	waitErr := run.Wait()
	res := Result{Records: track.Records, Started: track.Started}
	var exitErr *ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("reader stopped: %w", ctx.Err())
	case errors.As(waitErr, &exitErr), errors.Is(waitErr, ErrTimeout):
		return res, waitErr
	case counted.n == 0 && waitErr == nil:
		return res, ErrNoOutput
	case decodeErr != nil:
		return res, &BadOutputError{Err: decodeErr}
	}
	return res, waitErr
}

type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}

// Tracking forwards to a sink and notes whether output began and how many records
// passed; its Close does nothing (the caller closes the sink it wraps).
type Tracking struct {
	next    das.Sink
	Started bool
	Records int64
}

// Track wraps next.
func Track(next das.Sink) *Tracking { return &Tracking{next: next} }

// Stream implements das.Sink.
func (t *Tracking) Stream(s *das.Stream) error {
	t.Started = true
	return t.next.Stream(s)
}

// Dataset implements das.Sink.
func (t *Tracking) Dataset(ds *das.Dataset) error { return t.next.Dataset(ds) }

// Record implements das.Sink.
func (t *Tracking) Record(r *das.Record) error {
	t.Records++
	return t.next.Record(r)
}

// Comment implements das.Sink.
func (t *Tracking) Comment(c *das.Comment) error { return t.next.Comment(c) }

// Exception implements das.Sink.
func (t *Tracking) Exception(e *das.Exception) error { return t.next.Exception(e) }

// Close implements das.Sink; it leaves the wrapped sink open.
func (t *Tracking) Close() error { return nil }

// ReaderTime formats t the way readers take their range: ISO 8601 with as many
// fractional digits as it needs (none for whole seconds).
func ReaderTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.999999999")
}

// DasTime converts a Go time to a das time.
func DasTime(t time.Time) dastime.Time {
	t = t.UTC()
	return dastime.Date(t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond())
}

// GoTime converts a das time to a Go time in UTC.
func GoTime(t dastime.Time) time.Time {
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(t))
}
