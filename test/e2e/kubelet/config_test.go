//go:build e2e

package kubelet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// kubeletConfig is what writeKubeletConfig puts in a KubeletConfiguration file.
type kubeletConfig struct {
	address                            string
	port                               int
	anonymous                          bool
	tokenTTL, authorizedTTL, deniedTTL time.Duration
}

// writeKubeletConfig writes a kubelet.config.k8s.io/v1beta1 KubeletConfiguration for node into
// a new directory, with the serving certificate, key and client CA beside it under relative
// paths (which the example, like the kubelet, resolves against the file's directory). It
// returns the file's path.
func (e *env) writeKubeletConfig(t *testing.T, node string, k kubeletConfig) string {
	t.Helper()
	dir := t.TempDir()
	serving := e.servingCert(t, node)
	for name, data := range map[string][]byte{"ca.crt": e.c.CAPEM(), "tls.crt": serving.CertPEM, "tls.key": serving.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yaml := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
tlsCertFile: tls.crt
tlsPrivateKeyFile: tls.key
authentication:
  x509:
    clientCAFile: ca.crt
  webhook:
    enabled: true
    cacheTTL: %s
  anonymous:
    enabled: %v
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: %s
    cacheUnauthorizedTTL: %s
`, k.address, k.port, k.tokenTTL, k.anonymous, k.authorizedTTL, k.deniedTTL)
	path := filepath.Join(dir, "kubelet-config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
