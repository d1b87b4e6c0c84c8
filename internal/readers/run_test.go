package readers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/examples/sources/genreader/gen"
)

// The test binary doubles as the reader program: with READERS_TEST_READER set it acts
// out the mode named by its first argument instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("READERS_TEST_READER") != "" {
		os.Exit(actAsReader(os.Args[1], os.Args[2:])) //nolint:forbidigo // the test binary acting as a reader exits with the reader's status
	}
	m.Run()
}

func actAsReader(mode string, args []string) int {
	switch mode {
	case "args": // print the arguments and the environment as JSON
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"args": args, "env": os.Environ()})
		return 0
	case "family": // start a child in our process group, print both pids, sleep
		child := exec.Command(os.Args[0], "sleep")
		child.Env = []string{"READERS_TEST_READER=1"}
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_, _ = fmt.Fprintf(os.Stdout, "%d %d\n", os.Getpid(), child.Process.Pid)
		time.Sleep(time.Minute)
		return 0
	case "sleep":
		_, _ = fmt.Fprintln(os.Stdout, "sleeping")
		time.Sleep(time.Minute)
		return 0
	case "fail": // stderr, then exit 3 before any output
		fmt.Fprintln(os.Stderr, "cannot open /data/2024/001.dat")
		return 3
	case "partial": // output, then exit 2
		_, _ = fmt.Fprintln(os.Stdout, "some output")
		fmt.Fprintln(os.Stderr, "disk read error")
		return 2
	case "empty":
		return 0
	case "gen": // note the run in the file args[0], then act as the example reader
		f, err := os.OpenFile(args[0], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return 1
		}
		_, _ = fmt.Fprintln(f, strings.Join(args[1:], " "))
		_ = f.Close()
		return gen.Run(args[1:], os.Stdout, os.Stderr)
	case "garbage":
		_, _ = fmt.Fprintln(os.Stdout, "this is not a das stream")
		return 0
	case "chatty": // stderr lines while writing output
		for i := range 3 {
			fmt.Fprintf(os.Stderr, "reading file %d\n", i)
		}
		_, _ = fmt.Fprintln(os.Stdout, "data")
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown mode", mode)
	return 99
}

// testReader is a definition whose reader is this test binary in the given mode.
func testReader(t *testing.T, mode string) *Definition {
	t.Helper()
	return &Definition{ID: "test/" + mode, File: filepath.Join(t.TempDir(), "x.dsdf"), Reader: []string{os.Args[0], mode}, Format: Das2}
}

// readerEnv passes only a few variables through, so the test's switch must be added to
// what the reader sees: run through `env` for that.
func withSwitch(def *Definition) *Definition {
	env, err := exec.LookPath("env")
	if err != nil {
		panic(err)
	}
	d := *def
	d.Reader = append([]string{env, "READERS_TEST_READER=1"}, def.Reader...)
	return &d
}

func newRunner(t *testing.T) (*Runner, *logBuffer) {
	lb := &logBuffer{}
	return &Runner{Log: slog.New(slog.NewTextHandler(lb, nil))}, lb
}

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestArgvPassesValuesExactlyAndRunsNothingElse(t *testing.T) {
	r, _ := newRunner(t)
	marker := filepath.Join(t.TempDir(), "pwned")
	def := withSwitch(testReader(t, "args"))
	req := Request{
		Start:  "2024-01-01 00:00:00",
		End:    `2024-01-02"; touch ` + marker + `; echo "`,
		Params: `--band 'low high' a;b $(id) ` + "`id`",
	}
	run, err := r.Start(context.Background(), def, req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(run.Stdout)
	if err := run.Wait(); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Args []string
		Env  []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []string{req.Start, req.End, "--band", "'low", "high'", "a;b", "$(id)", "`id`"}
	if strings.Join(got.Args, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("argv = %q, want %q", got.Args, want)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a value ran as a command: %v", err)
	}
	for _, e := range got.Env {
		if strings.HasPrefix(e, "RHIZOFLEX_") || strings.HasPrefix(e, "GO") {
			t.Errorf("the reader inherited %s", e)
		}
	}
}

func TestArgvRefusesControlCharactersAndLongValues(t *testing.T) {
	def := &Definition{ID: "x", Reader: []string{"/bin/true"}}
	for _, req := range []Request{
		{Start: "2024-01-01\n", End: "2024-01-02"},
		{Start: "2024-01-01", End: "2024-01-02\x00"},
		{Start: "2024-01-01", End: "2024-01-02", Params: "a\x1bb"},
		{Start: strings.Repeat("1", MaxArgBytes+1), End: "2024-01-02"},
		{Start: "2024-01-01", End: "2024-01-02", Params: strings.Repeat("a ", MaxParamWords+1)},
		{Start: "", End: "2024-01-02"},
		{Start: "2024-01-01", End: "\xff"},
	} {
		_, err := Argv(def, req)
		var ae *ArgumentError
		if !errors.As(err, &ae) {
			t.Errorf("Argv(%q) = %v, want an ArgumentError", req, err)
		}
	}
}

func TestArgvIntervalAndDropParams(t *testing.T) {
	def := &Definition{ID: "x", Reader: []string{"rdr", "-x"}, RequiresInterval: true, DropParams: true}
	got, err := Argv(def, Request{Interval: "60", Start: "a", End: "b", Params: "p q"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "rdr -x 60 a b" {
		t.Fatalf("argv = %q", got)
	}
	if _, err := Argv(def, Request{Start: "a", End: "b"}); err == nil {
		t.Fatal("an interval reader ran without an interval")
	}
}

func gone(pid int) bool {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return true
	}
	// A zombie still answers; it is dead once its state is Z.
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientGoingAwayKillsTheProcessGroup(t *testing.T) {
	r, _ := newRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	run, err := r.Start(ctx, withSwitch(testReader(t, "family")), Request{Start: "a", End: "b"})
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(run.Stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(line) {
		p, _ := strconv.Atoi(f)
		pids = append(pids, p)
	}
	if len(pids) != 2 {
		t.Fatalf("reader printed %q", line)
	}
	// The reader runs under env(1), which execs it: its pid is the run's pid.
	if pids[0] != run.Pid {
		t.Fatalf("reader pid %d, run pid %d", pids[0], run.Pid)
	}
	cancel()
	if err := run.Wait(); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after the client left = %v", err)
	}
	for _, p := range pids {
		waitGone(t, p)
	}
}

func TestTimeoutKillsTheReader(t *testing.T) {
	r, _ := newRunner(t)
	r.Timeout = 200 * time.Millisecond
	run, err := r.Start(context.Background(), withSwitch(testReader(t, "sleep")), Request{Start: "a", End: "b"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, run.Stdout)
	if err := run.Wait(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait = %v, want ErrTimeout", err)
	}
	waitGone(t, run.Pid)
}

func TestConcurrencyLimitRefusesWithRetryAfter(t *testing.T) {
	r, _ := newRunner(t)
	r.MaxRunning, r.QueueWait = 1, 100*time.Millisecond
	def := withSwitch(testReader(t, "sleep"))
	first, err := r.Start(context.Background(), def, Request{Start: "a", End: "b"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Start(context.Background(), def, Request{Start: "a", End: "b"})
	var busy *BusyError
	if !errors.As(err, &busy) || busy.RetryAfter <= 0 {
		t.Fatalf("second run = %v, want a BusyError", err)
	}
	// A waiting request gets the slot once the first run ends.
	done := make(chan error, 1)
	r.QueueWait = 20 * time.Second
	go func() {
		run, err := r.Start(context.Background(), withSwitch(testReader(t, "empty")), Request{Start: "a", End: "b"})
		if err == nil {
			_, _ = io.Copy(io.Discard, run.Stdout)
			err = run.Wait()
		}
		done <- err
	}()
	_ = first.Close()
	if err := <-done; err != nil {
		t.Fatalf("queued run: %v", err)
	}
}

func TestExitStatusStderrAndEmptyOutput(t *testing.T) {
	r, logs := newRunner(t)
	cases := []struct {
		mode, out string
		code      int
		stderr    string
	}{
		{"fail", "", 3, "cannot open /data/2024/001.dat"},
		{"partial", "some output\n", 2, "disk read error"},
		{"empty", "", 0, ""},
		{"chatty", "data\n", 0, "reading file 2"},
	}
	for _, c := range cases {
		run, err := r.Start(context.Background(), withSwitch(testReader(t, c.mode)), Request{Start: "a", End: "b", RequestID: "req-" + c.mode})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(run.Stdout)
		err = run.Wait()
		if string(out) != c.out {
			t.Errorf("%s: stdout %q, want %q", c.mode, out, c.out)
		}
		var ee *ExitError
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%s: %v", c.mode, err)
		case c.code != 0 && (!errors.As(err, &ee) || ee.Code != c.code):
			t.Errorf("%s: Wait = %v, want exit %d", c.mode, err, c.code)
		case c.code != 0 && !strings.Contains(err.Error(), c.stderr):
			t.Errorf("%s: error %q does not carry the reader's stderr", c.mode, err)
		}
		if c.stderr != "" && !strings.Contains(logs.String(), "request=req-"+c.mode) {
			t.Errorf("%s: stderr not logged with the request: %s", c.mode, logs.String())
		}
		if c.stderr != "" && !strings.Contains(logs.String(), c.stderr) {
			t.Errorf("%s: stderr line %q not logged", c.mode, c.stderr)
		}
	}
}

func TestMissingProgram(t *testing.T) {
	r, _ := newRunner(t)
	r.MaxRunning, r.QueueWait = 1, 5*time.Second
	def := &Definition{ID: "x", File: filepath.Join(t.TempDir(), "x.dsdf"), Reader: []string{"./no-such-reader"}}
	if _, err := r.Start(context.Background(), def, Request{Start: "a", End: "b"}); err == nil {
		t.Fatal("a missing reader started")
	}
	// The slot was given back, and so is each run's.
	def2 := withSwitch(testReader(t, "empty"))
	for range 3 {
		run, err := r.Start(context.Background(), def2, Request{Start: "a", End: "b"})
		if err != nil {
			t.Fatal(err)
		}
		_ = run.Close()
	}
}
