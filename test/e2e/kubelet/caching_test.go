//go:build e2e

package kubelet_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestCaching counts the reviews the example sends to the real API server (its /metrics
// counters) across repeated requests, then shows when a revoked permission stops working: not
// before the allowed decision's cache TTL has passed, and soon after.
func TestCaching(t *testing.T) {
	const ns = "e2e-caching"
	e := newEnv(t, envOptions{})
	e.serviceAccount(t, ns, "subject")
	e.serviceAccount(t, ns, "revokee")

	t.Run("review counts", func(t *testing.T) {
		// The defaults: tokens cached 2m, allowed 5m, denied 30s; every step takes well under that.
		const node = "node-count"
		s := e.startServer(t, node, e.serverFlags(t, node)...)
		e.grant(t, "e2e:metrics-reader", []rbacv1.PolicyRule{nodeRule([]string{"get"}, "metrics")}, userSubject("metrics-reader"))
		e.grant(t, "e2e:stats-spec", []rbacv1.PolicyRule{nodeRule([]string{"get"}, "stats", "spec")}, saSubject(ns, "subject"))
		e.waitAccess(t, "metrics-reader", nil, nodeAccess("get", "metrics", node), true)
		subjectUser := "system:serviceaccount:" + ns + ":subject"
		e.waitAccess(t, subjectUser, nil, nodeAccess("get", "stats", node), true)
		e.waitAccess(t, subjectUser, nil, nodeAccess("get", "spec", node), true)

		// The reader uses a certificate (no TokenReview); its allowed decision is cached after
		// its first read, so later reads add nothing.
		reader := s.as(t, "metrics-reader", e.clientCert(t, "metrics-reader"), "")
		subject := s.withToken(t, "subject", e.token(t, ns, "subject"))
		last := s.reviews(t, reader)
		if want := (reviewCounts{sar: 1}); last != want {
			t.Fatalf("fresh example after the reader's first read: %+v, want %+v", last, want)
		}
		steps := []struct {
			name  string
			c     *caller
			path  string
			code  int
			delta reviewCounts
		}{
			{"token, allowed: one TokenReview and one SAR for 5 requests", subject, "/stats/summary", http.StatusOK, reviewCounts{sar: 1, tokenReview: 1}},
			{"same token, other allowed subresource: one SAR", subject, "/spec/", http.StatusOK, reviewCounts{sar: 1}},
			{"same token, denied: one SAR, the denial is cached", subject, "/logs/", http.StatusForbidden, reviewCounts{sar: 1}},
			{"garbage token: one TokenReview, the rejection is cached", s.withToken(t, "garbage", "garbage"), "/stats/summary", http.StatusUnauthorized, reviewCounts{tokenReview: 1}},
			{"no credentials, anonymous off: no review", s.anonymous(t), "/stats/summary", http.StatusUnauthorized, reviewCounts{}},
			{"everything cached: no review", subject, "/stats/summary", http.StatusOK, reviewCounts{}},
		}
		for _, st := range steps {
			for range 5 {
				s.expect(t, st.c, st.path, st.code)
			}
			now := s.reviews(t, reader)
			if got := (reviewCounts{sar: now.sar - last.sar, tokenReview: now.tokenReview - last.tokenReview}); got != st.delta {
				t.Errorf("%s: reviews sent %+v, want %+v", st.name, got, st.delta)
			}
			last = now
		}

		// 20 concurrent requests with a token the example has not seen: the misses merge into
		// one TokenReview, and into one SAR: the same user's allowed decision is not reused,
		// because the API server's TokenReview gives each token its own
		// authentication.kubernetes.io/credential-id extra, which the SAR carries.
		fresh := s.withToken(t, "fresh token", e.token(t, ns, "subject"))
		var wg sync.WaitGroup
		codes := make([]int, 20)
		for i := range codes {
			wg.Go(func() {
				if r, err := s.tryGet(t, fresh, "/stats/summary"); err == nil {
					codes[i] = r.code
				}
			})
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Errorf("concurrent request %d: status %d", i, c)
			}
		}
		now := s.reviews(t, reader)
		if got, want := (reviewCounts{sar: now.sar - last.sar, tokenReview: now.tokenReview - last.tokenReview}), (reviewCounts{sar: 1, tokenReview: 1}); got != want {
			t.Errorf("20 concurrent requests with a new token: reviews sent %+v, want %+v", got, want)
		}
		// The log agrees with the counters.
		if n, m := s.reviewLines("SubjectAccessReview"), s.reviewLines("TokenReview"); n != now.sar || m != now.tokenReview {
			t.Errorf("log has %d SAR and %d TokenReview lines, metrics say %+v", n, m, now)
		}
	})

	t.Run("revocation ends access within the authorized TTL", func(t *testing.T) {
		const (
			node = "node-ttl"
			ttl  = 3 * time.Second
			// margin absorbs clock reading around the example's own cache clock.
			margin = 100 * time.Millisecond
		)
		s := e.startServer(t, node, append(e.serverFlags(t, node),
			"--authorization-webhook-cache-authorized-ttl="+ttl.String(),
			"--authorization-webhook-cache-unauthorized-ttl=1s")...)
		user := "system:serviceaccount:" + ns + ":revokee"
		revokee := s.withToken(t, "revokee", e.token(t, ns, "revokee"))
		e.grant(t, "e2e:revokee", []rbacv1.PolicyRule{nodeRule([]string{"get"}, "stats")}, saSubject(ns, "revokee"))

		// The check "right after revocation it is still 200" is only conclusive when it ran
		// within the TTL of the decision; on a machine too slow for that, try again.
		for attempt := 1; ; attempt++ {
			if attempt > 1 {
				e.bind(t, "e2e:revokee", "e2e:revokee", saSubject(ns, "revokee"))
			}
			e.waitAccess(t, user, nil, nodeAccess("get", "stats", node), true)
			// No allowed decision is cached (first time, or the previous attempt saw it end), so
			// the 200 that ends this poll came from a SubjectAccessReview sent during it.
			var allowedStart, allowedEnd time.Time
			eventually(t, "revokee allowed", func() (bool, string) {
				allowedStart = time.Now()
				r, err := s.tryGet(t, revokee, "/stats/summary")
				allowedEnd = time.Now()
				if err != nil {
					return false, err.Error()
				}
				return r.code == http.StatusOK, r.String()
			})

			e.unbind(t, "e2e:revokee")
			right := s.get(t, revokee, "/stats/summary")
			conclusive := time.Since(allowedStart) < ttl-margin
			switch {
			case conclusive && right.code != http.StatusOK:
				t.Fatalf("right after revocation, within the cached decision's TTL: %v, want 200 (cached)", right)
			case !conclusive:
				t.Logf("attempt %d: the request after revocation ran %v after the decision; inconclusive", attempt, time.Since(allowedStart).Round(time.Millisecond))
			}

			e.waitAccess(t, user, nil, nodeAccess("get", "stats", node), false)
			rbacDenies := time.Now()
			// Once the decision has expired (TTL after allowedEnd at the latest) and RBAC
			// denies, every request must be 403; before the TTL from allowedStart, none may be.
			mustDeny := allowedEnd.Add(ttl + margin)
			if rbacDenies.After(mustDeny) {
				mustDeny = rbacDenies
			}
			var endedAfter time.Duration
			eventually(t, "access ends after revocation", func() (bool, string) {
				start := time.Now()
				r, err := s.tryGet(t, revokee, "/stats/summary")
				end := time.Now()
				if err != nil {
					return false, err.Error()
				}
				switch {
				case r.code == http.StatusForbidden && end.Before(allowedStart.Add(ttl-margin)):
					t.Fatalf("denied %v after the allowed decision, before its %v TTL: the cache was not used", end.Sub(allowedStart), ttl)
				case r.code == http.StatusOK && start.After(mustDeny):
					t.Fatalf("still allowed %v after the allowed decision, past its %v TTL and the RBAC change", start.Sub(allowedEnd), ttl)
				case r.code != http.StatusOK && r.code != http.StatusForbidden:
					t.Fatalf("after revocation: %v", r)
				}
				endedAfter = end.Sub(allowedStart)
				return r.code == http.StatusForbidden, r.String()
			})
			t.Logf("attempt %d: access ended %v after the allowed SubjectAccessReview (TTL %v)", attempt, endedAfter.Round(time.Millisecond), ttl)
			if conclusive {
				break
			}
			if attempt == 3 {
				t.Fatalf("after %d attempts the request after revocation never ran within %v of the decision", attempt, ttl)
			}
		}
	})
}
