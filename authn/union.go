package authn

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"k8s.io/apiserver/pkg/authentication/authenticator"

	"github.com/authfilter/authfilter/internal/nilcheck"
)

// Union tries authenticators in order. Create it with [NewUnion]; it is immutable and safe for
// concurrent use if its authenticators are.
//
// The first authenticator that returns a user OR an error decides the request; the later ones
// are not consulted. This is deliberately stricter than k8s.io/apiserver's union, which goes on
// after an error: here a request with an invalid client certificate and a valid token, or an
// unusable token and an anonymous fallback, is refused. Only when an authenticator returns
// (nil, false, nil), "no credential of my kind", is the next one asked.
type Union struct {
	authenticators []authenticator.Request
}

var _ authenticator.Request = (*Union)(nil)

// NewUnion returns a union of authenticators, tried in the order given. An empty list or a nil
// authenticator is an error. The slice is copied.
func NewUnion(authenticators ...authenticator.Request) (*Union, error) {
	if len(authenticators) == 0 {
		return nil, errors.New("authn: union needs at least one authenticator")
	}
	for i, a := range authenticators {
		if nilcheck.IsNil(a) {
			return nil, fmt.Errorf("authn: union authenticator %d is nil", i)
		}
	}
	return &Union{authenticators: slices.Clone(authenticators)}, nil
}

// AuthenticateRequest returns the answer of the first authenticator that returns a user or an
// error, and (nil, false, nil) if none does. An authenticator that claims success without a
// user is treated as an error.
func (u *Union) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	for i, a := range u.authenticators {
		resp, ok, err := a.AuthenticateRequest(r)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			continue
		}
		if resp == nil || resp.User == nil {
			return nil, false, fmt.Errorf("authn: authenticator %d (%T) reported success without a user", i, a)
		}
		return resp, true, nil
	}
	return nil, false, nil
}
