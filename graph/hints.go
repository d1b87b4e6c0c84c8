package graph

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// HTTPHints lets the error presenter ask the HTTP layer for a status and headers, so that
// a rate-limited login answers 429 with Retry-After like any other HTTP API.
type HTTPHints struct {
	mu         sync.Mutex
	Status     int
	RetryAfter time.Duration
}

type hintsKey struct{}

// WithHTTPHints attaches h to ctx.
func WithHTTPHints(ctx context.Context, h *HTTPHints) context.Context {
	return context.WithValue(ctx, hintsKey{}, h)
}

func setHint(ctx context.Context, status int, retryAfter time.Duration) {
	if h, ok := ctx.Value(hintsKey{}).(*HTTPHints); ok {
		h.mu.Lock()
		h.Status, h.RetryAfter = status, retryAfter
		h.mu.Unlock()
	}
}

// Apply returns the status to use instead of code and sets extra headers.
func (h *HTTPHints) Apply(code int, setHeader func(k, v string)) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Status == 0 {
		return code
	}
	if h.RetryAfter > 0 {
		setHeader("Retry-After", strconv.Itoa(int(h.RetryAfter.Seconds())+1))
	}
	return h.Status
}
