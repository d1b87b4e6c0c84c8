// Package dascli is the `rhizoflex das` command: convert, reduce and verify das
// streams from stdin to stdout on the streams library. The main binary calls Main
// with the words after `rhizoflex das`. It imports only the standard library and
// the streams packages.
package dascli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/rhizoflex/rhizoflex/streams/convert"
	"github.com/rhizoflex/rhizoflex/streams/das"
	"github.com/rhizoflex/rhizoflex/streams/dascsv"
	"github.com/rhizoflex/rhizoflex/streams/dastime"
	"github.com/rhizoflex/rhizoflex/streams/reduce"
	"github.com/rhizoflex/rhizoflex/streams/verify"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitData  = 1
	ExitUsage = 2
)

const usage = `usage: rhizoflex das COMMAND [options]

commands:
  convert --to das2|das3|csv [--text] [--secfrac N] [--sigdigit N] [--delim C] [--no-headers]
        re-encode the das2.2 or das3 stream on stdin to stdout
  reduce [--begin TIME] [--minmax] [--peaks] SECONDS
        bin-average the stream on stdin into SECONDS-wide time bins (das2_bin_avgsec)
  verify FILE...
        check each stream against the rules of the das spec; exit 0 only if all are valid
`

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageErr(stderr, "missing command")
	}
	switch args[0] {
	case "convert":
		return convertCmd(ctx, args[1:], stdin, stdout, stderr)
	case "reduce":
		return reduceCmd(ctx, args[1:], stdin, stdout, stderr)
	case "verify":
		return verifyCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		_, _ = fmt.Fprint(stdout, usage)
		return ExitOK
	}
	return usageErr(stderr, fmt.Sprintf("unknown command %q", args[0]))
}

func usageErr(stderr io.Writer, msg string) int {
	_, _ = fmt.Fprintf(stderr, "rhizoflex das: %s\n%s", msg, usage)
	return ExitUsage
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// failData prints a data error and picks the exit code.
func failData(stderr io.Writer, err error) int {
	_, _ = fmt.Fprintf(stderr, "rhizoflex das: %v\n", err)
	return ExitData
}

// exceptionNote reports an exception the stream ended with (CSV cannot carry it).
func exceptionNote(stderr io.Writer, sink das.Sink) {
	if w, ok := sink.(*dascsv.Writer); ok {
		if e := w.Err(); e != nil {
			_, _ = fmt.Fprintf(stderr, "rhizoflex das: stream exception %s: %s\n", e.Type, e.Message)
		}
	}
}

func convertCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("convert")
	to := fs.String("to", "", "output format: das2, das3 or csv")
	text := fs.Bool("text", false, "das2/das3: write values as text")
	secfrac := fs.Int("secfrac", 3, "fractional-second digits of text times (0..9)")
	sigdigit := fs.Int("sigdigit", 0, "significant digits of text values (2..17)")
	delim := fs.String("delim", ",", "CSV field delimiter (one byte)")
	noHeaders := fs.Bool("no-headers", false, "CSV: omit the header rows")
	if err := fs.Parse(args); err != nil {
		return usageErr(stderr, "convert: "+err.Error())
	}
	if fs.NArg() > 0 {
		return usageErr(stderr, fmt.Sprintf("convert: unexpected argument %q", fs.Arg(0)))
	}
	f, err := convert.ParseFormat(*to)
	if err != nil {
		return usageErr(stderr, "convert: --to must be das2, das3 or csv")
	}
	if *secfrac < 0 || *secfrac > 9 {
		return usageErr(stderr, "convert: --secfrac must be 0..9")
	}
	if *sigdigit != 0 && (*sigdigit < 2 || *sigdigit > 17) {
		return usageErr(stderr, "convert: --sigdigit must be 2..17")
	}
	d := *delim
	if d == `\t` || d == "tab" {
		d = "\t"
	}
	if len(d) != 1 || d[0] == '"' || d[0] == '\r' || d[0] == '\n' || isNumberByte(d[0]) {
		return usageErr(stderr, "convert: --delim must be one byte that cannot appear in a number")
	}
	tf := *secfrac
	if tf == 0 {
		tf = -1 // the writers read 0 as "default"
	}
	o := convert.Options{Format: f, Text: *text, TimeFrac: tf, SigDigits: *sigdigit, Delim: d[0], NoHeaders: *noHeaders, FlushEvery: 4096}
	sink, err := convert.NewWriter(stdout, o)
	if err != nil {
		return usageErr(stderr, err.Error())
	}
	_, err = convert.Decode(ctx, stdin, sink, nil)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return failData(stderr, err)
	}
	exceptionNote(stderr, sink)
	return ExitOK
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' || c == ':' || c == 'T'
}

func reduceCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("reduce")
	begin := fs.String("begin", "", "bin origin (ISO time); default: the first record's time")
	minmax := fs.Bool("minmax", false, "add NAME.min and NAME.max planes")
	peaks := fs.Bool("peaks", false, "add NAME.max planes (das2_bin_peakavgsec)")
	if err := fs.Parse(args); err != nil {
		return usageErr(stderr, "reduce: "+err.Error())
	}
	if fs.NArg() != 1 {
		return usageErr(stderr, "reduce: need exactly one SECONDS argument")
	}
	w, err := strconv.ParseFloat(fs.Arg(0), 64)
	if err != nil || !(w > 0) {
		return usageErr(stderr, fmt.Sprintf("reduce: bin width %q is not a positive number of seconds", fs.Arg(0)))
	}
	opt := reduce.Options{Width: w, Min: *minmax, Max: *minmax || *peaks}
	if *begin != "" {
		t, err := dastime.ParseString(*begin)
		if err != nil {
			return usageErr(stderr, "reduce: --begin: "+err.Error())
		}
		opt.Begin, opt.HasBegin = t, true
	}
	// The output format follows the input's, decided once the first bytes are seen.
	sw := &switchSink{stdout: stdout}
	red, err := reduce.New(sw, opt)
	if err != nil {
		return usageErr(stderr, "reduce: "+err.Error())
	}
	_, err = convert.Decode(ctx, stdin, &formatTap{Sink: red, sw: sw}, nil)
	if cerr := red.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return failData(stderr, err)
	}
	return ExitOK
}

// switchSink creates the writer matching the input format at the stream header.
type switchSink struct {
	das.Sink
	stdout io.Writer
	format das.Format
}

func (s *switchSink) Stream(st *das.Stream) error {
	f := convert.Das2
	if s.format == das.FormatDas3 {
		f = convert.Das3
	}
	w, err := convert.NewWriter(s.stdout, convert.Options{Format: f, FlushEvery: 4096})
	if err != nil {
		return err
	}
	s.Sink = w
	return w.Stream(st)
}

func (s *switchSink) Close() error {
	if s.Sink == nil {
		return nil
	}
	return s.Sink.Close()
}

// formatTap tells the switchSink the input format from the first header.
type formatTap struct {
	das.Sink
	sw *switchSink
}

func (t *formatTap) Stream(st *das.Stream) error {
	t.sw.format = st.RawFormat
	if st.RawFormat == das.FormatNone && st.Version == "3.0" {
		t.sw.format = das.FormatDas3
	}
	return t.Sink.Stream(st)
}

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify")
	if err := fs.Parse(args); err != nil {
		return usageErr(stderr, "verify: "+err.Error())
	}
	if fs.NArg() == 0 {
		return usageErr(stderr, "verify: need at least one FILE")
	}
	code := ExitOK
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "rhizoflex das: %v\n", err)
			code = ExitData
			continue
		}
		rep, err := verify.Stream(ctx, f)
		_ = f.Close() // read-only file: nothing to flush, verify result already decided
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "rhizoflex das: %s: %v\n", name, err)
			code = ExitData
			continue
		}
		if rep.OK() {
			_, _ = fmt.Fprintf(stdout, "%s: ok (%d records)\n", name, rep.Records)
			continue
		}
		code = ExitData
		for _, v := range rep.Violations {
			if v.Offset < 0 {
				_, _ = fmt.Fprintf(stdout, "%s: %s (rule %s)\n", name, v.Msg, v.Rule)
			} else {
				_, _ = fmt.Fprintf(stdout, "%s: offset %d: %s (rule %s)\n", name, v.Offset, v.Msg, v.Rule)
			}
		}
	}
	return code
}
