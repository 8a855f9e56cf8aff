package authn

import (
	"crypto/x509"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/testpki"
)

// stub is an authenticator with a fixed answer that counts its calls.
type stub struct {
	resp  *authenticator.Response
	ok    bool
	err   error
	calls int
}

func (s *stub) AuthenticateRequest(*http.Request) (*authenticator.Response, bool, error) {
	s.calls++
	return s.resp, s.ok, s.err
}

func userResp(name string, groups ...string) *authenticator.Response {
	return &authenticator.Response{User: &user.DefaultInfo{Name: name, Groups: groups}}
}

func TestUnion(t *testing.T) {
	errBad := errors.New("bad credential")
	none := func() *stub { return &stub{} }
	yes := func(name string) *stub { return &stub{resp: userResp(name), ok: true} }
	fails := func() *stub { return &stub{err: errBad} }

	tests := []struct {
		name      string
		stubs     []*stub
		wantUser  string // "" means no user
		wantErr   string
		wantCalls []int
	}{
		{name: "first user wins", stubs: []*stub{yes("a"), yes("b")}, wantUser: "a", wantCalls: []int{1, 0}},
		{name: "skips no-credential", stubs: []*stub{none(), yes("b")}, wantUser: "b", wantCalls: []int{1, 1}},
		{name: "error stops the chain", stubs: []*stub{fails(), yes("b")}, wantErr: "bad credential", wantCalls: []int{1, 0}},
		{name: "error after no-credential", stubs: []*stub{none(), fails(), yes("c")}, wantErr: "bad credential", wantCalls: []int{1, 1, 0}},
		{name: "nobody answers", stubs: []*stub{none(), none()}, wantCalls: []int{1, 1}},
		{name: "ok without response", stubs: []*stub{{ok: true}, yes("b")}, wantErr: "success without a user", wantCalls: []int{1, 0}},
		{name: "ok without user", stubs: []*stub{{ok: true, resp: &authenticator.Response{}}}, wantErr: "success without a user", wantCalls: []int{1}},
		{name: "response without ok is ignored", stubs: []*stub{{resp: userResp("ghost")}, yes("b")}, wantUser: "b", wantCalls: []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := make([]authenticator.Request, len(tt.stubs))
			for i, s := range tt.stubs {
				list[i] = s
			}
			u, err := NewUnion(list...)
			if err != nil {
				t.Fatal(err)
			}
			resp, ok, err := u.AuthenticateRequest(headerRequest())
			switch {
			case tt.wantErr != "":
				if ok || resp != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got (%v, %v, %v), want error %q", resp, ok, err, tt.wantErr)
				}
			case tt.wantUser != "":
				if !ok || err != nil || resp.User.GetName() != tt.wantUser {
					t.Fatalf("got (%v, %v, %v), want user %q", resp, ok, err, tt.wantUser)
				}
			default:
				if ok || resp != nil || err != nil {
					t.Fatalf("got (%v, %v, %v), want (nil, false, nil)", resp, ok, err)
				}
			}
			for i, s := range tt.stubs {
				if s.calls != tt.wantCalls[i] {
					t.Errorf("authenticator %d called %d times, want %d", i, s.calls, tt.wantCalls[i])
				}
			}
		})
	}
}

func TestNewUnionErrors(t *testing.T) {
	tests := []struct {
		name    string
		list    []authenticator.Request
		wantErr string
	}{
		{name: "empty", wantErr: "at least one"},
		{name: "nil", list: []authenticator.Request{&stub{}, nil}, wantErr: "authenticator 1 is nil"},
		{name: "typed nil", list: []authenticator.Request{(*X509)(nil)}, wantErr: "authenticator 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewUnion(tt.list...)
			if u != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, %v; want error %q", u, err, tt.wantErr)
			}
		})
	}
}

func TestNewUnionCopiesSlice(t *testing.T) {
	list := []authenticator.Request{&stub{resp: userResp("a"), ok: true}}
	u, err := NewUnion(list...)
	if err != nil {
		t.Fatal(err)
	}
	list[0] = &stub{err: errors.New("replaced")}
	if resp, ok, err := u.AuthenticateRequest(headerRequest()); !ok || err != nil || resp.User.GetName() != "a" {
		t.Fatalf("the union saw the caller's later change: (%v, %v, %v)", resp, ok, err)
	}
}

// TestKubeletChainFailsClosed builds the kubelet chain (x509, token, anonymous) and checks that
// a bad certificate is not rescued by a valid token, that an unusable Authorization header is
// not downgraded to anonymous, and which TokenReviews were sent.
func TestKubeletChainFailsClosed(t *testing.T) {
	root, other := testpki.NewCA(t, "root"), testpki.NewCA(t, "other")
	goodCert := root.Client(t, testpki.Options{CommonName: "alice", Organization: []string{"dev"}}).Cert
	badCert := other.Client(t, testpki.Options{CommonName: "mallory"}).Cert

	tests := []struct {
		name       string
		cert       *x509.Certificate
		header     string
		wantUser   string
		wantGroups []string
		wantErr    string
		wantSpecs  int
	}{
		{name: "good certificate", cert: goodCert, wantUser: "alice", wantGroups: []string{"dev", user.AllAuthenticated}},
		{name: "bad certificate and good token", cert: badCert, header: "Bearer " + testToken, wantErr: "unknown authority"},
		{name: "good token", header: "Bearer " + testToken, wantUser: "bob", wantGroups: []string{"ops", user.AllAuthenticated}, wantSpecs: 1},
		{name: "rejected token", header: "Bearer wrong-secret", wantErr: "token rejected", wantSpecs: 1},
		{name: "basic credentials", header: "Basic dXNlcjpwYXNz", wantErr: "not of the Bearer scheme"},
		{name: "nothing", wantUser: user.Anonymous, wantGroups: []string{user.AllUnauthenticated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec := fakeReviews(t, func(spec authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
				if spec.Token == testToken {
					return authenticated("bob", "ops"), nil
				}
				return rejected("invalid bearer token"), nil
			})
			x := newTestX509(t, staticCA(t, root.PEM), X509Options{})
			tok := newTestToken(t, client, TokenOptions{})
			inner, err := NewUnion(x, tok)
			if err != nil {
				t.Fatal(err)
			}
			chain, err := NewUnion(WithAuthenticatedGroup(inner), NewAnonymous())
			if err != nil {
				t.Fatal(err)
			}

			r := headerRequest()
			if tt.cert != nil {
				r = tlsRequest(tt.cert)
			}
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			resp, ok, err := chain.AuthenticateRequest(r)
			if tt.header != "" {
				assertNoSecret(t, err, "", strings.TrimPrefix(tt.header, "Bearer "))
			}
			if tt.wantErr != "" {
				if ok || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got (%v, %v, %v), want error %q", resp, ok, err, tt.wantErr)
				}
			} else {
				if !ok || err != nil || resp.User.GetName() != tt.wantUser || !slices.Equal(resp.User.GetGroups(), tt.wantGroups) {
					t.Fatalf("got (%v, %v, %v), want %s %v", resp, ok, err, tt.wantUser, tt.wantGroups)
				}
			}
			if n := len(rec.sent()); n != tt.wantSpecs {
				t.Fatalf("%d TokenReviews sent, want %d", n, tt.wantSpecs)
			}
		})
	}
}
