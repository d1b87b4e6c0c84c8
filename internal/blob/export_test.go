package blob

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// OpenS3WithTransport opens an s3:// URL as Open does, over the HTTP transport given, so a
// test can trust its loopback server's certificate.
func OpenS3WithTransport(ctx context.Context, rawURL string, rt http.RoundTripper) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	return openS3(ctx, u, rt)
}
