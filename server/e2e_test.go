package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
)

const testVersion = "1.2.3-e2e"

// buildBinary builds rhizoflex once per test run with a known version.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rhizoflex")
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/rhizoflex/rhizoflex/server.Version="+testVersion, "-o", bin, "..")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func runBinary(t *testing.T, bin, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// create-admin, demo, serve: the documented start-up works on both databases, and SIGTERM
// stops the server cleanly.
func TestBinaryCreateAdminDemoServe(t *testing.T) {
	bin := buildBinary(t)
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"RHIZOFLEX_DATABASE_URL=" + dbtest.URL(t, d), "RHIZOFLEX_DATA_DIR=" + filepath.Join(dir, "data"),
				"RHIZOFLEX_PASSWORD__MEMORY_KIB=8192", "RHIZOFLEX_PASSWORD__ITERATIONS=1"}

			out, errOut, code := runBinary(t, bin, dir, env, "create-admin", "root@example.com:correct-horse")
			if code != 0 || !strings.Contains(out, "system admin root@example.com created") {
				t.Fatalf("create-admin: exit %d\n%s\n%s", code, out, errOut)
			}
			out, errOut, code = runBinary(t, bin, dir, env, "demo")
			if code != 0 || !strings.Contains(out, "demo organization created") {
				t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
			}
			out, _, code = runBinary(t, bin, dir, env, "demo")
			if code != 0 || !strings.Contains(out, "already present") {
				t.Fatalf("demo twice: exit %d %s", code, out)
			}
			secret, errOut, code := runBinary(t, bin, dir, env, "create-key", "--name", "ops", "--controller", "/demo/lab-controller", "--by", "root@example.com")
			secret = strings.TrimSpace(secret)
			if code != 0 || !strings.HasPrefix(secret, "rfk_") || !strings.Contains(errOut, "shown only once") {
				t.Fatalf("create-key: exit %d %q %s", code, secret, errOut)
			}
			if _, _, code := runBinary(t, bin, dir, env, "create-key", "--name", "x", "--user", "nobody@example.com"); code != 1 {
				t.Fatalf("create-key for an unknown user: exit %d", code)
			}
			out, _, code = runBinary(t, bin, dir, env, "version")
			if code != 0 || strings.TrimSpace(out) != "rhizoflex "+testVersion {
				t.Fatalf("version: %q", out)
			}

			addr := freeAddr(t)
			cmd := exec.Command(bin, "serve", "--listen", addr)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), env...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			logs := make(chan string, 1)
			go func() {
				var b strings.Builder
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					b.WriteString(sc.Text() + "\n")
				}
				logs <- b.String()
			}()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			base := "http://" + addr
			waitUp(t, base+"/healthz")

			for _, p := range []string{"/healthz", "/readyz"} {
				resp, err := http.Get(base + p)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d", p, resp.StatusCode)
				}
			}
			var res struct {
				Data struct {
					Version string
					Me      *struct{ ID string }
				}
			}
			postJSON(t, base+"/graphql", `{"query":"{ version me { id } }"}`, &res)
			if res.Data.Version != testVersion || res.Data.Me != nil {
				t.Fatalf("graphql: %+v", res)
			}
			// The operator's controller key authenticates over HTTP.
			req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ resource(path: \"/demo/lab-controller/log\") { access } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if !strings.Contains(string(body), `"access":"WRITE"`) {
				t.Fatalf("controller key over HTTP: %s", body)
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("serve did not exit cleanly on SIGTERM: %v\n%s", err, <-logs)
			}
			if l := <-logs; !strings.Contains(l, "msg=stopped") {
				t.Fatalf("no clean shutdown in the log:\n%s", l)
			}
		})
	}
}

func TestBinaryBadConfigExits2WithOneLine(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{[]string{"RHIZOFLEX_LOG_LEVEL=loud"}, []string{"migrate"}},
		{nil, []string{"serve", "--config", filepath.Join(dir, "missing.yaml")}},
		{nil, []string{"create-admin", "no-colon"}},
		{nil, []string{"frobnicate"}},
		{nil, []string{"serve", "--no-such-flag"}},
		{nil, []string{"create-key", "--name", "x"}},
	} {
		_, errOut, code := runBinary(t, bin, dir, tc.env, tc.args...)
		if code != 2 {
			t.Errorf("%v %v: exit %d, want 2 (%s)", tc.env, tc.args, code, errOut)
		}
		if first := strings.SplitN(errOut, "\n", 2)[0]; !strings.HasPrefix(first, "rhizoflex: ") || len(first) < 20 {
			t.Errorf("%v %v: first stderr line %q is not a clear message", tc.env, tc.args, first)
		}
	}
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server at %s did not come up", url)
}

func postJSON(t *testing.T, url, body string, into any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// A request in flight when SIGTERM arrives finishes before the server stops.
func TestSIGTERMLetsInFlightRequestFinish(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	t.Chdir(t.TempDir())
	cfg, err := loadConfig("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	app := NewApp(cfg, db, testBlobs(t), newLogger(io.Discard, "info", "text"))
	app.extraRoutes = func(mux *http.ServeMux) {
		mux.HandleFunc("GET /test/slow", func(w http.ResponseWriter, _ *http.Request) {
			close(started)
			time.Sleep(700 * time.Millisecond)
			_, _ = w.Write([]byte("finished"))
		})
	}
	ctx, stop := signalContext()
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/test/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return notifyContext(context.Background())
}
