package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

// apiServer is an HTTPS server that answers TokenReviews and SubjectAccessReviews as
// kube-apiserver does, and records what it received. It stands in for a cluster so that the
// kubeconfig path, the client-go transport and the review-counting RoundTripper run for real.
type apiServer struct {
	*httptest.Server
	mu           sync.Mutex
	tokenReviews []authenticationv1.TokenReviewSpec
	sars         []authorizationv1.SubjectAccessReviewSpec
	callers      []string // Authorization header of each review request
	agents       []string // User-Agent of each review request
}

// newAPIServer knows one token, "alice-token" (user alice, group team); alice may get
// nodes/stats and nodes/metrics, nobody may do anything else.
func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Speak whatever client-go sends (protobuf or JSON), as kube-apiserver does.
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaType)
		body, err := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || !ok || err != nil {
			http.Error(w, "want a POST of a known media type", http.StatusUnsupportedMediaType)
			return
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.callers = append(s.callers, r.Header.Get("Authorization"))
		s.agents = append(s.agents, r.Header.Get("User-Agent"))
		var gv schema.GroupVersion
		switch o := obj.(type) {
		case *authenticationv1.TokenReview:
			if r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
				http.NotFound(w, r)
				return
			}
			s.tokenReviews = append(s.tokenReviews, o.Spec)
			if o.Spec.Token == "alice-token" {
				o.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "alice", Groups: []string{"team"}}}
			}
			o.Spec.Token = ""
			gv = authenticationv1.SchemeGroupVersion
		case *authorizationv1.SubjectAccessReview:
			if r.URL.Path != "/apis/authorization.k8s.io/v1/subjectaccessreviews" {
				http.NotFound(w, r)
				return
			}
			s.sars = append(s.sars, o.Spec)
			ra := o.Spec.ResourceAttributes
			o.Status.Allowed = o.Spec.User == "alice" && ra != nil && ra.Resource == "nodes" && (ra.Subresource == "stats" || ra.Subresource == "metrics")
			gv = authorizationv1.SchemeGroupVersion
		default:
			http.Error(w, fmt.Sprintf("unexpected %T", obj), http.StatusBadRequest)
			return
		}
		out, err := runtime.Encode(scheme.Codecs.EncoderForVersion(info.Serializer, gv), obj)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", info.MediaType)
		_, _ = w.Write(out)
	}))
	t.Cleanup(s.Close)
	return s
}

// counts returns how many reviews of each kind the server received.
func (s *apiServer) counts() (tokenReviews, sars int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokenReviews), len(s.sars)
}

// writeKubeconfig writes a kubeconfig that reaches s with the bearer credential and returns
// its path.
func (s *apiServer) writeKubeconfig(t *testing.T, credential string) string {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: kubelet
  user:
    token: %s
contexts:
- name: test
  context: {cluster: test, user: kubelet}
current-context: test
`, s.URL, base64.StdEncoding.EncodeToString(ca), credential)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubeconfigMode runs the server against an API server reached through a kubeconfig, with
// a KubeletConfiguration file naming its serving certificate and client CA by relative paths.
func TestKubeconfigMode(t *testing.T) {
	api := newAPIServer(t)
	kubeconfig := api.writeKubeconfig(t, "kubelet-credential")

	// The PKI next to the config file: serving certificate and client CA, plus bob's client
	// certificate.
	dir := t.TempDir()
	ca, err := serve.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caFile := write("ca.crt", ca.CertPEM())
	servingCert, servingKey, err := ca.Issue("kubelet", nil, []string{"127.0.0.1"}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	write("serving.crt", servingCert)
	write("serving.key", servingKey)
	bobCert, bobKey, err := ca.Issue("bob", []string{"team"}, nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		t.Fatal(err)
	}
	bob := credential{certFile: write("bob.crt", bobCert), keyFile: write("bob.key", bobKey)}
	config := write("kubelet.yaml", []byte(configHeader+`address: 127.0.0.1
tlsCertFile: serving.crt
tlsPrivateKeyFile: serving.key
authentication:
  x509:
    clientCAFile: ca.crt
`))

	s := startServer(t, "--config", config, "--kubeconfig", kubeconfig)
	if s.demo != nil {
		t.Fatal("--kubeconfig started the demo")
	}
	alice := credential{token: "alice-token"}
	tests := []struct {
		name              string
		cred              credential
		path              string
		wantStatus        int
		wantUser          string
		wantTokenReviews  int
		wantSARs          int
		wantCountedTokens int // the TokenReview counter on /metrics, read by alice afterwards
		wantCountedSARs   int
	}{
		// alice's first read costs a TokenReview and a SAR for stats, and reading /metrics
		// afterwards a SAR for metrics.
		{name: "token allowed", cred: alice, path: "/stats/summary", wantStatus: 200, wantUser: "alice",
			wantTokenReviews: 1, wantSARs: 2, wantCountedTokens: 1, wantCountedSARs: 2},
		{name: "unknown token", cred: credential{token: "mallory-token"}, path: "/stats/summary", wantStatus: 401,
			wantTokenReviews: 2, wantSARs: 2, wantCountedTokens: 2, wantCountedSARs: 2},
		{name: "client certificate denied", cred: bob, path: "/stats/summary", wantStatus: 403,
			wantTokenReviews: 2, wantSARs: 3, wantCountedTokens: 2, wantCountedSARs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, httpsClient(t, caFile, tt.cred), s.url+tt.path, tt.cred)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get(headerUser) != tt.wantUser {
				t.Errorf("status %d user %q, want %d %q; body %q", resp.StatusCode, resp.Header.Get(headerUser), tt.wantStatus, tt.wantUser, body)
			}
			resp, body = get(t, httpsClient(t, caFile, alice), s.url+"/metrics", alice)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("alice GET /metrics = %d %q", resp.StatusCode, body)
			}
			counted := reviewCounts(t, body)
			if counted[kindTokenReview] != tt.wantCountedTokens || counted[kindSubjectAccessReview] != tt.wantCountedSARs {
				t.Errorf("counted %v, want %d TokenReviews and %d SubjectAccessReviews", counted, tt.wantCountedTokens, tt.wantCountedSARs)
			}
			if tokens, sars := api.counts(); tokens != tt.wantTokenReviews || sars != tt.wantSARs {
				t.Errorf("API server received %d TokenReviews and %d SubjectAccessReviews, want %d and %d", tokens, sars, tt.wantTokenReviews, tt.wantSARs)
			}
		})
	}

	if t.Failed() {
		t.Fatalf("server logs:\n%s", s.stderr)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	for i, c := range api.callers {
		if c != "Bearer kubelet-credential" || !strings.HasPrefix(api.agents[i], "authfilter-example-kubelet") {
			t.Errorf("review %d came with Authorization %q User-Agent %q, want the kubeconfig's credential and the example's agent", i, c, api.agents[i])
		}
	}
	if got := []string{api.tokenReviews[0].Token, api.tokenReviews[1].Token}; got[0] != "alice-token" || got[1] != "mallory-token" {
		t.Errorf("TokenReviews reviewed %q, want alice-token then mallory-token", got)
	}
	if sar := api.sars[2]; sar.User != "bob" || sar.ResourceAttributes.Subresource != "stats" || sar.ResourceAttributes.Name != testNode {
		t.Errorf("bob's SubjectAccessReview = %+v", sar)
	}
	logs := s.stderr.String()
	for _, secret := range []string{"kubelet-credential", "alice-token", "mallory-token"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold the credential %q", secret)
		}
	}
	if !strings.Contains(logs, `"msg"="review sent" "kind"="TokenReview" "total"=2`) {
		t.Errorf("logs lack the counting transport's line:\n%s", logs)
	}
}
