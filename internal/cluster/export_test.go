package cluster

import (
	"context"
	"time"
)

// Claim exposes one claim of a round to the tests.
func (r *Runner) Claim(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	return r.claim(ctx, name, now, every)
}
