package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// benchHit sends a request made by newRequest through both chains, built with s over one
// shared clientset, after a first request that fills their caches: every timed request is a
// cache hit.
func benchHit(b *testing.B, s settings, newRequest func() *http.Request) {
	_, cs := newClientset(b)
	for _, c := range chains {
		b.Run(c.subName(), func(b *testing.B) {
			h, cl := c.build(b, s, cs, ok), newClient(newRequest())
			if code := cl.do(h); code != http.StatusOK {
				b.Fatalf("warm-up request: status %d, want 200", code)
			}
			b.ReportAllocs()
			for b.Loop() {
				if code := cl.do(h); code != http.StatusOK {
					b.Fatalf("status %d, want 200", code)
				}
			}
		})
	}
}

// BenchmarkBare is the floor: the protected handler alone, with no filter.
func BenchmarkBare(b *testing.B) {
	cl := newClient(tokenRequest(Token("prometheus", 0)))
	b.ReportAllocs()
	for b.Loop() {
		cl.do(ok)
	}
}

// BenchmarkAnonymousAlwaysAllow: anonymous access on, authorization mode AlwaysAllow (the
// kubelet's legacy flag defaults), a request without any credential.
func BenchmarkAnonymousAlwaysAllow(b *testing.B) {
	s := kubeletDefaults(b)
	s.anonymous, s.alwaysAllow = true, true
	benchHit(b, s, anonymousRequest)
}

// BenchmarkX509RSAHit: an RSA-2048 client certificate, the SubjectAccessReview cached.
func BenchmarkX509RSAHit(b *testing.B) {
	p := loadPKI(b)
	benchHit(b, kubeletDefaults(b), func() *http.Request { return certRequest(p.rsaLeaf) })
}

// BenchmarkX509ECDSAHit: an ECDSA P-256 client certificate, the SubjectAccessReview cached.
func BenchmarkX509ECDSAHit(b *testing.B) {
	p := loadPKI(b)
	benchHit(b, kubeletDefaults(b), func() *http.Request { return certRequest(p.ecdsaLeaf) })
}

// BenchmarkTokenHit: a bearer token, its TokenReview and SubjectAccessReview cached.
func BenchmarkTokenHit(b *testing.B) {
	benchHit(b, kubeletDefaults(b), func() *http.Request { return tokenRequest(Token("prometheus", 0)) })
}

// BenchmarkTokenHitJWTSize is BenchmarkTokenHit with a token of the size of a bound
// service-account JWT (~1 KB), which both chains hash on every request.
func BenchmarkTokenHitJWTSize(b *testing.B) {
	benchHit(b, kubeletDefaults(b), func() *http.Request { return tokenRequest(Token("prometheus", 900)) })
}

// BenchmarkTokenHitParallel is BenchmarkTokenHit from GOMAXPROCS goroutines at once (run it
// with -cpu 1,2 to see how it scales). The "floor" sub-benchmark runs only the work that any
// filter keeping authfilter's contract must do on every request (copy the request with the
// user in its context, copy its headers without the Authorization header): how well that
// scales on the machine bounds how well a whole chain can. The "cpu" sub-benchmark only
// computes the HMAC-SHA256 of the token, allocating nothing: how well pure computation scales
// on the machine during the same round (the shared machine's second CPU is not always free).
func BenchmarkTokenHitParallel(b *testing.B) {
	s, token := kubeletDefaults(b), Token("prometheus", 0)
	_, cs := newClientset(b)
	u := &user.DefaultInfo{Name: "system:serviceaccount:monitoring:prometheus"}
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.WithContext(request.WithUser(r.Context(), u))
		out.Header = maps.Clone(r.Header)
		delete(out.Header, "Authorization")
		ok.ServeHTTP(w, out)
	})
	for _, c := range append(chains, "floor", "cpu") {
		b.Run(c.subName(), func(b *testing.B) {
			if c == "cpu" {
				benchHMACParallel(b, token)
				return
			}
			h := http.Handler(floor)
			if c != "floor" {
				h = c.build(b, s, cs, ok)
			}
			if code := newClient(tokenRequest(token)).do(h); code != http.StatusOK {
				b.Fatalf("warm-up request: status %d, want 200", code)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				cl := newClient(tokenRequest(token)) // one per goroutine: upstream writes to it
				for pb.Next() {
					if code := cl.do(h); code != http.StatusOK {
						b.Errorf("status %d, want 200", code)
						return
					}
				}
			})
		})
	}
}

// benchHMACParallel computes the HMAC-SHA256 of token from GOMAXPROCS goroutines, each with
// its own key and buffer: no allocation, no shared memory.
func benchHMACParallel(b *testing.B, token string) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		mac := hmac.New(sha256.New, []byte("a 32-byte key for the benchmark"))
		msg := []byte(token)
		var sum []byte
		for pb.Next() {
			mac.Reset()
			mac.Write(msg)
			sum = mac.Sum(sum[:0])
			if len(sum) != sha256.Size {
				b.Errorf("HMAC of %d bytes", len(sum))
				return
			}
		}
	})
}

// BenchmarkFullMiss: a new token (and so a new user) on every request, so that every request
// sends one TokenReview and one SubjectAccessReview; the backend answers at once. The
// "backend" sub-benchmark sends the same two reviews through the clientset alone: what every
// chain must pay per miss, to be subtracted from the other two.
func BenchmarkFullMiss(b *testing.B) {
	s := kubeletDefaults(b)
	be, cs := newClientset(b)
	for _, c := range chains {
		b.Run(c.subName(), func(b *testing.B) {
			h := c.build(b, s, cs, ok)
			clients := make([]*client, b.N)
			for i := range clients {
				clients[i] = newClient(tokenRequest(Token(fmt.Sprintf("miss-%d", i), 0)))
			}
			t0, s0 := be.Counts()
			b.ReportAllocs()
			b.ResetTimer()
			for _, cl := range clients {
				if code := cl.do(h); code != http.StatusOK {
					b.Fatalf("status %d, want 200", code)
				}
			}
			b.StopTimer()
			if t1, s1 := be.Counts(); t1-t0 != int64(b.N) || s1-s0 != int64(b.N) {
				b.Fatalf("%d requests sent %d TokenReviews and %d SARs, want one each per request", b.N, t1-t0, s1-s0)
			}
		})
	}
	b.Run(chain("backend").subName(), func(b *testing.B) {
		ctx := context.Background()
		tokens := make([]string, b.N)
		for i := range tokens {
			tokens[i] = Token(fmt.Sprintf("miss-%d", i), 0)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			tr, err := cs.AuthenticationV1().TokenReviews().Create(ctx,
				&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: tokens[i]}}, metav1.CreateOptions{})
			if err != nil || !tr.Status.Authenticated {
				b.Fatalf("TokenReview: %v %+v", err, tr)
			}
			u := tr.Status.User
			extra := make(map[string]authorizationv1.ExtraValue, len(u.Extra))
			for k, v := range u.Extra {
				extra[k] = authorizationv1.ExtraValue(v)
			}
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Verb: "get", Version: "v1", Resource: "nodes", Subresource: "metrics", Name: nodeName,
					},
				},
			}, metav1.CreateOptions{})
			if err != nil || !sar.Status.Allowed {
				b.Fatalf("SubjectAccessReview: %v %+v", err, sar)
			}
		}
	})
}

// BenchmarkHerd: 1000 goroutines send the same token request at once to a chain with cold
// caches while the API server takes 50 ms per review. It reports how many TokenReviews and
// SubjectAccessReviews reached the API server per herd.
func BenchmarkHerd(b *testing.B) {
	const herd = 1000
	s, token := kubeletDefaults(b), Token("prometheus", 0)
	be, cs := newClientset(b)
	be.SetDelay(50 * time.Millisecond)
	for _, c := range chains {
		b.Run(c.subName(), func(b *testing.B) {
			var trs, sars int64
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				h := c.build(b, s, cs, ok) // cold caches
				t0, s0 := be.Counts()
				b.StartTimer()
				if failed := runHerd(h, token, herd); failed > 0 {
					b.Fatalf("%d of %d requests were not answered 200", failed, herd)
				}
				t1, s1 := be.Counts()
				trs, sars = trs+t1-t0, sars+s1-s0
			}
			b.ReportMetric(float64(trs)/float64(b.N), "TokenReviews/op")
			b.ReportMetric(float64(sars)/float64(b.N), "SARs/op")
		})
	}
}

// runHerd sends a request with token through h from n goroutines released at the same moment,
// and returns how many were not answered 200.
func runHerd(h http.Handler, token string, n int) int {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	start := make(chan struct{})
	for range n {
		cl := newClient(tokenRequest(token))
		wg.Go(func() {
			<-start
			if cl.do(h) != http.StatusOK {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return failed
}
