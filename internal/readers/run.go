package readers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Runner starts reader programs: never through a shell (the command was split into words
// once, when the definition was read, and each request value is one more argument), each
// in its own process group so that everything it started dies with it, with a time limit
// and a bound on how many run at once.
type Runner struct {
	// Timeout ends a run that takes longer (default 10 minutes).
	Timeout time.Duration
	// MaxRunning bounds concurrently running readers (default 8).
	MaxRunning int
	// QueueWait is how long a request waits for a free slot before it is refused
	// with a BusyError (default 30 s).
	QueueWait time.Duration
	Log       *slog.Logger

	once sync.Once
	sem  chan struct{}
}

// Request holds one data request's values for the reader's command line.
type Request struct {
	Start, End string // the time range as the reader expects it
	Interval   string // only for RequiresInterval readers
	Params     string // space-separated reader flags
	RequestID  string // names the request in the log
}

// Limits on what a request may put on a reader's command line.
const (
	MaxArgBytes   = 1024
	MaxParamWords = 64
)

// ArgumentError is a request value that may not reach a reader.
type ArgumentError struct {
	Name, Msg string
}

func (e *ArgumentError) Error() string { return fmt.Sprintf("%s: %s", e.Name, e.Msg) }

// BusyError says every reader slot stayed taken; try again after RetryAfter.
type BusyError struct{ RetryAfter time.Duration }

func (e *BusyError) Error() string {
	return fmt.Sprintf("too many data requests are running; retry in %s", e.RetryAfter)
}

// ExitError is a reader that failed: a non-zero exit status or a signal.
type ExitError struct {
	Code   int      // -1 when killed by a signal
	Stderr []string // its last lines on stderr
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("reader exited with status %d", e.Code)
	if e.Code < 0 {
		msg = "reader was killed"
	}
	if len(e.Stderr) > 0 {
		msg += ": " + e.Stderr[len(e.Stderr)-1]
	}
	return msg
}

// ErrTimeout is a run that outlived the Runner's Timeout.
var ErrTimeout = errors.New("reader ran out of time")

func (r *Runner) init() {
	r.once.Do(func() {
		if r.Timeout <= 0 {
			r.Timeout = 10 * time.Minute
		}
		if r.MaxRunning <= 0 {
			r.MaxRunning = 8
		}
		if r.QueueWait <= 0 {
			r.QueueWait = 30 * time.Second
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
		r.sem = make(chan struct{}, r.MaxRunning)
	})
}

// Argv is the exact command line a request runs: the definition's words, then
// [INTERVAL] START END, then the params words (unless the definition drops them).
func Argv(def *Definition, req Request) ([]string, error) {
	if def.template != nil {
		return templateArgv(def, req)
	}
	argv := append([]string(nil), def.Reader...)
	if def.RequiresInterval {
		if strings.TrimSpace(req.Interval) == "" {
			return nil, &ArgumentError{Name: "interval", Msg: "this source requires an interval"}
		}
		if err := checkArg("interval", req.Interval); err != nil {
			return nil, err
		}
		argv = append(argv, req.Interval)
	}
	for _, a := range []struct{ name, v string }{{"start time", req.Start}, {"end time", req.End}} {
		if strings.TrimSpace(a.v) == "" {
			return nil, &ArgumentError{Name: a.name, Msg: "is empty"}
		}
		if err := checkArg(a.name, a.v); err != nil {
			return nil, err
		}
		argv = append(argv, a.v)
	}
	if def.DropParams || strings.TrimSpace(req.Params) == "" {
		return argv, nil
	}
	if err := checkArg("params", req.Params); err != nil {
		return nil, err
	}
	words := strings.Fields(req.Params)
	if len(words) > MaxParamWords {
		return nil, &ArgumentError{Name: "params", Msg: fmt.Sprintf("more than %d words", MaxParamWords)}
	}
	return append(argv, words...), nil
}

// checkArg refuses a request value that may not reach a reader.
func checkArg(name, v string) error {
	if len(v) > MaxArgBytes {
		return &ArgumentError{Name: name, Msg: fmt.Sprintf("longer than %d bytes", MaxArgBytes)}
	}
	if !utf8.ValidString(v) {
		return &ArgumentError{Name: name, Msg: "not valid UTF-8"}
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return &ArgumentError{Name: name, Msg: "holds a control character"}
		}
	}
	return nil
}

// templateArgv expands a JSON source's template for req.
func templateArgv(def *Definition, req Request) ([]string, error) {
	values := map[string][]string{"_LOCAL_ID_": {def.ID}, "_THIS_DIRECTORY_": {filepath.Dir(def.File)}}
	for _, a := range []struct{ key, name, v string }{
		{"read.time.min", "start time", req.Start}, {"read.time.max", "end time", req.End}, {"read.time.interval", "interval", req.Interval},
	} {
		if strings.TrimSpace(a.v) == "" {
			continue
		}
		if err := checkArg(a.name, a.v); err != nil {
			return nil, err
		}
		values[a.key] = []string{a.v}
	}
	if def.RequiresInterval && values["read.time.interval"] == nil {
		return nil, &ArgumentError{Name: "interval", Msg: "this source requires an interval"}
	}
	if !def.DropParams && strings.TrimSpace(req.Params) != "" {
		if err := checkArg("params", req.Params); err != nil {
			return nil, err
		}
		words := strings.Fields(req.Params)
		if len(words) > MaxParamWords {
			return nil, &ArgumentError{Name: "params", Msg: fmt.Sprintf("more than %d words", MaxParamWords)}
		}
		values["read.opts"] = words
	}
	return expandTemplate(def.template, values)
}

// Run is one running reader. Read its output from Stdout, then call Wait; Close ends it
// early (the client went away) and is safe to call after Wait.
type Run struct {
	Stdout io.Reader
	Pid    int

	cmd      *exec.Cmd
	ctx      context.Context
	cancel   context.CancelFunc
	stderr   *lineLog
	release  func()
	waitOnce sync.Once
	waitErr  error
}

// Start runs def's reader for req. It waits up to QueueWait for a free slot. The run
// ends when ctx ends (the client went away), when the Timeout passes, or on Close; its
// whole process group is killed then.
func (r *Runner) Start(ctx context.Context, def *Definition, req Request) (*Run, error) {
	r.init()
	argv, err := Argv(def, req)
	if err != nil {
		return nil, err
	}
	prog, err := resolveProgram(def, argv[0])
	if err != nil {
		return nil, err
	}
	wait := time.NewTimer(r.QueueWait)
	defer wait.Stop()
	select {
	case r.sem <- struct{}{}:
	case <-wait.C:
		return nil, &BusyError{RetryAfter: r.QueueWait}
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a reader slot: %w", ctx.Err())
	}
	release := sync.OnceFunc(func() { <-r.sem })

	runCtx, cancel := context.WithTimeoutCause(ctx, r.Timeout, ErrTimeout)
	cmd := exec.CommandContext(runCtx, prog, argv[1:]...)
	cmd.Dir = filepath.Dir(def.File)
	cmd.Env = readerEnv()
	inOwnGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	log := r.Log.With("source", def.ID, "request", req.RequestID)
	stderr := &lineLog{log: log, keep: 20}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		release()
		return nil, fmt.Errorf("reader %s: %w", def.ID, err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		release()
		return nil, fmt.Errorf("starting reader of %s: %w", def.ID, err)
	}
	log.Debug("reader started", "pid", cmd.Process.Pid, "argv", argv)
	return &Run{Stdout: stdout, Pid: cmd.Process.Pid, cmd: cmd, ctx: runCtx, cancel: cancel, stderr: stderr, release: release}, nil
}

// Wait waits for the reader to end and says how it ended: nil for exit status 0, an
// *ExitError, ErrTimeout, or the request context's error.
func (r *Run) Wait() error {
	r.waitOnce.Do(func() {
		err := r.cmd.Wait()
		cause := context.Cause(r.ctx)
		r.cancel()
		r.release()
		var ee *exec.ExitError
		exited := errors.As(err, &ee) && ee.ExitCode() >= 0 // ended by itself, not by our kill
		switch {
		case err == nil:
		case exited:
			r.waitErr = &ExitError{Code: ee.ExitCode(), Stderr: r.stderr.lines()}
		case errors.Is(cause, ErrTimeout):
			r.waitErr = ErrTimeout
		case cause != nil:
			r.waitErr = fmt.Errorf("reader stopped: %w", cause)
		case ee != nil:
			r.waitErr = &ExitError{Code: -1, Stderr: r.stderr.lines()}
		default:
			r.waitErr = fmt.Errorf("reader: %w", err)
		}
	})
	return r.waitErr
}

// Close ends the reader if it still runs (killing its process group) and waits for it.
func (r *Run) Close() error {
	r.cancel()
	return r.Wait()
}

// Stderr returns the last lines the reader wrote on stderr.
func (r *Run) Stderr() []string { return r.stderr.lines() }

// resolveProgram finds the reader program: a bare name on PATH, a relative path from the
// definition file's directory.
func resolveProgram(def *Definition, prog string) (string, error) {
	if !strings.Contains(prog, "/") {
		p, err := exec.LookPath(prog)
		if err != nil {
			return "", fmt.Errorf("reader of %s: %w", def.ID, err)
		}
		return p, nil
	}
	if !filepath.IsAbs(prog) {
		prog = filepath.Join(filepath.Dir(def.File), prog)
	}
	// Absolute: the reader runs in its definition's directory, where a relative path
	// would be looked up again.
	abs, err := filepath.Abs(prog)
	if err != nil {
		return "", fmt.Errorf("reader of %s: %w", def.ID, err)
	}
	return abs, nil
}

// readerEnv is the environment readers get: enough to run programs, none of the
// server's own settings (they may hold database passwords).
func readerEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, "TZ=UTC")
}

// lineLog logs a reader's stderr one line at a time and keeps the last few lines.
type lineLog struct {
	log  *slog.Logger
	keep int

	mu      sync.Mutex
	partial []byte
	last    []string
}

// MaxStderrLine bounds one logged stderr line.
const MaxStderrLine = 4096

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	consumed := 0
	for {
		i := bytes.IndexByte(l.partial[consumed:], '\n')
		if i < 0 {
			break
		}
		l.line(string(l.partial[consumed : consumed+i]))
		consumed += i + 1
	}
	l.partial = append(l.partial[:0], l.partial[consumed:]...)
	if len(l.partial) > MaxStderrLine {
		l.line(string(l.partial))
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

func (l *lineLog) line(s string) {
	s = strings.TrimRight(s, "\r")
	if len(s) > MaxStderrLine {
		s = s[:MaxStderrLine]
	}
	l.log.Info("reader stderr", "line", s)
	l.last = append(l.last, s)
	if len(l.last) > l.keep {
		l.last = l.last[len(l.last)-l.keep:]
	}
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = l.partial[:0]
	}
	return append([]string(nil), l.last...)
}
