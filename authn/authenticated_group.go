package authn

import (
	"errors"
	"hash/maphash"
	"maps"
	"net/http"
	"slices"
	"sync/atomic"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/identity"
	"github.com/authfilter/authfilter/internal/nilcheck"
)

// groupMemoSlots is the number of augmented responses WithAuthenticatedGroup remembers (a
// power of two).
const groupMemoSlots = 64

// WithAuthenticatedGroup wraps a so that every user it authenticates is also in the group
// system:authenticated (user.AllAuthenticated), as Kubernetes does for all authenticated users.
// The group is not added to system:anonymous, to a user in system:unauthenticated, or to a user
// that already has it.
//
// The wrapped authenticator's Response and user are never modified (they may be cached and
// shared): a new Response with a new user is returned instead, an immutable user.Info that
// copies the wrapped user's contents and whose GetGroups and GetExtra return fresh copies, so a
// handler that writes to them changes neither the wrapped user nor later requests. When a
// returns the same response again, as the caching authenticators of this package do, the new
// Response built the first time is returned again, after checking that the wrapped response's
// user, name, UID, groups, extra and audiences are still those it was built from (the immutable
// users of this package are checked by pointer); so returned responses may be shared and must
// not be modified. At most 64 such responses are remembered. The result is safe for concurrent
// use if a is; the remembered responses are read and replaced without locks. A nil a is a
// programming error and panics.
func WithAuthenticatedGroup(a authenticator.Request) authenticator.Request {
	if nilcheck.IsNil(a) {
		panic("authn: WithAuthenticatedGroup called with a nil authenticator")
	}
	return &authenticatedGroup{next: a, seed: maphash.MakeSeed(), shapes: identity.NewShapes(0)}
}

type authenticatedGroup struct {
	next   authenticator.Request
	seed   maphash.Seed
	memo   [groupMemoSlots]atomic.Pointer[groupMemo]
	shapes *identity.Shapes // for the users built from immutable users
}

// groupMemo is a response of next and the augmented response built from it.
type groupMemo struct {
	in        *authenticator.Response
	user      *user.DefaultInfo // in.User when out was built, if a *user.DefaultInfo
	immutable *identity.User    // in.User when out was built, if an immutable user
	name, uid string
	groups    []string            // a copy of user.Groups when out was built
	extra     map[string][]string // a copy of user.Extra when out was built
	audiences authenticator.Audiences
	out       *authenticator.Response
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
	if iu, ok := u.(*identity.User); ok {
		return g.immutable(resp, iu), true, nil
	}
	groups := u.GetGroups()
	if u.GetName() == user.Anonymous ||
		slices.Contains(groups, user.AllAuthenticated) ||
		slices.Contains(groups, user.AllUnauthenticated) {
		return resp, true, nil
	}
	du, memoizable := u.(*user.DefaultInfo)
	if !memoizable || du == nil {
		return withGroup(nil, resp), true, nil // built per request: no shape shared, no lock taken
	}
	slot := &g.memo[maphash.Comparable(g.seed, resp)&(groupMemoSlots-1)]
	if m := slot.Load(); m != nil && m.matches(resp, du) {
		return m.out, true, nil
	}
	m := &groupMemo{
		in: resp, user: du, name: du.Name, uid: du.UID, groups: slices.Clone(du.Groups),
		extra: cloneExtra(du.Extra), audiences: resp.Audiences, out: withGroup(g.shapes, resp),
	}
	slot.Store(m)
	return m.out, true, nil
}

// immutable returns resp with the group added, for a user that cannot change: its pointer
// identifies its contents.
func (g *authenticatedGroup) immutable(resp *authenticator.Response, u *identity.User) *authenticator.Response {
	if u.GetName() == user.Anonymous || u.HasGroup(user.AllAuthenticated) || u.HasGroup(user.AllUnauthenticated) {
		return resp
	}
	slot := &g.memo[maphash.Comparable(g.seed, resp)&(groupMemoSlots-1)]
	if m := slot.Load(); m != nil && m.in == resp && m.immutable == u && sameSlice(resp.Audiences, m.audiences) {
		return m.out
	}
	out := responseFor(g.shapes.WithGroup(u, user.AllAuthenticated), resp.Audiences)
	slot.Store(&groupMemo{in: resp, immutable: u, audiences: resp.Audiences, out: out})
	return out
}

// matches reports whether out is still what withGroup(resp) would build: resp, its user and
// every field withGroup reads are those m was built from.
func (m *groupMemo) matches(resp *authenticator.Response, u *user.DefaultInfo) bool {
	return m.in == resp && m.user == u && m.immutable == nil &&
		u.Name == m.name && u.UID == m.uid && slices.Equal(u.Groups, m.groups) &&
		len(u.Extra) == len(m.extra) && maps.EqualFunc(u.Extra, m.extra, slices.Equal) &&
		sameSlice(resp.Audiences, m.audiences)
}

// withGroup returns a new response with a new immutable user: resp's user with
// system:authenticated, its groups and extra keys shared through shapes (nil: not shared).
func withGroup(shapes *identity.Shapes, resp *authenticator.Response) *authenticator.Response {
	u := resp.User
	groups := append(slices.Clip(u.GetGroups()), user.AllAuthenticated)
	return responseFor(shapes.Make(u.GetName(), u.GetUID(), groups, u.GetExtra()), resp.Audiences)
}

// responseFor returns a response for u: the response and the user in one allocation.
func responseFor(u identity.User, audiences authenticator.Audiences) *authenticator.Response {
	out := &struct {
		resp authenticator.Response
		user identity.User
	}{user: u}
	out.resp = authenticator.Response{User: &out.user, Audiences: audiences}
	return &out.resp
}

// cloneExtra returns a deep copy of extra.
func cloneExtra(extra map[string][]string) map[string][]string {
	if extra == nil {
		return nil
	}
	out := make(map[string][]string, len(extra))
	for k, v := range extra {
		out[k] = slices.Clone(v)
	}
	return out
}

// sameSlice reports whether a and b are the same slice: same length and same first element.
func sameSlice(a, b authenticator.Audiences) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
