package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// writeConfig writes a KubeletConfiguration file named kubelet.yaml in a new directory and
// returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "etc")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kubelet.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const configHeader = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"

// fullConfig sets every field the example reads, none to its default.
const fullConfig = configHeader + `address: 10.0.0.7
port: 11250
tlsCertFile: pki/serving.crt
tlsPrivateKeyFile: /abs/serving.key
authentication:
  x509:
    clientCAFile: pki/ca.crt
  webhook:
    enabled: false
    cacheTTL: 10s
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
  webhook:
    cacheAuthorizedTTL: 1m
    cacheUnauthorizedTTL: 5s
`

// summary is the part of settings a test compares.
type summary struct {
	demo                  bool
	kubeconfig, node      string
	address               string
	port                  int
	tlsCert, tlsKey       string
	clientCA              string
	anonymous, webhook    bool
	tokenTTL              time.Duration
	mode                  kubeletconfigv1beta1.KubeletAuthorizationMode
	allowedTTL, deniedTTL time.Duration
	authFlags             string
}

func summarize(s *settings) summary {
	c := s.config
	return summary{
		demo: s.demo, kubeconfig: s.kubeconfig, node: s.nodeName,
		address: c.Address, port: s.port, tlsCert: c.TLSCertFile, tlsKey: c.TLSPrivateKeyFile,
		clientCA:  c.Authentication.X509.ClientCAFile,
		anonymous: *c.Authentication.Anonymous.Enabled, webhook: *c.Authentication.Webhook.Enabled,
		tokenTTL: c.Authentication.Webhook.CacheTTL.Duration,
		mode:     c.Authorization.Mode, allowedTTL: c.Authorization.Webhook.CacheAuthorizedTTL.Duration,
		deniedTTL: c.Authorization.Webhook.CacheUnauthorizedTTL.Duration,
		authFlags: strings.Join(s.authFlags, " "),
	}
}

func TestParseSettings(t *testing.T) {
	full := writeConfig(t, fullConfig)
	fullDir := filepath.Dir(full)
	minimal := writeConfig(t, configHeader)
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	// secure is what every unset setting becomes: the KubeletConfiguration v1beta1 defaults.
	secure := func(s summary) summary {
		s.webhook, s.tokenTTL, s.mode, s.allowedTTL, s.deniedTTL = true, 2*time.Minute, "Webhook", 5*time.Minute, 30*time.Second
		return s
	}

	tests := []struct {
		name string
		args []string
		want summary
	}{
		{name: "no flags: demo on loopback with the v1beta1 defaults",
			args: []string{"--hostname-override", "n"},
			want: secure(summary{demo: true, node: "n", address: "127.0.0.1", port: 10250})},
		{name: "node name defaults to the lowercased host name",
			args: []string{"--demo"},
			want: secure(summary{demo: true, node: strings.ToLower(hostname), address: "127.0.0.1", port: 10250})},
		{name: "node name override is trimmed and lowercased",
			args: []string{"--hostname-override", " Node-1 "},
			want: secure(summary{demo: true, node: "node-1", address: "127.0.0.1", port: 10250})},
		{name: "demo takes --address, --port and the authorization flags",
			args: []string{"--hostname-override", "n", "--address", "::1", "--port", "0", "--authorization-mode", "AlwaysAllow", "-v", "3"},
			want: func() summary {
				s := secure(summary{demo: true, node: "n", address: "::1", port: 0, authFlags: "--authorization-mode"})
				s.mode = "AlwaysAllow"
				return s
			}()},
		{name: "kubeconfig alone: all interfaces, the v1beta1 defaults",
			args: []string{"--hostname-override", "n", "--kubeconfig", "kc"},
			want: secure(summary{kubeconfig: "kc", node: "n", address: "0.0.0.0", port: 10250})},
		{name: "kubeconfig and the kubelet's flags",
			args: []string{"--hostname-override", "n", "--kubeconfig", "kc", "--address", "127.0.0.1", "--port", "12250",
				"--tls-cert-file", "s.crt", "--tls-private-key-file", "s.key", "--client-ca-file", "rel/ca.crt",
				"--anonymous-auth=true", "--authentication-token-webhook=false", "--authentication-token-webhook-cache-ttl", "1m",
				"--authorization-mode", "AlwaysAllow", "--authorization-webhook-cache-authorized-ttl", "2m",
				"--authorization-webhook-cache-unauthorized-ttl", "3s"},
			want: summary{kubeconfig: "kc", node: "n", address: "127.0.0.1", port: 12250, tlsCert: "s.crt", tlsKey: "s.key",
				clientCA: "rel/ca.crt", anonymous: true, webhook: false, tokenTTL: time.Minute, mode: "AlwaysAllow",
				allowedTTL: 2 * time.Minute, deniedTTL: 3 * time.Second,
				authFlags: "--client-ca-file --anonymous-auth --authentication-token-webhook --authentication-token-webhook-cache-ttl " +
					"--authorization-mode --authorization-webhook-cache-authorized-ttl --authorization-webhook-cache-unauthorized-ttl"}},
		{name: "config file values, relative paths resolved against its directory",
			args: []string{"--hostname-override", "n", "--config", full},
			want: summary{node: "n", address: "10.0.0.7", port: 11250,
				tlsCert: filepath.Join(fullDir, "pki/serving.crt"), tlsKey: "/abs/serving.key", clientCA: filepath.Join(fullDir, "pki/ca.crt"),
				anonymous: true, webhook: false, tokenTTL: 10 * time.Second, mode: "AlwaysAllow", allowedTTL: time.Minute, deniedTTL: 5 * time.Second}},
		{name: "flags given on the command line override the config file; flag paths stay as given",
			args: []string{"--hostname-override", "n", "--config", full, "--kubeconfig", "kc", "--port", "0", "--address", "127.0.0.1",
				"--tls-cert-file", "my.crt", "--client-ca-file", "my-ca.crt", "--anonymous-auth=false", "--authorization-mode", "Webhook",
				"--authorization-webhook-cache-unauthorized-ttl", "1s"},
			want: summary{kubeconfig: "kc", node: "n", address: "127.0.0.1", port: 0,
				tlsCert: "my.crt", tlsKey: "/abs/serving.key", clientCA: "my-ca.crt",
				anonymous: false, webhook: false, tokenTTL: 10 * time.Second, mode: "Webhook", allowedTTL: time.Minute, deniedTTL: time.Second,
				authFlags: "--client-ca-file --anonymous-auth --authorization-mode --authorization-webhook-cache-unauthorized-ttl"}},
		{name: "flags not given on the command line do not override the config file",
			args: []string{"--hostname-override", "n", "--config", full, "--port", "11250"},
			want: summary{node: "n", address: "10.0.0.7", port: 11250,
				tlsCert: filepath.Join(fullDir, "pki/serving.crt"), tlsKey: "/abs/serving.key", clientCA: filepath.Join(fullDir, "pki/ca.crt"),
				anonymous: true, webhook: false, tokenTTL: 10 * time.Second, mode: "AlwaysAllow", allowedTTL: time.Minute, deniedTTL: 5 * time.Second}},
		{name: "a config file with nothing set takes the v1beta1 defaults, not the kubelet's legacy flag defaults",
			args: []string{"--hostname-override", "n", "--config", minimal},
			want: secure(summary{node: "n", address: "0.0.0.0", port: 10250})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSettings(tt.args, io.Discard)
			if err != nil {
				t.Fatalf("parseSettings(%q) = %v", tt.args, err)
			}
			if got := summarize(s); got != tt.want {
				t.Errorf("parseSettings(%q)\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
			if int(s.config.Port) != s.port {
				t.Errorf("config.port = %d, want the listen port %d (for /configz)", s.config.Port, s.port)
			}
		})
	}
}

func TestParseSettingsErrors(t *testing.T) {
	cfg := func(body string) string { return writeConfig(t, body) }
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "wrong kind", args: []string{"--config", cfg("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n")},
			wantErr: `kind "KubeProxyConfiguration"`},
		{name: "wrong apiVersion", args: []string{"--config", cfg("apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n")},
			wantErr: `apiVersion "kubelet.config.k8s.io/v1"`},
		{name: "no apiVersion or kind", args: []string{"--config", cfg("port: 10250\n")}, wantErr: `want apiVersion "kubelet.config.k8s.io/v1beta1" kind "KubeletConfiguration"`},
		{name: "unknown field", args: []string{"--config", cfg(configHeader + "authentication:\n  x509:\n    caFile: ca.crt\n")},
			wantErr: `unknown field "authentication.x509.caFile"`},
		{name: "field name in the wrong case", args: []string{"--config", cfg(configHeader + "authentication:\n  x509:\n    clientCaFile: ca.crt\n")},
			wantErr: `unknown field "authentication.x509.clientCaFile"`},
		{name: "duplicate field", args: []string{"--config", cfg(configHeader + "port: 1\nport: 2\n")}, wantErr: "port"},
		{name: "not YAML", args: []string{"--config", cfg("{")}, wantErr: "--config"},
		{name: "missing config file", args: []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, wantErr: "no such file"},
		{name: "only the cert flag", args: []string{"--kubeconfig", "kc", "--tls-cert-file", "s.crt"}, wantErr: "must be set together"},
		{name: "only the key flag", args: []string{"--kubeconfig", "kc", "--tls-private-key-file", "s.key"}, wantErr: "must be set together"},
		{name: "only the cert in the config file", args: []string{"--config", cfg(configHeader + "tlsCertFile: s.crt\n")}, wantErr: "must be set together"},
		{name: "flag empties the config file's key", args: []string{"--config", cfg(configHeader + "tlsCertFile: s.crt\ntlsPrivateKeyFile: s.key\n"), "--tls-private-key-file", ""},
			wantErr: "must be set together"},
		{name: "port out of range", args: []string{"--kubeconfig", "kc", "--port", "65536"}, wantErr: "out of range"},
		{name: "negative port in the config file", args: []string{"--config", cfg(configHeader + "port: -1\n")}, wantErr: "out of range"},
		{name: "demo with kubeconfig", args: []string{"--demo", "--kubeconfig", "kc"}, wantErr: "--demo cannot be combined"},
		{name: "demo with config", args: []string{"--demo", "--config", cfg(configHeader)}, wantErr: "--demo cannot be combined"},
		{name: "demo with a client CA", args: []string{"--client-ca-file", "ca.crt"}, wantErr: "--client-ca-file needs --kubeconfig or --config"},
		{name: "demo with a serving cert", args: []string{"--tls-cert-file", "s.crt", "--tls-private-key-file", "s.key"}, wantErr: "--tls-cert-file needs --kubeconfig or --config"},
		{name: "unknown flag", args: []string{"--authorization-modes", "Webhook"}, wantErr: "flag provided but not defined"},
		{name: "bad duration", args: []string{"--authentication-token-webhook-cache-ttl", "2"}, wantErr: "invalid value"},
		{name: "stray argument", args: []string{"--demo", "extra"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSettings(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseSettings(%q) = %+v, %v; want an error containing %q", tt.args, s, err, tt.wantErr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseSettings([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseSettings(-h) = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"127.0.0.1:10250 (change with --port)", "-authorization-mode", "-hostname-override", "insecure legacy flag defaults"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunRejectsBadSettings checks that run returns configuration errors before it serves.
func TestRunRejectsBadSettings(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown authorization mode", args: []string{"--demo", "--authorization-mode", "RBAC"}, wantErr: `"RBAC" is not supported`},
		{name: "webhook needs a client", args: []string{"--config", writeConfig(t, configHeader+"authentication:\n  anonymous:\n    enabled: true\n")},
			wantErr: "needs a Kubernetes client"},
		{name: "missing client CA file", args: []string{"--config", writeConfig(t, configHeader+
			"authentication:\n  x509:\n    clientCAFile: missing.crt\n  webhook:\n    enabled: false\nauthorization:\n  mode: AlwaysAllow\n")},
			wantErr: "clientCAFile"},
		{name: "missing kubeconfig", args: []string{"--kubeconfig", filepath.Join(dir, "nope")}, wantErr: "--kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--port", "0", "--hostname-override", testNode}, tt.args...)
			err := run(t.Context(), args, io.Discard, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", args, err, tt.wantErr)
			}
		})
	}
}
