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
	i, err := resourceVerbIndex(method)
	if err != nil {
		return "", err
	}
	return resourceVerbs[i], nil
}

// resourceVerbs are the verbs ResourceVerb returns, in the order of resourceVerbIndex.
var resourceVerbs = [...]string{"create", "get", "update", "patch", "delete"}

// resourceVerbIndex returns the index in resourceVerbs of method's verb (see ResourceVerb).
func resourceVerbIndex(method string) (int, error) {
	switch method {
	case http.MethodPost:
		return 0, nil
	case http.MethodGet, http.MethodHead:
		return 1, nil
	case http.MethodPut:
		return 2, nil
	case http.MethodPatch:
		return 3, nil
	case http.MethodDelete:
		return 4, nil
	}
	return 0, methodNotAllowed(method)
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
