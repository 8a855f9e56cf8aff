//go:build e2e

package kubelet_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestAnonymous runs two examples on one cluster. With --anonymous-auth=true a request without
// credentials is authorized as system:anonymous with a SubjectAccessReview: 403 until RBAC
// allows the group system:unauthenticated, then 200 with that identity; a bad token still gets
// 401 rather than anonymous. With --anonymous-auth=false it is 401 before and after the grant,
// and no review is ever sent for it.
func TestAnonymous(t *testing.T) {
	e := newEnv(t, envOptions{})
	on := e.startServer(t, "node-anon-on", append(e.serverFlags(t, "node-anon-on"),
		"--anonymous-auth=true", "--authorization-webhook-cache-unauthorized-ttl=1s")...)
	off := e.startServer(t, "node-anon-off", append(e.serverFlags(t, "node-anon-off"),
		"--anonymous-auth=false", "--authorization-webhook-cache-unauthorized-ttl=1s")...)

	t.Run("before RBAC", func(t *testing.T) {
		r := on.expect(t, on.anonymous(t), "/metrics", http.StatusForbidden)
		if want := "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[metrics])"; strings.TrimSpace(r.body) != want {
			t.Errorf("anonymous on: body = %q, want %q", r.body, want)
		}
		off.expect(t, off.anonymous(t), "/metrics", http.StatusUnauthorized)
	})

	e.grant(t, "e2e:anonymous-metrics", []rbacv1.PolicyRule{nodeRule([]string{"get"}, "metrics")}, groupSubject("system:unauthenticated"))
	e.waitAccess(t, "system:anonymous", []string{"system:unauthenticated"}, nodeAccess("get", "metrics", on.node), true)

	t.Run("after RBAC allows system:unauthenticated", func(t *testing.T) {
		r := on.waitFor(t, on.anonymous(t), "/metrics", http.StatusOK)
		if r.user() != "system:anonymous" || !slices.Equal(r.groups(), []string{"system:unauthenticated"}) {
			t.Errorf("identity = %q %q, want system:anonymous [system:unauthenticated]", r.user(), r.groups())
		}
		// The grant is for nodes/metrics only.
		on.expect(t, on.anonymous(t), "/stats/summary", http.StatusForbidden)
		// A credential that fails is never downgraded to anonymous.
		on.expect(t, on.withToken(t, "garbage", "garbage"), "/metrics", http.StatusUnauthorized)
		// With anonymous off, RBAC does not matter: there is no user to authorize.
		off.expect(t, off.anonymous(t), "/metrics", http.StatusUnauthorized)
		off.expect(t, off.anonymous(t), "/healthz", http.StatusUnauthorized)
	})

	if n, m := off.reviewLines("SubjectAccessReview"), off.reviewLines("TokenReview"); n != 0 || m != 0 {
		t.Errorf("anonymous off sent %d SubjectAccessReviews and %d TokenReviews, want none", n, m)
	}
	if n := on.reviewLines("SubjectAccessReview"); n < 2 {
		t.Errorf("anonymous on sent %d SubjectAccessReviews, want at least 2 (denied, then allowed)", n)
	}
}
