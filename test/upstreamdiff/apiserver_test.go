package upstreamdiff

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/klog/v2"

	"github.com/authfilter/authfilter/attributes"
)

// upstreamAttributes runs kube-apiserver's own steps: WithRequestInfo with the API server's
// prefixes, then GetAuthorizerAttributes. ok is false when WithRequestInfo refused the request.
func upstreamAttributes(u user.Info, r *http.Request) (rec authorizer.AttributesRecord, ok bool) {
	resolver := &request.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")}
	h := filters.WithRequestInfo(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := filters.GetAuthorizerAttributes(r.Context())
		if err != nil {
			panic(err)
		}
		rec, ok = *a.(*authorizer.AttributesRecord), true
	}), resolver)
	h.ServeHTTP(httptest.NewRecorder(), r.WithContext(request.WithUser(r.Context(), u)))
	return rec, ok
}

// randomTarget builds a request URI from API-like pieces, canonical or not.
func randomTarget(rng *rand.Rand) string {
	pick := func(l ...string) string { return l[rng.IntN(len(l))] }
	var parts []string
	switch rng.IntN(10) {
	case 0:
		parts = append(parts, pick("healthz", "version", "metrics", "openapi", "livez", "logs", ""))
	case 1, 2, 3, 4:
		parts = append(parts, "api", pick("v1", "v2"))
	default:
		parts = append(parts, pick("apis", "apis", "other"), pick("apps", "resource.k8s.io", "storage.k8s.io", "coordination.k8s.io"), pick("v1", "v1beta1"))
	}
	if rng.IntN(8) == 0 {
		parts = append(parts, pick("watch", "proxy"))
	}
	if rng.IntN(2) == 0 {
		parts = append(parts, "namespaces", pick("ns", "kube-node-lease", "status"))
	}
	for range rng.IntN(5) {
		parts = append(parts, pick("pods", "secrets", "nodes", "n1", "s1", "status", "token", "log", "finalize", "leases", "watch", "x"))
	}
	target := "/" + strings.Join(parts, "/")
	if rng.IntN(10) == 0 {
		target += "/"
	}
	if rng.IntN(30) == 0 {
		target = strings.Replace(target, "/", "//", 2)
	}
	q := url.Values{}
	if rng.IntN(3) == 0 {
		q.Set("watch", pick("true", "1", "false", "0", "yes"))
	}
	if rng.IntN(2) == 0 {
		q.Set("fieldSelector", pick("spec.nodeName=n1", "metadata.name=n1", "metadata.name=a/b", "metadata.name==s1", "metadata.name!=n1",
			"spec.nodeName=n1,metadata.name=s1", "spec.nodeName", "", "a in (b)"))
	}
	if rng.IntN(2) == 0 {
		q.Set("labelSelector", pick("app=web", "tier in (a,b)", "!canary", "a in (", "", "x,y!=z"))
	}
	if rng.IntN(8) == 0 {
		q.Set("limit", pick("10", "x"))
	}
	if rng.IntN(8) == 0 {
		q.Set("resourceVersion", "5")
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return target
}

// TestAPIServerAttributes compares attributes.APIServer with kube-apiserver's own request
// attributes for random request URIs and methods: every record must be equal, selectors
// compared by their string form and whether they failed to parse.
func TestAPIServerAttributes(t *testing.T) {
	klog.SetLogger(logr.Discard()) // the parser logs every undecodable query
	rng := rand.New(rand.NewPCG(7, 7))
	getter := attributes.NewAPIServer()
	u := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes"}}
	methods := []string{http.MethodGet, http.MethodGet, http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	const n = 20000
	var compared, refusedMethod, refusedPath, bothErr, resourceReqs, withSelectors int
	for range n {
		method, target := methods[rng.IntN(len(methods))], randomTarget(rng)
		r := httptest.NewRequest(method, target, nil)
		ours, err := getter.GetAttributes(u, r)
		up, upOK := upstreamAttributes(u, r)
		switch {
		case errors.Is(err, attributes.ErrMethodNotAllowed):
			refusedMethod++
			if method != http.MethodOptions {
				t.Errorf("%s %s refused as a method: %v", method, target, err)
			}
			continue
		case errors.Is(err, attributes.ErrNonCanonicalPath):
			refusedPath++
			if !strings.Contains(target, "//") {
				t.Errorf("%s %s refused as non-canonical: %v", method, target, err)
			}
			continue
		case err != nil:
			bothErr++
			if upOK {
				t.Errorf("%s %s: authfilter error %v, upstream %+v", method, target, err, up)
			}
			continue
		case !upOK:
			t.Errorf("%s %s: upstream refused, authfilter %+v", method, target, ours)
			continue
		}
		compared++
		got := ours[0].(authorizer.AttributesRecord)
		if got.ResourceRequest {
			resourceReqs++
		}
		if got.FieldSelectorRequirements != nil || got.LabelSelectorRequirements != nil {
			withSelectors++
		}
		if d := diffRecords(got, up); d != "" {
			t.Errorf("%s %s: %s", method, target, d)
		}
	}
	t.Logf("%d requests: %d compared (%d resource requests, %d with selectors), %d refused by method (OPTIONS), %d refused as non-canonical, %d unparsable by both",
		n, compared, resourceReqs, withSelectors, refusedMethod, refusedPath, bothErr)
	if compared < n/2 || withSelectors < n/40 {
		t.Errorf("too few comparisons to prove anything")
	}
}

// diffRecords describes how a and b differ, or returns "".
func diffRecords(a, b authorizer.AttributesRecord) string {
	var out []string
	fs := func(r authorizer.AttributesRecord) string {
		return fmt.Sprintf("%v err=%v", r.FieldSelectorRequirements, r.FieldSelectorParsingErr != nil)
	}
	ls := func(r authorizer.AttributesRecord) string {
		return fmt.Sprintf("%q nil=%v err=%v", r.LabelSelectorRequirements.String(), r.LabelSelectorRequirements == nil, r.LabelSelectorParsingErr != nil)
	}
	if fs(a) != fs(b) {
		out = append(out, "field selector "+fs(a)+" vs "+fs(b))
	}
	if ls(a) != ls(b) {
		out = append(out, "label selector "+ls(a)+" vs "+ls(b))
	}
	for _, r := range []*authorizer.AttributesRecord{&a, &b} {
		r.FieldSelectorRequirements, r.FieldSelectorParsingErr = nil, nil
		r.LabelSelectorRequirements, r.LabelSelectorParsingErr = nil, nil
	}
	if !reflect.DeepEqual(a, b) {
		out = append(out, fmt.Sprintf("authfilter %+v, upstream %+v", a, b))
	}
	return strings.Join(out, "; ")
}
