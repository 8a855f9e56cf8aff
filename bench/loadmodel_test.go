package bench

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load model: N kubelets, each scraped by Prometheus every 15 s on three endpoints with one
// service-account token, and the TokenReviews and SubjectAccessReviews per second that reach
// the API server with each chain. Run it with
//
//	go test -run TestLoadModel -v ./bench/
//
// It simulates time (no real cluster, no sleeping) with each chain's cache behaviour: the TTLs
// it is configured with (2m for tokens, 5m for allowed decisions, both chains), whether
// concurrent misses of one token or one decision are merged into one review, and whether a
// rejected token is cached, which TestLoadModel measures on the real chains first.

const (
	scrapeInterval = 15 * time.Second
	apiLatency     = 20 * time.Millisecond // how long one review takes in the model
	modelWarmUp    = 10 * time.Minute      // caches fill; not counted
	modelWindow    = 60 * time.Minute      // counted
)

// scrapeTargets are the endpoints every Prometheus replica scrapes on every node, and the
// subresource each is authorized as (the kubelet's table, the same in both chains).
var scrapeTargets = []struct{ path, subresource string }{
	{"/metrics", "metrics"},
	{"/metrics/cadvisor", "metrics"},
	{"/stats/summary", "stats"},
}

// behaviour is what the model needs to know about a chain.
type behaviour struct {
	tokenTTL, allowTTL          time.Duration
	mergeTokens, mergeDecisions bool
	cacheRejections             bool // a rejected token is not reviewed again within tokenTTL
}

// measureBehaviour sends the three scrapes of one node at the same moment, with one token,
// through chain c with cold caches while every review takes 20 ms, and derives whether
// concurrent misses are merged: one TokenReview means the token misses were merged; two
// SubjectAccessReviews (nodes/metrics and nodes/stats) mean the two nodes/metrics misses were.
func measureBehaviour(t *testing.T, c chain) behaviour {
	t.Helper()
	s := kubeletDefaults(t)
	be, cs := newClientset(t)
	be.SetDelay(apiLatency)
	h := c.build(t, s, cs, ok)
	var wg sync.WaitGroup
	start := make(chan struct{})
	codes := make([]int, len(scrapeTargets))
	for i, target := range scrapeTargets {
		cl := newClient(tokenRequest(Token("prometheus", 0)))
		cl.r.URL.Path = target.path
		wg.Go(func() {
			<-start
			codes[i] = cl.do(h)
		})
	}
	close(start)
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Fatalf("%s: scrape of %s answered %d", c, scrapeTargets[i].path, code)
		}
	}
	trs, sars := be.Counts()
	t.Logf("%s: 3 concurrent cold scrapes sent %d TokenReviews and %d SubjectAccessReviews", c, trs, sars)
	b := behaviour{tokenTTL: s.tokenTTL, allowTTL: s.allowTTL, mergeTokens: trs == 1, mergeDecisions: sars == 2}

	// Two scrapes, one after the other, with a token the API server rejects.
	be.SetDelay(0)
	for range 2 {
		if code := newClient(tokenRequest("expired-token")).do(h); code != http.StatusUnauthorized {
			t.Fatalf("%s: scrape with a rejected token answered %d", c, code)
		}
	}
	rejected, _ := be.Counts()
	t.Logf("%s: 2 scrapes with a rejected token sent %d TokenReviews", c, rejected-trs)
	b.cacheRejections = rejected-trs == 1
	return b
}

// scrapeSetup is how Prometheus scrapes the nodes.
type scrapeSetup struct {
	name     string
	replicas int  // Prometheus replicas, each scraping every target
	aligned  bool // all scrapes of a node start at the same instant; else each target has its own offset
	rejected bool // the token is rejected (say, it expired after a rotation), so no access is reviewed
}

var scrapeSetups = []scrapeSetup{
	{name: "1 replica, staggered", replicas: 1},
	{name: "2 replicas, aligned", replicas: 2, aligned: true},
	{name: "1 replica, staggered, rejected token", replicas: 1, rejected: true},
}

// loadResult is the API server load of one simulation.
type loadResult struct {
	tokenReviews, sars float64 // per second, averaged over the window
	peak               int     // most reviews of both kinds in one second of the window
}

// cacheState is one cache entry of one kubelet in the model (all times in milliseconds).
type cacheState struct {
	validUntil    int64 // a request before this is a hit
	inflightUntil int64 // a review started before is answered at this time
}

// access models one request to a cache entry at time now: a hit, a wait for the review in
// flight (when merge), or a new review. It returns when the request can go on and whether it
// sent a review.
func (s *cacheState) access(now, latency, ttl int64, merge bool) (int64, bool) {
	switch {
	case now < s.inflightUntil: // the answer is not there yet
		if merge {
			return s.inflightUntil, false
		}
	case now < s.validUntil:
		return now, false
	}
	s.inflightUntil = now + latency
	s.validUntil = s.inflightUntil + ttl
	return s.inflightUntil, true
}

// simulate runs nodes kubelets with behaviour b under setup for warm-up plus window.
func simulate(b behaviour, nodes int, setup scrapeSetup, seed uint64) loadResult {
	rng := rand.New(rand.NewPCG(seed, uint64(nodes)))
	period, latency := scrapeInterval.Milliseconds(), apiLatency.Milliseconds()
	warm, end := modelWarmUp.Milliseconds(), (modelWarmUp + modelWindow).Milliseconds()
	perSecond := make([]int, modelWindow/time.Second)
	var trs, sars int

	type target struct {
		offset      int64
		subresource string
	}
	targets := make([]target, 0, len(scrapeTargets)*setup.replicas)
	for range nodes {
		targets = targets[:0]
		nodeOffset := rng.Int64N(period)
		for range setup.replicas {
			for _, st := range scrapeTargets {
				off := nodeOffset
				if !setup.aligned {
					off = rng.Int64N(period)
				}
				targets = append(targets, target{off, st.subresource})
			}
		}
		slices.SortStableFunc(targets, func(a, b target) int { return int(a.offset - b.offset) })
		var token cacheState
		decisions := map[string]*cacheState{}
		for _, st := range scrapeTargets {
			decisions[st.subresource] = &cacheState{}
		}
		count := func(at int64, tokenReview bool) {
			if at < warm || at >= end {
				return
			}
			if tokenReview {
				trs++
			} else {
				sars++
			}
			perSecond[(at-warm)/1000]++
		}
		for round := int64(0); round*period < end; round++ {
			for _, tg := range targets {
				at := round*period + tg.offset
				ttl := b.tokenTTL.Milliseconds()
				if setup.rejected && !b.cacheRejections {
					ttl = 0
				}
				next, sent := token.access(at, latency, ttl, b.mergeTokens)
				if sent {
					count(at, true)
				}
				if setup.rejected {
					continue // refused with 401: nothing to authorize
				}
				if _, sent := decisions[tg.subresource].access(next, latency, b.allowTTL.Milliseconds(), b.mergeDecisions); sent {
					count(next, false)
				}
			}
		}
	}
	seconds := modelWindow.Seconds()
	return loadResult{tokenReviews: float64(trs) / seconds, sars: float64(sars) / seconds, peak: slices.Max(perSecond)}
}

// TestLoadModel measures each chain's cache behaviour, simulates the API server load it
// causes for 10 to 5000 nodes, prints the table (with -v) and checks that authfilter never
// causes more load than upstream.
func TestLoadModel(t *testing.T) {
	behaviours := map[chain]behaviour{}
	for _, c := range chains {
		behaviours[c] = measureBehaviour(t, c)
	}
	if b := behaviours[authfilterChain]; !b.mergeTokens || !b.mergeDecisions || !b.cacheRejections {
		t.Fatalf("authfilter did not merge concurrent misses or did not cache a rejection: %+v", b)
	}

	var table strings.Builder
	fmt.Fprintf(&table, "\n| nodes | scrapes | chain | TokenReviews/s | SARs/s | reviews/s | peak reviews in 1 s |\n")
	fmt.Fprintf(&table, "|---:|---|---|---:|---:|---:|---:|\n")
	for _, setup := range scrapeSetups {
		for _, nodes := range []int{10, 100, 1000, 5000} {
			results := map[chain]loadResult{}
			for _, c := range chains {
				r := simulate(behaviours[c], nodes, setup, 42)
				results[c] = r
				fmt.Fprintf(&table, "| %d | %s | %s | %.2f | %.2f | %.2f | %d |\n",
					nodes, setup.name, c, r.tokenReviews, r.sars, r.tokenReviews+r.sars, r.peak)
			}
			up, af := results[upstreamChain], results[authfilterChain]
			if af.tokenReviews > up.tokenReviews || af.sars > up.sars || af.peak > up.peak {
				t.Errorf("%d nodes, %s: authfilter causes more load than upstream: %+v > %+v", nodes, setup.name, af, up)
			}
		}
	}
	t.Log(table.String())
}
