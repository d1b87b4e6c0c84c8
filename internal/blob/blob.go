// Package blob is bulk storage for large file revisions: a small Store interface with a
// local-filesystem implementation (the default, under the data directory), one for S3 and
// S3-compatible object storage, and one in memory, chosen by URL. Keys are random, so two
// revisions never share a blob and deleting one never harms another.
// It may import minio-go (the S3 client) and the standard library; nothing of ours.
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// Store keeps immutable blobs under keys it chooses itself.
type Store interface {
	// Put stores everything r yields under a new key and returns the key and the number of
	// bytes stored. If Put fails (r returned an error, the context ended, the disk is full),
	// nothing is left behind.
	Put(ctx context.Context, r io.Reader) (key string, size int64, err error)
	// Open returns a reader of the blob at key; Seek allows ranged reads. A missing blob
	// is ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes the blob at key; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
	// Exists reports whether a blob is stored at key.
	Exists(ctx context.Context, key string) (bool, error)
	// Close releases the store's resources.
	Close() error
}

// ErrNotFound reports a key with no blob.
var ErrNotFound = errors.New("blob not found")

// ErrBadKey reports a key this package never hands out; it guards against path traversal.
var ErrBadKey = errors.New("malformed blob key")

// ErrBadURL reports a storage URL Open cannot use.
var ErrBadURL = errors.New("bad blob storage URL")

// keyPattern is the shape of every key: two levels of two hex digits spread the blobs over
// at most 65,536 directories, then 32 random hex digits.
var keyPattern = regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$`)

// newKey returns a fresh random key such as "3f/a0/3fa0...".
func newKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random blob key: %w", err)
	}
	h := hex.EncodeToString(b)
	return h[0:2] + "/" + h[2:4] + "/" + h, nil
}

func checkKey(key string) error {
	if !keyPattern.MatchString(key) {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	return nil
}

// Open opens the store named by rawURL:
//
//	/abs/path or file:///abs/path   local filesystem (atomic writes, fsync)
//	s3://bucket?region=R&endpoint=https://host&use_path_style=true
//	                                S3 or an S3-compatible server (see openS3 for the
//	                                parameters and where credentials come from)
//	mem://                          in memory, for tests and throwaway servers
//
// A relative path (e.g. "data/blobs") is a local directory relative to the working
// directory.
func Open(ctx context.Context, rawURL string) (Store, error) {
	if rawURL == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadURL)
	}
	if !strings.Contains(rawURL, "://") {
		return NewDir(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%w: %q names a remote host; use file:///path", ErrBadURL, rawURL)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("%w: %q names no directory", ErrBadURL, rawURL)
		}
		return NewDir(filepath.FromSlash(u.Path))
	case "s3":
		return openS3(ctx, u, nil)
	case "mem":
		if u.Host != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("%w: %q: mem:// takes no bucket, path or parameters", ErrBadURL, rawURL)
		}
		return NewMem(), nil
	default:
		return nil, fmt.Errorf("%w: scheme %q (use file://, s3:// or mem://)", ErrBadURL, u.Scheme)
	}
}
