package attributes

import (
	"errors"
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// ErrMethodNotAllowed is wrapped by the error a Getter returns for an HTTP method that has no
// Kubernetes verb. authfilter answers such requests with 405 Method Not Allowed.
var ErrMethodNotAllowed = errors.New("method not allowed")

// ErrNonCanonicalPath is wrapped by the error a Getter returns for a request path that is not
// canonical (see [CanonicalPath]). authfilter answers such requests with 400 Bad Request.
var ErrNonCanonicalPath = errors.New("path is not canonical")

// Getter maps an authenticated user and a request to the authorization attributes to check, in
// order; the request is allowed when any of them is allowed.
//
// An error that wraps [ErrMethodNotAllowed] or [ErrNonCanonicalPath] (test with errors.Is) means
// the request itself is unacceptable; any other error is a failure of the Getter. Either way the
// request must be refused. An implementation must be safe for concurrent use and must not
// modify r.
type Getter interface {
	GetAttributes(u user.Info, r *http.Request) ([]authorizer.Attributes, error)
}

// GetterFunc adapts an ordinary function to a [Getter].
type GetterFunc func(u user.Info, r *http.Request) ([]authorizer.Attributes, error)

// GetAttributes calls f(u, r).
func (f GetterFunc) GetAttributes(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
	return f(u, r)
}

var (
	_ Getter = GetterFunc(nil)
	_ Getter = (*Kubelet)(nil)
	_ Getter = (*NonResource)(nil)
)
