// Package convert connects the readers and writers: it recognises a das2.2 or
// das3 stream by its first bytes, decodes it into any das.Sink, and builds the
// writer for a requested output format, so any stream can be served as das2.2,
// das3 or CSV. It imports only the standard library and the streams packages.
package convert

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/das2"
	"github.com/rhizoflex/rhizoflex/streams/das3"
	"github.com/rhizoflex/rhizoflex/streams/dascsv"
)

// Format is an output format.
type Format string

// Output formats.
const (
	Das2 Format = "das2"
	Das3 Format = "das3"
	CSV  Format = "csv"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Das2, Das3, CSV:
		return Format(s), nil
	}
	return "", fmt.Errorf("convert: unknown format %q (want das2, das3 or csv)", s)
}

// Options select and tune the writer.
type Options struct {
	Format     Format
	Text       bool // das2/das3: text encodings
	TimeFrac   int  // fractional-second digits of text times (default 3)
	SigDigits  int  // significant digits of text values
	Delim      byte // CSV delimiter (default ',')
	NoHeaders  bool // CSV: no header rows
	FlushEvery int  // records between flushes (0: headers and Close only)
}

// NewWriter returns the writer for o.Format on w.
func NewWriter(w io.Writer, o Options) (das.Sink, error) {
	switch o.Format {
	case Das2:
		return das2.NewWriter(w, das2.WriterOptions{FlushEvery: o.FlushEvery, Text: o.Text, TimeFrac: o.TimeFrac, SigDigits: o.SigDigits}), nil
	case Das3:
		return das3.NewWriter(w, das3.WriterOptions{FlushEvery: o.FlushEvery, Text: o.Text, TimeFrac: o.TimeFrac, SigDigits: o.SigDigits}), nil
	case CSV:
		return dascsv.NewWriter(w, dascsv.Options{FlushEvery: o.FlushEvery, Delim: o.Delim, NoHeaders: o.NoHeaders, TimeFrac: o.TimeFrac, SigDigits: o.SigDigits}), nil
	}
	return nil, fmt.Errorf("convert: unknown format %q", o.Format)
}

// Sniff reports the format of the stream waiting in br.
func Sniff(br *bufio.Reader) (das.Format, error) {
	b, err := br.Peek(1)
	if len(b) == 0 {
		if err == io.EOF {
			return das.FormatNone, &das.FormatError{Rule: "7.1 empty stream", Msg: "stream contains no packets"}
		}
		return das.FormatNone, fmt.Errorf("convert: %w", err)
	}
	switch b[0] {
	case '[':
		return das.FormatDas2, nil
	case '|':
		return das.FormatDas3, nil
	}
	return das.FormatNone, &das.FormatError{Rule: "7.1 first packet", Msg: fmt.Sprintf("stream starts with byte %#02x, neither das2.2 '[' nor das3 '|'", b[0])}
}

// Decode sniffs r and decodes it into sink (without closing sink). check, if not
// nil, receives rule violations. It returns the input format.
func Decode(ctx context.Context, r io.Reader, sink das.Sink, check das.CheckFunc) (das.Format, error) {
	br := bufio.NewReaderSize(r, das.MaxPacket+64)
	f, err := Sniff(br)
	if err != nil {
		return f, err
	}
	if f == das.FormatDas2 {
		return f, das2.Decode(ctx, br, sink, das2.ReaderOptions{Check: check})
	}
	return f, das3.Decode(ctx, br, sink, das3.ReaderOptions{Check: check})
}

// Convert decodes r and writes it to w as o describes, then flushes.
func Convert(ctx context.Context, r io.Reader, w io.Writer, o Options) error {
	sink, err := NewWriter(w, o)
	if err != nil {
		return err
	}
	_, err = Decode(ctx, r, sink, nil)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	return err
}
