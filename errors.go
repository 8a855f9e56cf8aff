package authfilter

import (
	"net/http"
)

// Error is a refused request: the HTTP status, the short body the client gets, and the cause,
// which is logged but never sent. Causes never hold a credential.
type Error struct {
	// Code is the HTTP status code: 400, 401, 403, 405 or 500.
	Code int
	// Message is the response body, such as "Unauthorized" or
	// "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[stats])".
	Message string
	cause   error
}

// Error returns the status text and the cause.
func (e *Error) Error() string {
	if e.cause == nil {
		return e.Message
	}
	return e.Message + ": " + e.cause.Error()
}

// Unwrap returns the cause of the refusal.
func (e *Error) Unwrap() error { return e.cause }

// WriteError is the default Options.ErrorHandler: it writes e.Message as a plain-text body with
// e.Code, and an Allow header listing the supported methods on 405.
func WriteError(w http.ResponseWriter, _ *http.Request, e *Error) {
	if e.Code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE")
	}
	http.Error(w, e.Message, e.Code)
}
