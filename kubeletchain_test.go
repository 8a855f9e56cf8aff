package authfilter

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/internal/testpki"
)

// TestKubeletChainOverMTLS drives the chain NewFromKubeletConfig builds through a real TLS
// server with client certificates, and checks the reviews the fake API server received.
func TestKubeletChainOverMTLS(t *testing.T) {
	authenticated := []string{adminOrg, "system:authenticated"}
	saGroups := []string{"system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"}
	anonymousOn := func(c *kubeletconfigv1beta1.KubeletConfiguration) { c.Authentication.Anonymous.Enabled = ptr(true) }

	tests := []struct {
		name      string
		mutate    func(*kubeletconfigv1beta1.KubeletConfiguration)
		policy    func(authorizationv1.SubjectAccessReviewSpec) bool
		cert      func(t *testing.T, ca *testpki.CA) *tls.Certificate
		token     string
		method    string
		path      string
		wantCode  int
		wantBody  string
		wantTRs   int
		wantSARs  []authorizationv1.SubjectAccessReviewSpec
		apiIsDown bool
	}{
		{
			name: "client certificate allowed", policy: allowSubresources("stats"),
			cert: adminCert, method: http.MethodGet, path: "/stats/summary",
			wantCode: http.StatusOK, wantBody: adminCN + " [" + strings.Join(authenticated, " ") + "]",
			wantSARs: []authorizationv1.SubjectAccessReviewSpec{certSAR(adminCN, authenticated, "get", "stats")},
		},
		{
			name: "client certificate denied", policy: allowSubresources("stats"),
			cert: adminCert, method: http.MethodPost, path: "/logs/kubelet.log",
			wantCode: http.StatusForbidden, wantBody: "Forbidden (user=" + adminCN + ", verb=create, resource=nodes, subresource(s)=[log])",
			wantSARs: []authorizationv1.SubjectAccessReviewSpec{certSAR(adminCN, authenticated, "create", "log")},
		},
		{
			name: "fine-grained pods falls back to proxy", policy: allowSubresources("proxy"),
			cert: adminCert, method: http.MethodGet, path: "/pods",
			wantCode: http.StatusOK,
			wantSARs: []authorizationv1.SubjectAccessReviewSpec{
				certSAR(adminCN, authenticated, "get", "pods"), certSAR(adminCN, authenticated, "get", "proxy"),
			},
		},
		{
			name: "certificate from another CA is 401 even with anonymous on", mutate: anonymousOn, policy: allowSubresources("stats", "proxy"),
			cert: func(t *testing.T, _ *testpki.CA) *tls.Certificate {
				c := testpki.NewCA(t, "rogue").Client(t, testpki.Options{CommonName: "system:admin"}).TLS()
				return &c
			},
			method: http.MethodGet, path: "/stats/summary", wantCode: http.StatusUnauthorized, wantBody: "Unauthorized",
		},
		{
			name: "expired certificate is 401 even with anonymous on", mutate: anonymousOn, policy: allowSubresources("stats"),
			cert: func(t *testing.T, ca *testpki.CA) *tls.Certificate {
				c := ca.Client(t, testpki.Options{CommonName: adminCN, NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}).TLS()
				return &c
			},
			method: http.MethodGet, path: "/stats/summary", wantCode: http.StatusUnauthorized,
		},
		{
			name: "service-account token", policy: allowSubresources("metrics"),
			token: saToken, method: http.MethodGet, path: "/metrics/cadvisor",
			wantCode: http.StatusOK, wantBody: saUser + " [" + strings.Join(saGroups, " ") + "]", wantTRs: 1,
			wantSARs: []authorizationv1.SubjectAccessReviewSpec{withUID(nodeSAR(saUser, saGroups, "get", "metrics"), "uid-1")},
		},
		{
			name: "rejected token is 401 even with anonymous on", mutate: anonymousOn, policy: allowSubresources("metrics"),
			token: "forged", method: http.MethodGet, path: "/metrics", wantCode: http.StatusUnauthorized, wantTRs: 1,
		},
		{
			name: "anonymous enabled reaches SAR as system:anonymous", mutate: anonymousOn, policy: allowSubresources(),
			method: http.MethodGet, path: "/healthz", wantCode: http.StatusForbidden,
			wantSARs: []authorizationv1.SubjectAccessReviewSpec{
				nodeSAR("system:anonymous", []string{"system:unauthenticated"}, "get", "healthz"),
				nodeSAR("system:anonymous", []string{"system:unauthenticated"}, "get", "proxy"),
			},
		},
		{
			name: "anonymous disabled and no credentials is 401", policy: allowSubresources("healthz"),
			method: http.MethodGet, path: "/healthz", wantCode: http.StatusUnauthorized,
		},
		{
			name: "method without a verb is 405 and sends no review", policy: allowSubresources("proxy"),
			cert: adminCert, method: http.MethodOptions, path: "/run/ns/pod/c", wantCode: http.StatusMethodNotAllowed,
		},
		{
			name: "AlwaysAllow sends no SubjectAccessReview",
			mutate: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
				c.Authorization.Mode = kubeletconfigv1beta1.KubeletAuthorizationModeAlwaysAllow
			},
			policy: allowSubresources(), token: saToken, method: http.MethodGet, path: "/configz",
			wantCode: http.StatusOK, wantTRs: 1,
		},
		{
			name: "token backend down is 401", policy: allowSubresources("metrics"), apiIsDown: true,
			token: saToken, method: http.MethodGet, path: "/metrics", wantCode: http.StatusUnauthorized, wantTRs: 1,
		},
		{
			name: "SAR backend down is 500", policy: allowSubresources("stats"), apiIsDown: true,
			cert: adminCert, method: http.MethodGet, path: "/stats", wantCode: http.StatusInternalServerError,
			wantBody: "Authorization error",
			wantSARs: []authorizationv1.SubjectAccessReviewSpec{certSAR(adminCN, authenticated, "get", "stats")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newKubeletEnv(t, tt.mutate, tt.policy)
			env.api.setDown(tt.apiIsDown)
			var cert *tls.Certificate
			if tt.cert != nil {
				cert = tt.cert(t, env.ca)
			}
			code, body := env.do(t, tt.method, tt.path, cert, tt.token)
			if code != tt.wantCode || !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
			trs, sars := env.api.sent()
			if len(trs) != tt.wantTRs {
				t.Errorf("%d TokenReviews sent, want %d", len(trs), tt.wantTRs)
			}
			for _, tr := range trs {
				if tr.Token != tt.token {
					t.Errorf("TokenReview for the wrong token")
				}
			}
			if got, want := describeSARs(sars), describeSARs(tt.wantSARs); got != want {
				t.Errorf("SARs sent:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestKubeletChainCachesReviews(t *testing.T) {
	env := newKubeletEnv(t, nil, allowSubresources("stats"))
	for range 3 {
		if code, _ := env.do(t, http.MethodGet, "/stats/summary", nil, saToken); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	for range 3 {
		if code, _ := env.do(t, http.MethodGet, "/logs/", nil, saToken); code != http.StatusForbidden {
			t.Fatalf("status %d", code)
		}
	}
	trs, sars := env.api.sent()
	if len(trs) != 1 || len(sars) != 2 {
		t.Fatalf("sent %d TokenReviews and %d SARs for 6 requests, want 1 and 2 (one allow, one deny)", len(trs), len(sars))
	}
	// A backend outage does not affect cached decisions.
	env.api.setDown(true)
	if code, _ := env.do(t, http.MethodGet, "/stats/summary", nil, saToken); code != http.StatusOK {
		t.Fatalf("cached request failed while the API server was down: %d", code)
	}
	if code, _ := env.do(t, http.MethodGet, "/spec/", nil, saToken); code != http.StatusInternalServerError {
		t.Fatalf("uncached request while the API server was down: %d, want 500", code)
	}
}

func adminCert(t *testing.T, ca *testpki.CA) *tls.Certificate {
	c := ca.Client(t, testpki.Options{CommonName: adminCN, Organization: []string{adminOrg}}).TLS()
	return &c
}

// certSAR is nodeSAR for a client-certificate user, whose extra carries the credential id.
func certSAR(user string, groups []string, verb, subresource string) authorizationv1.SubjectAccessReviewSpec {
	s := nodeSAR(user, groups, verb, subresource)
	s.Extra = map[string]authorizationv1.ExtraValue{"authentication.kubernetes.io/credential-id": {"X509SHA256=..."}}
	return s
}

func withUID(s authorizationv1.SubjectAccessReviewSpec, uid string) authorizationv1.SubjectAccessReviewSpec {
	s.UID = uid
	return s
}

// describeSARs prints the fields of SARs that tests compare: for extra only the keys (a
// certificate's credential id differs per certificate; x509_test.go checks its value).
func describeSARs(specs []authorizationv1.SubjectAccessReviewSpec) string {
	var b strings.Builder
	for _, s := range specs {
		fmt.Fprintf(&b, "user=%q uid=%q groups=%q extra=%q", s.User, s.UID, s.Groups, slices.Sorted(maps.Keys(s.Extra)))
		if r := s.ResourceAttributes; r != nil {
			fmt.Fprintf(&b, " resource ns=%q verb=%q group=%q version=%q resource=%q sub=%q name=%q\n",
				r.Namespace, r.Verb, r.Group, r.Version, r.Resource, r.Subresource, r.Name)
		}
		if n := s.NonResourceAttributes; n != nil {
			fmt.Fprintf(&b, " nonresource path=%q verb=%q\n", n.Path, n.Verb)
		}
	}
	return b.String()
}

func TestKubeletChainWebSocketToken(t *testing.T) {
	api := newFakeAPIServer(map[string]authenticationv1.UserInfo{saToken: {Username: saUser}}, allowSubresources("proxy"))
	f, err := NewFromKubeletConfig(t.Context(), &kubeletconfigv1beta1.KubeletConfiguration{}, testNode, api)
	if err != nil {
		t.Fatal(err)
	}
	var seen http.Header
	h := f.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header }))
	tokenProtocol := authn.WebSocketBearerProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte(saToken))

	tests := []struct {
		name      string
		token     string
		wantCode  int
		wantTRs   []string
		wantProto string // what the handler sees in Sec-WebSocket-Protocol
	}{
		{"service-account token in the subprotocol", tokenProtocol, http.StatusOK, []string{saToken}, "v5.channel.k8s.io"},
		{"forged token", authn.WebSocketBearerProtocolPrefix + base64.RawURLEncoding.EncodeToString([]byte("forged")), http.StatusUnauthorized, []string{"forged"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			api.mu.Lock()
			api.tokenReviews = nil
			api.mu.Unlock()
			r := httptest.NewRequest(http.MethodGet, "/exec/default/web/app?command=sh", nil)
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Protocol", "v5.channel.k8s.io, "+tt.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantCode)
			}
			trs, _ := api.sent()
			var tokens []string
			for _, tr := range trs {
				tokens = append(tokens, tr.Token)
			}
			if fmt.Sprint(tokens) != fmt.Sprint(tt.wantTRs) {
				t.Errorf("TokenReviews for %q, want %q", tokens, tt.wantTRs)
			}
			if tt.wantCode == http.StatusOK && (seen == nil || seen.Get("Sec-WebSocket-Protocol") != tt.wantProto) {
				t.Errorf("handler saw Sec-WebSocket-Protocol %q, want %q", seen.Get("Sec-WebSocket-Protocol"), tt.wantProto)
			}
			if tt.wantCode != http.StatusOK && seen != nil {
				t.Error("the handler was called for a refused request")
			}
			if !strings.Contains(r.Header.Get("Sec-WebSocket-Protocol"), tt.token) {
				t.Error("the caller's request was modified")
			}
		})
	}
}

// TestKubeletChainHandlersCannotChangeIdentities has a handler write to what the user's
// GetGroups and GetExtra return, for each kind of credential, and checks that the next request
// with the same credential is authorized as the same user: cached users are shared by
// requests, so a handler must not be able to change them. A changed user would have been
// reviewed again (its decision key changes) with the handler's groups.
func TestKubeletChainHandlersCannotChangeIdentities(t *testing.T) {
	env := newKubeletEnv(t, func(c *kubeletconfigv1beta1.KubeletConfiguration) {
		c.Authentication.Anonymous.Enabled = ptr(true)
	}, func(authorizationv1.SubjectAccessReviewSpec) bool { return true })
	cert := env.ca.Client(t, testpki.Options{CommonName: "alice", Organization: []string{"dev"}}).TLS()
	for range 2 {
		for _, req := range []struct {
			cert  *tls.Certificate
			token string
		}{{cert: &cert}, {token: saToken}, {}} {
			if code, body := env.do(t, http.MethodGet, "/pods?write=1", req.cert, req.token); code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
		}
	}
	_, sars := env.api.sent()
	want := []authorizationv1.SubjectAccessReviewSpec{
		certSAR("alice", []string{"dev", "system:authenticated"}, "get", "pods"),
		withUID(nodeSAR(saUser, []string{"system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"}, "get", "pods"), "uid-1"),
		nodeSAR("system:anonymous", []string{"system:unauthenticated"}, "get", "pods"),
	}
	if got, want := describeSARs(sars), describeSARs(want); got != want {
		t.Fatalf("SARs sent for two rounds of requests:\n%s\nwant one per identity:\n%s", got, want)
	}
	for _, s := range sars {
		for _, v := range s.Extra {
			if slices.Contains(v, "changed") {
				t.Errorf("a SAR carried extra the handler wrote: %v", s.Extra)
			}
		}
	}
}
