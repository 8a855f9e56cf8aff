package authn

import (
	"errors"
	"reflect"
	"strings"
	"testing"

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
					if !reflect.DeepEqual(resp.User, want) || !reflect.DeepEqual(resp.Audiences, tt.inner.resp.Audiences) {
						t.Fatalf("call %d: got %#v audiences %v, want %#v", i, resp.User, resp.Audiences, want)
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
