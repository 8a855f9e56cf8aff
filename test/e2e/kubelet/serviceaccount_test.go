//go:build e2e

package kubelet_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes"

	"github.com/authfilter/authfilter"
	"github.com/authfilter/authfilter/attributes"
	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/authz"
)

// TestServiceAccountTokens calls the example directly with service-account tokens minted by
// the TokenRequest API. The example first runs without system:auth-delegator and must fail
// closed; once bound, a token is 403 for nodes/metrics until a ClusterRoleBinding allows it,
// then 200 with the service account's identity; a garbage token and a token for another
// audience are 401. Audiences configured in the library (which the example has no flag for)
// are checked with an in-process filter on the same API server.
func TestServiceAccountTokens(t *testing.T) {
	const (
		ns, sa = "e2e-tokens", "scraper"
		node   = "node-tokens"
		aud    = "authfilter-e2e"
	)
	saUser := "system:serviceaccount:" + ns + ":" + sa
	wantGroups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}

	e := newEnv(t, envOptions{NoAuthDelegator: true})
	s := e.startServer(t, node, append(e.serverFlags(t, node), "--authorization-webhook-cache-unauthorized-ttl=1s")...)
	e.serviceAccount(t, ns, sa)
	token := s.withToken(t, "SA token", e.token(t, ns, sa))
	certUser := s.as(t, "cert-user", e.clientCert(t, "cert-user"), "")

	t.Run("without auth-delegator the example fails closed", func(t *testing.T) {
		// The TokenReview is forbidden: the token cannot be authenticated.
		s.expect(t, token, "/metrics", http.StatusUnauthorized)
		// A certificate needs no TokenReview, but the SubjectAccessReview is forbidden.
		r := s.expect(t, certUser, "/metrics", http.StatusInternalServerError)
		if !strings.Contains(r.body, "Authorization error (user=cert-user") {
			t.Errorf("body = %q", r.body)
		}
		for _, want := range []string{`tokenreviews.authentication.k8s.io is forbidden`, `subjectaccessreviews.authorization.k8s.io is forbidden`} {
			if !strings.Contains(s.log(), want) {
				t.Errorf("example log lacks %q", want)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	e.bindAuthDelegator(t)
	metrics := []rbacv1.PolicyRule{nodeRule([]string{"get"}, "metrics")}

	t.Run("403 before RBAC", func(t *testing.T) {
		// Failed reviews are not cached, so the new permission takes effect at once.
		r := s.expect(t, token, "/metrics", http.StatusForbidden)
		if want := "Forbidden (user=" + saUser + ", verb=get, resource=nodes, subresource(s)=[metrics])"; strings.TrimSpace(r.body) != want {
			t.Errorf("body = %q, want %q", r.body, want)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	e.grant(t, "e2e:metrics-reader", metrics, saSubject(ns, sa))

	t.Run("200 after ClusterRoleBinding, with the service account's identity", func(t *testing.T) {
		r := s.waitFor(t, token, "/metrics", http.StatusOK)
		if !strings.Contains(r.body, `kubelet_node_name{node="`+node+`"} 1`) {
			t.Errorf("body = %q", r.body)
		}
		if r.user() != saUser || !sameSet(r.groups(), wantGroups) {
			t.Errorf("identity = %q %q, want %q %q", r.user(), r.groups(), saUser, wantGroups)
		}
		// Only nodes/metrics was granted.
		s.expect(t, token, "/stats/summary", http.StatusForbidden)
		if !strings.Contains(s.log(), `"msg"="request" "method"="GET" "path"="/metrics" "user"="`+saUser+`"`) {
			t.Errorf("example log does not record the request by %s", saUser)
		}
	})

	t.Run("garbage token 401", func(t *testing.T) {
		for _, tok := range []string{"garbage", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"} {
			s.expect(t, s.withToken(t, "garbage", tok), "/metrics", http.StatusUnauthorized)
		}
	})

	t.Run("token for another audience 401", func(t *testing.T) {
		// The example sends TokenReviews without audiences: the API server's own audience.
		s.expect(t, s.withToken(t, "token for "+aud, e.token(t, ns, sa, aud)), "/metrics", http.StatusUnauthorized)
	})

	t.Run("library with audiences", func(t *testing.T) {
		// The example's own identity and RBAC, the library assembled in process.
		cs := kubernetes.NewForConfigOrDie(e.c.CertConfig(e.exampleCert))
		tok, err := authn.NewToken(cs.AuthenticationV1().TokenReviews(), authn.TokenOptions{Audiences: []string{aud}})
		if err != nil {
			t.Fatal(err)
		}
		sar, err := authz.NewSAR(cs.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{})
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := attributes.NewKubelet(node)
		if err != nil {
			t.Fatal(err)
		}
		f, err := authfilter.New(authn.WithAuthenticatedGroup(tok), sar, attrs, authfilter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var served []user.Info // what the wrapped handler saw; ServeHTTP runs in this goroutine
		h := f.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := request.UserFrom(r.Context())
			served = append(served, u)
		}))
		for _, tt := range []struct {
			name  string
			token string
			want  int
		}{
			{"token for " + aud, e.token(t, ns, sa, aud), http.StatusOK},
			{"token for two audiences", e.token(t, ns, sa, "other", aud), http.StatusOK},
			{"token for the API server's audience", e.token(t, ns, sa), http.StatusUnauthorized},
			{"token for another audience", e.token(t, ns, sa, "other"), http.StatusUnauthorized},
			{"garbage", "garbage", http.StatusUnauthorized},
		} {
			t.Run(tt.name, func(t *testing.T) {
				served = nil
				req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+node+"/metrics", nil)
				req.Header.Set("Authorization", "Bearer "+tt.token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.want {
					t.Fatalf("status = %d %q, want %d", rec.Code, rec.Body, tt.want)
				}
				if tt.want != http.StatusOK {
					if served != nil {
						t.Errorf("handler called after %d", rec.Code)
					}
					return
				}
				if len(served) != 1 || served[0].GetName() != saUser || !sameSet(served[0].GetGroups(), wantGroups) {
					t.Errorf("served %+v, want one request by %s in %q", served, saUser, wantGroups)
				}
			})
		}
	})
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
