package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// A resolver whose database work was cut off by the request deadline reports TIMEOUT,
// not INTERNAL; an internal error is shown without its cause.
func TestPresentErrorCodes(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), PresentError, Recover)
	for _, tc := range []struct {
		err  error
		code fault.Code
		msg  string
	}{
		{fmt.Errorf("query rows: %w", context.DeadlineExceeded), fault.Timeout, "time limit"},
		{fmt.Errorf("load: %w", context.Canceled), fault.Timeout, "cancelled"},
		{fault.New(fault.BadInput, "bad thing"), fault.BadInput, "bad thing"},
		{errors.New("pq: secret detail"), fault.Internal, "internal error"},
	} {
		got := PresentError(ctx, tc.err)
		if got.Extensions["code"] != string(tc.code) || !strings.Contains(got.Message, tc.msg) {
			t.Errorf("%v: presented %q %v", tc.err, got.Message, got.Extensions)
		}
		if strings.Contains(got.Message, "secret") {
			t.Errorf("internal detail shown: %q", got.Message)
		}
	}
}
