package blob_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/rhizoflex/rhizoflex/internal/blob"
)

// stores returns every Store implementation on fresh storage: the S3 one talks to a real
// S3-compatible server (gofakes3) on loopback, over TLS as S3 is used in production.
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
	m := map[string]blob.Store{"dir": dir, "mem": mem, "s3": newS3Server(t, true).open(t)}
	for _, s := range m {
		t.Cleanup(func() { _ = s.Close() })
	}
	return m
}

// s3Server is an in-process S3-compatible server with one bucket, "blobs".
type s3Server struct {
	srv     *httptest.Server
	backend *s3mem.Backend
}

func newS3Server(t *testing.T, tls bool) s3Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("blobs"); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // gofakes3 writes some error headers twice
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	// Credentials only from the environment: no instance-metadata lookups from a test.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return s3Server{srv: srv, backend: backend}
}

func (s s3Server) open(t *testing.T) blob.Store {
	t.Helper()
	u := "s3://blobs?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(s.srv.URL)
	store, err := blob.OpenS3WithTransport(t.Context(), u, s.srv.Client().Transport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// objects lists what the server holds in the bucket, finished or not.
func (s s3Server) objects(t *testing.T) (objects, uploads []string) {
	t.Helper()
	list, err := s.backend.ListBucket("blobs", nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		objects = append(objects, o.Key)
	}
	resp, err := s.srv.Client().Get(s.srv.URL + "/blobs?uploads")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var result struct {
		Uploads []struct{ Key, UploadID string } `xml:"Upload"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&result); err != nil {
		t.Fatal(err)
	}
	for _, u := range result.Uploads {
		uploads = append(uploads, u.Key)
	}
	return objects, uploads
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
			// 17 MiB: an S3 multipart upload.
			roundTrip(t, s, 0, 1, 256_000, 17<<20)
		})
	}
}

// S3 over plain HTTP signs bodies in chunks (aws-chunked); gofakes3 decodes them for
// single PUTs only, so this covers the sizes sent in one PUT.
func TestS3PlainHTTPRoundTrip(t *testing.T) {
	roundTrip(t, newS3Server(t, false).open(t), 0, 1, 256_000)
}

// roundTrip puts, reads (whole, ranged), checks and deletes blobs of the sizes given.
func roundTrip(t *testing.T, s blob.Store, sizes ...int) {
	t.Helper()
	ctx := t.Context()
	for _, size := range sizes {
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

// A failed Put leaves nothing on the S3 server: neither a small blob (one PUT, never sent)
// nor a large one (a multipart upload, aborted), whether the reader or the context fails.
func TestS3PutFailureLeavesNothing(t *testing.T) {
	srv := newS3Server(t, true)
	s := srv.open(t)
	const big = 40 << 20 // past two 16 MiB parts
	for _, n := range []int{100_000, big} {
		if _, _, err := s.Put(t.Context(), &failingReader{n: n}); !errors.Is(err, errBoom) {
			t.Fatalf("put failing after %d bytes: %v, want errBoom", n, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &cancellingReader{n: big, cancel: cancel}
	if _, _, err := s.Put(ctx, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with the context cancelled after %d bytes: %v, want context.Canceled", big, err)
	}
	if objects, uploads := srv.objects(t); len(objects) != 0 || len(uploads) != 0 {
		t.Fatalf("after failed puts the server holds objects %v and unfinished uploads %v", objects, uploads)
	}
	key, _, err := s.Put(t.Context(), bytes.NewReader(pattern(10)))
	if err != nil {
		t.Fatal(err)
	}
	if objects, _ := srv.objects(t); len(objects) != 1 || objects[0] != key {
		t.Fatalf("after one put the server holds %v, want [%s]", objects, key)
	}
}

// cancellingReader yields n bytes, then cancels its context and keeps yielding.
type cancellingReader struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	k := min(len(p), max(c.n, 1))
	c.n -= k
	return k, nil
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
		{url: "s3://bucket?use_path_style=maybe", wantErr: true},
		{url: "s3://bucket?endpoint=ftp://host", wantErr: true},
		{url: "s3://bucket/prefix", wantErr: true},
		{url: "s3://?region=us-east-1", wantErr: true},
		{url: "s3://bucket?endpoint=minio.internal:9000&disable_https=true&profile=lab"},
		{url: "mem://x", wantErr: true},
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
// closed port the request fails with an error naming it.
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

// The S3 client stays small: no cloud SDK comes back into the server through this package
// (they were most of the server's build time).
func TestNoCloudSDKs(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"gocloud.dev/", "github.com/aws/", "cloud.google.com/", "google.golang.org/", "github.com/Azure/", "go.opentelemetry.io/"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("internal/blob depends on %s", pkg)
			}
		}
	}
}
