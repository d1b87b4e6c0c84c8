package files_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/ent/revision"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/database"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/files"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// env is one test's world: a database with /lab and a blob directory.
type env struct {
	client *ent.Client
	blobs  *blob.Dir
}

func newEnv(t *testing.T, db *database.DB) *env { return newEnvTB(t, db.Client) }

func newEnvTB(t testing.TB, client *ent.Client) *env {
	t.Helper()
	blobs, err := blob.NewDir(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	// Subtests may share a database: /lab exists from the first one on.
	_, err = tree.Create(t.Context(), client, tree.CreateParams{Path: "/lab", Type: tree.OrganizationFolder})
	if err != nil && !fault.Is(err, fault.Conflict) {
		t.Fatal(err)
	}
	return &env{client: client, blobs: blobs}
}

func (e *env) file(t *testing.T, path string) *ent.Resource { return e.fileTB(t, path) }

func (e *env) fileTB(t testing.TB, path string) *ent.Resource {
	t.Helper()
	f, err := tree.Create(t.Context(), e.client, tree.CreateParams{Path: path, Type: tree.File, CreateParents: true})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (e *env) write(t *testing.T, f *ent.Resource, content []byte, contentType string, threshold int64) *ent.Revision {
	t.Helper()
	rev, err := files.Write(t.Context(), e.client, e.blobs, f, bytes.NewReader(content), contentType, files.Author{}, threshold, 0)
	if err != nil {
		t.Fatalf("write %s: %v", f.Path, err)
	}
	return rev
}

func (e *env) read(t *testing.T, rev *ent.Revision) []byte {
	t.Helper()
	r, err := files.Open(t.Context(), e.client, e.blobs, rev)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// blobFiles lists the regular files in the blob directory (temporaries included).
func (e *env) blobFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(e.blobs.Root(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// everyByte is 0..255 repeated to n bytes.
func everyByte(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func sha(b []byte) string {
	return fmt.Sprintf("%x", sha256Sum(b))
}

func mustCode(t *testing.T, err error, want fault.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", want)
	}
	if got := fault.CodeOf(err); got != want {
		t.Fatalf("error %v has code %s, want %s", err, got, want)
	}
}

type server struct {
	*httptest.Server
	forbid map[string]fault.Code // path -> code authorize returns
}

func (e *env) serve(t *testing.T) *server {
	t.Helper()
	s := &server{forbid: map[string]fault.Code{}}
	mux := http.NewServeMux()
	mux.Handle("/files/", files.Handler(e.client, e.blobs, func(_ *http.Request, res *ent.Resource, missing error) error {
		if res == nil {
			return missing
		}
		if code, ok := s.forbid[res.Path]; ok {
			return fault.New(code, "no access to %s", res.Path)
		}
		return nil
	}))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// response is what a request got; the body is read and closed already.
type response struct {
	StatusCode int
	Status     string
	Header     http.Header
}

func (s *server) do(t *testing.T, method, path string, header map[string]string) (*response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return &response{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}, body
}

// A 256,000-byte file with every byte value round-trips exactly through Open and HTTP,
// stored inline and in bulk storage.
func TestRoundTrip(t *testing.T) {
	content := everyByte(256_000)
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		for _, tc := range []struct {
			name      string
			threshold int64
			bulk      bool
		}{
			{"inline", 300_000, false},
			{"bulk", 64 << 10, true},
			{"bulk at exactly the threshold", 256_000, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, db)
				f := e.file(t, "/lab/"+strings.ReplaceAll(tc.name, " ", "-")+"/data.bin")
				rev := e.write(t, f, content, "", tc.threshold)
				if rev.Size != int64(len(content)) || rev.Sha256 == nil || *rev.Sha256 != sha(content) {
					t.Fatalf("revision size %d sha %v, want %d %s", rev.Size, rev.Sha256, len(content), sha(content))
				}
				if got := *rev.ContentType; got != "application/octet-stream" {
					t.Errorf("content type %q", got)
				}
				row := e.client.Revision.GetX(t.Context(), rev.ID)
				if (row.BlobKey != nil) != tc.bulk || (len(row.Data) == 0) != tc.bulk {
					t.Fatalf("stored with blob key %v and %d inline bytes; bulk=%v expected", row.BlobKey, len(row.Data), tc.bulk)
				}
				wantFiles := 0
				if tc.bulk {
					wantFiles = 1
				}
				if got := e.blobFiles(t); len(got) != wantFiles {
					t.Fatalf("blob files %v, want %d", got, wantFiles)
				}
				if got := e.read(t, rev); !bytes.Equal(got, content) {
					t.Fatalf("Open returned %d bytes that differ from the content", len(got))
				}

				srv := e.serve(t)
				url := "/files" + f.Path
				resp, body := srv.do(t, http.MethodGet, url, nil)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
					t.Fatalf("GET: %s, %d bytes (equal: %v)", resp.Status, len(body), bytes.Equal(body, content))
				}
				etag := `"` + sha(content) + `"`
				for k, want := range map[string]string{
					"Content-Type":        "application/octet-stream",
					"Content-Length":      "256000",
					"Etag":                etag,
					"Content-Disposition": `attachment; filename="data.bin"; filename*=UTF-8''data.bin`,
					"Accept-Ranges":       "bytes",
				} {
					if got := resp.Header.Get(k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				lm, err := http.ParseTime(resp.Header.Get("Last-Modified"))
				if err != nil || lm.Unix() != rev.Timestamp/1_000_000 {
					t.Errorf("Last-Modified %q (%v), want the revision time %d µs", resp.Header.Get("Last-Modified"), err, rev.Timestamp)
				}

				resp, body = srv.do(t, http.MethodGet, url, map[string]string{"Range": "bytes=1000-1999"})
				if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[1000:2000]) {
					t.Fatalf("range: %s, %d bytes", resp.Status, len(body))
				}
				if got := resp.Header.Get("Content-Range"); got != "bytes 1000-1999/256000" {
					t.Errorf("Content-Range %q", got)
				}
				resp, body = srv.do(t, http.MethodGet, url, map[string]string{"Range": "bytes=-10"})
				if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[len(content)-10:]) {
					t.Fatalf("suffix range: %s, %v", resp.Status, body)
				}
				resp, body = srv.do(t, http.MethodGet, url, map[string]string{"If-None-Match": etag})
				if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
					t.Fatalf("If-None-Match: %s, %d bytes", resp.Status, len(body))
				}
				resp, body = srv.do(t, http.MethodGet, url, map[string]string{"If-None-Match": `"other"`})
				if resp.StatusCode != http.StatusOK || len(body) != len(content) {
					t.Fatalf("If-None-Match with another tag: %s, %d bytes", resp.Status, len(body))
				}
				resp, body = srv.do(t, http.MethodHead, url, nil)
				if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != "256000" || resp.Header.Get("Etag") != etag {
					t.Fatalf("HEAD: %s, %d bytes, length %q", resp.Status, len(body), resp.Header.Get("Content-Length"))
				}
				resp, body = srv.do(t, http.MethodGet, fmt.Sprintf("%s?rev=%d", url, rev.ID), nil)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
					t.Fatalf("GET ?rev=%d: %s", rev.ID, resp.Status)
				}
				if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
					t.Errorf("numbered revision Cache-Control %q", cc)
				}
			})
		}
	})
}

func TestHandlerStatuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		f := e.file(t, "/lab/dir/notes.txt")
		rev := e.write(t, f, []byte("hello"), "", 0)
		e.file(t, "/lab/dir/empty.txt")
		other := e.file(t, "/lab/dir/other.txt")
		otherRev := e.write(t, other, []byte("other"), "", 0)
		lost := e.file(t, "/lab/dir/lost.bin")
		lostRev := e.write(t, lost, everyByte(1000), "", 10)
		if err := e.blobs.Delete(t.Context(), *lostRev.BlobKey); err != nil {
			t.Fatal(err)
		}
		e.file(t, "/lab/secret/s.txt")
		e.file(t, "/lab/hidden/h.txt")
		e.file(t, "/lab/anon/a.txt")
		srv := e.serve(t)
		srv.forbid["/lab/secret/s.txt"] = fault.Forbidden
		srv.forbid["/lab/hidden/h.txt"] = fault.NotFound
		srv.forbid["/lab/anon/a.txt"] = fault.Unauthenticated
		for _, tc := range []struct {
			method, path string
			want         int
			body         string
		}{
			{"GET", "/files/lab/dir/notes.txt", 200, "hello"},
			{"GET", "/files/lab/dir/notes.txt/", 200, "hello"},
			{"GET", fmt.Sprintf("/files/lab/dir/notes.txt?rev=%d", rev.ID), 200, "hello"},
			{"GET", fmt.Sprintf("/files/lab/dir/notes.txt?rev=%d", rev.ID+1000), 404, ""},
			{"GET", fmt.Sprintf("/files/lab/dir/notes.txt?rev=%d", otherRev.ID), 404, ""},
			{"GET", "/files/lab/dir/notes.txt?rev=abc", 400, "rev must be"},
			{"GET", "/files/lab/dir/notes.txt?rev=0", 400, "rev must be"},
			{"GET", "/files/lab/dir/notes.txt?rev=-3", 400, "rev must be"},
			{"GET", "/files/lab/dir/notes.txt?rev=", 400, "rev must be"},
			{"GET", "/files/lab/dir/missing.txt", 404, "no resource at /lab/dir/missing.txt"},
			{"GET", "/files/lab/dir/empty.txt", 404, "has no revisions"},
			{"GET", "/files/lab/dir", 400, "not a file"},
			{"GET", "/files/lab/dir/lost.bin", 404, "content of revision"},
			{"GET", "/files/lab/bad%00name", 400, ""},
			{"GET", "/files/lab/secret/s.txt", 403, "no access to /lab/secret/s.txt"},
			{"GET", "/files/lab/hidden/h.txt", 404, "no access"},
			{"GET", "/files/lab/anon/a.txt", 401, "no access"},
			{"POST", "/files/lab/dir/notes.txt", 405, ""},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				resp, body := srv.do(t, tc.method, tc.path, nil)
				if resp.StatusCode != tc.want {
					t.Fatalf("status %s (%q), want %d", resp.Status, body, tc.want)
				}
				if !strings.Contains(string(body), tc.body) {
					t.Errorf("body %q does not contain %q", body, tc.body)
				}
				if tc.want >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
					t.Errorf("error Content-Type %q, want text/plain", resp.Header.Get("Content-Type"))
				}
				if tc.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	})
}

// Text keeps its exact bytes: no newline rewriting in either storage, nor over HTTP.
func TestTextKeepsExactBytes(t *testing.T) {
	text := []byte("line one\r\nline two\nline three\r\n\r\n\nno newline at the end \t")
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		srv := e.serve(t)
		for _, threshold := range []int64{1 << 20, 8} {
			f := e.file(t, fmt.Sprintf("/lab/t%d/mixed.txt", threshold))
			rev := e.write(t, f, text, "", threshold)
			if got := *rev.ContentType; got != "text/plain; charset=utf-8" {
				t.Errorf("sniffed %q", got)
			}
			if got := e.read(t, rev); !bytes.Equal(got, text) {
				t.Errorf("threshold %d: Open gave %q", threshold, got)
			}
			resp, body := srv.do(t, http.MethodGet, "/files"+f.Path, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, text) {
				t.Errorf("threshold %d: HTTP gave %s %q", threshold, resp.Status, body)
			}
			if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("served Content-Type %q", got)
			}
		}
	})
}

func TestContentType(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), everyByte(100)...)
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		f := e.file(t, "/lab/x")
		for _, tc := range []struct {
			name, given string
			content     []byte
			threshold   int64
			want        string
			err         fault.Code
		}{
			{name: "png", content: png, want: "image/png"},
			{name: "png in bulk, head smaller than sniff length", content: png, threshold: 4, want: "image/png"},
			{name: "html", content: []byte("<!DOCTYPE html><html><body>x</body></html>"), want: "text/html; charset=utf-8"},
			{name: "json sniffs as text", content: []byte(`{"a": 1}`), want: "text/plain; charset=utf-8"},
			{name: "binary", content: []byte{0, 1, 2, 3, 0xff}, want: "application/octet-stream"},
			{name: "empty", content: nil, want: "text/plain; charset=utf-8"},
			{name: "given wins", given: "application/json", content: []byte(`{"a": 1}`), want: "application/json"},
			{name: "given with parameters", given: "text/csv; charset=utf-8", content: []byte("a,b\n"), want: "text/csv; charset=utf-8"},
			{name: "malformed", given: "not a type;;", content: []byte("x"), err: fault.BadInput},
			{name: "too long", given: "application/" + strings.Repeat("x", 200), content: []byte("x"), err: fault.BadInput},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rev, err := files.Write(t.Context(), e.client, e.blobs, f, bytes.NewReader(tc.content), tc.given, files.Author{}, tc.threshold, 0)
				if tc.err != "" {
					mustCode(t, err, tc.err)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if *rev.ContentType != tc.want {
					t.Errorf("content type %q, want %q", *rev.ContentType, tc.want)
				}
				if got := e.read(t, rev); !bytes.Equal(got, tc.content) {
					t.Errorf("content changed: %q", got)
				}
			})
		}
	})
}

func TestHistoryAndPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		f := e.file(t, "/lab/h.txt")
		g := e.file(t, "/lab/g.txt")
		var written []*ent.Revision
		for i := range 7 {
			threshold := int64(0)
			if i%2 == 1 {
				threshold = 2 // odd revisions go to bulk storage
			}
			written = append(written, e.write(t, f, fmt.Appendf(nil, "version %d", i), "", threshold))
			e.write(t, g, []byte("interleaved"), "", 0)
		}
		var got []*ent.Revision
		after, pages := 0, 0
		for {
			p, err := files.Revisions(t.Context(), e.client, f, 3, after)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if p.TotalCount != 7 {
				t.Errorf("total %d, want 7", p.TotalCount)
			}
			if len(p.Revisions) > 3 || (p.HasNext && len(p.Revisions) != 3) {
				t.Fatalf("page of %d (has next %v)", len(p.Revisions), p.HasNext)
			}
			got = append(got, p.Revisions...)
			if !p.HasNext {
				break
			}
			after = p.EndCursor
		}
		if pages != 3 || len(got) != 7 {
			t.Fatalf("%d pages, %d revisions; want 3 pages of 7", pages, len(got))
		}
		for i, rev := range got {
			want := written[len(written)-1-i]
			if rev.ID != want.ID || rev.Timestamp != want.Timestamp || *rev.Sha256 != *want.Sha256 {
				t.Errorf("position %d: revision %d, want %d (newest first)", i, rev.ID, want.ID)
			}
			if i > 0 && rev.Timestamp >= got[i-1].Timestamp {
				t.Errorf("timestamps not strictly decreasing: %d then %d", got[i-1].Timestamp, rev.Timestamp)
			}
			// Listings carry no bytes; Open fetches them.
			if len(rev.Data) != 0 {
				t.Errorf("listing loaded %d inline bytes", len(rev.Data))
			}
			if b := e.read(t, rev); string(b) != fmt.Sprintf("version %d", len(written)-1-i) {
				t.Errorf("revision %d content %q", rev.ID, b)
			}
		}

		latest, err := files.Revision(t.Context(), e.client, f, 0)
		if err != nil || latest.ID != written[6].ID {
			t.Fatalf("latest = %v, %v; want %d", latest, err, written[6].ID)
		}
		first, err := files.Revision(t.Context(), e.client, f, written[0].ID)
		if err != nil || string(e.read(t, first)) != "version 0" {
			t.Fatalf("revision %d: %v", written[0].ID, err)
		}
		gLatest, err := files.Revision(t.Context(), e.client, g, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = files.Revision(t.Context(), e.client, f, gLatest.ID)
		mustCode(t, err, fault.NotFound)

		refreshed := e.client.Resource.GetX(t.Context(), f.ID)
		if refreshed.LastRevisionAt == nil || refreshed.LastRevisionAt.UnixMicro() != written[6].Timestamp {
			t.Errorf("last_revision_at %v, want %d µs", refreshed.LastRevisionAt, written[6].Timestamp)
		}

		for _, tc := range []struct{ first, after int }{{-1, 0}, {files.MaxPageSize + 1, 0}, {1, -5}} {
			_, err := files.Revisions(t.Context(), e.client, f, tc.first, tc.after)
			mustCode(t, err, fault.BadInput)
		}
		p, err := files.Revisions(t.Context(), e.client, f, 0, 0)
		if err != nil || len(p.Revisions) != 7 || p.HasNext {
			t.Fatalf("default page: %v, %d revisions", err, len(p.Revisions))
		}
		folder, err := tree.ByPath(t.Context(), e.client, "/lab")
		if err != nil {
			t.Fatal(err)
		}
		_, err = files.Revisions(t.Context(), e.client, folder, 0, 0)
		mustCode(t, err, fault.BadInput)
		_, err = files.Write(t.Context(), e.client, e.blobs, folder, strings.NewReader("x"), "", files.Author{}, 0, 0)
		mustCode(t, err, fault.BadInput)
	})
}

func TestDeleteDataLeavesNoBlobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		a, b, keep := e.file(t, "/lab/a.bin"), e.file(t, "/lab/b.bin"), e.file(t, "/lab/keep.bin")
		for i := range 3 {
			e.write(t, a, everyByte(1000+i), "", 100) // bulk
			e.write(t, a, []byte("small"), "", 0)     // inline
			e.write(t, b, everyByte(2000+i), "", 100) // bulk
		}
		kept := e.write(t, keep, everyByte(5000), "", 100)
		if n := len(e.blobFiles(t)); n != 7 {
			t.Fatalf("%d blob files before delete, want 7", n)
		}
		if err := files.DeleteData(t.Context(), e.client, e.blobs, []int{a.ID, b.ID}); err != nil {
			t.Fatal(err)
		}
		left := e.blobFiles(t)
		if len(left) != 1 || !strings.HasSuffix(filepath.ToSlash(left[0]), *kept.BlobKey) {
			t.Fatalf("blob files after delete: %v, want only %s", left, *kept.BlobKey)
		}
		if n := e.client.Revision.Query().Where(revision.ResourceIDIn(a.ID, b.ID)).CountX(t.Context()); n != 0 {
			t.Errorf("%d revisions left", n)
		}
		if got := e.read(t, kept); !bytes.Equal(got, everyByte(5000)) {
			t.Error("the other file's content changed")
		}
		if r := e.client.Resource.GetX(t.Context(), a.ID); r.LastRevisionAt != nil {
			t.Errorf("last_revision_at still %v", r.LastRevisionAt)
		}
		if err := files.DeleteData(t.Context(), e.client, e.blobs, []int{keep.ID}); err != nil {
			t.Fatal(err)
		}
		if left := e.blobFiles(t); len(left) != 0 {
			t.Fatalf("blob files left: %v", left)
		}
		if err := files.DeleteData(t.Context(), e.client, e.blobs, nil); err != nil {
			t.Fatalf("delete nothing: %v", err)
		}
	})
}

// When the database refuses the revision after its blob was written, the blob goes too.
func TestFailedTransactionLeavesNoOrphan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		f := e.file(t, "/lab/f.bin")
		content := everyByte(200_000)

		// A foreign key violation inside the transaction: no such user.
		_, err := files.Write(t.Context(), e.client, e.blobs, f, bytes.NewReader(content), "", files.Author{UserID: 987654}, 1024, 0)
		mustCode(t, err, fault.BadInput)
		if !ent.IsConstraintError(errors.Unwrap(err)) {
			t.Errorf("cause %v is not the constraint error", errors.Unwrap(err))
		}
		if left := e.blobFiles(t); len(left) != 0 {
			t.Fatalf("orphan blobs after a failed insert: %v", left)
		}

		// The file was deleted between the upload and the insert.
		e.client.Resource.UpdateOneID(f.ID).SetDeleted(true).ExecX(t.Context())
		_, err = files.Write(t.Context(), e.client, e.blobs, f, bytes.NewReader(content), "", files.Author{}, 1024, 0)
		mustCode(t, err, fault.NotFound)
		if left := e.blobFiles(t); len(left) != 0 {
			t.Fatalf("orphan blobs after writing a deleted file: %v", left)
		}
		if n := e.client.Revision.Query().CountX(t.Context()); n != 0 {
			t.Errorf("%d revisions stored", n)
		}
	})
}

func TestAuthor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.client.User.Create().SetEmail("ada@example.com").SetFullName("Ada").SetPasswordHash("x").SaveX(t.Context())
		ctrl, err := tree.CreateController(t.Context(), e.client, "/lab/ctrl", false)
		if err != nil {
			t.Fatal(err)
		}
		f := e.file(t, "/lab/a.txt")
		for _, a := range []files.Author{{UserID: u.ID}, {ControllerID: ctrl.ID}, {}} {
			rev, err := files.Write(t.Context(), e.client, e.blobs, f, strings.NewReader("x"), "", a, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := files.Revision(t.Context(), e.client, f, rev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if deref(got.AuthorUserID) != a.UserID || deref(got.AuthorControllerID) != a.ControllerID {
				t.Errorf("author %v/%v, want %+v", got.AuthorUserID, got.AuthorControllerID, a)
			}
		}
	})
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func TestMaxSize(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		f := e.file(t, "/lab/m.bin")
		const limit = 10_000
		for _, tc := range []struct {
			name      string
			size      int
			threshold int64
			ok        bool
		}{
			{"inline at the limit", limit, 1 << 20, true},
			{"inline over the limit", limit + 1, 1 << 20, false},
			{"bulk at the limit", limit, 100, true},
			{"bulk over the limit", limit + 1, 100, false},
			{"bulk far over the limit", 5 * limit, 100, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.blobFiles(t))
				rev, err := files.Write(t.Context(), e.client, e.blobs, f, bytes.NewReader(everyByte(tc.size)), "", files.Author{}, tc.threshold, limit)
				if tc.ok {
					if err != nil || rev.Size != int64(tc.size) {
						t.Fatalf("write: %v", err)
					}
					return
				}
				mustCode(t, err, fault.BadInput)
				if msg := fault.SafeMessage(err); msg != "file is larger than the limit of 10000 bytes" {
					t.Errorf("message %q", msg)
				}
				if after := len(e.blobFiles(t)); after != before {
					t.Errorf("blob files %d -> %d after a refused write", before, after)
				}
			})
		}
	})
}

// Large content is streamed: writing 32 MiB allocates a small fraction of that.
func TestWriteStreams(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db)
	f := e.file(t, "/lab/big.bin")
	const size = 32 << 20
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	rev, err := files.Write(t.Context(), e.client, e.blobs, f, io.LimitReader(patternReader{}, size), "", files.Author{}, 0, 0)
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Size != size {
		t.Fatalf("size %d", rev.Size)
	}
	alloc := m1.TotalAlloc - m0.TotalAlloc
	t.Logf("writing %d bytes allocated %d bytes", size, alloc)
	if alloc > 4<<20 {
		t.Errorf("writing %d bytes allocated %d bytes; the content is held in memory", size, alloc)
	}
	r, err := files.Open(t.Context(), e.client, e.blobs, rev)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	h := newSHA()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != *rev.Sha256 {
		t.Errorf("read back sha %s, stored %s", got, *rev.Sha256)
	}
}

// patternReader yields 0..255 repeated forever.
type patternReader struct{}

func (patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func TestDisposition(t *testing.T) {
	for name, want := range map[string]string{
		"data.bin":        `attachment; filename="data.bin"; filename*=UTF-8''data.bin`,
		"my file (1).txt": `attachment; filename="my file (1).txt"; filename*=UTF-8''my%20file%20%281%29.txt`,
		"Grüße \"x\".csv": `attachment; filename="Gr__e _x_.csv"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22x%22.csv`,
	} {
		if got := files.Disposition(name); got != want {
			t.Errorf("Disposition(%q)\n got %s\nwant %s", name, got, want)
		}
	}
}
