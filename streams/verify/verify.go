// Package verify checks a das2.2 or das3 stream against the rules of spec
// section 7 (what das2C, das2java and das_verify reject) and reports every
// violation with its byte offset. It imports only the standard library and the
// streams packages.
package verify

import (
	"context"
	"errors"
	"io"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
)

// Report is the outcome of checking one stream.
type Report struct {
	Format     das.Format
	Violations []das.Violation
	Records    int64
	Exceptions int
}

// OK reports whether the stream broke no rule.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

// checker is the Sink that sees the decoded events.
type checker struct {
	rep       *Report
	packets   int64
	datasets  int
	afterExc  bool
	excReport bool
}

func (c *checker) event() {
	c.packets++
	if c.afterExc && !c.excReport {
		c.excReport = true
		c.rep.Violations = append(c.rep.Violations, das.Violation{Offset: -1, Rule: "3.10 exception last", Msg: "packets follow an exception"})
	}
}

func (c *checker) Stream(*das.Stream) error   { c.event(); return nil }
func (c *checker) Dataset(*das.Dataset) error { c.event(); c.datasets++; return nil }
func (c *checker) Record(*das.Record) error   { c.event(); c.rep.Records++; return nil }
func (c *checker) Comment(*das.Comment) error { c.event(); return nil }
func (c *checker) Exception(*das.Exception) error {
	c.event()
	c.rep.Exceptions++
	c.afterExc = true
	return nil
}
func (c *checker) Close() error { return nil }

// Stream checks the stream in r. Rule violations, including the fatal one that
// stops decoding, go into the report; the error is for I/O and cancellation only.
func Stream(ctx context.Context, r io.Reader) (*Report, error) {
	rep := &Report{}
	c := &checker{rep: rep}
	f, err := convert.Decode(ctx, r, c, func(v das.Violation) { rep.Violations = append(rep.Violations, v) })
	rep.Format = f
	var fe *das.FormatError
	switch {
	case errors.As(err, &fe):
		msg := fe.Msg
		if fe.Err != nil {
			msg += ": " + fe.Err.Error()
		}
		rep.Violations = append(rep.Violations, das.Violation{Offset: fe.Offset, Rule: fe.Rule, Msg: msg})
		return rep, nil
	case err != nil:
		return rep, err
	}
	// A stream whose header defines no dataset is not a data response (the body
	// of ?server=dsdf is one [00] header): only a data response must end in data
	// or an exception.
	if c.datasets > 0 && rep.Records == 0 && rep.Exceptions == 0 {
		rep.Violations = append(rep.Violations, das.Violation{Offset: -1, Rule: "7.6 empty result",
			Msg: "no data packets and no NoDataInInterval/NoMatchingData exception"})
	}
	return rep, nil
}
