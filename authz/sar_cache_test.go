package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestSARCacheTTL(t *testing.T) {
	noOpinion := authorizationv1.SubjectAccessReviewStatus{Reason: "no rule"}
	tests := []struct {
		name    string
		opts    SAROptions
		status  authorizationv1.SubjectAccessReviewStatus
		wantDec authorizer.Decision
		ttl     time.Duration // 0: not cached
	}{
		{"allow default 5m", SAROptions{}, allowed(""), authorizer.DecisionAllow, 5 * time.Minute},
		{"deny default 30s", SAROptions{}, denied("no"), authorizer.DecisionDeny, 30 * time.Second},
		{"no opinion uses the deny TTL", SAROptions{}, noOpinion, authorizer.DecisionNoOpinion, 30 * time.Second},
		{"allow custom", SAROptions{AllowCacheTTL: time.Minute, DenyCacheTTL: time.Hour}, allowed(""), authorizer.DecisionAllow, time.Minute},
		{"deny custom", SAROptions{AllowCacheTTL: time.Hour, DenyCacheTTL: 10 * time.Second}, denied(""), authorizer.DecisionDeny, 10 * time.Second},
		{"allow disabled", SAROptions{AllowCacheTTL: -1}, allowed(""), authorizer.DecisionAllow, 0},
		{"deny still cached when allow disabled", SAROptions{AllowCacheTTL: -1}, denied(""), authorizer.DecisionDeny, 30 * time.Second},
		{"deny disabled", SAROptions{DenyCacheTTL: -1}, denied(""), authorizer.DecisionDeny, 0},
		{"no opinion disabled", SAROptions{DenyCacheTTL: -1}, noOpinion, authorizer.DecisionNoOpinion, 0},
		{"allow still cached when deny disabled", SAROptions{DenyCacheTTL: -1}, allowed(""), authorizer.DecisionAllow, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			opts := tt.opts
			opts.Now = clk.Now
			a, r := newTestSAR(t, opts, respondWith(tt.status))
			authorize := func(wantReviews int) {
				t.Helper()
				if dec, _, err := a.Authorize(t.Context(), aliceGetsProxy); dec != tt.wantDec || err != nil {
					t.Fatalf("Authorize = %v, %v; want %v", dec, err, tt.wantDec)
				}
				if n := r.count(); n != wantReviews {
					t.Fatalf("%d reviews sent, want %d", n, wantReviews)
				}
			}
			authorize(1)
			if tt.ttl == 0 {
				authorize(2)
				authorize(3)
				if n := a.cache.Len(); n != 0 {
					t.Fatalf("cache holds %d entries with caching disabled", n)
				}
				return
			}
			clk.Step(tt.ttl - time.Second)
			authorize(1) // still cached
			clk.Step(time.Second)
			authorize(2) // expired: asked again
			authorize(2) // and cached again
		})
	}
}

// TestSARAllowAndDenyExpireSeparately keeps an allowed and a denied decision in the one cache
// and checks that each expires after its own TTL.
func TestSARAllowAndDenyExpireSeparately(t *testing.T) {
	clk := newFakeClock()
	a, r := newTestSAR(t, SAROptions{Now: clk.Now}, func(spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		if spec.ResourceAttributes.Subresource == "proxy" {
			return allowed(""), nil
		}
		return denied(""), nil
	})
	stats := aliceGetsProxy
	stats.Subresource = "stats"
	check := func(attrs authorizer.Attributes, want authorizer.Decision) {
		t.Helper()
		if dec, _, err := a.Authorize(t.Context(), attrs); dec != want || err != nil {
			t.Fatalf("Authorize(%s) = %v, %v; want %v", attrs.GetSubresource(), dec, err, want)
		}
	}
	check(aliceGetsProxy, authorizer.DecisionAllow)
	check(stats, authorizer.DecisionDeny)
	if n := r.count(); n != 2 {
		t.Fatalf("%d reviews, want 2", n)
	}
	clk.Step(30 * time.Second)
	check(aliceGetsProxy, authorizer.DecisionAllow) // allow: 5m, still cached
	check(stats, authorizer.DecisionDeny)           // deny: 30s, asked again
	sent := r.sent()
	if len(sent) != 3 || sent[2].ResourceAttributes.Subresource != "stats" {
		t.Fatalf("reviews sent after 30s: %d, last %+v; want the stats review only", len(sent), sent[len(sent)-1].ResourceAttributes)
	}
}

// TestSARCacheKeysSeparateAttributes sends one review per distinct spec and checks that each
// cached decision is served only to its own attributes.
func TestSARCacheKeysSeparateAttributes(t *testing.T) {
	alice := func(mod func(*user.DefaultInfo)) user.Info {
		u := &user.DefaultInfo{Name: "alice", UID: "1", Groups: []string{"a", "b"}, Extra: map[string][]string{"k": {"v1", "v2"}}}
		if mod != nil {
			mod(u)
		}
		return u
	}
	base := authorizer.AttributesRecord{
		User: alice(nil), Verb: "get", Namespace: "ns", APIGroup: "g", APIVersion: "v1",
		Resource: "nodes", Subresource: "proxy", Name: "n", ResourceRequest: true,
	}
	res := func(mod func(*authorizer.AttributesRecord)) authorizer.AttributesRecord {
		r := base
		mod(&r)
		return r
	}
	who := func(mod func(*user.DefaultInfo)) authorizer.AttributesRecord {
		r := base
		r.User = alice(mod)
		return r
	}
	nonRes := authorizer.AttributesRecord{User: alice(nil), Verb: "get", Path: "/nodes"}
	cases := map[string]authorizer.AttributesRecord{
		"base":                  base,
		"user":                  who(func(u *user.DefaultInfo) { u.Name = "bob" }),
		"uid":                   who(func(u *user.DefaultInfo) { u.UID = "2" }),
		"extra group":           who(func(u *user.DefaultInfo) { u.Groups = append(u.Groups, "c") }),
		"group order":           who(func(u *user.DefaultInfo) { u.Groups = []string{"b", "a"} }),
		"groups joined":         who(func(u *user.DefaultInfo) { u.Groups = []string{"ab"} }),
		"no extra":              who(func(u *user.DefaultInfo) { u.Extra = nil }),
		"extra value":           who(func(u *user.DefaultInfo) { u.Extra["k"] = []string{"v1"} }),
		"extra key":             who(func(u *user.DefaultInfo) { u.Extra = map[string][]string{"k2": {"v1", "v2"}} }),
		"extra split":           who(func(u *user.DefaultInfo) { u.Extra["j"] = nil }),
		"namespace":             res(func(r *authorizer.AttributesRecord) { r.Namespace = "other" }),
		"verb":                  res(func(r *authorizer.AttributesRecord) { r.Verb = "create" }),
		"group":                 res(func(r *authorizer.AttributesRecord) { r.APIGroup = "" }),
		"version":               res(func(r *authorizer.AttributesRecord) { r.APIVersion = "v2" }),
		"resource":              res(func(r *authorizer.AttributesRecord) { r.Resource = "pods" }),
		"subresource":           res(func(r *authorizer.AttributesRecord) { r.Subresource = "stats" }),
		"no subresource":        res(func(r *authorizer.AttributesRecord) { r.Subresource = "" }),
		"name":                  res(func(r *authorizer.AttributesRecord) { r.Name = "m" }),
		"name moved to ns":      res(func(r *authorizer.AttributesRecord) { r.Namespace, r.Name = "nsn", "" }),
		"field selector":        res(func(r *authorizer.AttributesRecord) { r.FieldSelectorRequirements = mustFields(t, "spec.nodeName=n") }),
		"field selector value":  res(func(r *authorizer.AttributesRecord) { r.FieldSelectorRequirements = mustFields(t, "spec.nodeName=m") }),
		"field selector op":     res(func(r *authorizer.AttributesRecord) { r.FieldSelectorRequirements = mustFields(t, "spec.nodeName!=n") }),
		"label selector":        res(func(r *authorizer.AttributesRecord) { r.LabelSelectorRequirements = mustLabels(t, "app=web") }),
		"label selector exists": res(func(r *authorizer.AttributesRecord) { r.LabelSelectorRequirements = mustLabels(t, "app") }),
		"both selectors": res(func(r *authorizer.AttributesRecord) {
			r.FieldSelectorRequirements = mustFields(t, "spec.nodeName=n")
			r.LabelSelectorRequirements = mustLabels(t, "app=web")
		}),
		"non-resource":      nonRes,
		"non-resource path": {User: alice(nil), Verb: "get", Path: "/nodes/"},
		"non-resource verb": {User: alice(nil), Verb: "post", Path: "/nodes"},
		"non-resource user": {User: alice(func(u *user.DefaultInfo) { u.Name = "bob" }), Verb: "get", Path: "/nodes"},
	}

	// The API server answers with the spec it received as the reason.
	specReason := func(spec authorizationv1.SubjectAccessReviewSpec) string {
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, r := newTestSAR(t, SAROptions{}, func(spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		return authorizationv1.SubjectAccessReviewStatus{Allowed: spec.User == "alice", Reason: specReason(spec)}, nil
	})

	want := map[string]string{}
	seen := map[string]string{}
	for name, attrs := range cases {
		spec, err := reviewSpec(attrs)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = specReason(spec)
		if other, dup := seen[want[name]]; dup {
			t.Fatalf("test cases %q and %q send the same review", name, other)
		}
		seen[want[name]] = name
	}
	for round := range 2 { // round 1 is served from the cache
		for name, attrs := range cases {
			_, reason, err := a.Authorize(t.Context(), attrs)
			if err != nil || reason != want[name] {
				t.Fatalf("round %d, %s: got reason %s, %v; want %s", round, name, reason, err, want[name])
			}
		}
		if n := r.count(); n != len(cases) {
			t.Fatalf("round %d: %d reviews sent for %d distinct attributes", round, n, len(cases))
		}
	}
}

// TestSARMergesConcurrentMisses sends 1000 identical requests while the only review is blocked.
func TestSARMergesConcurrentMisses(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	a, r := newTestSAR(t, SAROptions{}, func(authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		once.Do(func() { close(entered) })
		<-release
		return allowed("ok"), nil
	})
	const callers = 1000
	var wg sync.WaitGroup
	results := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			dec, reason, err := a.Authorize(t.Context(), aliceGetsProxy)
			if err == nil && (dec != authorizer.DecisionAllow || reason != "ok") {
				err = fmt.Errorf("got %v, %q", dec, reason)
			}
			results <- err
		})
	}
	<-entered
	close(release)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := r.count(); n != 1 {
		t.Fatalf("%d reviews sent for %d identical requests, want 1", n, callers)
	}
}

// TestSARWaiterContext cancels a caller while its review is in flight: the caller returns its
// context's error, and the review still completes and is cached for the others.
func TestSARWaiterContext(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	a, r := newTestSAR(t, SAROptions{}, func(authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		entered <- struct{}{}
		<-release
		return allowed(""), nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		dec authorizer.Decision
		err error
	}
	done := make(chan result)
	go func() {
		dec, _, err := a.Authorize(ctx, aliceGetsProxy)
		done <- result{dec, err}
	}()
	<-entered
	cancel()
	if got := <-done; got.dec != authorizer.DecisionNoOpinion || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("cancelled caller got %v, %v; want NoOpinion, context.Canceled", got.dec, got.err)
	}
	close(release)
	if dec, _, err := a.Authorize(t.Context(), aliceGetsProxy); dec != authorizer.DecisionAllow || err != nil {
		t.Fatalf("next caller got %v, %v; want Allow", dec, err)
	}
	if n := r.count(); n != 1 {
		t.Fatalf("%d reviews sent, want 1 (the abandoned review is shared and cached)", n)
	}
}

// TestSARCacheBound floods the authorizer with distinct attributes and checks the cache never
// holds more than MaxCacheEntries decisions.
func TestSARCacheBound(t *testing.T) {
	const max = 64 // a multiple of the cache's shard count, so the bound is exact
	a, r := newTestSAR(t, SAROptions{MaxCacheEntries: max}, respondWith(denied("")))
	const requests = 2000
	for i := range requests {
		attrs := aliceGetsProxy
		attrs.Name = fmt.Sprintf("node-%d", i)
		if i%2 == 1 {
			attrs.FieldSelectorRequirements = mustFields(t, "a="+attrs.Name)
			attrs.LabelSelectorRequirements = mustLabels(t, "b="+attrs.Name)
		}
		if dec, _, err := a.Authorize(t.Context(), attrs); dec != authorizer.DecisionDeny || err != nil {
			t.Fatalf("Authorize = %v, %v", dec, err)
		}
		if n := a.cache.Len(); n > max {
			t.Fatalf("after %d distinct requests the cache holds %d entries, bound %d", i+1, n, max)
		}
	}
	if n := r.count(); n != requests {
		t.Fatalf("%d reviews sent for %d distinct requests", n, requests)
	}
	if n := a.cache.Len(); n < max/2 {
		t.Fatalf("cache holds only %d entries after a flood, want it near %d", n, max)
	}
}
