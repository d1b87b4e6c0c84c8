package server

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/streams/verify"
)

// Reader sources on the das2 server API and the dasFlex URL API: list, dsdf, data in every
// format, reduction, arguments passed as values, failures, no data, access.
func TestDasReaderSources(t *testing.T) {
	srcDir := readerSourcesDir(t)
	// A reader source that takes a lab sequence's id: the operator's source wins.
	shadow := "description = 'Shadow'\nreader = '" + exampleReader(t) + " waveform'\ndas2Stream = 1\ntechContact = 'T <t@x>'\n" +
		"exampleRange_00 = '2024-01-01 to 2024-01-02'\nlocalId = lab/data/temperature\n"
	if err := os.WriteFile(filepath.Join(srcDir, "ex", "Shadow.dsdf"), []byte(shadow), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d, func(c *Config) { c.SourcesDir = srcDir; c.CacheDir = t.TempDir() })
			anon, member, other := ts.client(t), ts.login(t, "lmember"), ts.login(t, "omember")

			list := string(anon.get(t, "/das/server?server=list").Body)
			if !strings.Contains(list, "ex/Waves|Public waves\n") || strings.Contains(list, "LabOnly") || !strings.Contains(list, "ex/\n") {
				t.Fatalf("anonymous list:\n%s", list)
			}
			list = string(member.get(t, "/das/server?server=list").Body)
			if !strings.Contains(list, "ex/LabOnly|Lab waves\n") || strings.Count(list, "lab/data/temperature|") != 1 || !strings.Contains(list, "lab/data/temperature|Shadow\n") {
				t.Fatalf("member list:\n%s", list)
			}

			dsdf := member.get(t, "/das/server?server=dsdf&dataset=ex/LabOnly")
			for _, want := range []string{`description="Lab waves"`, `exampleRange_00="2024-01-01 to 2024-01-02 UTC"`, `techContact="T &lt;t@example.com&gt;"`, `securityRealm=`} {
				if !strings.Contains(string(dsdf.Body), want) {
					t.Errorf("dsdf lacks %s:\n%s", want, dsdf.Body)
				}
			}
			if rep, err := verify.Stream(t.Context(), bytes.NewReader(dsdf.Body)); err != nil || !rep.OK() {
				t.Errorf("dsdf answer: %v %+v", err, rep)
			}

			// Every format carries the reader's records; the das ones verify.
			base := "/das/source/ex/Waves/flex?read.time.min=2024-01-01T00:00:00&read.time.max=2024-01-01T00:01:00"
			for _, f := range []string{"&format.version=2", "&format.version=2&format.serial=text", "", "&format.serial=text"} {
				res := anon.get(t, base+f)
				c := decodeDas(t, res.Body)
				if res.Status != http.StatusOK || len(c.Times) != 60 || c.Exc != nil {
					t.Fatalf("%s: %d, %d records, %v", f, res.Status, len(c.Times), c.Exc)
				}
				if rep, err := verify.Stream(t.Context(), bytes.NewReader(res.Body)); err != nil || !rep.OK() {
					t.Errorf("%s: %v %+v", f, err, rep)
				}
			}
			if res := anon.get(t, base+"&format.type=csv&format.headers=true"); res.Status != http.StatusOK || len(decodeCSV(t, res.Body).Times) != 60 {
				t.Fatalf("csv: %d %s", res.Status, res.Body)
			}
			// The das2 verb, reduced to minutes.
			res := anon.get(t, "/das/server?server=dataset&dataset=ex/Waves&start_time=2024-01-01&end_time=2024-01-01T01:00&resolution=60")
			if c := decodeDas(t, res.Body); res.Status != http.StatusOK || len(c.Times) != 60 {
				t.Fatalf("reduced: %d, %d records", res.Status, len(c.Times))
			}
			// The cached source answers the same reduced request from its blocks.
			cached := anon.get(t, "/das/server?server=dataset&dataset=ex/Cached&start_time=2024-01-01&end_time=2024-01-01T01:00&resolution=60")
			if c := decodeDas(t, cached.Body); cached.Status != http.StatusOK || len(c.Times) != 60 {
				t.Fatalf("cached: %d, %d records", cached.Status, len(c.Times))
			}

			// params reach the reader as words, never as shell: this one is refused by the
			// reader itself (its stderr names it), nothing else runs.
			marker := filepath.Join(t.TempDir(), "pwned")
			res = anon.get(t, base+"&format.version=2&read.opts="+url.QueryEscape("--scale=2;touch "+marker))
			if res.Status != http.StatusInternalServerError || !strings.Contains(string(res.Body), "exited with status 2") {
				t.Fatalf("bad params: %d %s", res.Status, res.Body)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("a parameter ran as a command")
			}
			if res := anon.get(t, base+"&read.opts=--scale=2"); res.Status != http.StatusOK {
				t.Fatalf("good params: %d %s", res.Status, res.Body)
			}
			if res := anon.get(t, base+"&read.opts=%1b"); res.Status != http.StatusBadRequest {
				t.Fatalf("control character: %d %s", res.Status, res.Body)
			}
			// A reader failing after its headers: 200, the stream ends with an exception.
			res = anon.get(t, base+"&format.version=2&read.opts=--fail")
			if c := decodeDas(t, res.Body); res.Status != http.StatusOK || c.Exc == nil || c.Exc.Type != "ServerError" || !strings.Contains(c.Exc.Message, "status 3") {
				t.Fatalf("failing reader: %d %q", res.Status, res.Body)
			}
			// No record in the range: NoDataInInterval.
			res = anon.get(t, "/das/source/ex/Waves/flex?read.time.min=2024-01-01T00:00:00.2&read.time.max=2024-01-01T00:00:00.4&format.version=2")
			if c := decodeDas(t, res.Body); res.Status != http.StatusOK || c.Exc == nil || c.Exc.Type != "NoDataInInterval" {
				t.Fatalf("empty range: %d %q", res.Status, res.Body)
			}
			// A reader writing das3 is served as das2.2 and CSV too.
			res = anon.get(t, base+"&format.version=2&read.opts=--das3")
			if c := decodeDas(t, res.Body); res.Status != http.StatusOK || len(c.Times) != 60 || !bytes.HasPrefix(res.Body, []byte("[00]")) {
				t.Fatalf("das3 reader as das2: %d %q", res.Status, res.Body)
			}
			if res := anon.get(t, base+"&format.type=csv&format.headers=true&read.opts=--das3"); res.Status != http.StatusOK || len(decodeCSV(t, res.Body).Times) != 60 {
				t.Fatalf("das3 reader as csv: %d %s", res.Status, res.Body)
			}
			if res := anon.get(t, base+"&follow=1"); res.Status != http.StatusBadRequest {
				t.Fatalf("follow on a reader source: %d", res.Status)
			}

			// Access: hidden answers like missing; anonymous is asked for credentials.
			lab := "/das/server?server=dataset&dataset=%s&start_time=2024-01-01&end_time=2024-01-01T00:01"
			h := other.get(t, strings.Replace(lab, "%s", "ex/LabOnly", 1))
			m := other.get(t, strings.Replace(lab, "%s", "ex/Nothing", 1))
			if h.Status != http.StatusNotFound || m.Status != http.StatusNotFound ||
				strings.ReplaceAll(string(h.Body), "ex/LabOnly", "ID") != strings.ReplaceAll(string(m.Body), "ex/Nothing", "ID") {
				t.Fatalf("hidden %d %q, missing %d %q", h.Status, h.Body, m.Status, m.Body)
			}
			if a := anon.get(t, strings.Replace(lab, "%s", "ex/LabOnly", 1)); a.Status != http.StatusUnauthorized || a.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("anonymous: %d %v", a.Status, a.Header)
			}
			for _, c := range []*gqlClient{member, ts.basic(t, ts.world.Keys["userkey"])} {
				if res := c.get(t, strings.Replace(lab, "%s", "ex/LabOnly", 1)); res.Status != http.StatusOK || len(decodeDas(t, res.Body).Times) != 60 {
					t.Fatalf("lab member: %d %s", res.Status, res.Body)
				}
			}
			// Catalog nodes.
			if res := anon.get(t, "/das/source/ex/Waves.json"); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"SourceSet"`) ||
				!strings.Contains(string(res.Body), "/das/source/ex/Waves/flex.json") {
				t.Fatalf("source set: %d %s", res.Status, res.Body)
			}
			if res := anon.get(t, "/das/source/ex/Waves/flex.json"); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"HttpStreamSrc"`) ||
				!strings.Contains(string(res.Body), `"read.opts"`) || !strings.Contains(string(res.Body), `"2024-01-01"`) {
				t.Fatalf("stream source: %d %s", res.Status, res.Body)
			}
			if res := other.get(t, "/das/source/ex/LabOnly/flex.json"); res.Status != http.StatusNotFound {
				t.Fatalf("hidden reader's flex.json: %d", res.Status)
			}
			if res := anon.get(t, "/das/source/ex/LabOnly.json"); res.Status != http.StatusUnauthorized {
				t.Fatalf("protected reader's source set, anonymous: %d", res.Status)
			}
			if res := member.get(t, "/das/source/ex/LabOnly/flex.json"); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"HTTP/Basic"`) {
				t.Fatalf("protected reader's flex.json: %d %s", res.Status, res.Body)
			}
			cat := string(anon.get(t, "/das/catalog.json").Body)
			if !strings.Contains(cat, `"ex/Waves"`) || strings.Contains(cat, "LabOnly") {
				t.Fatalf("anonymous catalog: %s", cat)
			}
			if cat := string(member.get(t, "/das/catalog.json").Body); !strings.Contains(cat, `"title": "Shadow"`) || !strings.Contains(cat, `"ex/LabOnly"`) {
				t.Fatalf("member catalog: %s", cat)
			}
			// The shadowing reader answers for the sequence's id.
			if res := member.get(t, "/das/server?server=dsdf&dataset=lab/data/temperature"); !strings.Contains(string(res.Body), `description="Shadow"`) {
				t.Fatalf("shadow: %s", res.Body)
			}
		})
	}
}

// Every reader slot busy: 503 with Retry-After, a das exception, and the slot serves the
// next request once free.
func TestDasReaderBusy(t *testing.T) {
	srcDir := readerSourcesDir(t)
	ts := newTestServer(t, "sqlite", func(c *Config) {
		c.SourcesDir, c.MaxReaders, c.ReaderQueueWait = srcDir, 1, 200*time.Millisecond
	})
	anon := ts.client(t)
	slow := "/das/source/ex/Waves/flex?read.time.min=2024-01-01&read.time.max=2024-01-01T00:00:10&format.version=2&read.opts=--sleep=3s"
	done := make(chan dasResponse, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+slow, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- dasResponse{}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		done <- dasResponse{Status: resp.StatusCode, Body: body}
	}()
	// Wait until the slow reader holds the only slot.
	deadline := time.Now().Add(10 * time.Second)
	var res dasResponse
	for {
		res = anon.get(t, "/das/source/ex/Waves/flex?read.time.min=2024-01-01&read.time.max=2024-01-01T00:00:10&format.version=2")
		if res.Status == http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("busy: %d %v %s", res.Status, res.Header, res.Body)
	}
	if c := decodeDas(t, res.Body); c.Exc == nil || c.Exc.Type != "ServerError" {
		t.Fatalf("busy body %q", res.Body)
	}
	if first := <-done; first.Status != http.StatusOK || len(decodeDas(t, first.Body).Times) != 10 {
		t.Fatalf("slow request: %d %q", first.Status, first.Body)
	}
	if res := anon.get(t, "/das/source/ex/Waves/flex?read.time.min=2024-01-01&read.time.max=2024-01-01T00:00:10"); res.Status != http.StatusOK {
		t.Fatalf("after the slot freed: %d", res.Status)
	}
}

// Reader sources in the HTML forms, the source directory and nodes.csv: each form's links
// read its examples (with their reader options) in every format; a protected reader is
// listed and served only to those who may read it.
func TestDasReaderForms(t *testing.T) {
	srcDir := readerSourcesDir(t)
	opts := "description = 'Scaled waves'\nreader = '" + exampleReader(t) + " waveform'\ndas2Stream = 1\ntechContact = 'T <t@x>'\n" +
		"exampleRange_00 = '2024-01-01T00:00 to 2024-01-01T00:01 UTC | One minute, doubled'\nexampleParams_00 = '--scale=2'\n" +
		"param_00 = '--scale=N | multiply every value by N'\n"
	if err := os.WriteFile(filepath.Join(srcDir, "ex", "Opts.dsdf"), []byte(opts), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d, func(c *Config) { c.SourcesDir = srcDir; c.CacheDir = t.TempDir() })
			anon, member, other := ts.client(t), ts.login(t, "lmember"), ts.login(t, "omember")

			form := anon.get(t, "/das/source/ex/Opts.html")
			if form.Status != http.StatusOK || !strings.Contains(form.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("form: %d %s", form.Status, form.Body)
			}
			body := string(form.Body)
			rng := "read.time.min=2024-01-01T00%3A00&amp;read.time.max=2024-01-01T00%3A01&amp;read.opts=--scale%3D2"
			for _, want := range []string{
				"<p>Scaled waves</p>", "One minute, doubled", "multiply every value by N",
				`name="read.time.min" value="2024-01-01T00:00"`, `name="read.time.max" value="2024-01-01T00:01"`,
				`name="read.opts" value="--scale=2"`, `action="/das/source/ex/Opts/flex"`,
				"/das/source/ex/Opts/flex?" + rng + `"`,
				"/das/source/ex/Opts/flex?" + rng + "&amp;format.version=2&amp;format.serial=text",
				"/das/source/ex/Opts/flex?" + rng + "&amp;format.type=csv&amp;format.headers=true",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("form lacks %s:\n%s", want, body)
				}
			}
			// The links answer with the example's records, scaled as the example says.
			link := "/das/source/ex/Opts/flex?" + strings.ReplaceAll(rng, "&amp;", "&")
			plain := decodeDas(t, anon.get(t, "/das/source/ex/Waves/flex?read.time.min=2024-01-01T00:00&read.time.max=2024-01-01T00:01").Body)
			for _, f := range []string{"", "&format.version=2"} {
				res := anon.get(t, link+f)
				c := decodeDas(t, res.Body)
				if res.Status != http.StatusOK || len(c.Times) != 60 || len(plain.Values) != 60 {
					t.Fatalf("%s: %d, %d records (%d plain)", link+f, res.Status, len(c.Times), len(plain.Values))
				}
				for i := range c.Values {
					if c.Values[i] != 2*plain.Values[i] {
						t.Fatalf("%s: value %d is %g, want %g", f, i, c.Values[i], 2*plain.Values[i])
					}
				}
			}
			if res := anon.get(t, link+"&format.type=csv&format.headers=true"); res.Status != http.StatusOK || len(decodeCSV(t, res.Body).Times) != 60 {
				t.Fatalf("csv link: %d %s", res.Status, res.Body)
			}

			// A protected reader's form: sign in (anonymous), missing (another organization).
			if res := anon.get(t, "/das/source/ex/LabOnly.html"); res.Status != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("anonymous, protected form: %d", res.Status)
			}
			if res := other.get(t, "/das/source/ex/LabOnly.html"); res.Status != http.StatusNotFound {
				t.Errorf("other organization, protected form: %d", res.Status)
			}
			if res := member.get(t, "/das/source/ex/LabOnly.html"); res.Status != http.StatusOK || !strings.Contains(string(res.Body), "<p>Lab waves</p>") ||
				!strings.Contains(string(res.Body), "/das/source/ex/LabOnly/flex?read.time.min=2024-01-01&amp;read.time.max=2024-01-02&amp;format.version=2") {
				t.Errorf("member, protected form: %d %s", res.Status, res.Body)
			}

			// The directory and nodes.csv list what the caller may read.
			for _, tc := range []struct {
				c    *gqlClient
				name string
				lab  bool
			}{{anon, "anonymous", false}, {other, "other organization", false}, {member, "member", true}} {
				dir := string(tc.c.get(t, "/das/source/").Body)
				if !strings.Contains(dir, `href="/das/source/ex/Waves.html"`) || strings.Contains(dir, "ex/LabOnly") == !tc.lab {
					t.Errorf("%s directory:\n%s", tc.name, dir)
				}
				res := tc.c.get(t, "/das/nodes.csv")
				r := csv.NewReader(bytes.NewReader(res.Body))
				r.FieldsPerRecord = -1
				rows, err := r.ReadAll()
				if res.Status != http.StatusOK || err != nil {
					t.Fatalf("%s nodes.csv: %d %v", tc.name, res.Status, err)
				}
				found := map[string][]string{}
				for _, row := range rows[1:] {
					if _, dup := found[row[0]]; dup {
						t.Errorf("%s nodes.csv lists %s twice", tc.name, row[0])
					}
					found[row[0]] = row
				}
				for id, title := range map[string]string{"ex/Waves": "Public waves", "ex/Opts": "Scaled waves", "ex/LabOnly": "Lab waves"} {
					u := ts.URL + "/das/source/" + id
					set, flex, dsdf := found[id], found[id+"/flex"], found[id+"/das2"]
					if id == "ex/LabOnly" && !tc.lab {
						if set != nil || flex != nil || dsdf != nil {
							t.Errorf("%s nodes.csv lists the protected reader", tc.name)
						}
						continue
					}
					if set == nil || flex == nil || dsdf == nil || set[1] != "SourceSet" || set[2] != title || set[3] != u+".json" ||
						flex[1] != "HttpStreamSrc" || flex[3] != u+"/flex.json" || dsdf[1] != "Das2DSDF" || dsdf[3] != u+"/das2.d2t" {
						t.Errorf("%s nodes.csv rows of %s: %q %q %q", tc.name, id, set, flex, dsdf)
					}
				}
			}
		})
	}
}
