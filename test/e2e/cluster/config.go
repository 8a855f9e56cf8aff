//go:build e2e

package cluster

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// pollInterval is the delay between readiness probes.
const pollInterval = 100 * time.Millisecond

// writeConfig picks ports and writes the PKI, tokens.csv and kubeconfig.
func (c *Cluster) writeConfig() error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	c.etcdPort, c.etcdPeerPort, c.apiPort = ports[0], ports[1], ports[2]

	if c.ca, err = newAuthority(c.dir); err != nil {
		return err
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback, net.ParseIP("10.0.0.1"), net.ParseIP(c.opts.BindIP)}
	ips = append(ips, c.opts.ExtraSANs...)
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local"}
	if c.apiserverCert, err = c.ca.serving("apiserver", dns, ips); err != nil {
		return err
	}
	if c.adminCert, err = c.ca.client("admin", AdminCN, []string{AdminGroup}); err != nil {
		return err
	}
	if c.kubeletClientCert, err = c.ca.client("kubelet-client", KubeletClientCN, nil); err != nil {
		return err
	}
	if _, _, err = writeServiceAccountKeys(c.dir); err != nil {
		return err
	}
	if len(c.opts.StaticTokens) > 0 {
		if err := writeTokens(filepath.Join(c.dir, "tokens.csv"), c.opts.StaticTokens); err != nil {
			return err
		}
	}
	c.kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	return os.WriteFile(c.kubeconfig, []byte(c.kubeconfigYAML()), 0o600)
}

func writeTokens(path string, tokens []StaticToken) error {
	var b strings.Builder
	for i, t := range tokens {
		fields := append([]string{t.Token, t.User, t.UID}, t.Groups...)
		for _, f := range fields {
			if strings.ContainsAny(f, ",\"\r\n") {
				return fmt.Errorf("cluster: static token %d (user %q): fields may not contain commas, quotes or newlines", i, t.User)
			}
		}
		if t.Token == "" || t.User == "" {
			return fmt.Errorf("cluster: static token %d needs Token and User", i)
		}
		uid := t.UID
		if uid == "" {
			uid = t.User
		}
		fmt.Fprintf(&b, "%s,%s,%s", t.Token, t.User, uid)
		if len(t.Groups) > 0 {
			fmt.Fprintf(&b, ",\"%s\"", strings.Join(t.Groups, ","))
		}
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func (c *Cluster) kubeconfigYAML() string {
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: realk8s
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: realk8s-admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: realk8s
  context:
    cluster: realk8s
    user: realk8s-admin
current-context: realk8s
`, c.Host(), enc(c.ca.certPEM), enc(c.adminCert.CertPEM), enc(c.adminCert.KeyPEM))
}

// KubeconfigPath returns the admin kubeconfig (client cert in
// system:masters). Outside the namespace it only works through Kubectl or
// Command.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// CAPEM returns the cluster CA certificate. The CA is the apiserver's
// --client-ca-file, signed its serving certificate, and is also its
// --kubelet-certificate-authority.
func (c *Cluster) CAPEM() []byte { return append([]byte(nil), c.ca.certPEM...) }

// CACertPath returns the path of the cluster CA certificate file.
func (c *Cluster) CACertPath() string { return c.ca.certPath() }

// KubeletCACertPath returns the CA the apiserver uses to verify kubelet
// serving certificates (--kubelet-certificate-authority). It is the cluster
// CA: give a test kubelet a certificate from IssueServingCert.
func (c *Cluster) KubeletCACertPath() string { return c.ca.certPath() }

// CAPool returns a pool holding the cluster CA, for verifying the apiserver
// or the apiserver's kubelet client certificate (CN KubeletClientCN).
func (c *Cluster) CAPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.ca.cert)
	return p
}

// IssueServingCert issues a server certificate signed by the cluster CA for
// the given DNS names and IPs, e.g. for a test kubelet or webhook.
func (c *Cluster) IssueServingCert(dns []string, ips []net.IP) (*KeyPair, error) {
	return c.ca.serving("serving", dns, ips)
}

// IssueClientCert issues a client certificate signed by the cluster CA. The
// apiserver authenticates it as user cn with groups orgs.
func (c *Cluster) IssueClientCert(cn string, orgs ...string) (*KeyPair, error) {
	return c.ca.client("client", cn, orgs)
}

// RESTConfig returns a new admin config (client cert in system:masters) with
// QPS and Burst raised so that tight test loops are not throttled.
func (c *Cluster) RESTConfig() *rest.Config {
	return c.CertConfig(c.adminCert)
}

// CertConfig returns a config that authenticates with the given client
// certificate (see IssueClientCert).
func (c *Cluster) CertConfig(kp *KeyPair) *rest.Config {
	cfg := c.AnonymousConfig()
	cfg.CertData = append([]byte(nil), kp.CertPEM...)
	cfg.KeyData = append([]byte(nil), kp.KeyPEM...)
	return cfg
}

// BearerConfig returns a config that authenticates with a bearer token.
func (c *Cluster) BearerConfig(token string) *rest.Config {
	cfg := c.AnonymousConfig()
	cfg.BearerToken = token
	return cfg
}

// AnonymousConfig returns a config that trusts the cluster CA and sends no
// credentials. Proxies from the environment are never used.
func (c *Cluster) AnonymousConfig() *rest.Config {
	return &rest.Config{
		Host:            c.Host(),
		TLSClientConfig: rest.TLSClientConfig{CAData: append([]byte(nil), c.ca.certPEM...)},
		QPS:             1000,
		Burst:           2000,
		Proxy:           func(*http.Request) (*url.URL, error) { return nil, nil },
		Dial:            c.dial,
	}
}

// Clientset returns a shared admin clientset built from RESTConfig.
func (c *Cluster) Clientset() *kubernetes.Clientset {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clientset == nil {
		c.clientset = kubernetes.NewForConfigOrDie(c.RESTConfig())
	}
	return c.clientset
}

// WaitReady polls the apiserver's /readyz until it answers "ok", ctx ends,
// the Options.StartTimeout passes, or the apiserver process exits.
func (c *Cluster) WaitReady(ctx context.Context) error {
	hc, err := rest.HTTPClientFor(c.RESTConfig())
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	return c.poll(ctx, c.apiserver, "kube-apiserver /readyz", func(ctx context.Context) error {
		return probe(ctx, hc, c.Host()+"/readyz", func(body string) bool { return strings.TrimSpace(body) == "ok" })
	})
}

// waitEtcd polls etcd's /health.
func (c *Cluster) waitEtcd(ctx context.Context) error {
	hc := &http.Client{Transport: &http.Transport{DialContext: c.DialContext, Proxy: nil}}
	defer hc.CloseIdleConnections()
	return c.poll(ctx, c.etcd, "etcd /health", func(ctx context.Context) error {
		return probe(ctx, hc, c.EtcdURL()+"/health", func(body string) bool {
			return strings.Contains(strings.ReplaceAll(body, " ", ""), `"health":"true"`)
		})
	})
}

// poll runs check until it succeeds, with a deadline, watching p for exit.
func (c *Cluster) poll(ctx context.Context, p *process, what string, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	exited := p.exited()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		attemptCtx, attemptCancel := context.WithTimeout(ctx, 2*time.Second)
		err := check(attemptCtx)
		attemptCancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("waiting for %s: %w", what, p.exitError())
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func probe(ctx context.Context, hc *http.Client, u string, ok func(string) bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !ok(string(body)) {
		return fmt.Errorf("%s: HTTP %d: %.200s", u, resp.StatusCode, body)
	}
	return nil
}
