package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is a Store in an S3 bucket or on an S3-compatible server (MinIO, Ceph, Garage,
// SeaweedFS, R2, ...), through minio-go: one small client that speaks only S3, where the
// AWS SDK or gocloud.dev bring every cloud's dependencies into the binary.
type S3 struct {
	client *minio.Client
	bucket string
}

// partSize is the size of the parts of a multipart upload, and the largest blob sent in
// one PUT. S3 allows 10,000 parts, so the largest blob is about 156 GiB; each upload holds
// up to two parts in memory.
const partSize = 16 << 20

// s3Params are the URL parameters openS3 understands (gocloud.dev's names, so URLs written
// for earlier versions keep working).
var s3Params = []string{"region", "endpoint", "use_path_style", "disable_https", "profile"}

// openS3 opens s3://bucket?params:
//
//	region          the bucket's region (default AWS_REGION, else asked of the server)
//	endpoint        an S3-compatible server, e.g. https://minio.internal:9000 (default AWS)
//	use_path_style  true: https://host/bucket/key (most S3-compatible servers);
//	                false: https://bucket.host/key; unset: chosen by endpoint
//	disable_https   true: plain HTTP to an endpoint given without a scheme
//	profile         the profile in the shared AWS credentials file
//
// Credentials come, first found first, from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
// (and AWS_SESSION_TOKEN), the shared AWS credentials and config files, then the role of the
// machine or container (ECS, EKS web identity, EC2 instance metadata; skipped when
// AWS_EC2_METADATA_DISABLED=true). With none of them, requests are anonymous.
//
// transport is nil (net/http's default) except in tests.
func openS3(_ context.Context, u *url.URL, transport http.RoundTripper) (Store, error) {
	bucket := u.Host
	if bucket == "" {
		return nil, fmt.Errorf("%w: %q names no bucket", ErrBadURL, u.Redacted())
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%w: %q: a path after the bucket is not supported", ErrBadURL, u.Redacted())
	}
	q := u.Query()
	for name := range q {
		if !slices.Contains(s3Params, name) {
			return nil, fmt.Errorf("%w: unknown s3 parameter %q (known: %s)", ErrBadURL, name, strings.Join(s3Params, ", "))
		}
	}
	flag := func(name string) (value, set bool, err error) {
		s := q.Get(name)
		if s == "" {
			return false, false, nil
		}
		v, err := strconv.ParseBool(s)
		if err != nil {
			return false, false, fmt.Errorf("%w: s3 parameter %s=%q is not true or false", ErrBadURL, name, s)
		}
		return v, true, nil
	}
	host, secure := "s3.amazonaws.com", true
	if ep := q.Get("endpoint"); ep != "" {
		var err error
		if host, secure, err = parseEndpoint(ep); err != nil {
			return nil, err
		}
	}
	if plain, _, err := flag("disable_https"); err != nil {
		return nil, err
	} else if plain {
		secure = false
	}
	lookup := minio.BucketLookupAuto
	if path, set, err := flag("use_path_style"); err != nil {
		return nil, err
	} else if set && path {
		lookup = minio.BucketLookupPath
	} else if set {
		lookup = minio.BucketLookupDNS
	}
	region := q.Get("region")
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        s3Credentials(q.Get("profile")),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    transport,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	return &S3{client: client, bucket: bucket}, nil
}

// parseEndpoint turns "https://host:port", "http://host:port" or "host:port" into what
// minio-go takes: a host and whether to use TLS.
func parseEndpoint(ep string) (host string, secure bool, err error) {
	if !strings.Contains(ep, "://") {
		return ep, true, nil
	}
	e, err := url.Parse(ep)
	if err != nil {
		return "", false, fmt.Errorf("%w: s3 endpoint %q: %w", ErrBadURL, ep, err)
	}
	if (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || (e.Path != "" && e.Path != "/") || e.User != nil {
		return "", false, fmt.Errorf("%w: s3 endpoint %q: want http(s)://host[:port]", ErrBadURL, ep)
	}
	return e.Host, e.Scheme == "https", nil
}

func s3Credentials(profile string) *credentials.Credentials {
	chain := []credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{Profile: profile},
	}
	if !strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		chain = append(chain, &credentials.IAM{})
	}
	return credentials.NewChainCredentials(chain)
}

// Put implements Store. A blob of up to partSize bytes goes up in one PUT; a larger one as
// a multipart upload, aborted if the reader or the context fails, so a failed Put leaves
// no object (and no stored parts) behind.
func (s *S3) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	key, err := newKey()
	if err != nil {
		return "", 0, err
	}
	var head bytes.Buffer
	n, err := io.Copy(&head, io.LimitReader(ctxReader{ctx: ctx, r: r}, partSize+1))
	if err != nil {
		return "", 0, fmt.Errorf("write blob %s: %w", key, err)
	}
	body, size := io.Reader(&head), n
	if n > partSize {
		body, size = io.MultiReader(&head, ctxReader{ctx: ctx, r: r}), -1
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    partSize,
		// Over plain HTTP minio-go signs the body in chunks; for an empty body it then
		// sends no Content-Length, which S3 refuses. An empty body has nothing to sign.
		DisableContentSha256: size == 0,
	})
	if err != nil {
		if size < 0 {
			s.abortUpload(ctx, key)
		}
		return "", 0, fmt.Errorf("write blob %s: %w", key, err)
	}
	return key, info.Size, nil
}

// abortUpload removes the parts of a failed multipart upload. minio-go aborts the upload
// itself, but with the caller's context: when that context is what failed (a client that
// went away), the abort fails too and the parts would stay stored (and billed). The key is
// this Put's own, so every unfinished upload under it is this one.
func (s *S3) abortUpload(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_ = s.client.RemoveIncompleteUpload(ctx, s.bucket, key)
}

// Open implements Store; the reader fetches ranges as it is read and seeked.
func (s *S3) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err == nil {
		// GetObject is lazy; Stat sends the request, so a missing blob shows here.
		_, err = obj.Stat()
		if err != nil {
			_ = obj.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, notFound(err))
	}
	return obj, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !errors.Is(notFound(err), ErrNotFound) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// Exists implements Store.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(notFound(err), ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("check blob %s: %w", key, err)
	}
}

// Close implements Store; the client's idle connections close with the transport.
func (s *S3) Close() error { return nil }

// notFound adds ErrNotFound to an S3 "no such key" error, keeping the original.
func notFound(err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return errors.Join(ErrNotFound, err)
	}
	return err
}
