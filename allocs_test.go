package authfilter

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter/internal/testpki"
)

// TestHitAllocations guards the allocations of a request whose reviews are cached, through
// the chain NewFromKubeletConfig builds: one for the request passed on (with its user context
// and attributes), and two for a header map without the Authorization header when there is one
// (the performance issue allows at most 4). Allocation counts do not depend on the machine;
// they do on the race detector, so make test runs the tests named *Allocat* a second time
// without it.
func TestHitAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race (sync.Pool drops items); make test also runs this test without it")
	}
	env := newKubeletEnv(t, func(c *kubeletconfigv1beta1.KubeletConfiguration) {
		c.Authentication.Anonymous.Enabled = ptr(true)
	}, func(authorizationv1.SubjectAccessReviewSpec) bool { return true })
	h := env.filter.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	cert := env.ca.Client(t, testpki.Options{CommonName: "alice"}).Cert
	tests := []struct {
		name string
		req  func() *http.Request
		want float64
	}{
		{"bearer token", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			r.Header.Set("Authorization", "Bearer "+saToken)
			r.Header.Set("Accept", "text/plain")
			return r
		}, 3},
		{"client certificate", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
			return r
		}, 1},
		{"anonymous", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/metrics", nil) }, 1},
	}
	w := httptest.NewRecorder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			h.ServeHTTP(w, r) // fills the caches
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			_, before := env.api.sent()
			if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n != tt.want {
				t.Errorf("%v allocations per request, want %v", n, tt.want)
			}
			if _, after := env.api.sent(); len(after) != len(before) {
				t.Fatalf("%d SubjectAccessReviews sent by cache hits", len(after)-len(before))
			}
		})
	}
}
