package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rhizoflex/rhizoflex/internal/fault"
)

// bodyIdleTimeout cuts off a request body that stops moving: before each read the
// connection's read deadline moves d into the future, so an upload of any size finishes
// as long as bytes keep arriving, while a client that promised more than it sends is
// dropped after d. When the body is done the deadline is cleared again, so a long
// response (a stream, a slow query) is not cut by it.
func bodyIdleTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: d}
		next.ServeHTTP(w, r)
	})
}

type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	// Errors: the writer cannot set deadlines (a test recorder); reading still works.
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// checkGraphQLBody reads a JSON GraphQL body up to limit bytes and decodes it, once: the
// decoded request goes to gqlgen through decodedPOST. It says what is wrong with a body
// in words a client can act on, without echoing it (it may hold a password). It returns
// the request, or the HTTP status and message of the refusal.
func checkGraphQLBody(r *http.Request, w http.ResponseWriter, limit int64) (*graphql.RawParams, int, string) {
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, limit)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", limit)
	case err != nil:
		return nil, http.StatusBadRequest, "the request body could not be read completely"
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, http.StatusBadRequest, `the request body is empty; send {"query": "..."}`
	}
	if trimmed[0] == '[' {
		return nil, http.StatusBadRequest, "batched requests (a JSON array) are not supported; send one operation per request"
	}
	req := &graphql.RawParams{}
	// Numbers stay json.Number, as gqlgen's own transport decodes them: its scalars
	// expect that.
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	err = dec.Decode(req)
	if err == nil && dec.InputOffset() != int64(len(trimmed)) {
		return nil, http.StatusBadRequest, fmt.Sprintf("the request body has more after its JSON object (at byte %d)", dec.InputOffset())
	}
	if err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, http.StatusBadRequest, fmt.Sprintf("the request body is not valid JSON (error at byte %d)", syntax.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, http.StatusBadRequest, fmt.Sprintf("the request body is not valid JSON (error at byte %d)", len(trimmed))
		case errors.As(err, &typ) && typ.Field != "":
			field, _, _ := strings.Cut(typ.Field, ".")
			return nil, http.StatusBadRequest, fmt.Sprintf("%q must be a JSON %s, not %s", field, expectedJSON(field), typ.Value)
		default:
			return nil, http.StatusBadRequest, `the request body must be a JSON object such as {"query": "...", "variables": {...}}`
		}
	}
	if strings.TrimSpace(req.Query) == "" && req.Extensions["persistedQuery"] == nil {
		return nil, http.StatusBadRequest, `the request has no "query"`
	}
	return req, 0, ""
}

func expectedJSON(field string) string {
	switch field {
	case "variables", "extensions":
		return "object"
	default:
		return "string"
	}
}

// writeGraphQLError answers with a GraphQL error response of code BAD_USER_INPUT.
func writeGraphQLError(w http.ResponseWriter, status int, msg string) {
	writeGraphQLErrorCode(w, status, fault.BadInput, msg)
}

// timeoutMessage is what a request that ran past request_timeout is told.
const timeoutMessage = "the request ran past its time limit and was stopped; ask for less at a time"

func writeGraphQLErrorCode(w http.ResponseWriter, status int, code fault.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
}

// readBody reads all of body into a buffer sized by the announced length (when it is
// within limit), not grown by doubling: a batch upload is read with one allocation.
func readBody(body io.Reader, announced, limit int64) ([]byte, error) {
	if announced <= 0 || announced > limit {
		return io.ReadAll(body) //nolint:wrapcheck // the caller tells the errors apart
	}
	// net/http ends the body at the announced length; a shorter one is an error.
	buf := make([]byte, announced)
	_, err := io.ReadFull(body, buf)
	return buf, err //nolint:wrapcheck // the caller tells the errors apart
}
