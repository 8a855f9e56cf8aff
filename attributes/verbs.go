package attributes

import (
	"fmt"
	"net/http"
)

// ResourceVerb returns the Kubernetes verb of a resource request made with the HTTP method: POST
// is create, GET and HEAD are get, PUT is update, PATCH is patch and DELETE is delete, as the
// kubelet and kube-apiserver map them (a kubelet has no collections, so GET is never list).
//
// Methods are case-sensitive, as in net/http: "get" is not GET. Any other method returns an
// error wrapping [ErrMethodNotAllowed].
func ResourceVerb(method string) (string, error) {
	switch method {
	case http.MethodPost:
		return "create", nil
	case http.MethodGet, http.MethodHead:
		return "get", nil
	case http.MethodPut:
		return "update", nil
	case http.MethodPatch:
		return "patch", nil
	case http.MethodDelete:
		return "delete", nil
	}
	return "", methodNotAllowed(method)
}

// NonResourceVerb returns the Kubernetes verb of a non-resource request made with the HTTP
// method: the lowercase method ("get", "head", "post", "put", "patch", "delete"), as
// kube-apiserver uses for non-resource URLs.
//
// Methods are case-sensitive, as in net/http: "get" is not GET. Any other method returns an
// error wrapping [ErrMethodNotAllowed].
func NonResourceVerb(method string) (string, error) {
	switch method {
	case http.MethodGet:
		return "get", nil
	case http.MethodHead:
		return "head", nil
	case http.MethodPost:
		return "post", nil
	case http.MethodPut:
		return "put", nil
	case http.MethodPatch:
		return "patch", nil
	case http.MethodDelete:
		return "delete", nil
	}
	return "", methodNotAllowed(method)
}

// maxQuoted bounds how much of a client-supplied string an error quotes.
const maxQuoted = 128

func methodNotAllowed(method string) error {
	return fmt.Errorf("%w: %q", ErrMethodNotAllowed, truncate(method))
}

// truncate shortens s to at most maxQuoted bytes so an error never carries an unbounded
// client-supplied string.
func truncate(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return s[:maxQuoted] + "..."
}
