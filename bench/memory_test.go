package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"

	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/authz"
)

const (
	// memoryEntries is how many distinct tokens or decisions the memory benchmarks cache.
	memoryEntries = 100_000
	// upstreamDecisionCacheSize is the fixed size of the LRU behind the upstream SubjectAccessReview
	// webhook (k8s.io/apiserver/plugin/pkg/authorizer/webhook): it keeps at most this many of
	// the memoryEntries decisions.
	upstreamDecisionCacheSize = 8192
)

// BenchmarkMemoryPerToken caches memoryEntries distinct tokens (each a distinct service
// account with the four extra values of a pod-bound token) and reports the heap they keep, per
// cached token, after a garbage collection. authfilter's token cache is sized to hold them all
// (its default bound is 10000); upstream's is unbounded. It runs the fill once, whatever b.N.
func BenchmarkMemoryPerToken(b *testing.B) { benchMemoryPerToken(b, "") }

// BenchmarkMemoryPerTokenNoExtra is BenchmarkMemoryPerToken with users without extra.
func BenchmarkMemoryPerTokenNoExtra(b *testing.B) { benchMemoryPerToken(b, PlainPrefix) }

// BenchmarkMemoryPerTokenOwnNamespace is BenchmarkMemoryPerToken with every service account in
// a namespace of its own: no two cached users have the same groups, authfilter's worst case
// (users with the same groups and extra keys share one copy of them).
func BenchmarkMemoryPerTokenOwnNamespace(b *testing.B) { benchMemoryPerToken(b, OwnNamespacePrefix) }

// BenchmarkMemoryPerTokenNoExtraOwnNamespace is BenchmarkMemoryPerTokenOwnNamespace with users
// without extra.
func BenchmarkMemoryPerTokenNoExtraOwnNamespace(b *testing.B) {
	benchMemoryPerToken(b, OwnNamespacePrefix+PlainPrefix)
}

func benchMemoryPerToken(b *testing.B, prefix string) {
	for _, c := range chains {
		b.Run(c.subName(), func(b *testing.B) {
			_, cs := newClientset(b)
			a := tokenAuthenticator(b, c, cs)
			perEntry := heapPerEntry(memoryEntries, memoryEntries, func(i int) {
				r := tokenRequest(Token(fmt.Sprintf("%smemory-%d", prefix, i), 0))
				if resp, ok, err := a.AuthenticateRequest(r); err != nil || !ok || resp == nil {
					b.Fatalf("token %d: ok=%v err=%v", i, ok, err)
				}
			})
			runtime.KeepAlive(a)
			b.ReportMetric(perEntry, "B/entry")
			b.ReportMetric(memoryEntries, "entries")
		})
	}
}

// BenchmarkMemoryPerDecision caches memoryEntries distinct allowed decisions (get
// nodes/metrics for as many service accounts, with the user shape the Backend returns) and
// reports the heap they keep per cached decision. Upstream keeps only the last
// upstreamDecisionCacheSize of them, so its figure is divided by that.
func BenchmarkMemoryPerDecision(b *testing.B) { benchMemoryPerDecision(b, "") }

// BenchmarkMemoryPerDecisionNoExtra is BenchmarkMemoryPerDecision with users without extra.
func BenchmarkMemoryPerDecisionNoExtra(b *testing.B) { benchMemoryPerDecision(b, PlainPrefix) }

func benchMemoryPerDecision(b *testing.B, prefix string) {
	for _, c := range chains {
		b.Run(c.subName(), func(b *testing.B) {
			_, cs := newClientset(b)
			a := decisionAuthorizer(b, c, cs)
			kept := memoryEntries
			if c == upstreamChain {
				kept = upstreamDecisionCacheSize
			}
			ctx := context.Background()
			perEntry := heapPerEntry(memoryEntries, kept, func(i int) {
				info := UserFor(fmt.Sprintf("%smemory-%d", prefix, i))
				extra := make(map[string][]string, len(info.Extra))
				for k, v := range info.Extra {
					extra[k] = v
				}
				attrs := authorizer.AttributesRecord{
					User: &user.DefaultInfo{Name: info.Username, UID: info.UID, Groups: info.Groups, Extra: extra},
					Verb: "get", APIVersion: "v1", Resource: "nodes", Subresource: "metrics", Name: nodeName,
					ResourceRequest: true, Path: scrapePath,
				}
				if d, _, err := a.Authorize(ctx, attrs); d != authorizer.DecisionAllow || err != nil {
					b.Fatalf("decision %d: %v %v", i, d, err)
				}
			})
			runtime.KeepAlive(a)
			b.ReportMetric(perEntry, "B/entry")
			b.ReportMetric(float64(kept), "entries")
		})
	}
}

// heapPerEntry runs fill(0..n-1) and returns the growth of the live heap, after garbage
// collection, divided by kept.
func heapPerEntry(n, kept int, fill func(i int)) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		fill(i)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(kept)
}

// tokenAuthenticator returns chain c's token authentication: upstream's whole delegating
// authenticator, or authfilter's TokenReview authenticator with the kubelet's TTL and room
// for memoryEntries tokens.
func tokenAuthenticator(b *testing.B, c chain, cs kubernetes.Interface) authenticator.Request {
	b.Helper()
	s := kubeletDefaults(b)
	if c == upstreamChain {
		a, err := upstreamAuthenticator(s, cs)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	a, err := authn.NewToken(cs.AuthenticationV1().TokenReviews(), authn.TokenOptions{
		CacheTTL: s.tokenTTL, MaxCacheEntries: 2 * memoryEntries,
	})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// decisionAuthorizer returns chain c's SubjectAccessReview authorizer with the kubelet's TTLs;
// authfilter's with room for memoryEntries decisions.
func decisionAuthorizer(b *testing.B, c chain, cs kubernetes.Interface) authorizer.Authorizer {
	b.Helper()
	s := kubeletDefaults(b)
	if c == upstreamChain {
		a, err := upstreamAuthorizer(s, cs)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	a, err := authz.NewSAR(cs.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{
		AllowCacheTTL: s.allowTTL, DenyCacheTTL: s.denyTTL, MaxCacheEntries: 2 * memoryEntries, Timeout: 10 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	return a
}
