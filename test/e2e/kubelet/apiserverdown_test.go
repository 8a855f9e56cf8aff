//go:build e2e

package kubelet_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestAPIServerDown stops kube-apiserver while the example runs. Requests whose token and
// decision are cached keep working; anything that needs a review fails closed: 401 for a token
// the example has not seen, 5xx for a decision it has not cached, never 2xx. After the API
// server restarts the same example process serves them again.
func TestAPIServerDown(t *testing.T) {
	const (
		ns, sa = "e2e-down", "worker"
		node   = "node-down"
	)
	e := newEnv(t, envOptions{})
	// Allowed decisions cached 5m, tokens 2m (the defaults); denials 1s.
	s := e.startServer(t, node, append(e.serverFlags(t, node), "--authorization-webhook-cache-unauthorized-ttl=1s")...)
	e.serviceAccount(t, ns, sa)
	saUser := "system:serviceaccount:" + ns + ":" + sa
	e.grant(t, "e2e:worker", []rbacv1.PolicyRule{nodeRule([]string{"get"}, "stats", "spec")},
		saSubject(ns, sa), userSubject("cert-user"))
	for _, u := range []string{saUser, "cert-user"} {
		for _, sub := range []string{"stats", "spec"} {
			e.waitAccess(t, u, nil, nodeAccess("get", sub, node), true)
		}
	}
	seen := s.withToken(t, "seen token", e.token(t, ns, sa))
	unseen := s.withToken(t, "unseen token", e.token(t, ns, sa)) // minted now, first used while down
	cert := s.as(t, "cert-user", e.clientCert(t, "cert-user"), "")
	s.expect(t, seen, "/stats/summary", http.StatusOK)
	s.expect(t, cert, "/stats/summary", http.StatusOK)
	pid := s.pid()

	down := time.Now()
	if err := e.c.StopAPIServer(); err != nil {
		t.Fatalf("StopAPIServer: %v", err)
	}
	t.Logf("kube-apiserver stopped in %v", time.Since(down).Round(time.Millisecond))

	t.Run("while down", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			c    *caller
			path string
			want func(code int) bool
			what string
		}{
			{"token and decision cached", seen, "/stats/summary", is(http.StatusOK), "200 (cached)"},
			{"certificate, decision cached", cert, "/stats/summary", is(http.StatusOK), "200 (cached)"},
			{"token cached, decision not", seen, "/spec/", is5xx, "5xx"},
			{"certificate, decision not cached", cert, "/spec/", is5xx, "5xx"},
			{"token never seen", unseen, "/stats/summary", is(http.StatusUnauthorized), "401"},
			{"garbage token", s.withToken(t, "garbage", "garbage"), "/stats/summary", is(http.StatusUnauthorized), "401"},
			{"no credentials", s.anonymous(t), "/stats/summary", is(http.StatusUnauthorized), "401"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// Twice: a failed review is not cached, and does not turn into a pass.
				for range 2 {
					r := s.get(t, tt.c, tt.path)
					if !tt.want(r.code) {
						t.Fatalf("GET %s as %s = %v, want %s", tt.path, tt.c.name, r, tt.what)
					}
					if tt.what == "5xx" && !strings.HasPrefix(r.body, "Authorization error (user=") {
						t.Errorf("body = %q", r.body)
					}
				}
			})
		}
		// The reviews were tried and failed; the example logged why.
		if !strings.Contains(s.log(), "connection refused") {
			t.Errorf("example log does not show the failed reviews")
		}
	})

	up := time.Now()
	if err := e.c.StartAPIServer(t.Context()); err != nil {
		t.Fatalf("StartAPIServer: %v", err)
	}
	t.Logf("kube-apiserver restarted in %v", time.Since(up).Round(time.Millisecond))

	t.Run("after restart, same example process", func(t *testing.T) {
		if r := s.waitFor(t, unseen, "/stats/summary", http.StatusOK); r.user() != saUser {
			t.Errorf("identity = %q, want %q", r.user(), saUser)
		}
		s.waitFor(t, seen, "/spec/", http.StatusOK)
		s.waitFor(t, cert, "/spec/", http.StatusOK)
		if !s.running() || s.pid() != pid {
			t.Errorf("example restarted or exited (pid %d, was %d)", s.pid(), pid)
		}
	})
}

func is(code int) func(int) bool { return func(c int) bool { return c == code } }

func is5xx(code int) bool { return code >= 500 && code <= 599 }
