package authn

import (
	"errors"
	"net/http"
	"slices"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// WithAuthenticatedGroup wraps a so that every user it authenticates is also in the group
// system:authenticated (user.AllAuthenticated), as Kubernetes does for all authenticated users.
// The group is not added to system:anonymous, to a user in system:unauthenticated, or to a user
// that already has it.
//
// The wrapped authenticator's Response and user are never modified (they may be cached and
// shared): a new Response with a new user is returned instead. The result is safe for
// concurrent use if a is. A nil a is a programming error and panics.
func WithAuthenticatedGroup(a authenticator.Request) authenticator.Request {
	if isNil(a) {
		panic("authn: WithAuthenticatedGroup called with a nil authenticator")
	}
	return &authenticatedGroup{next: a}
}

type authenticatedGroup struct {
	next authenticator.Request
}

func (g *authenticatedGroup) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	resp, ok, err := g.next.AuthenticateRequest(r)
	if err != nil || !ok {
		return nil, false, err
	}
	if resp == nil || resp.User == nil {
		return nil, false, errors.New("authn: authenticator reported success without a user")
	}
	u := resp.User
	groups := u.GetGroups()
	if u.GetName() == user.Anonymous ||
		slices.Contains(groups, user.AllAuthenticated) ||
		slices.Contains(groups, user.AllUnauthenticated) {
		return resp, true, nil
	}
	newGroups := make([]string, 0, len(groups)+1)
	newGroups = append(newGroups, groups...)
	newGroups = append(newGroups, user.AllAuthenticated)
	return &authenticator.Response{
		Audiences: resp.Audiences,
		User: &user.DefaultInfo{
			Name:   u.GetName(),
			UID:    u.GetUID(),
			Groups: newGroups,
			Extra:  u.GetExtra(),
		},
	}, true, nil
}
