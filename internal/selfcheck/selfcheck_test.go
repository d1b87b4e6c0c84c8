package selfcheck_test

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/catalog"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/readers"
	"github.com/rhizoflex/rhizoflex/internal/selfcheck"
)

// sourcesDir holds the example reader (built here) as a good source, one whose reader
// fails after its headers, and one that is empty in its example range.
func sourcesDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	reader := filepath.Join(dir, "genreader")
	build := exec.Command("go", "build", "-o", reader, "../../examples/sources/genreader")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	def := func(name, extra string) {
		text := "description = '" + name + "'\nreader = '" + reader + " waveform'\ndas2Stream = 1\ntechContact = 'T <t@x>'\n" + extra
		if err := os.WriteFile(filepath.Join(dir, name+".dsdf"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	def("Good", "exampleRange_00 = '2024-01-01 to 2024-01-01T01:00 UTC'\n")
	def("Failing", "exampleRange_00 = '2024-01-01 to 2024-01-01T01:00'\nexampleParams_00 = '--fail'\n")
	def("Empty", "exampleRange_00 = '2024-01-01T00:00:00.2 to 2024-01-01T00:00:00.4'\n")
	return dir
}

func TestSelfCheckRecordsEveryFormat(t *testing.T) {
	dir := sourcesDir(t)
	set, err := readers.Load(dir)
	if err != nil || len(set.Errors()) > 0 {
		t.Fatal(err, set.Errors())
	}
	runner := &readers.Runner{Log: slog.New(slog.DiscardHandler)}
	cat := &catalog.Catalog{Runner: runner}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		results, err := selfcheck.Run(ctx, db.Client, set, cat.WriteReader, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]selfcheck.Result{}
		for _, r := range results {
			byID[r.Source] = r
		}
		good := byID["Good"]
		if !good.OK || len(good.Formats) != len(selfcheck.Formats) {
			t.Fatalf("good source: %+v", good)
		}
		for _, f := range good.Formats {
			if !f.OK || f.Records != 3600 || f.Bytes == 0 {
				t.Errorf("good source, %s: %+v", f.Format, f)
			}
		}
		if r := byID["Failing"]; r.OK || !strings.Contains(r.Error, "exited with status 3") {
			t.Errorf("failing source: %+v", r)
		}
		if r := byID["Empty"]; r.OK || !strings.Contains(r.Error, "no data in the example range") {
			t.Errorf("empty source: %+v", r)
		}
		rows, err := selfcheck.List(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0].Ok || rows[2].Source != "Good" || !rows[2].Ok {
			t.Fatalf("recorded rows (failures first): %+v", rows)
		}
		if fs := selfcheck.FormatsOf(rows[2]); len(fs) != 5 || fs[4].Format != "csv" || fs[4].Records != 3600 {
			t.Fatalf("recorded formats %+v", fs)
		}
		// A removed source is forgotten on the next run; a rerun replaces, not adds.
		if err := os.Remove(filepath.Join(dir, "Empty.dsdf")); err != nil {
			t.Fatal(err)
		}
		if err := set.Reload(); err != nil {
			t.Fatal(err)
		}
		if _, err := selfcheck.Run(ctx, db.Client, set, cat.WriteReader, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Client.SourceHealth.Query().Count(ctx); n != 2 {
			t.Fatalf("%d rows after the source was removed", n)
		}
		// Put it back for the other database.
		if err := os.WriteFile(filepath.Join(dir, "Empty.dsdf"), []byte(strings.ReplaceAll(
			"description = 'Empty'\nreader = 'READER waveform'\ndas2Stream = 1\ntechContact = 'T <t@x>'\nexampleRange_00 = '2024-01-01T00:00:00.2 to 2024-01-01T00:00:00.4'\n",
			"READER", filepath.Join(dir, "genreader"))), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := set.Reload(); err != nil {
			t.Fatal(err)
		}
	})
}
