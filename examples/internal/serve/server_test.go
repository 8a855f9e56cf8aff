package serve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveResult is what a Serve started by startServe reported.
type serveResult struct {
	url  string
	stop func() error // cancels Serve's context and returns its error
	logs *lockedBuffer
}

// startServe runs Serve with handler on 127.0.0.1 and a free port, with a serving certificate
// from ca, and waits for its listening call.
func startServe(t *testing.T, ca *CA, handler http.Handler) serveResult {
	t.Helper()
	cert := keyPair(t, ca, "server", LoopbackHosts(), x509.ExtKeyUsageServerAuth)
	logs := &lockedBuffer{}
	logger := NewLogger(logs, 0)
	ctx, cancel := context.WithCancel(t.Context())
	urls := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(ctx, NewServer(handler, cert, logger), "127.0.0.1", 0, logger, func(url string) { urls <- url })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-errc:
		cancel()
		t.Fatalf("Serve = %v before listening", err)
	}
	stopped := false
	var result error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-errc
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return serveResult{url: url, stop: stop, logs: logs}
}

// client returns an HTTPS client trusting ca that presents cert when it is not nil.
func client(t *testing.T, ca *CA, cert *tls.Certificate) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM())
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestServe serves over real TLS: clients with and without a certificate connect, the handler
// sees the certificate it was given unverified, and cancelling the context shuts down cleanly.
func TestServe(t *testing.T) {
	ca := newTestCA(t, "test-ca")
	// A client certificate from another CA: the server must pass it on, not reject it.
	aliceCert := keyPair(t, newTestCA(t, "stranger-ca"), "alice", nil, x509.ExtKeyUsageClientAuth)
	s := startServe(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "none"
		if len(r.TLS.PeerCertificates) > 0 {
			name = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		io.WriteString(w, name)
	}))
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") || strings.HasSuffix(s.url, ":0") {
		t.Fatalf("listening URL %q, want https://127.0.0.1:<port>", s.url)
	}
	tests := []struct {
		name string
		cert *tls.Certificate
		want string
	}{
		{"no client certificate", nil, "none"},
		{"an unverified client certificate is passed on", &aliceCert, "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client(t, ca, tt.cert).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != tt.want {
				t.Errorf("GET = %d %q, want 200 %q", resp.StatusCode, body, tt.want)
			}
		})
	}
	if err := s.stop(); err != nil {
		t.Fatalf("Serve after shutdown = %v, want nil", err)
	}
	if !strings.Contains(s.logs.buf.String(), `"msg"="shutting down"`) {
		t.Errorf("logs lack the shutdown line:\n%s", s.logs.buf.String())
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	called := false
	err = Serve(t.Context(), NewServer(http.NotFoundHandler(), tls.Certificate{}, NewLogger(io.Discard, 0)),
		"127.0.0.1", port, NewLogger(io.Discard, 0), func(string) { called = true })
	if err == nil || !strings.Contains(err.Error(), "--address, --port") {
		t.Errorf("Serve on a busy port = %v, want an error naming --address and --port", err)
	}
	if called {
		t.Error("listening was called although Serve could not listen")
	}
}

func TestNewServerTLSConfig(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), tls.Certificate{}, NewLogger(io.Discard, 0))
	c := srv.TLSConfig
	if c.ClientAuth != tls.RequestClientCert || c.MinVersion != tls.VersionTLS12 || len(c.Certificates) != 1 {
		t.Errorf("TLS config: client auth %v, min version %x, %d certificates; want RequestClientCert, TLS 1.2, 1",
			c.ClientAuth, c.MinVersion, len(c.Certificates))
	}
	if srv.ReadHeaderTimeout == 0 || srv.ErrorLog == nil {
		t.Errorf("ReadHeaderTimeout %v, ErrorLog %v: want both set", srv.ReadHeaderTimeout, srv.ErrorLog)
	}
}

func TestServingCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := SelfSigned("from-file", []string{"localhost"}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		certFile, keyFile string
		wantCN            string
		wantErr           string
	}{
		{"loaded from files", certFile, keyFile, "from-file", ""},
		{"self-signed", "", "", "generated", ""},
		{"missing files", filepath.Join(dir, "no.crt"), filepath.Join(dir, "no.key"), "", "loading serving certificate"},
		{"only the certificate", certFile, "", "", "loading serving certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ServingCertificate(tt.certFile, tt.keyFile, "generated", LoopbackHosts())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(cert.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if leaf.Subject.CommonName != tt.wantCN {
				t.Errorf("CN %q, want %q", leaf.Subject.CommonName, tt.wantCN)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		address, listener, want string
	}{
		{"127.0.0.1", "127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"", "[::]:8443", "https://127.0.0.1:8443"},
		{"0.0.0.0", "0.0.0.0:10250", "https://127.0.0.1:10250"},
		{"::", "[::]:10250", "https://127.0.0.1:10250"},
		{"localhost", "127.0.0.1:8443", "https://localhost:8443"},
		{"::1", "[::1]:8443", "https://[::1]:8443"},
		{"10.1.2.3", "10.1.2.3:8443", "https://10.1.2.3:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.address+" "+tt.listener, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tt.listener)
			if err != nil {
				t.Fatal(err)
			}
			if got := baseURL(tt.address, addr); got != tt.want {
				t.Errorf("baseURL(%q, %s) = %q, want %q", tt.address, tt.listener, got, tt.want)
			}
		})
	}
}
