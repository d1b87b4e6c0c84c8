package blob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// Mem is a Store in memory (mem://), for tests and throwaway servers: everything is gone
// when the process ends.
type Mem struct {
	mu    sync.RWMutex
	blobs map[string][]byte
}

// NewMem returns an empty in-memory Store.
func NewMem() *Mem { return &Mem{blobs: map[string][]byte{}} }

// Put implements Store. The blob becomes visible only once r is read to the end, so a
// failed Put leaves nothing.
func (m *Mem) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	key, err := newKey()
	if err != nil {
		return "", 0, err
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, ctxReader{ctx: ctx, r: r})
	if err != nil {
		return "", 0, fmt.Errorf("write blob: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[key] = buf.Bytes()
	return key, n, nil
}

// Open implements Store. Blobs are never modified after Put, so readers share the bytes.
func (m *Mem) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	m.mu.RLock()
	b, ok := m.blobs[key]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
	}
	return memReader{bytes.NewReader(b)}, nil
}

// Delete implements Store.
func (m *Mem) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, key)
	return nil
}

// Exists implements Store.
func (m *Mem) Exists(_ context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.blobs[key]
	return ok, nil
}

// Close implements Store; the blobs stay readable until the Store is garbage.
func (m *Mem) Close() error { return nil }

type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }
