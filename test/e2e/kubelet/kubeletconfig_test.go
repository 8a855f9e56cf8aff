//go:build e2e

package kubelet_test

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// TestKubeletConfigFile drives the example with a KubeletConfiguration file (--config) instead
// of flags: address, port, serving certificate, client CA (relative paths), anonymous access
// and the webhook caches all come from the file. A client certificate, a service-account token
// and an anonymous request each get 403 until RBAC allows them and 200 after, and /configz
// reports the settings read from the file.
func TestKubeletConfigFile(t *testing.T) {
	const (
		ns, sa = "e2e-config", "reader"
		node   = "node-file"
	)
	e := newEnv(t, envOptions{})
	port := freePort(t)
	path := e.writeKubeletConfig(t, node, kubeletConfig{address: "127.0.0.1", port: port, anonymous: true,
		tokenTTL: time.Minute, authorizedTTL: 3 * time.Second, deniedTTL: time.Second})
	s := e.startServer(t, node, "--config="+path)
	if want := "https://127.0.0.1:" + strconv.Itoa(port); s.url != want {
		t.Fatalf("serving on %s, want %s from the file", s.url, want)
	}
	e.serviceAccount(t, ns, sa)
	saUser := "system:serviceaccount:" + ns + ":" + sa
	// The client trusts only the cluster CA: the handshake itself proves the example serves the
	// file's tlsCertFile rather than a generated self-signed certificate.
	cert := s.as(t, "config-user", e.clientCert(t, "config-user", "config-group"), "")
	token := s.withToken(t, "SA token", e.token(t, ns, sa))
	anon := s.anonymous(t)

	t.Run("403 before RBAC", func(t *testing.T) {
		for _, c := range []struct {
			c    *caller
			user string
		}{{cert, "config-user"}, {token, saUser}, {anon, "system:anonymous"}} {
			r := s.expect(t, c.c, "/stats/summary", http.StatusForbidden)
			if !strings.HasPrefix(r.body, "Forbidden (user="+c.user+",") {
				t.Errorf("%s: body = %q", c.c.name, r.body)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	e.grant(t, "e2e:config", []rbacv1.PolicyRule{nodeRule([]string{"get"}, "stats", "configz")},
		groupSubject("config-group"), saSubject(ns, sa), groupSubject("system:unauthenticated"))

	t.Run("200 after RBAC, with each identity", func(t *testing.T) {
		for _, c := range []struct {
			c      *caller
			user   string
			groups []string
		}{
			{cert, "config-user", []string{"config-group", "system:authenticated"}},
			{token, saUser, []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}},
			{anon, "system:anonymous", []string{"system:unauthenticated"}},
		} {
			r := s.waitFor(t, c.c, "/stats/summary", http.StatusOK)
			if r.user() != c.user || !sameSet(r.groups(), c.groups) {
				t.Errorf("%s: identity %q %q, want %q %q", c.c.name, r.user(), r.groups(), c.user, c.groups)
			}
		}
	})

	t.Run("configz reports the file's settings", func(t *testing.T) {
		r := s.expect(t, cert, "/configz", http.StatusOK)
		var got struct {
			KubeletConfig kubeletconfigv1beta1.KubeletConfiguration `json:"kubeletconfig"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		c, dir := got.KubeletConfig, filepath.Dir(path)
		authn, authz := c.Authentication, c.Authorization
		for _, check := range []struct {
			name      string
			got, want any
		}{
			{"address", c.Address, "127.0.0.1"},
			{"port", c.Port, int32(port)},
			{"tlsCertFile (relative in the file)", c.TLSCertFile, filepath.Join(dir, "tls.crt")},
			{"x509.clientCAFile (relative in the file)", authn.X509.ClientCAFile, filepath.Join(dir, "ca.crt")},
			{"anonymous.enabled", *authn.Anonymous.Enabled, true},
			{"webhook.enabled", *authn.Webhook.Enabled, true},
			{"webhook.cacheTTL", authn.Webhook.CacheTTL.Duration, time.Minute},
			{"authorization.mode", authz.Mode, kubeletconfigv1beta1.KubeletAuthorizationModeWebhook},
			{"cacheAuthorizedTTL", authz.Webhook.CacheAuthorizedTTL.Duration, 3 * time.Second},
			{"cacheUnauthorizedTTL", authz.Webhook.CacheUnauthorizedTTL.Duration, time.Second},
		} {
			if check.got != check.want {
				t.Errorf("configz %s = %v, want %v", check.name, check.got, check.want)
			}
		}
		// The anonymous user was granted stats and configz only.
		want := "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[metrics])"
		if r := s.get(t, anon, "/metrics"); r.code != http.StatusForbidden || strings.TrimSpace(r.body) != want {
			t.Errorf("anonymous /metrics = %v, want 403 %q", r, want)
		}
	})
}

// freePort returns a TCP port that is free on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
