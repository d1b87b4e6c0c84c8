package files_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/dbtest"
	"github.com/rhizoflex/rhizoflex/internal/files"
)

var benchSizes = []struct {
	name string
	size int64
}{{"1MiB", 1 << 20}, {"64MiB", 64 << 20}}

// benchEnv is one dialect's database with /lab and a blob directory.
func benchEnv(b *testing.B, dialect string) *env {
	b.Helper()
	db := dbtest.Open(b, dialect)
	return newEnvTB(b, db.Client)
}

// BenchmarkWrite measures Write of a file stored in bulk storage (the default 64 KiB
// threshold), hashing included; MB/s is the content rate.
func BenchmarkWrite(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) {
			e := benchEnv(b, d)
			for _, s := range benchSizes {
				b.Run(s.name, func(b *testing.B) {
					f := e.fileTB(b, "/lab/w-"+s.name)
					b.SetBytes(s.size)
					for b.Loop() {
						if _, err := files.Write(b.Context(), e.client, e.blobs, f, io.LimitReader(patternReader{}, s.size), "", files.Author{}, 0, 0); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						if err := files.DeleteData(b.Context(), e.client, e.blobs, []int{f.ID}); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				})
			}
		})
	}
}

// BenchmarkRead measures reading a stored revision back: through Open, and through the
// HTTP handler on a loopback server.
func BenchmarkRead(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) {
			e := benchEnv(b, d)
			srv := httptest.NewServer(files.Handler(e.client, e.blobs, func(_ *http.Request, _ *ent.Resource, missing error) error { return missing }))
			b.Cleanup(srv.Close)
			for _, s := range benchSizes {
				f := e.fileTB(b, "/lab/r-"+s.name)
				rev, err := files.Write(b.Context(), e.client, e.blobs, f, io.LimitReader(patternReader{}, s.size), "", files.Author{}, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.Run("open/"+s.name, func(b *testing.B) {
					b.SetBytes(s.size)
					for b.Loop() {
						r, err := files.Open(b.Context(), e.client, e.blobs, rev)
						if err != nil {
							b.Fatal(err)
						}
						n, err := io.Copy(io.Discard, r)
						_ = r.Close()
						if err != nil || n != s.size {
							b.Fatalf("read %d bytes: %v", n, err)
						}
					}
				})
				b.Run("http/"+s.name, func(b *testing.B) {
					b.SetBytes(s.size)
					for b.Loop() {
						resp, err := srv.Client().Get(srv.URL + "/files" + f.Path)
						if err != nil {
							b.Fatal(err)
						}
						n, err := io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						if err != nil || n != s.size {
							b.Fatalf("read %d bytes: %v", n, err)
						}
					}
				})
			}
		})
	}
}
