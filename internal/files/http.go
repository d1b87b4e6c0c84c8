package files

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rhizoflex/rhizoflex/ent"
	"github.com/rhizoflex/rhizoflex/internal/blob"
	"github.com/rhizoflex/rhizoflex/internal/fault"
	"github.com/rhizoflex/rhizoflex/internal/tree"
)

// Prefix is the URL path under which Handler serves files: GET /files/<resource path>.
const Prefix = "/files"

// Handler serves GET and HEAD /files/<path>?rev=N: the revision N of the file at path
// (the latest without rev) as an attachment, with a strong ETag (the SHA-256),
// Last-Modified, conditional requests and ranges. Mount it at "/files/" without
// stripping the prefix. authorize decides whether the request may read the resource; its
// fault codes become the HTTP status (UNAUTHENTICATED 401, FORBIDDEN 403, NOT_FOUND 404,
// BAD_USER_INPUT 400) with the safe message as plain text.
func Handler(client *ent.Client, blobs blob.Store, authorize Authorize) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := serve(w, r, client, blobs, authorize); err != nil {
			writeError(r.Context(), w, r, err)
		}
	})
}

// Authorize decides whether request r may read res. When nothing is at the path, res is
// nil and missing is the NOT_FOUND error to answer (or to turn into the answer a hidden
// resource gets, so that the two look the same).
type Authorize func(r *http.Request, res *ent.Resource, missing error) error

func serve(w http.ResponseWriter, r *http.Request, client *ent.Client, blobs blob.Store,
	authorize Authorize,
) error {
	ctx := r.Context()
	path, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || !strings.HasPrefix(path, "/") {
		return fault.New(fault.NotFound, "not a file URL")
	}
	rev := 0
	if s := r.URL.Query().Get("rev"); s != "" || r.URL.Query().Has("rev") {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fault.New(fault.BadInput, "rev must be a positive revision number, not %q", s)
		}
		rev = n
	}
	res, err := tree.ByPath(ctx, client, path)
	switch {
	case fault.Is(err, fault.NotFound):
		return authorize(r, nil, err)
	case err != nil:
		return err
	}
	if err := authorize(r, res, nil); err != nil {
		return err
	}
	if res.Type != tree.File {
		return fault.New(fault.BadInput, "%s is a %s, not a file", res.Path, res.Type)
	}
	meta, err := Revision(ctx, client, res, rev)
	if err != nil {
		return err
	}
	content, err := Open(ctx, client, blobs, meta)
	if err != nil {
		return err
	}
	// A read-only close fails only when something already failed; ServeContent reported it.
	defer func() { _ = content.Close() }()

	h := w.Header()
	if meta.ContentType != nil && *meta.ContentType != "" {
		h.Set("Content-Type", *meta.ContentType)
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Disposition", Disposition(res.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	if meta.Sha256 != nil {
		h.Set("ETag", `"`+*meta.Sha256+`"`)
	}
	if rev > 0 {
		// A numbered revision never changes.
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	// ServeContent answers If-None-Match / If-Modified-Since (304), Range (206) and HEAD.
	http.ServeContent(w, r, res.Name, time.UnixMicro(meta.Timestamp).UTC(), content)
	return nil
}

var statusOf = map[fault.Code]int{
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.NotFound:        http.StatusNotFound,
	fault.BadInput:        http.StatusBadRequest,
	fault.Conflict:        http.StatusConflict,
	fault.RateLimited:     http.StatusTooManyRequests,
}

func writeError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	status, ok := statusOf[fault.CodeOf(err)]
	if !ok {
		status = http.StatusInternalServerError
		if !errors.Is(err, context.Canceled) {
			slog.ErrorContext(ctx, "serve file", "path", r.URL.Path, "err", err)
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="rhizoflex"`)
	}
	http.Error(w, fault.SafeMessage(err), status)
}

// Disposition returns a Content-Disposition header that makes the browser save the
// response as name: an ASCII fallback filename plus the exact name in RFC 6266 / RFC 8187
// filename* encoding (UTF-8, percent-encoded).
func Disposition(name string) string {
	var fallback, encoded strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			encoded.WriteByte(c)
		} else {
			encoded.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)) +
				strings.ToUpper(strconv.FormatUint(uint64(c)&0xf, 16)))
		}
	}
	for _, c := range name {
		switch {
		case c == '"' || c == '\\' || c < 0x20 || c >= 0x7f:
			fallback.WriteByte('_')
		default:
			fallback.WriteRune(c)
		}
	}
	return `attachment; filename="` + fallback.String() + `"; filename*=UTF-8''` + encoded.String()
}

// isAttrChar is RFC 8187's attr-char: what filename* may carry unencoded.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
