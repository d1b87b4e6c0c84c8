package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fixture"
)

var (
	genreaderOnce sync.Once
	genreaderPath string
	genreaderErr  error
)

// exampleReader builds examples/sources/genreader once per test run.
func exampleReader(t testing.TB) string {
	t.Helper()
	genreaderOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rhizoflex-genreader-")
		if err != nil {
			genreaderErr = err
			return
		}
		genreaderPath = filepath.Join(dir, "genreader")
		build := exec.Command("go", "build", "-o", genreaderPath, "./examples/sources/genreader")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			genreaderErr = err
			t.Logf("%s", out)
		}
	})
	if genreaderErr != nil {
		t.Fatal(genreaderErr)
	}
	return genreaderPath
}

// readerSourcesDir writes reader sources for the tests: a public waveform, one for lab
// members only, and one that takes the id of a lab sequence.
func readerSourcesDir(t *testing.T) string {
	t.Helper()
	reader := exampleReader(t)
	dir := t.TempDir()
	def := func(desc, extra string) string {
		return "description = '" + desc + "'\nreader = '" + reader + " waveform'\ndas2Stream = 1\n" +
			"techContact = 'T <t@example.com>'\nexampleRange_00 = '2024-01-01 to 2024-01-02 UTC'\n" + extra
	}
	files := map[string]string{
		"ex/Waves.dsdf":     def("Public waves", ""),
		"ex/LabOnly.dsdf":   def("Lab waves", "readAccess = 'GROUP:lab'\n"),
		"ex/Impostor.dsdf":  def("Operator source", "localId = lab/data/notes.txt\n"),
		"ex/Cached.dsdf":    def("Cached waves", "cacheLevel_00 = '60 s | hourly'\n"),
		"ex/_dirinfo_.dsdf": "description = 'Examples'\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type hapiCatalog struct {
	Catalog []struct{ ID string } `json:"catalog"`
	Status  struct{ Code int }    `json:"status"`
}

func catalogIDs(t *testing.T, c *gqlClient) map[string]bool {
	t.Helper()
	res := c.get(t, "/hapi/catalog")
	if res.Status != http.StatusOK {
		t.Fatalf("catalog: %d %s", res.Status, res.Body)
	}
	var cat hapiCatalog
	if err := json.Unmarshal(res.Body, &cat); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range cat.Catalog {
		if ids[e.ID] {
			t.Errorf("catalog lists %s twice", e.ID)
		}
		ids[e.ID] = true
	}
	return ids
}

// HAPI over sequences and reader sources, through the same authorizer as /das.
func TestHAPIServesSequencesAndReaders(t *testing.T) {
	srcDir := readerSourcesDir(t)
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d, func(c *Config) { c.SourcesDir = srcDir; c.CacheDir = t.TempDir() })
			storeDasValues(t, ts)
			anon, member, other := ts.client(t), ts.login(t, "lmember"), ts.login(t, "omember")

			ids := catalogIDs(t, anon)
			for id, want := range map[string]bool{"ex/Waves": true, "ex/Cached": true, "other/pub/pressure": true, "ex/LabOnly": false, "lab/data/temperature": false} {
				if ids[id] != want {
					t.Errorf("anonymous catalog: %s listed %v, want %v", id, ids[id], want)
				}
			}
			ids = catalogIDs(t, member)
			for _, id := range []string{"ex/LabOnly", "lab/data/temperature", "ex/Waves", "lab/data/notes.txt"} {
				if !ids[id] {
					t.Errorf("member catalog lacks %s", id)
				}
			}

			// A sequence: CSV rows of its values for a member.
			res := member.get(t, "/hapi/data?dataset=lab/data/temperature&start=2024-01-01T00:00:00Z&stop=2024-01-01T00:00:10Z")
			rows := strings.Split(strings.TrimSpace(string(res.Body)), "\n")
			if res.Status != http.StatusOK || len(rows) != 10 || rows[0] != "2024-01-01T00:00:00.000Z,20" || rows[9] != "2024-01-01T00:00:09.000Z,22.25" {
				t.Fatalf("sequence data: %d %q", res.Status, rows)
			}
			// A reader source: one row a second.
			res = anon.get(t, "/hapi/data?dataset=ex/Waves&start=2024-01-01T00:00:00Z&stop=2024-01-01T00:01:00Z")
			if rows := strings.Split(strings.TrimSpace(string(res.Body)), "\n"); res.Status != http.StatusOK || len(rows) != 60 || !strings.HasPrefix(rows[1], "2024-01-01T00:00:01.000Z,") {
				t.Fatalf("reader data: %d %s", res.Status, res.Body)
			}
			res = anon.get(t, "/hapi/info?dataset=ex/Waves")
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"name": "E"`) || !strings.Contains(string(res.Body), `"units": "V m**-1"`) {
				t.Fatalf("reader info: %d %s", res.Status, res.Body)
			}
			// The cached source answers the same as the uncached one.
			a := anon.get(t, "/hapi/data?dataset=ex/Cached&start=2024-01-01T00:00:00Z&stop=2024-01-01T00:00:30Z")
			b := anon.get(t, "/hapi/data?dataset=ex/Waves&start=2024-01-01T00:00:00Z&stop=2024-01-01T00:00:30Z")
			if a.Status != http.StatusOK || string(a.Body) != string(b.Body) {
				t.Fatalf("cached source (full resolution is read from the reader): %d\n%s\n%s", a.Status, a.Body, b.Body)
			}

			// Refusals: hidden answers like missing; anonymous gets a Basic challenge.
			for _, path := range []string{"/hapi/info?dataset=%s", "/hapi/data?dataset=%s&start=2024-01-01&stop=2024-01-02"} {
				for _, hidden := range []string{"ex/LabOnly", "lab/data/temperature"} {
					h := other.get(t, strings.Replace(path, "%s", hidden, 1))
					m := other.get(t, strings.Replace(path, "%s", "ex/Nothing", 1))
					if h.Status != http.StatusNotFound || m.Status != http.StatusNotFound ||
						strings.ReplaceAll(string(h.Body), hidden, "ID") != strings.ReplaceAll(string(m.Body), "ex/Nothing", "ID") {
						t.Errorf("%s: hidden %d %s, missing %d %s", path, h.Status, h.Body, m.Status, m.Body)
					}
					a := anon.get(t, strings.Replace(path, "%s", hidden, 1))
					if a.Status != http.StatusUnauthorized || a.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s anonymous: %d %v", hidden, a.Status, a.Header)
					}
				}
			}
			// A key and e-mail + password by HTTP Basic read the lab-only reader source.
			for _, c := range []*gqlClient{ts.basic(t, ts.world.Keys["userkey"]), basicLogin(ts, t, "lmember@example.com")} {
				if res := c.get(t, "/hapi/data?dataset=ex/LabOnly&start=2024-01-01T00:00:00Z&stop=2024-01-01T00:00:05Z"); res.Status != http.StatusOK ||
					strings.Count(string(res.Body), "\n") != 5 {
					t.Errorf("lab-only with Basic: %d %s", res.Status, res.Body)
				}
			}
			// An operator's reader source wins over a sequence or file with the same id (a
			// file answers 404 as a dataset; the reader's parameter E shows).
			res = member.get(t, "/hapi/info?dataset=lab/data/notes.txt")
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"name": "E"`) {
				t.Fatalf("impostor id: %d %s", res.Status, res.Body)
			}
		})
	}
}

// basicLogin is a client that sends e-mail and password by HTTP Basic (das and HAPI only).
func basicLogin(ts *testServer, t *testing.T, email string) *gqlClient {
	c := ts.client(t)
	c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+fixture.Password))
	return c
}

// A reader writing two packet types (genreader both) through the catalog: info is the
// union of the packets' parameters, data joins a minute's spectrum to its waveform row.
func TestHAPIReaderTwoPacketTypes(t *testing.T) {
	dir := t.TempDir()
	def := "description = 'Waves and spectra'\nreader = '" + exampleReader(t) + " both'\ndas2Stream = 1\n" +
		"techContact = 'T <t@example.com>'\nexampleRange_00 = '2024-01-01 to 2024-01-02 UTC'\n"
	if err := os.WriteFile(filepath.Join(dir, "Both.dsdf"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d, func(c *Config) { c.SourcesDir = dir; c.CacheDir = t.TempDir() })
			anon := ts.client(t)
			var info struct {
				Parameters []struct {
					Name string
					Size []int
				}
			}
			res := anon.get(t, "/hapi/info?dataset=Both")
			if err := json.Unmarshal(res.Body, &info); err != nil || res.Status != http.StatusOK || len(info.Parameters) != 3 ||
				info.Parameters[1].Name != "E" || info.Parameters[2].Name != "spec" || len(info.Parameters[2].Size) != 1 || info.Parameters[2].Size[0] != 32 {
				t.Fatalf("info: %d %s", res.Status, res.Body)
			}
			res = anon.get(t, "/hapi/data?dataset=Both&start=2024-01-01T00:00:59Z&stop=2024-01-01T00:01:02Z")
			rows := strings.Split(strings.TrimSuffix(string(res.Body), "\n"), "\n")
			if res.Status != http.StatusOK || len(rows) != 3 {
				t.Fatalf("data: %d %q", res.Status, res.Body)
			}
			for i, row := range rows {
				f := strings.Split(row, ",")
				joined := i == 1 // 00:01:00 has a spectrum
				if len(f) != 34 || strings.HasPrefix(f[0], "2024-01-01T00:01:00") != joined || (f[2] == "-1e+31") == joined || f[1] == "-1e+31" {
					t.Errorf("row %d: %s", i, row)
				}
			}
		})
	}
}
