package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/fileblob"

	"github.com/rhizoflex/rhizoflex/internal/blob"
)

// stores returns every Store implementation on fresh storage. The gocloud ones run the
// same bucketStore code as s3:// does in production; no S3 server is available here.
func stores(t *testing.T) map[string]blob.Store {
	t.Helper()
	ctx := t.Context()
	dir, err := blob.Open(ctx, "file://"+filepath.ToSlash(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := blob.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	fb, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]blob.Store{"dir": dir, "gocloud-mem": mem, "gocloud-fileblob": blob.FromBucket(fb)}
	for _, s := range m {
		t.Cleanup(func() { _ = s.Close() })
	}
	return m
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestStoreRoundTrip(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for _, size := range []int{0, 1, 256_000} {
				want := pattern(size)
				key, n, err := s.Put(ctx, bytes.NewReader(want))
				if err != nil {
					t.Fatalf("put %d bytes: %v", size, err)
				}
				if n != int64(size) {
					t.Errorf("put size = %d, want %d", n, size)
				}
				if ok, err := s.Exists(ctx, key); err != nil || !ok {
					t.Fatalf("exists(%s) = %v, %v", key, ok, err)
				}
				r, err := s.Open(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("read %d bytes differ from the %d written", len(got), size)
				}
				if size > 1000 {
					// Ranged read through Seek.
					if _, err := r.Seek(1000, io.SeekStart); err != nil {
						t.Fatal(err)
					}
					part := make([]byte, 10)
					if _, err := io.ReadFull(r, part); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(part, want[1000:1010]) {
						t.Errorf("ranged read = %v, want %v", part, want[1000:1010])
					}
					end, err := r.Seek(0, io.SeekEnd)
					if err != nil || end != int64(size) {
						t.Errorf("seek end = %d, %v; want %d", end, err, size)
					}
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				if ok, err := s.Exists(ctx, key); err != nil || ok {
					t.Fatalf("after delete exists(%s) = %v, %v", key, ok, err)
				}
				if _, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("open deleted blob: %v, want ErrNotFound", err)
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Errorf("second delete: %v, want nil", err)
				}
			}
		})
	}
}

func TestStoreRefusesForeignKeys(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for _, key := range []string{"../../etc/passwd", "", "ab/cd/../../x", "AB/CD/0123456789abcdef0123456789abcdef"} {
				if _, err := s.Open(t.Context(), key); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("open %q: %v, want ErrBadKey", key, err)
				}
				if err := s.Delete(t.Context(), key); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("delete %q: %v, want ErrBadKey", key, err)
				}
				if _, err := s.Exists(t.Context(), key); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("exists %q: %v, want ErrBadKey", key, err)
				}
			}
		})
	}
}

type failingReader struct{ n int }

var errBoom = errors.New("boom")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBoom
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

// countFiles counts the regular files below root.
func countFiles(t *testing.T, root string) (n int, names []string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, names
}

// A failed Put leaves nothing: no temporary file, no blob.
func TestDirPutFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	s, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Put(t.Context(), &failingReader{n: 100_000}); !errors.Is(err, errBoom) {
		t.Fatalf("put: %v, want errBoom", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.Put(ctx, bytes.NewReader(pattern(10))); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with cancelled context: %v, want context.Canceled", err)
	}
	if n, names := countFiles(t, root); n != 0 {
		t.Fatalf("files left after failed puts: %v", names)
	}
	// A successful Put leaves exactly one file at ab/cd/<key>, with private permissions.
	key, _, err := s.Put(t.Context(), strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	n, names := countFiles(t, root)
	if n != 1 || names[0] != filepath.Join(root, filepath.FromSlash(key)) {
		t.Fatalf("after put: %v, want only %s", names, key)
	}
	if !strings.HasPrefix(key[6:], key[0:2]+key[3:5]) {
		t.Errorf("key %s: directories are not the key's first hex digits", key)
	}
}

func TestGocloudPutFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	fb, err := fileblob.OpenBucket(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := blob.FromBucket(fb)
	t.Cleanup(func() { _ = s.Close() })
	if _, _, err := s.Put(t.Context(), &failingReader{n: 100_000}); !errors.Is(err, errBoom) {
		t.Fatalf("put: %v, want errBoom", err)
	}
	it := fb.List(nil)
	if obj, err := it.Next(t.Context()); !errors.Is(err, io.EOF) {
		t.Fatalf("objects left after a failed put: %v %v", obj, err)
	}
	if n, names := countFiles(t, root); n != 0 {
		t.Fatalf("files left after failed put: %v", names)
	}
}

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		url     string
		wantErr bool
	}{
		{url: dir},
		{url: "file://" + filepath.ToSlash(dir)},
		{url: "mem://"},
		{url: "s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true"},
		{url: "", wantErr: true},
		{url: "file://otherhost/x", wantErr: true},
		{url: "gs://bucket", wantErr: true},
		{url: "s3://bucket?bogus_parameter=1", wantErr: true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s, err := blob.Open(t.Context(), tc.url)
			if tc.wantErr {
				if !errors.Is(err, blob.ErrBadURL) {
					t.Fatalf("open: %v, want ErrBadURL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
		})
	}
}

// The s3:// path is configured from the URL and talks to the endpoint it names: against a
// closed port the write fails (there is no S3 server on this machine to succeed against).
func TestS3EndpointIsUsed(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s, err := blob.Open(t.Context(), "s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err = s.Exists(ctx, "ab/cd/0123456789abcdef0123456789abcdef")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("exists against a closed endpoint: %v, want a connection error naming it", err)
	}
}

func TestNewDirCreatesRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	s, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(s.Root(), "tmp")); err != nil || !st.IsDir() {
		t.Fatalf("tmp dir: %v", err)
	}
	var _ blob.Store = s
}
