package authfilter

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/endpoints/request"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"

	"github.com/authfilter/authfilter/internal/testpki"
)

const testNode = "node-a"

func TestApplyKubeletDefaults(t *testing.T) {
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{}
	ApplyKubeletDefaults(cfg)
	a, z := cfg.Authentication, cfg.Authorization
	if *a.Anonymous.Enabled || !*a.Webhook.Enabled || a.Webhook.CacheTTL.Duration != 2*time.Minute {
		t.Errorf("authentication defaults = anonymous %v, webhook %v, ttl %v", *a.Anonymous.Enabled, *a.Webhook.Enabled, a.Webhook.CacheTTL)
	}
	if z.Mode != kubeletconfigv1beta1.KubeletAuthorizationModeWebhook ||
		z.Webhook.CacheAuthorizedTTL.Duration != 5*time.Minute || z.Webhook.CacheUnauthorizedTTL.Duration != 30*time.Second {
		t.Errorf("authorization defaults = %+v", z)
	}

	set := &kubeletconfigv1beta1.KubeletConfiguration{}
	set.Authentication.Anonymous.Enabled = ptr(true)
	set.Authentication.Webhook.Enabled = ptr(false)
	set.Authentication.Webhook.CacheTTL = metav1.Duration{Duration: time.Second}
	set.Authorization.Mode = kubeletconfigv1beta1.KubeletAuthorizationModeAlwaysAllow
	want := set.DeepCopy()
	ApplyKubeletDefaults(set)
	if !reflect.DeepEqual(set.Authentication, want.Authentication) || set.Authorization.Mode != want.Authorization.Mode {
		t.Errorf("defaulting overwrote set fields: %+v", set.Authentication)
	}
}

func TestNewFromKubeletConfigErrors(t *testing.T) {
	api := newFakeAPIServer(nil, func(authorizationv1.SubjectAccessReviewSpec) bool { return false })
	off := &kubeletconfigv1beta1.KubeletConfiguration{}
	off.Authentication.Webhook.Enabled = ptr(false)
	tests := []struct {
		name   string
		cfg    func(*kubeletconfigv1beta1.KubeletConfiguration)
		node   string
		noAPI  bool
		nilCfg bool
		want   string
	}{
		{name: "nil config", nilCfg: true, node: testNode, want: "nil"},
		{name: "empty node name", cfg: func(*kubeletconfigv1beta1.KubeletConfiguration) {}, want: "node name"},
		{name: "unknown mode", node: testNode, want: "not supported", cfg: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
			c.Authorization.Mode = "RBAC"
		}},
		{name: "negative token TTL", node: testNode, want: "negative", cfg: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
			c.Authentication.Webhook.CacheTTL.Duration = -time.Second
		}},
		{name: "negative authorized TTL", node: testNode, want: "negative", cfg: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
			c.Authorization.Webhook.CacheAuthorizedTTL.Duration = -time.Second
		}},
		{name: "token webhook without client", node: testNode, noAPI: true, want: "needs a Kubernetes client", cfg: func(*kubeletconfigv1beta1.KubeletConfiguration) {}},
		{name: "authorization webhook without client", node: testNode, noAPI: true, want: "needs a Kubernetes client", cfg: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
			c.Authentication.Anonymous.Enabled = ptr(true)
			c.Authentication.Webhook.Enabled = ptr(false)
		}},
		{name: "no authentication at all", node: testNode, want: "no authentication enabled", cfg: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
			c.Authentication.Webhook.Enabled = ptr(false)
		}},
		{name: "missing client CA file", node: testNode, want: "clientCAFile", cfg: func(c *kubeletconfigv1beta1.KubeletConfiguration) {
			c.Authentication.X509.ClientCAFile = filepath.Join(t.TempDir(), "absent.crt")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *kubeletconfigv1beta1.KubeletConfiguration
			if !tt.nilCfg {
				cfg = &kubeletconfigv1beta1.KubeletConfiguration{}
				tt.cfg(cfg)
			}
			var f *Filter
			var err error
			if tt.noAPI {
				f, err = NewFromKubeletConfig(t.Context(), cfg, tt.node, nil)
			} else {
				f, err = NewFromKubeletConfig(t.Context(), cfg, tt.node, api)
			}
			if err == nil || f != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewFromKubeletConfig = %v, %v; want an error containing %q", f, err, tt.want)
			}
		})
	}
	if tr, sar := api.sent(); len(tr)+len(sar) != 0 {
		t.Errorf("construction sent reviews: %d TokenReviews, %d SARs", len(tr), len(sar))
	}
}

// TestNewFromKubeletConfigErrorLeavesNothingRunning fails construction after a valid client
// CA file was loaded: its watcher, which would re-read the file every 2 s until ctx ends
// (forever with context.Background()), must not have been started.
func TestNewFromKubeletConfigErrorLeavesNothingRunning(t *testing.T) {
	ca := testpki.NewCA(t, "client-ca")
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{}
	cfg.Authentication.X509.ClientCAFile = caFile
	cfg.Authentication.Webhook.Enabled = ptr(false)
	cfg.Authorization.Mode = "RBAC" // not supported: fails after the authenticator is built
	before := caWatchers()
	if f, err := NewFromKubeletConfig(context.Background(), cfg, testNode, nil); err == nil {
		t.Fatalf("NewFromKubeletConfig = %v, want an error", f)
	}
	// Watchers of earlier tests may still be exiting, so the count can only have dropped.
	if after := caWatchers(); after > before {
		t.Fatalf("%d client CA file watchers running after a failed construction, %d before", after, before)
	}
}

// caWatchers counts the goroutines running a client CA file watcher.
func caWatchers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "(*ClientCAFile).Run(")
}

func TestNewFromKubeletConfigDoesNotModifyConfig(t *testing.T) {
	api := newFakeAPIServer(nil, func(authorizationv1.SubjectAccessReviewSpec) bool { return false })
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{}
	if _, err := NewFromKubeletConfig(t.Context(), cfg, testNode, api); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, &kubeletconfigv1beta1.KubeletConfiguration{}) {
		t.Errorf("config modified: %+v", cfg)
	}
}

// kubeletEnv is a kubelet-like HTTPS server built by NewFromKubeletConfig over a fake API server.
type kubeletEnv struct {
	filter *Filter
	api    *fakeAPIServer
	ca     *testpki.CA
	server *httptest.Server
}

const (
	saToken  = "sa-token-value"
	saUser   = "system:serviceaccount:monitoring:prometheus"
	adminCN  = "kube-apiserver-kubelet-client"
	adminOrg = "kubelet-api-admins"
)

// newKubeletEnv starts the server; mutate adjusts the (otherwise default) configuration, whose
// clientCAFile is a file holding env.ca.
func newKubeletEnv(t *testing.T, mutate func(*kubeletconfigv1beta1.KubeletConfiguration), policy func(authorizationv1.SubjectAccessReviewSpec) bool) *kubeletEnv {
	t.Helper()
	env := &kubeletEnv{ca: testpki.NewCA(t, "client-ca")}
	env.api = newFakeAPIServer(map[string]authenticationv1.UserInfo{
		saToken: {Username: saUser, UID: "uid-1", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"}},
	}, policy)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, env.ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &kubeletconfigv1beta1.KubeletConfiguration{}
	cfg.Authentication.X509.ClientCAFile = caFile
	if mutate != nil {
		mutate(cfg)
	}
	f, err := NewFromKubeletConfig(t.Context(), cfg, testNode, env.api)
	if err != nil {
		t.Fatal(err)
	}
	env.filter = f
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u, _ := request.UserFrom(r.Context())
		fmt.Fprintf(w, "%s %v", u.GetName(), u.GetGroups())
		if r.URL.Query().Has("write") { // a handler that writes to what the user's methods return
			if g := u.GetGroups(); len(g) > 0 {
				g[0] = "system:masters"
			}
			for _, v := range u.GetExtra() {
				if len(v) > 0 {
					v[0] = "changed"
				}
			}
		}
	})
	env.server = httptest.NewUnstartedServer(f.Handler(mux))
	env.server.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	env.server.StartTLS()
	t.Cleanup(env.server.Close)
	return env
}

// do sends method path over TLS with an optional client certificate and bearer token.
func (env *kubeletEnv) do(t *testing.T, method, path string, cert *tls.Certificate, token string) (int, string) {
	t.Helper()
	tr := env.server.Client().Transport.(*http.Transport).Clone()
	if cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), method, env.server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func allowSubresources(subs ...string) func(authorizationv1.SubjectAccessReviewSpec) bool {
	return func(s authorizationv1.SubjectAccessReviewSpec) bool {
		for _, sub := range subs {
			if s.ResourceAttributes != nil && s.ResourceAttributes.Subresource == sub {
				return true
			}
		}
		return false
	}
}

func nodeSAR(user string, groups []string, verb, subresource string) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Version: "v1", Resource: "nodes", Subresource: subresource, Name: testNode,
		},
	}
}
