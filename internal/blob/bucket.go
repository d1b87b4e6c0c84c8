package blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/memblob" // mem:// buckets
	_ "gocloud.dev/blob/s3blob"  // s3:// buckets
	"gocloud.dev/gcerrors"
)

// bucketStore is a Store over a gocloud.dev bucket (S3 in production, memblob or fileblob
// in tests: the same code runs for all of them).
type bucketStore struct {
	bucket *blob.Bucket
}

func openBucket(ctx context.Context, rawURL string) (Store, error) {
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	return FromBucket(b), nil
}

// FromBucket makes a Store of an open gocloud.dev bucket; the Store's Close closes it.
func FromBucket(b *blob.Bucket) Store { return &bucketStore{bucket: b} }

func (s *bucketStore) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	key, err := newKey()
	if err != nil {
		return "", 0, err
	}
	// Cancelling the writer's context before Close aborts the upload, so a failed Put
	// leaves no object behind.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return "", 0, fmt.Errorf("create blob %s: %w", key, err)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		cancel()
		_ = w.Close()
		return "", 0, fmt.Errorf("write blob %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return "", 0, fmt.Errorf("finish blob %s: %w", key, err)
	}
	return key, n, nil
}

func (s *bucketStore) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("open blob %s: %w", key, errors.Join(ErrNotFound, err))
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	return r, nil
}

func (s *bucketStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.bucket.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

func (s *bucketStore) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("check blob %s: %w", key, err)
	}
	return ok, nil
}

func (s *bucketStore) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("close bucket: %w", err)
	}
	return nil
}
