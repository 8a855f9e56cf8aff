package attributes

import (
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// NonResource is a [Getter] that treats every request as a request for a non-resource URL, as
// kube-apiserver does for paths such as "/healthz", "/metrics" or "/version": one
// authorizer.AttributesRecord with the user, the verb from [NonResourceVerb], the path from
// [CanonicalPath] and ResourceRequest false. RBAC grants these with nonResourceURLs rules.
//
// Its zero value is ready to use. It holds no state and is safe for concurrent use.
type NonResource struct{}

// NewNonResource returns a [NonResource] getter.
func NewNonResource() *NonResource {
	return &NonResource{}
}

// GetAttributes returns the single non-resource attribute of r for u.
//
// A method with no verb returns an error wrapping [ErrMethodNotAllowed] (the method is checked
// first); a path that is not canonical returns an error wrapping [ErrNonCanonicalPath]. A nil u
// is carried as is.
func (n *NonResource) GetAttributes(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
	if r == nil {
		return nil, nonCanonical("", "request is nil")
	}
	verb, err := NonResourceVerb(r.Method)
	if err != nil {
		return nil, err
	}
	p, err := CanonicalPath(r)
	if err != nil {
		return nil, err
	}
	return []authorizer.Attributes{authorizer.AttributesRecord{
		User:            u,
		Verb:            verb,
		Path:            p,
		ResourceRequest: false,
	}}, nil
}
