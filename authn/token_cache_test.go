package authn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
)

func TestTokenCacheTTL(t *testing.T) {
	tests := []struct {
		name   string
		status authenticationv1.TokenReviewStatus
	}{
		{name: "authenticated", status: authenticated("alice")},
		{name: "rejected", status: rejected("invalid")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
				return tt.status, nil
			})
			clock := newFakeClock()
			a := newTestToken(t, client, TokenOptions{CacheTTL: time.Minute, Now: clock.Now})
			steps := []struct {
				advance   time.Duration
				wantCalls int32
			}{
				{0, 1},
				{59 * time.Second, 1},
				{time.Second, 2}, // the entry expired at exactly one minute
				{30 * time.Second, 2},
			}
			for i, s := range steps {
				clock.Step(s.advance)
				_, ok, _ := a.AuthenticateToken(t.Context(), testToken)
				if ok != tt.status.Authenticated {
					t.Fatalf("step %d: ok=%v", i, ok)
				}
				if n := rec.calls.Load(); n != s.wantCalls {
					t.Fatalf("step %d: %d TokenReviews sent, want %d", i, n, s.wantCalls)
				}
			}
		})
	}
}

func TestTokenDefaultsAndDisabledCache(t *testing.T) {
	client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		return authenticated("alice"), nil
	})
	a := newTestToken(t, client, TokenOptions{})
	if a.ttl != DefaultTokenCacheTTL || a.timeout != DefaultTokenTimeout {
		t.Fatalf("defaults: ttl %s timeout %s", a.ttl, a.timeout)
	}

	off := newTestToken(t, client, TokenOptions{CacheTTL: -1})
	for range 3 {
		if _, ok, err := off.AuthenticateToken(t.Context(), testToken); !ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
	}
	if n := rec.calls.Load(); n != 3 || off.cache.Len() != 0 {
		t.Fatalf("with caching disabled: %d reviews, %d cached; want 3 and 0", n, off.cache.Len())
	}
}

// TestTokenThunderingHerd checks that many concurrent requests with one uncached token send
// exactly one TokenReview.
func TestTokenThunderingHerd(t *testing.T) {
	release := make(chan struct{})
	client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		<-release
		return authenticated("alice", "dev"), nil
	})
	a := newTestToken(t, client, TokenOptions{})

	const n = 1000
	var wg sync.WaitGroup
	var good atomic.Int32
	for range n {
		wg.Go(func() {
			resp, ok, err := a.AuthenticateRequest(headerRequest("Bearer " + testToken).WithContext(t.Context()))
			if err != nil || !ok || resp.User.GetName() != "alice" {
				t.Errorf("ok=%v err=%v", ok, err)
				return
			}
			good.Add(1)
		})
	}
	eventually(t, "the first TokenReview", func() bool { return rec.calls.Load() >= 1 })
	close(release)
	wg.Wait()
	if got := good.Load(); got != n {
		t.Fatalf("%d of %d requests authenticated", got, n)
	}
	specs := rec.sent()
	if len(specs) != 1 || specs[0].Token != testToken {
		t.Fatalf("%d TokenReviews sent for %d concurrent requests, want exactly 1", len(specs), n)
	}
}

func TestTokenWaiterContextCancelled(t *testing.T) {
	release := make(chan struct{})
	client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		<-release
		return authenticated("alice"), nil
	})
	a := newTestToken(t, client, TokenOptions{})

	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, ok, err := a.AuthenticateToken(ctx, testToken)
		done <- result{ok, err}
	}()
	eventually(t, "the TokenReview", func() bool { return rec.calls.Load() == 1 })
	cancel()
	res := <-done
	if res.ok || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled waiter: ok=%v err=%v, want context.Canceled", res.ok, res.err)
	}
	assertNoSecret(t, res.err, "", testToken)

	// The review itself goes on for others and its result is cached.
	close(release)
	if _, ok, err := a.AuthenticateToken(t.Context(), testToken); !ok || err != nil {
		t.Fatalf("after cancellation: ok=%v err=%v", ok, err)
	}
	if n := rec.calls.Load(); n != 1 {
		t.Fatalf("%d TokenReviews sent, want 1", n)
	}
}

func TestTokenCacheBoundedUnderFlood(t *testing.T) {
	client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		return rejected("invalid bearer token"), nil
	})
	const bound = 64 // a multiple of the cache's shard count, so the bound is exact
	a := newTestToken(t, client, TokenOptions{MaxCacheEntries: bound})
	const flood = 3000
	for i := range flood {
		token := fmt.Sprintf("bogus-%d", i)
		if _, ok, err := a.AuthenticateToken(t.Context(), token); ok || err == nil {
			t.Fatalf("bogus token %d accepted", i)
		}
		if n := a.cache.Len(); n > bound {
			t.Fatalf("after %d bogus tokens the cache holds %d entries, bound %d", i+1, n, bound)
		}
	}
	if n := rec.calls.Load(); n != flood {
		t.Fatalf("%d TokenReviews sent for %d distinct tokens", n, flood)
	}
	if n := a.cache.Len(); n < bound/2 {
		t.Fatalf("cache holds only %d entries after the flood; eviction too eager", n)
	}
}
