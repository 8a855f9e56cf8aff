package authn

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/authfilter/authfilter/internal/identity"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

func TestWithAuthenticatedGroup(t *testing.T) {
	extra := map[string][]string{"k": {"v"}}
	tests := []struct {
		name       string
		inner      *stub
		wantGroups []string // nil with wantSame false: no user expected
		wantSame   bool     // the inner response is returned as is
		wantErr    string
	}{
		{name: "adds the group", inner: &stub{ok: true, resp: &authenticator.Response{
			Audiences: authenticator.Audiences{"kubelet"},
			User:      &user.DefaultInfo{Name: "alice", UID: "u1", Groups: []string{"dev"}, Extra: extra}}},
			wantGroups: []string{"dev", user.AllAuthenticated}},
		{name: "user without groups", inner: &stub{ok: true, resp: userResp("bob")}, wantGroups: []string{user.AllAuthenticated}},
		{name: "already present", inner: &stub{ok: true, resp: userResp("carol", user.AllAuthenticated, "dev")}, wantSame: true},
		{name: "anonymous", inner: &stub{ok: true, resp: userResp(user.Anonymous, user.AllUnauthenticated)}, wantSame: true},
		{name: "anonymous without groups", inner: &stub{ok: true, resp: userResp(user.Anonymous)}, wantSame: true},
		{name: "unauthenticated group", inner: &stub{ok: true, resp: userResp("dave", user.AllUnauthenticated)}, wantSame: true},
		{name: "error passes through", inner: &stub{err: errors.New("bad certificate")}, wantErr: "bad certificate"},
		{name: "no credential passes through", inner: &stub{}},
		{name: "ok without user", inner: &stub{ok: true, resp: &authenticator.Response{}}, wantErr: "success without a user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before *authenticator.Response
			if tt.inner.resp != nil {
				before = deepCopyResponse(tt.inner.resp)
			}
			a := WithAuthenticatedGroup(tt.inner)
			for i := range 2 { // applying it twice to a shared response must not accumulate
				resp, ok, err := a.AuthenticateRequest(headerRequest())
				switch {
				case tt.wantErr != "":
					if ok || resp != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("call %d: got (%v, %v, %v), want error %q", i, resp, ok, err, tt.wantErr)
					}
				case tt.wantSame:
					if !ok || err != nil || resp != tt.inner.resp {
						t.Fatalf("call %d: got (%v, %v, %v), want the inner response unchanged", i, resp, ok, err)
					}
				case tt.wantGroups != nil:
					if !ok || err != nil {
						t.Fatalf("call %d: ok=%v err=%v", i, ok, err)
					}
					in := tt.inner.resp.User
					want := &user.DefaultInfo{Name: in.GetName(), UID: in.GetUID(), Groups: tt.wantGroups, Extra: in.GetExtra()}
					if !sameContents(resp.User, want) || !reflect.DeepEqual(resp.Audiences, tt.inner.resp.Audiences) {
						t.Fatalf("call %d: got %+v audiences %v, want %+v", i, contentsOf(resp.User), resp.Audiences, want)
					}
					if resp == tt.inner.resp || resp.User == tt.inner.resp.User {
						t.Fatalf("call %d: the inner response or user was reused", i)
					}
				default:
					if ok || resp != nil || err != nil {
						t.Fatalf("call %d: got (%v, %v, %v), want (nil, false, nil)", i, resp, ok, err)
					}
				}
			}
			if before != nil && !reflect.DeepEqual(tt.inner.resp, before) {
				t.Fatalf("the inner response was modified: %#v, was %#v", tt.inner.resp.User, before.User)
			}
		})
	}
}

func TestWithAuthenticatedGroupNilPanics(t *testing.T) {
	tests := []struct {
		name string
		a    authenticator.Request
	}{
		{name: "untyped nil"},
		{name: "typed nil", a: (*Union)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("WithAuthenticatedGroup(nil) did not panic")
				}
			}()
			WithAuthenticatedGroup(tt.a)
		})
	}
}

func deepCopyResponse(r *authenticator.Response) *authenticator.Response {
	out := &authenticator.Response{Audiences: append(authenticator.Audiences(nil), r.Audiences...)}
	if u, ok := r.User.(*user.DefaultInfo); ok {
		c := *u
		c.Groups = append([]string(nil), u.Groups...)
		if u.Extra != nil {
			c.Extra = map[string][]string{}
			for k, v := range u.Extra {
				c.Extra[k] = append([]string(nil), v...)
			}
		}
		out.User = &c
	}
	return out
}

// TestWithAuthenticatedGroupUserIsImmutable checks that a caller writing to what the augmented
// user's GetGroups and GetExtra return changes neither the wrapped user nor the response
// returned to the next request.
func TestWithAuthenticatedGroupUserIsImmutable(t *testing.T) {
	inner := &stub{ok: true, resp: &authenticator.Response{
		User: &user.DefaultInfo{Name: "alice", Groups: []string{"dev"}, Extra: map[string][]string{"k": {"v"}}},
	}}
	a := WithAuthenticatedGroup(inner)
	first, _, _ := a.AuthenticateRequest(headerRequest())
	first.User.GetGroups()[0] = "system:masters"
	first.User.GetExtra()["k"][0] = "changed"
	want := &user.DefaultInfo{Name: "alice", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}
	second, _, _ := a.AuthenticateRequest(headerRequest())
	if !sameContents(second.User, want) {
		t.Errorf("next response reads %+v, want %+v", contentsOf(second.User), want)
	}
	if !sameContents(inner.resp.User, &user.DefaultInfo{Name: "alice", Groups: []string{"dev"}, Extra: map[string][]string{"k": {"v"}}}) {
		t.Errorf("the wrapped user changed: %+v", contentsOf(inner.resp.User))
	}
}

// TestWithAuthenticatedGroupReusesResponse checks that a response the wrapped authenticator
// returns again gets the same augmented response, and that any change to what the augmented
// response was built from builds a new one.
func TestWithAuthenticatedGroupReusesResponse(t *testing.T) {
	tests := []struct {
		name   string
		change func(resp *authenticator.Response) // nil: no change, the response is reused
		want   *user.DefaultInfo
		auds   authenticator.Audiences
	}{
		{name: "unchanged", want: &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}},
		{name: "group changed in place", change: func(r *authenticator.Response) { r.User.(*user.DefaultInfo).Groups[0] = "ops" },
			want: &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"ops", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}},
		{name: "group added", change: func(r *authenticator.Response) { u := r.User.(*user.DefaultInfo); u.Groups = append(u.Groups, "ops") },
			want: &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", "ops", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}},
		{name: "name changed", change: func(r *authenticator.Response) { r.User.(*user.DefaultInfo).Name = "bob" },
			want: &user.DefaultInfo{Name: "bob", UID: "1", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}},
		{name: "uid changed", change: func(r *authenticator.Response) { r.User.(*user.DefaultInfo).UID = "2" },
			want: &user.DefaultInfo{Name: "alice", UID: "2", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}}},
		{name: "extra value changed in place", change: func(r *authenticator.Response) { r.User.(*user.DefaultInfo).Extra["k"][0] = "w" },
			want: &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"w"}}}},
		{name: "extra replaced", change: func(r *authenticator.Response) { r.User.(*user.DefaultInfo).Extra = map[string][]string{"k": {"w"}} },
			want: &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"w"}}}},
		{name: "user replaced", change: func(r *authenticator.Response) { r.User = &user.DefaultInfo{Name: "carol"} },
			want: &user.DefaultInfo{Name: "carol", Groups: []string{user.AllAuthenticated}}},
		{name: "audiences replaced", change: func(r *authenticator.Response) { r.Audiences = authenticator.Audiences{"other"} },
			want: &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev", user.AllAuthenticated}, Extra: map[string][]string{"k": {"v"}}},
			auds: authenticator.Audiences{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &stub{ok: true, resp: &authenticator.Response{
				Audiences: authenticator.Audiences{"kubelet"},
				User:      &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"dev"}, Extra: map[string][]string{"k": {"v"}}},
			}}
			a := WithAuthenticatedGroup(inner)
			first, ok, err := a.AuthenticateRequest(headerRequest())
			if !ok || err != nil {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if tt.change != nil {
				tt.change(inner.resp)
			}
			second, ok, err := a.AuthenticateRequest(headerRequest())
			if !ok || err != nil {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if reused := second == first; reused != (tt.change == nil) {
				t.Fatalf("second response reused the first: %v, want %v", reused, tt.change == nil)
			}
			wantAuds := tt.auds
			if wantAuds == nil {
				wantAuds = authenticator.Audiences{"kubelet"}
			}
			if !sameContents(second.User, tt.want) || !reflect.DeepEqual(second.Audiences, wantAuds) {
				t.Fatalf("got %+v audiences %v, want %+v audiences %v", contentsOf(second.User), second.Audiences, tt.want, wantAuds)
			}
		})
	}
}

// TestWithAuthenticatedGroupSeparatesResponses checks, concurrently for -race, that distinct
// inner responses never share an augmented response, also when their users are equal, and
// that users of another type are augmented every time.
func TestWithAuthenticatedGroupSeparatesResponses(t *testing.T) {
	const responses = 200 // more than the remembered responses, so slots are replaced
	inner := make([]*authenticator.Response, responses)
	for i := range inner {
		inner[i] = userResp(fmt.Sprint("user-", i%100), "dev") // inner[i] and inner[i+100] are equal
	}
	a := WithAuthenticatedGroup(authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		i, err := strconv.Atoi(r.Header.Get("X-Index"))
		return inner[i], err == nil, err
	}))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		owner = map[*authenticator.Response]int{} // augmented response -> the inner index it came from
	)
	for g := range 8 {
		wg.Go(func() {
			for n := range 500 {
				i := (g*500 + n*7) % responses
				r := headerRequest()
				r.Header.Set("X-Index", strconv.Itoa(i))
				resp, ok, err := a.AuthenticateRequest(r)
				if !ok || err != nil || resp.User.GetName() != inner[i].User.GetName() ||
					!slices.Equal(resp.User.GetGroups(), []string{"dev", user.AllAuthenticated}) {
					t.Errorf("response %d: got %v, %v, %v", i, resp, ok, err)
					return
				}
				mu.Lock()
				if prev, seen := owner[resp]; seen && prev != i {
					t.Errorf("inner responses %d and %d share an augmented response", prev, i)
				}
				owner[resp] = i
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	type otherUser struct{ *user.DefaultInfo } // not a *user.DefaultInfo: never remembered
	v := &stub{ok: true, resp: &authenticator.Response{User: otherUser{&user.DefaultInfo{Name: "dave"}}}}
	b := WithAuthenticatedGroup(v)
	r1, _, _ := b.AuthenticateRequest(headerRequest())
	r2, _, _ := b.AuthenticateRequest(headerRequest())
	if r1 == r2 || !slices.Equal(r2.User.GetGroups(), []string{user.AllAuthenticated}) {
		t.Fatalf("a user of another type: %#v then %#v", r1, r2)
	}
}

// TestWithAuthenticatedGroupImmutableUsers covers the immutable users the token authenticator
// returns: the group is added once (the augmented response is reused for the same response),
// users already in it pass as they are, and two users never share an augmented response.
func TestWithAuthenticatedGroupImmutableUsers(t *testing.T) {
	shapes := identity.NewShapes(0)
	extra := map[string][]string{"k": {"v"}}
	newResp := func(name string, groups ...string) *authenticator.Response {
		u := shapes.Make(name, "uid-"+name, groups, extra)
		return &authenticator.Response{User: &u, Audiences: authenticator.Audiences{"aud"}}
	}
	alice, bob := newResp("alice", "dev"), newResp("bob", "dev")
	inner := &stub{ok: true}
	a := WithAuthenticatedGroup(inner)
	var first *authenticator.Response
	for i, in := range []*authenticator.Response{alice, alice, bob} {
		inner.resp = in
		resp, ok, err := a.AuthenticateRequest(headerRequest())
		if !ok || err != nil {
			t.Fatalf("call %d: ok=%v err=%v", i, ok, err)
		}
		want := &user.DefaultInfo{Name: in.User.GetName(), UID: in.User.GetUID(), Groups: []string{"dev", user.AllAuthenticated}, Extra: extra}
		if got := userInfo(resp.User); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(resp.Audiences, in.Audiences) {
			t.Fatalf("call %d: got %#v audiences %v, want %#v", i, got, resp.Audiences, want)
		}
		if got := in.User.GetGroups(); !reflect.DeepEqual(got, []string{"dev"}) {
			t.Fatalf("call %d: the inner user's groups became %q", i, got)
		}
		switch i {
		case 0:
			first = resp
		case 1:
			if resp != first {
				t.Fatal("the same inner response got a new augmented response")
			}
		case 2:
			if resp == first || resp.User == first.User {
				t.Fatal("another user got alice's augmented response")
			}
		}
	}
	for _, in := range []*authenticator.Response{newResp("carol", user.AllAuthenticated), newResp(user.Anonymous), newResp("dave", user.AllUnauthenticated)} {
		inner.resp = in
		if resp, ok, err := a.AuthenticateRequest(headerRequest()); !ok || err != nil || resp != in {
			t.Fatalf("%s: got (%v, %v, %v), want the inner response as it is", in.User.GetName(), resp, ok, err)
		}
	}
}
