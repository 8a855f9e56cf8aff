package main

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

// TestMux checks the bodies of the kubelet-like API behind withIdentity, without the filter.
func TestMux(t *testing.T) {
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{Address: "127.0.0.1"}
	n := &node{name: "n1", started: time.Now(), config: cfg, reviews: &reviewCounter{}}
	var logs syncBuffer
	h := withIdentity(serve.NewLogger(&logs, 0), newMux(n))
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{"a", "system:authenticated"}}

	tests := []struct {
		method, path    string
		wantStatus      int
		wantContentType string
		wantBody        string
	}{
		{"GET", "/stats/summary", 200, "application/json", `"nodeName": "n1"`},
		{"GET", "/metrics", 200, "text/plain", `authfilter_example_reviews_total{kind="TokenReview"} 0`},
		{"GET", "/metrics/cadvisor", 200, "text/plain", "machine_cpu_cores"},
		{"GET", "/logs/", 200, "text/html", `<a href="kubelet.log">kubelet.log</a>`},
		{"GET", "/logs/kubelet.log", 200, "text/plain", "kubelet started on node n1"},
		{"GET", "/logs/other.log", 404, "text/plain", "404 page not found"},
		{"GET", "/spec/", 200, "application/json", `"machine_id": "n1"`},
		{"GET", "/pods", 200, "application/json", `"kind": "PodList"`},
		{"GET", "/runningpods/", 200, "application/json", `"items": []`},
		{"GET", "/healthz", 200, "text/plain", "ok"},
		{"HEAD", "/healthz", 200, "text/plain", ""},
		{"GET", "/configz", 200, "application/json", `"address": "127.0.0.1"`},
		{"GET", "/", 404, "text/plain", "404 page not found"},
		{"GET", "/exec/ns/pod/c", 404, "text/plain", "404 page not found"},
		{"POST", "/pods", 405, "text/plain", "Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := httptest.NewRequestWithContext(request.WithUser(t.Context(), alice), tt.method, tt.path, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("= %d %q, want %d containing %q", w.Code, w.Body.String(), tt.wantStatus, tt.wantBody)
			}
			if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.wantContentType) {
				t.Errorf("Content-Type = %q, want %s", got, tt.wantContentType)
			}
			if u, g := w.Header().Get(headerUser), w.Header().Get(headerGroups); u != "alice" || g != "a,system:authenticated" {
				t.Errorf("identity headers = %q %q, want alice a,system:authenticated", u, g)
			}
		})
	}
	if !strings.Contains(logs.String(), `"msg"="request" "method"="GET" "path"="/stats/summary" "user"="alice" "groups"=["a" "system:authenticated"]`) {
		t.Errorf("no request line logged:\n%s", logs.String())
	}
}

// TestWithIdentityRefusesRequestsWithoutUser checks the fail-closed guard: a request that did
// not come through the filter is never served.
func TestWithIdentityRefusesRequestsWithoutUser(t *testing.T) {
	called := false
	h := withIdentity(serve.NewLogger(&syncBuffer{}, 0), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), "GET", "/stats/summary", nil))
	if w.Code != http.StatusInternalServerError || called || w.Header().Get(headerUser) != "" {
		t.Errorf("= %d, next called %v, user header %q; want 500, not called, no header", w.Code, called, w.Header().Get(headerUser))
	}
}

func TestDemoPolicy(t *testing.T) {
	nodes := func(verb, sub string) *authorizationv1.ResourceAttributes {
		return &authorizationv1.ResourceAttributes{Verb: verb, Resource: "nodes", Subresource: sub, Name: "n1"}
	}
	tests := []struct {
		name   string
		spec   authorizationv1.SubjectAccessReviewSpec
		wantOK bool
	}{
		{"admin any verb on any subresource", authorizationv1.SubjectAccessReviewSpec{User: "x", Groups: []string{groupAdmins}, ResourceAttributes: nodes("create", "proxy")}, true},
		{"viewer get stats", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupViewers}, ResourceAttributes: nodes("get", "stats")}, true},
		{"viewer get metrics", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupViewers}, ResourceAttributes: nodes("get", "metrics")}, true},
		{"viewer get healthz", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupViewers}, ResourceAttributes: nodes("get", "healthz")}, true},
		{"viewer get log", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupViewers}, ResourceAttributes: nodes("get", "log")}, false},
		{"viewer create stats", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupViewers}, ResourceAttributes: nodes("create", "stats")}, false},
		{"viewer get the node itself", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupViewers}, ResourceAttributes: nodes("get", "")}, false},
		{"no group", authorizationv1.SubjectAccessReviewSpec{User: demoAdmin, ResourceAttributes: nodes("get", "stats")}, false},
		{"admin on another resource", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupAdmins},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets"}}, false},
		{"admin on nodes of another API group", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupAdmins},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Group: "example.com", Resource: "nodes"}}, false},
		{"admin non-resource path", authorizationv1.SubjectAccessReviewSpec{Groups: []string{groupAdmins},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := demoPolicy(tt.spec)
			if ok != tt.wantOK || !strings.HasPrefix(reason, "demo policy: ") {
				t.Errorf("demoPolicy = %v %q, want %v with a reason", ok, reason, tt.wantOK)
			}
		})
	}
}

func TestServingCertificate(t *testing.T) {
	t.Run("self-signed for the node, localhost and a specific address", func(t *testing.T) {
		hosts := servingHosts("node-1", "10.1.2.3")
		cert, err := serve.ServingCertificate("", "", "node-1", hosts)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(leaf)
		for _, h := range []string{"node-1", "localhost", "127.0.0.1", "::1", "10.1.2.3"} {
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: roots}); err != nil {
				t.Errorf("not valid for %s: %v", h, err)
			}
		}
	})
	t.Run("an unspecified address adds no name", func(t *testing.T) {
		for _, a := range []string{"0.0.0.0", "::", ""} {
			if got := servingHosts("n", a); len(got) != 4 {
				t.Errorf("servingHosts(n, %q) = %q, want n and the loopback names only", a, got)
			}
		}
	})
	t.Run("missing files", func(t *testing.T) {
		if _, err := serve.ServingCertificate(t.TempDir()+"/a.crt", t.TempDir()+"/a.key", "", nil); err == nil || !strings.Contains(err.Error(), "loading serving certificate") {
			t.Errorf("err = %v, want a loading error", err)
		}
	})
}
