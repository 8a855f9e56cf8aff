package authn

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/testpki"
)

func TestAnonymous(t *testing.T) {
	ca := testpki.NewCA(t, "root")
	cert := ca.Client(t, testpki.Options{CommonName: "alice"}).Cert
	tests := []struct {
		name      string
		headers   map[string]string
		certs     bool
		tlsNoCert bool
		wantAnon  bool
	}{
		{name: "no credential", wantAnon: true},
		{name: "TLS without client certificate", tlsNoCert: true, wantAnon: true},
		{name: "unrelated headers", headers: map[string]string{"Accept": "application/json", "Sec-WebSocket-Protocol": "v4.channel.k8s.io"}, wantAnon: true},
		{name: "bearer token", headers: map[string]string{"Authorization": "Bearer " + testToken}},
		{name: "basic credentials", headers: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}},
		{name: "empty Authorization header", headers: map[string]string{"Authorization": ""}},
		{name: "client certificate", certs: true},
		{name: "websocket bearer protocol", headers: map[string]string{
			"Sec-WebSocket-Protocol": "v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.dG9rZW4"}},
	}
	a := NewAnonymous()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := headerRequest()
			switch {
			case tt.certs:
				r = tlsRequest(cert)
			case tt.tlsNoCert:
				r = tlsRequest()
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			resp, ok, err := a.AuthenticateRequest(r)
			if err != nil {
				t.Fatalf("Anonymous returned an error: %v", err)
			}
			if !tt.wantAnon {
				if ok || resp != nil {
					t.Fatalf("a request with a credential became %v", resp.User)
				}
				return
			}
			want := &user.DefaultInfo{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}
			if !ok || !sameContents(resp.User, want) {
				t.Fatalf("got ok=%v user=%+v, want %+v", ok, contentsOf(resp.User), want)
			}
		})
	}
}

func TestAnonymousZeroValueAndSharedResponse(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	for name, a := range map[string]*Anonymous{"NewAnonymous": NewAnonymous(), "zero value": {}} {
		t.Run(name, func(t *testing.T) {
			resp, ok, err := a.AuthenticateRequest(r)
			if err != nil || !ok || resp.User.GetName() != user.Anonymous ||
				len(resp.User.GetGroups()) != 1 || resp.User.GetGroups()[0] != user.AllUnauthenticated {
				t.Fatalf("AuthenticateRequest = %+v, %v, %v", resp, ok, err)
			}
		})
	}
	a := NewAnonymous()
	first, _, _ := a.AuthenticateRequest(r)
	second, _, _ := a.AuthenticateRequest(r)
	if first != second {
		t.Error("NewAnonymous built a response per request; it documents a shared one")
	}
}
