package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// startDemo runs the demo on a free port until the test ends.
func startDemo(t *testing.T) started {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan started, 1)
	errc := make(chan error, 1)
	var stdout, stderr strings.Builder
	go func() { errc <- run(ctx, []string{"--port", "0"}, &stdout, &stderr, ready) }()
	var s started
	select {
	case s = <-ready:
	case err := <-errc:
		t.Fatalf("run: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	if !strings.Contains(stdout.String(), "/api/v1/namespaces/team-a/secrets/db-password    # 200") {
		t.Errorf("the demo's commands do not show node-a reading its secret:\n%s", stdout.String())
	}
	return s
}

// httpsClient trusts the demo CA and presents the node's certificate, if node is not empty.
func httpsClient(t *testing.T, d *demo, node string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(d.caPEM)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if node != "" {
		pair := d.certs[node]
		cert, err := tls.LoadX509KeyPair(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestDemo(t *testing.T) {
	s := startDemo(t)
	tests := []struct {
		name, node, method, path string
		want                     int
		body                     string // a substring of the body
	}{
		{"node-a reads its pod's secret", "node-a", http.MethodGet, "/api/v1/namespaces/team-a/secrets/db-password", 200, `"name":"db-password"`},
		{"node-b reads its pod's secret", "node-b", http.MethodGet, "/api/v1/namespaces/team-b/secrets/api-key", 200, "ZGVtbyB2YWx1ZSBvZiBhcGkta2V5"},
		{"node-b cannot read node-a's secret", "node-b", http.MethodGet, "/api/v1/namespaces/team-a/secrets/db-password", 403, "user=system:node:node-b, verb=get, resource=secrets"},
		{"node-a cannot read node-b's secret", "node-a", http.MethodGet, "/api/v1/namespaces/team-b/secrets/api-key", 403, "Forbidden"},
		{"same name in another namespace", "node-a", http.MethodGet, "/api/v1/namespaces/team-b/secrets/db-password", 403, "Forbidden"},
		{"listing", "node-a", http.MethodGet, "/api/v1/namespaces/team-a/secrets", 403, "verb=list"},
		{"watching its secret by name is allowed but not served", "node-a", http.MethodGet, "/api/v1/namespaces/team-a/secrets?watch=1&fieldSelector=metadata.name%3Ddb-password", 404, ""},
		{"a subresource", "node-a", http.MethodGet, "/api/v1/namespaces/team-a/secrets/db-password/x", 403, "Forbidden"},
		{"writing", "node-a", http.MethodPut, "/api/v1/namespaces/team-a/secrets/db-password", 403, "verb=update"},
		{"a non-canonical path", "node-a", http.MethodGet, "/api/v1/namespaces/team-b/secrets/../../team-a/secrets/db-password", 400, ""},
		{"no certificate", "", http.MethodGet, "/api/v1/namespaces/team-a/secrets/db-password", 401, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, s.url+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = "//" + req.URL.Host + tt.path // keep dot segments as sent
			if i := strings.IndexByte(req.URL.Opaque, '?'); i >= 0 {
				req.URL.Opaque, req.URL.RawQuery = req.URL.Opaque[:i], req.URL.Opaque[i+1:]
			}
			resp, err := httpsClient(t, s.demo, tt.node).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.body) {
				t.Fatalf("%s %s = %d %q, want %d with %q", tt.method, tt.path, resp.StatusCode, body, tt.want, tt.body)
			}
			if tt.want == 200 {
				var secret corev1.Secret
				if err := json.Unmarshal(body, &secret); err != nil || secret.Kind != "Secret" || len(secret.Data["value"]) == 0 {
					t.Fatalf("body is not the secret: %v %q", err, body)
				}
				if resp.Header.Get("Cache-Control") != "no-store" {
					t.Error("secret served without Cache-Control: no-store")
				}
			}
		})
	}
}

func TestParseSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		demo    bool
	}{
		{"default is the demo", nil, "", true},
		{"cluster", []string{"--kubeconfig", "k", "--client-ca-file", "ca"}, "", false},
		{"cluster needs a client CA", []string{"--kubeconfig", "k"}, "--client-ca-file is required", false},
		{"demo and kubeconfig", []string{"--demo", "--kubeconfig", "k", "--client-ca-file", "ca"}, "exclusive", false},
		{"half a key pair", []string{"--tls-cert-file", "c"}, "go together", false},
		{"stray argument", []string{"x"}, "unexpected arguments", false},
		{"unknown flag", []string{"--nope"}, "not defined", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSettings(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSettings = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || s.demo != tt.demo {
				t.Fatalf("parseSettings = %+v, %v; want demo %v", s, err, tt.demo)
			}
		})
	}
}
