package readers

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func dsdfText(desc string, extra ...string) string {
	return "description = '" + desc + "'\nreader = 'rdr'\ndas2Stream = 1\ntechContact = 'T <t@x>'\nexampleRange_00 = '2020-01-01 to 2020-01-02'\n" + strings.Join(extra, "\n") + "\n"
}

func write(t *testing.T, dir, rel, text string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadKeepsGoodSourcesBesideBadOnes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "Juno/WAV/Survey.dsdf", dsdfText("survey"))
	write(t, dir, "Juno/_dirinfo_.dsdf", "description = 'Juno mission'\n")
	write(t, dir, "Cassini/Broken.dsdf", "description = 'broken'\nreader = \n")
	write(t, dir, "Cassini/Other.dsdf", dsdfText("other", "localId = Cassini/Renamed"))
	write(t, dir, "Cassini/Clash.dsdf", dsdfText("clash", "localId = Cassini/Renamed"))
	write(t, dir, "bad name!.dsdf", dsdfText("bad name"))
	write(t, dir, "notes.txt", "not a definition")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range s.List() {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "Cassini/Renamed,Juno/WAV/Survey" {
		t.Fatalf("ids = %q", ids)
	}
	if d, _ := s.DirDescription("Juno"); d != "Juno mission" {
		t.Errorf("dirinfo %q", d)
	}
	if _, ok := s.Get("juno/wav/survey"); ok {
		t.Error("ids matched without case")
	}
	errs := s.Errors()
	if len(errs) != 3 {
		t.Fatalf("errors = %v", errs)
	}
	joined := ""
	for _, e := range errs {
		joined += e.Error() + "\n"
	}
	for _, want := range []string{"Broken.dsdf:2: reader: required value is empty", `source id "Cassini/Renamed" is already defined`, `bad name!.dsdf: the file name gives source id`} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors lack %q:\n%s", want, joined)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory loaded")
	}
}

func TestWatchReloadsOnChange(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "A.dsdf", dsdfText("a"))
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Watch(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "sub/B.dsdf", dsdfText("b"))
	write(t, dir, "A.dsdf", dsdfText("a, edited"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, okB := s.Get("sub/B")
		a, _ := s.Get("A")
		if okB && b.Description == "b" && a.Description == "a, edited" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reloaded: %v", s.List())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.Remove(filepath.Join(dir, "A.dsdf")); err != nil {
		t.Fatal(err)
	}
	for {
		if _, ok := s.Get("A"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a removed source stayed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The shipped example sources load without a bad file.
func TestExampleSourcesLoad(t *testing.T) {
	s, err := Load("../../examples/sources")
	if err != nil {
		t.Fatal(err)
	}
	if errs := s.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{"Example/Protected", "Example/Spectrogram", "Example/Waveform", "Example/WaveformJSON"}
	var got []string
	for _, d := range s.List() {
		got = append(got, d.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("example sources %q, want %q", got, want)
	}
	if d, _ := s.Get("Example/Protected"); len(d.ReadAccess) != 2 {
		t.Errorf("protected example: %+v", d.ReadAccess)
	}
}

// A relative sources_dir and a reader path relative to its definition run from any
// working directory (the reader runs in its definition's directory).
func TestRelativeSourcesDirAndReaderPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env, err := exec.LookPath("env")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("bin", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(env, filepath.Join("bin", "myenv")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "srcs/x/A.dsdf", strings.Replace(dsdfText("a"), "reader = 'rdr'", "reader = '../../bin/myenv READERS_TEST_READER=1 "+os.Args[0]+" args'", 1))
	s, err := Load("srcs")
	if err != nil || len(s.Errors()) > 0 {
		t.Fatal(err, s.Errors())
	}
	def, _ := s.Get("x/A")
	run, err := (&Runner{}).Start(context.Background(), def, Request{Start: "a", End: "b"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(run.Stdout)
	if err := run.Wait(); err != nil || !strings.Contains(string(out), `"args":["a","b"]`) {
		t.Fatalf("%v: %s", err, out)
	}
}
