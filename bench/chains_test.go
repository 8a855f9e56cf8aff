package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter"
)

const nodeName = "node-1"

// settings are the kubelet settings both chains are built with.
type settings struct {
	caBundle    []byte // --client-ca-file contents
	anonymous   bool
	alwaysAllow bool // authorization mode AlwaysAllow instead of Webhook
	tokenTTL    time.Duration
	allowTTL    time.Duration
	denyTTL     time.Duration
	nodeName    string
}

// kubeletDefaults are the KubeletConfiguration v1beta1 defaults with a client CA file: x509,
// the token webhook with a 2m cache, no anonymous access, Webhook authorization with 5m/30s.
func kubeletDefaults(tb testing.TB) settings {
	return settings{
		caBundle: loadPKI(tb).bundle,
		tokenTTL: 2 * time.Minute,
		allowTTL: 5 * time.Minute,
		denyTTL:  30 * time.Second,
		nodeName: nodeName,
	}
}

// kubeletConfig is s as a KubeletConfiguration, its client CA written to a file in dir.
func (s settings) kubeletConfig(tb testing.TB, dir string) *kubeletconfigv1beta1.KubeletConfiguration {
	tb.Helper()
	caFile := filepath.Join(dir, "client-ca.crt")
	if err := os.WriteFile(caFile, s.caBundle, 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{}
	cfg.Authentication.X509.ClientCAFile = caFile
	cfg.Authentication.Anonymous.Enabled = &s.anonymous
	webhook := true
	cfg.Authentication.Webhook.Enabled = &webhook
	cfg.Authentication.Webhook.CacheTTL = metav1.Duration{Duration: s.tokenTTL}
	cfg.Authorization.Mode = kubeletconfigv1beta1.KubeletAuthorizationModeWebhook
	if s.alwaysAllow {
		cfg.Authorization.Mode = kubeletconfigv1beta1.KubeletAuthorizationModeAlwaysAllow
	}
	cfg.Authorization.Webhook.CacheAuthorizedTTL = metav1.Duration{Duration: s.allowTTL}
	cfg.Authorization.Webhook.CacheUnauthorizedTTL = metav1.Duration{Duration: s.denyTTL}
	return cfg
}

// chain names the two implementations under comparison.
type chain string

const (
	upstreamChain   chain = "upstream"
	authfilterChain chain = "authfilter"
)

var chains = []chain{upstreamChain, authfilterChain}

// subName names c's sub-benchmark "chain=<c>", so that benchstat -col /chain puts the chains
// side by side.
func (c chain) subName() string { return "chain=" + string(c) }

// build returns next behind chain c, built with s over client.
func (c chain) build(tb testing.TB, s settings, client kubernetes.Interface, next http.Handler) http.Handler {
	tb.Helper()
	switch c {
	case upstreamChain:
		h, err := newUpstream(s, client, next)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	default:
		ctx, cancel := context.WithCancel(context.Background())
		tb.Cleanup(cancel) // stops the client CA file watcher
		f, err := authfilter.NewFromKubeletConfig(ctx, s.kubeletConfig(tb, tb.TempDir()), s.nodeName, client)
		if err != nil {
			tb.Fatal(err)
		}
		return f.Handler(next)
	}
}

// newClientset returns a fresh Backend and a clientset on it.
func newClientset(tb testing.TB) (*Backend, *kubernetes.Clientset) {
	tb.Helper()
	be := &Backend{}
	cs, err := be.Clientset()
	if err != nil {
		tb.Fatal(err)
	}
	return be, cs
}

// ok is the protected handler: it answers 200 with no body.
var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

// client sends one request over and over, like a scraper on a keep-alive connection.
type client struct {
	r    *http.Request
	auth []string // r's original Authorization header
	w    writer
}

func newClient(r *http.Request) *client {
	return &client{r: r, auth: r.Header["Authorization"], w: writer{h: http.Header{}}}
}

// do runs the request through h and returns the status code. It first puts back the request's
// original Authorization header: the upstream bearer-token authenticator deletes it from the
// caller's request, so a reused request would otherwise arrive without its token. Both chains
// pay for this map assignment.
func (c *client) do(h http.Handler) int {
	if c.auth != nil {
		c.r.Header["Authorization"] = c.auth
	}
	c.w.code = 0
	clear(c.w.h)
	h.ServeHTTP(&c.w, c.r)
	return c.w.code
}

// writer is a minimal ResponseWriter that remembers the status and reuses its header map.
type writer struct {
	h    http.Header
	code int
}

func (w *writer) Header() http.Header { return w.h }

func (w *writer) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}

func (w *writer) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

// Requests of the scenarios: GET /metrics, as a Prometheus scrape.
const scrapePath = "/metrics"

func anonymousRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "https://node-1:10250"+scrapePath, nil)
	return r
}

func tokenRequest(token string) *http.Request {
	r := anonymousRequest()
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Accept", "text/plain;version=0.0.4")
	r.Header.Set("User-Agent", "Prometheus/3.5.0")
	return r
}

func certRequest(chain ...*x509.Certificate) *http.Request {
	r := anonymousRequest()
	r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: chain}
	r.Header.Set("Accept", "text/plain;version=0.0.4")
	r.Header.Set("User-Agent", "kube-apiserver")
	return r
}

// TestChainsAgree checks that both chains, as the benchmarks build them, answer the same
// requests with the same status, so that the benchmarks compare equivalent work, and that
// authfilter's caches answer every repeated request.
func TestChainsAgree(t *testing.T) {
	p := loadPKI(t)
	s := kubeletDefaults(t)
	tests := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"token allowed", func() *http.Request { return tokenRequest(Token("prometheus", 0)) }, http.StatusOK},
		{"token denied", func() *http.Request { return tokenRequest(Token(DeniedAccount, 0)) }, http.StatusForbidden},
		{"bad token", func() *http.Request { return tokenRequest("not-a-bench-token") }, http.StatusUnauthorized},
		{"RSA certificate", func() *http.Request { return certRequest(p.rsaLeaf) }, http.StatusOK},
		{"ECDSA certificate", func() *http.Request { return certRequest(p.ecdsaLeaf) }, http.StatusOK},
		{"certificate of no CA", func() *http.Request { return certRequest(p.untrusted) }, http.StatusUnauthorized},
		{"no credential", anonymousRequest, http.StatusUnauthorized},
	}
	for _, c := range chains {
		be, cs := newClientset(t)
		h := c.build(t, s, cs, ok)
		for _, tt := range tests {
			for round := range 2 { // the second round is answered from the caches
				if got := newClient(tt.req()).do(h); got != tt.want {
					t.Errorf("%s, %s, round %d: status %d, want %d", c, tt.name, round, got, tt.want)
				}
			}
		}
		// Upstream reviews the bad token again each time (the webhook reports a rejection as
		// an error, and errors are not cached). Both chains review access per certificate:
		// x509 users carry the certificate's fingerprint as a credential-id extra.
		trs, sars := be.Counts()
		t.Logf("%s: %d TokenReviews, %d SARs", c, trs, sars)
		if c == authfilterChain && (trs != 3 || sars != 4) {
			t.Errorf("authfilter sent %d TokenReviews and %d SARs, want 3 (one per token) and 4 (one per token user and certificate)", trs, sars)
		}
	}
}
