package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rhizoflex/rhizoflex/internal/access"
	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// PresentError turns any resolver error into a GraphQL error with extensions.code. Internal
// errors are logged with their cause and shown to clients only as "internal error".
func PresentError(ctx context.Context, err error) *gqlerror.Error {
	if ended := serverEnded(ctx); ended != nil {
		// The null item a server-ended subscription sends last: its error is the reason.
		return ended
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Extensions["code"] != nil {
		return gqlErr
	}
	code := fault.CodeOf(err)
	if gqlErr != nil && strings.Contains(gqlErr.Message, "introspection disabled") {
		code = fault.Forbidden
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = fault.Wrap(err, fault.Timeout, "the request ran past its time limit and was stopped; ask for less at a time")
		code = fault.Timeout
	case errors.Is(err, context.Canceled):
		err = fault.Wrap(err, fault.Timeout, "the request was cancelled")
		code = fault.Timeout
	}
	presented := graphql.DefaultErrorPresenter(ctx, err)
	if code == fault.Internal && (gqlErr == nil || gqlErr.Extensions == nil) {
		slog.ErrorContext(ctx, "graphql internal error", "path", presented.Path.String(), "err", err)
	}
	var rl *access.RateLimitError
	if errors.As(err, &rl) {
		setHint(ctx, http.StatusTooManyRequests, rl.RetryAfter)
	}
	if code != fault.Forbidden || gqlErr == nil {
		presented.Message = fault.SafeMessage(err)
	}
	if presented.Extensions == nil {
		presented.Extensions = map[string]any{}
	}
	presented.Extensions["code"] = string(code)
	var fe *fault.Error
	if errors.As(err, &fe) {
		for k, v := range fe.Extensions {
			presented.Extensions[k] = v
		}
	}
	return presented
}

// Recover turns a resolver panic into an internal error and logs it.
func Recover(ctx context.Context, v any) error {
	slog.ErrorContext(ctx, "graphql resolver panic", "panic", v)
	return fault.Wrap(fmt.Errorf("panic: %v", v), fault.Internal, "internal error")
}
