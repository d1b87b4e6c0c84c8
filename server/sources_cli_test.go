package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/selfcheck"
)

// `rhizoflex sources list|check|precache` against a directory with a good source (the
// example reader, built here), a bad one, and a cache level.
func TestSourcesCommands(t *testing.T) {
	dir := t.TempDir()
	reader := filepath.Join(dir, "genreader")
	build := exec.Command("go", "build", "-o", reader, "../examples/sources/genreader")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "sources")
	if err := os.MkdirAll(filepath.Join(src, "ex"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := "description = 'Example waveform'\nreader = '" + reader + " waveform'\ndas2Stream = 1\n" +
		"techContact = 'Demo <demo@example.com>'\nexampleRange_00 = '2024-01-01 to 2024-01-02'\ncacheLevel_00 = '60 s | daily'\n"
	if err := os.WriteFile(filepath.Join(src, "ex", "waves.dsdf"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "bad.dsdf"), []byte("description = 'x'\nreader = \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"RHIZOFLEX_SOURCES_DIR=" + src, "RHIZOFLEX_DATA_DIR=" + filepath.Join(dir, "data")}
	cli := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, env, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), code
	}

	out, errOut, code := cli("sources", "list")
	if code != 0 || !strings.Contains(out, "ex/waves  das2") || !strings.Contains(out, "Example waveform") || strings.Contains(out, "bad") {
		t.Fatalf("list: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "1 bad definition files") {
		t.Errorf("list does not mention the bad file: %s", errOut)
	}
	out, _, code = cli("sources", "check")
	if code != 1 || !strings.Contains(out, "bad.dsdf:2: reader: required value is empty") || !strings.Contains(out, "1 sources, 1 bad files") {
		t.Fatalf("check: exit %d\n%s", code, out)
	}
	out, errOut, code = cli("sources", "precache", "ex/waves", "2024-01-01", "2024-01-03")
	if code != 0 || !strings.Contains(out, "ex/waves 60 s daily: 2 blocks computed") {
		t.Fatalf("precache: exit %d\n%s\n%s", code, out, errOut)
	}
	blocks, _ := filepath.Glob(filepath.Join(dir, "data", "cache", "ex", "waves", "_noparam", "bin-60s", "2024", "01", "*.d2s"))
	if len(blocks) != 2 {
		t.Fatalf("blocks on disk: %v", blocks)
	}
	// Again: nothing left to compute.
	if out, _, _ = cli("sources", "precache", "ex/waves", "2024-01-01", "2024-01-03"); !strings.Contains(out, "0 blocks computed") {
		t.Fatalf("second precache: %s", out)
	}
	for _, args := range [][]string{
		{"sources", "precache", "ex/nope", "2024-01-01", "2024-01-02"},
		{"sources", "precache", "ex/waves", "2024-01-02", "2024-01-01"},
		{"sources", "precache", "ex/waves", "soon", "2024-01-01"},
	} {
		if _, errOut, code := cli(args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d %q, want 2 with a message", args, code, errOut)
		}
	}
	if _, errOut, code := run2(t, "sources", "list"); code != 2 || !strings.Contains(errOut, "sources_dir is not set") {
		t.Errorf("without sources_dir: exit %d %q", code, errOut)
	}
}

func run2(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, []string{"RHIZOFLEX_DATA_DIR=" + t.TempDir()}, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// `sources selfcheck` checks every source and records the results; system admins (only)
// read them as sourceHealth.
func TestSelfcheckCommandAndSourceHealth(t *testing.T) {
	srcDir := readerSourcesDir(t)
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	env := []string{"RHIZOFLEX_SOURCES_DIR=" + srcDir, "RHIZOFLEX_DATA_DIR=" + dir, "RHIZOFLEX_DATABASE_URL=sqlite:" + filepath.Join(dir, "db.sqlite")}
	code := run(context.Background(), []string{"sources", "selfcheck"}, env, strings.NewReader(""), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "ex/Waves") || strings.Contains(out.String(), "FAILED") {
		t.Fatalf("selfcheck: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	eachServer2(t, func(c *Config) { c.SourcesDir = srcDir; c.CacheDir = t.TempDir() }, func(t *testing.T, ts *testServer) {
		if _, err := selfcheck.Run(t.Context(), ts.db.Client, ts.app.readers, ts.app.catalog().WriteReader, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		q := `{ sourceHealth { source ok error formats { format ok records } } }`
		var health []struct {
			Source  string
			OK      bool
			Formats []struct {
				Format  string
				OK      bool
				Records int
			}
		}
		ts.login(t, "sys").do(t, q, nil).ok(t).decode(t, "sourceHealth", &health)
		if len(health) != 4 || len(health[0].Formats) != 5 || !health[0].OK || health[0].Formats[4].Records == 0 {
			t.Fatalf("sourceHealth: %+v", health)
		}
		if res := ts.login(t, "ladmin").do(t, q, nil); res.code() != "FORBIDDEN" {
			t.Fatalf("an org admin read sourceHealth: %s", res.code())
		}
	})
}
