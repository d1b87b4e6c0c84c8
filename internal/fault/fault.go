// Package fault classifies domain errors so every entry point (GraphQL, stream URLs, the
// CLI) reports them the same way: a code, a message that is safe to show, and the wrapped
// internal cause for the logs. It imports only the standard library.
package fault

import (
	"errors"
	"fmt"
)

// Code is the machine-readable class of an error; GraphQL puts it in extensions.code.
type Code string

// The error codes of DESIGN.md section 3.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadInput        Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	// Timeout: the request ran past its server-side deadline and was stopped.
	Timeout Code = "TIMEOUT"
	// Unavailable: a service the server depends on (mail, text messages) could not do it.
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"
)

// Error is a classified error. Message is shown to clients; Cause is logged only.
type Error struct {
	Code    Code
	Message string
	Cause   error
	// Extensions are extra machine-readable details for clients (GraphQL extensions).
	Extensions map[string]any
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New makes a classified error with a formatted, client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap classifies cause with a client-safe message.
func Wrap(cause error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// CodeOf returns the code of the first classified error in err's chain, or Internal.
func CodeOf(err error) Code {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// SafeMessage is the message a client may see: the classified message, or a generic one
// for internal errors so that no internal detail leaks.
func SafeMessage(err error) string {
	var fe *Error
	if errors.As(err, &fe) && fe.Code != Internal {
		return fe.Message
	}
	return "internal error"
}
