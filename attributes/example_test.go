package attributes_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/authfilter/authfilter/attributes"
)

// The kubelet preset maps each path to the node subresources an authorizer checks, in order.
func ExampleKubelet() {
	k, err := attributes.NewKubelet("node-1")
	if err != nil {
		panic(err)
	}
	u := &user.DefaultInfo{Name: "system:serviceaccount:monitoring:prometheus"}
	for _, target := range []string{"/stats/summary", "/metrics/cadvisor", "/pods", "/exec/default/web/app", "/statsfoo"} {
		attrs, err := k.GetAttributes(u, httptest.NewRequest(http.MethodGet, target, nil))
		if err != nil {
			panic(err)
		}
		fmt.Printf("GET %-22s", target)
		for _, a := range attrs {
			fmt.Printf(" %s %s/%s %s", a.GetVerb(), a.GetResource(), a.GetSubresource(), a.GetName())
		}
		fmt.Println()
	}
	// Output:
	// GET /stats/summary         get nodes/stats node-1
	// GET /metrics/cadvisor      get nodes/metrics node-1
	// GET /pods                  get nodes/pods node-1 get nodes/proxy node-1
	// GET /exec/default/web/app  get nodes/proxy node-1
	// GET /statsfoo              get nodes/proxy node-1
}

// Requests that cannot be mapped are refused with errors that tell the filter which status to
// answer.
func ExampleKubelet_refused() {
	k, err := attributes.NewKubelet("node-1")
	if err != nil {
		panic(err)
	}
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/stats/../pods", nil),
		httptest.NewRequest(http.MethodGet, "/stats%2Fsummary", nil),
		httptest.NewRequest(http.MethodOptions, "*", nil),
	} {
		_, err := k.GetAttributes(&user.DefaultInfo{Name: "alice"}, req)
		fmt.Println(req.Method, req.RequestURI, "method not allowed:", errors.Is(err, attributes.ErrMethodNotAllowed),
			"non-canonical:", errors.Is(err, attributes.ErrNonCanonicalPath))
	}
	// Output:
	// GET /stats/../pods method not allowed: false non-canonical: true
	// GET /stats%2Fsummary method not allowed: false non-canonical: true
	// OPTIONS * method not allowed: true non-canonical: false
}

func ExampleNonResource() {
	n := attributes.NewNonResource()
	attrs, err := n.GetAttributes(&user.DefaultInfo{Name: "alice"}, httptest.NewRequest(http.MethodGet, "/healthz?verbose", nil))
	if err != nil {
		panic(err)
	}
	a := attrs[0]
	fmt.Println(a.GetVerb(), a.GetPath(), "resource request:", a.IsResourceRequest())
	// Output:
	// get /healthz resource request: false
}

func ExampleCanonicalPath() {
	for _, target := range []string{"/logs/", "/stats/summary?x=../", "//stats", "/stats/%2e%2e/pods"} {
		p, err := attributes.CanonicalPath(httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Printf("%-20s %q %v\n", target, p, err)
	}
	// Output:
	// /logs/               "/logs/" <nil>
	// /stats/summary?x=../ "/stats/summary" <nil>
	// //stats              "" path is not canonical: empty segment: "//stats"
	// /stats/%2e%2e/pods   "" path is not canonical: dot segment: "/stats/../pods"
}

// A custom Getter built from the package's helpers: every request is authorized as a request
// to proxy one Service.
func ExampleGetterFunc() {
	g := attributes.GetterFunc(func(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
		verb, err := attributes.ResourceVerb(r.Method)
		if err != nil {
			return nil, err
		}
		p, err := attributes.CanonicalPath(r)
		if err != nil {
			return nil, err
		}
		return []authorizer.Attributes{authorizer.AttributesRecord{
			User: u, Verb: verb, Namespace: "monitoring", Resource: "services", Subresource: "proxy",
			Name: "exporter", APIVersion: "v1", ResourceRequest: true, Path: p,
		}}, nil
	})
	attrs, err := g.GetAttributes(&user.DefaultInfo{Name: "alice"}, httptest.NewRequest(http.MethodDelete, "/scrape", nil))
	if err != nil {
		panic(err)
	}
	a := attrs[0]
	fmt.Println(a.GetVerb(), a.GetNamespace(), a.GetResource()+"/"+a.GetSubresource(), a.GetName(), a.GetPath())
	// Output:
	// delete monitoring services/proxy exporter /scrape
}

func ExampleResourceVerb() {
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, "get"} {
		verb, err := attributes.ResourceVerb(m)
		fmt.Printf("%s %q %v\n", m, verb, err)
	}
	// Output:
	// GET "get" <nil>
	// HEAD "get" <nil>
	// POST "create" <nil>
	// get "" method not allowed: "get"
}
