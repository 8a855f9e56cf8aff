//go:build e2e

package nodediff_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/authfilter/authfilter/attributes"
	"github.com/authfilter/authfilter/authz/node"
	"github.com/authfilter/authfilter/test/e2e/cluster"
)

const (
	// requestCount is how many requests of node identities are compared (plus 5% of identities
	// that are not nodes).
	requestCount = 3000
	seed         = 20260501
	pollTimeout  = 30 * time.Second
	workers      = 8
	requireEnv   = "AUTHFILTER_E2E_REQUIRE"
)

// outcome classifies one compared request.
type outcome string

const (
	bothAllow     outcome = "both allow"
	neither       outcome = "neither allows"
	byDesignRBAC  outcome = "by design: RBAC grants system:authenticated"
	mismatchOurs  outcome = "MISMATCH: only authfilter allows"
	mismatchTheir outcome = "MISMATCH: only the API server allows"
	classifierBad outcome = "MISMATCH: expected an RBAC grant the API server did not give"
)

// TestNodeAuthorizerMatchesAPIServer compares, for every generated request, authfilter's Node
// authorizer (in process, fed by informers on the same API server) with the API server's
// SubjectAccessReview (Node,RBAC) for the same user and attributes. The only differences
// expected are RBAC's default grants to system:authenticated, which Node leaves to RBAC; any
// other difference fails the test.
func TestNodeAuthorizerMatchesAPIServer(t *testing.T) {
	if os.Getenv(requireEnv) != "1" {
		if _, err := os.Stat(filepath.Join(cluster.DefaultBinDir(), "kube-apiserver")); err != nil {
			t.Skipf("%v (run make realk8s): %v", cluster.ErrBinariesMissing, err)
		}
	}
	// k8s.io/apiserver's request parsing logs every unparsable list query through klog; the
	// generator makes many on purpose.
	klog.SetLogger(logr.Discard())
	start := time.Now()
	c := cluster.StartT(t, cluster.Options{})
	cs := c.Clientset()
	ctx := t.Context()
	createFixture(ctx, t, cs)
	t.Logf("fixture created in %v", time.Since(start).Round(time.Millisecond))

	ours, err := node.New(cs, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	informerCtx, stopInformers := context.WithCancel(ctx)
	defer stopInformers()
	ours.Start(informerCtx)
	if !ours.WaitForSync(ctx) {
		t.Fatal("the Node authorizer did not sync")
	}
	waitConverged(ctx, t, cs, ours)
	t.Logf("both graphs converged after %v", time.Since(start).Round(time.Millisecond))

	requests := generate(seed, requestCount)
	getter := attributes.NewAPIServer()
	results := make([]result, len(requests))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] = compare(ctx, t, cs, ours, getter, requests[i])
			}
		})
	}
	for i := range requests {
		next <- i
	}
	close(next)
	wg.Wait()

	report(t, results)
	t.Logf("compared %d requests; %v in all", len(results), time.Since(start).Round(time.Millisecond))
}

// result is one compared request.
type result struct {
	caller   caller
	method   string
	target   string
	attrs    authorizer.AttributesRecord
	ours     authorizer.Decision
	reason   string
	theirs   bool
	outcome  outcome
	resource string // group/resource or "non-resource"
}

func compare(ctx context.Context, t *testing.T, cs kubernetes.Interface, ours *node.Authorizer, getter *attributes.APIServer, g generated) result {
	t.Helper()
	recs, err := getter.AppendAttributes(nil, g.caller.user, g.req)
	if err != nil {
		t.Errorf("%s %s: attributes: %v", g.req.Method, g.req.URL.RequestURI(), err)
		return result{outcome: "attributes error"}
	}
	a := recs[0]
	r := result{caller: g.caller, method: g.req.Method, target: g.req.URL.RequestURI(), attrs: a, resource: "non-resource"}
	if a.ResourceRequest {
		r.resource = a.Resource
		if a.APIGroup != "" {
			r.resource += "." + a.APIGroup
		}
	}
	d, reason, err := ours.Authorize(ctx, a)
	if err != nil {
		t.Errorf("%s %s: Node authorizer error: %v", r.method, r.target, err)
	}
	r.ours, r.reason = d, reason
	r.theirs = sar(ctx, t, cs, spec(a, g))
	expected := rbacGrantsAuthenticated(a)
	switch {
	case expected && !r.theirs:
		r.outcome = classifierBad
	case (d == authorizer.DecisionAllow) == r.theirs:
		r.outcome = map[bool]outcome{true: bothAllow, false: neither}[r.theirs]
	case d == authorizer.DecisionAllow:
		r.outcome = mismatchOurs
	case expected:
		r.outcome = byDesignRBAC
	default:
		r.outcome = mismatchTheir
	}
	return r
}

// spec is the SubjectAccessReview the API server would authorize for the request: the same
// user and attributes, with the raw selectors of the query when the attributes carry any.
func spec(a authorizer.AttributesRecord, g generated) authorizationv1.SubjectAccessReviewSpec {
	s := authorizationv1.SubjectAccessReviewSpec{User: a.User.GetName(), Groups: a.User.GetGroups()}
	if !a.ResourceRequest {
		s.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
		return s
	}
	ra := &authorizationv1.ResourceAttributes{
		Namespace: a.Namespace, Verb: a.Verb, Group: a.APIGroup, Version: a.APIVersion,
		Resource: a.Resource, Subresource: a.Subresource, Name: a.Name,
	}
	q := g.req.URL.Query()
	if a.FieldSelectorRequirements != nil || a.FieldSelectorParsingErr != nil {
		ra.FieldSelector = &authorizationv1.FieldSelectorAttributes{RawSelector: q.Get("fieldSelector")}
	}
	if a.LabelSelectorRequirements != nil || a.LabelSelectorParsingErr != nil {
		ra.LabelSelector = &authorizationv1.LabelSelectorAttributes{RawSelector: q.Get("labelSelector")}
	}
	s.ResourceAttributes = ra
	return s
}

// sar asks the API server.
func sar(ctx context.Context, t *testing.T, cs kubernetes.Interface, s authorizationv1.SubjectAccessReviewSpec) bool {
	t.Helper()
	out, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: s}, metav1.CreateOptions{})
	if err != nil {
		t.Errorf("SubjectAccessReview %+v: %v", s, err)
		return false
	}
	return out.Status.Allowed
}

// rbacGrantsAuthenticated reports whether the v1.37 default RBAC policy grants the request to
// every member of system:authenticated (system:basic-user, system:discovery,
// system:public-info-viewer); every caller of this test is one.
func rbacGrantsAuthenticated(a authorizer.AttributesRecord) bool {
	if a.ResourceRequest {
		if a.Verb != "create" || a.Subresource != "" {
			return false
		}
		switch a.APIGroup + "/" + a.Resource {
		case "authorization.k8s.io/selfsubjectaccessreviews", "authorization.k8s.io/selfsubjectrulesreviews",
			"authentication.k8s.io/selfsubjectreviews":
			return true
		}
		return false
	}
	if a.Verb != "get" {
		return false
	}
	switch a.Path {
	case "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/api", "/apis":
		return true
	}
	for _, prefix := range []string{"/openapi/", "/api/", "/apis/"} {
		if strings.HasPrefix(a.Path, prefix) {
			return true
		}
	}
	return false
}

// report logs the summary tables and fails on every mismatch.
func report(t *testing.T, results []result) {
	t.Helper()
	byOutcome := map[outcome]int{}
	type key struct {
		resource string
		o        outcome
	}
	byResource := map[key]int{}
	var resourcesSeen []string
	allowed := 0
	for _, r := range results {
		byOutcome[r.outcome]++
		if !slices.Contains(resourcesSeen, r.resource) {
			resourcesSeen = append(resourcesSeen, r.resource)
		}
		byResource[key{r.resource, r.outcome}]++
		if r.ours == authorizer.DecisionAllow {
			allowed++
		}
		if strings.HasPrefix(string(r.outcome), "MISMATCH") {
			sel, _ := r.attrs.GetFieldSelector()
			t.Errorf("%s: %s %s as %s: attributes verb=%s group=%q resource=%q sub=%q ns=%q name=%q fields=%v; authfilter %v (%q), API server allowed=%v",
				r.outcome, r.method, r.target, r.caller.label, r.attrs.Verb, r.attrs.APIGroup, r.attrs.Resource,
				r.attrs.Subresource, r.attrs.Namespace, r.attrs.Name, sel, r.ours, r.reason, r.theirs)
		}
	}
	slices.Sort(resourcesSeen)
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "resource\tboth allow\tneither\tby design (RBAC)\tmismatch\t")
	for _, res := range resourcesSeen {
		mismatches := byResource[key{res, mismatchOurs}] + byResource[key{res, mismatchTheir}] + byResource[key{res, classifierBad}]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t\n", res, byResource[key{res, bothAllow}], byResource[key{res, neither}],
			byResource[key{res, byDesignRBAC}], mismatches)
	}
	w.Flush()
	total := len(results)
	mismatches := byOutcome[mismatchOurs] + byOutcome[mismatchTheir] + byOutcome[classifierBad]
	t.Logf("Node authorizer vs kube-apiserver v1.37.2 SubjectAccessReview (Node,RBAC), %d requests (seed %d):\n%s", total, seed, b.String())
	t.Logf("SUMMARY: %d requests, %d allowed by both, %d allowed by neither, %d by design (RBAC grants to system:authenticated), %d mismatches",
		total, byOutcome[bothAllow], byOutcome[neither], byOutcome[byDesignRBAC], mismatches)
	if total < requestCount {
		t.Errorf("only %d requests compared, want at least %d", total, requestCount)
	}
	// The comparison must not be vacuous: both decisions must occur often.
	if allowed < total/10 || byOutcome[neither] < total/10 || byOutcome[byDesignRBAC] == 0 {
		t.Errorf("too few of each outcome to prove anything: %v", byOutcome)
	}
}

// waitConverged polls until both graphs hold the fixture: probes that the fixture allows by
// construction (each bound pod by its node, and the last object of each informer) must be
// allowed by authfilter and by the API server.
func waitConverged(ctx context.Context, t *testing.T, cs kubernetes.Interface, ours *node.Authorizer) {
	t.Helper()
	type probe struct {
		node string
		a    authorizer.AttributesRecord
	}
	get := func(node, group, resource, ns, name string) probe {
		return probe{node, authorizer.AttributesRecord{Verb: "get", APIGroup: group, APIVersion: "v1", Resource: resource,
			Namespace: ns, Name: name, ResourceRequest: true}}
	}
	var probes []probe
	for _, p := range fixturePods {
		if p.node != "" {
			probes = append(probes, get(p.node, "", "pods", p.ns, p.name))
		}
	}
	probes = append(probes,
		get("node-a", "", "persistentvolumes", "", "pv-0"),
		get("node-a", "", "secrets", "ns-b", "sec-9"),
		get("node-b", "", "persistentvolumes", "", "pv-2"),
		get("node-b", "storage.k8s.io", "volumeattachments", "", "va-b"),
		get("node-b", "resource.k8s.io", "resourceslices", "", "slice-b"),
	)
	deadline := time.Now().Add(pollTimeout)
	for {
		var pending []string
		for _, p := range probes {
			g := generated{caller: callers()[slices.Index(identities, p.node)], req: newRequest("GET", "/", nil)}
			a := p.a
			a.User = g.caller.user
			d, _, _ := ours.Authorize(ctx, a)
			if d != authorizer.DecisionAllow {
				pending = append(pending, fmt.Sprintf("authfilter: %s get %s %s/%s", p.node, a.Resource, a.Namespace, a.Name))
			}
			if !sar(ctx, t, cs, spec(a, g)) {
				pending = append(pending, fmt.Sprintf("API server: %s get %s %s/%s", p.node, a.Resource, a.Namespace, a.Name))
			}
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("graphs did not converge within %v: %v", pollTimeout, pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
