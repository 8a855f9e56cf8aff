package serve

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
)

// parseCert decodes the one PEM certificate in certPEM.
func parseCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, rest := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("not one PEM certificate: %q", certPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// newTestCA returns a new CA named cn.
func newTestCA(t *testing.T, cn string) *CA {
	t.Helper()
	ca, err := NewCA(cn)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// keyPair issues a certificate from ca and returns it with its key.
func keyPair(t *testing.T, ca *CA, cn string, hosts []string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(cn, nil, hosts, usage)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("certificate and key do not pair: %v", err)
	}
	return cert
}

func TestCAIssue(t *testing.T) {
	ca := newTestCA(t, "test-ca")
	root := parseCert(t, ca.CertPEM())
	if !root.IsCA || root.Subject.CommonName != "test-ca" || root.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("CA certificate: IsCA %v, CN %q, key usage %v", root.IsCA, root.Subject.CommonName, root.KeyUsage)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)

	tests := []struct {
		name      string
		cn        string
		orgs      []string
		hosts     []string
		usage     x509.ExtKeyUsage
		verifyFor string // the DNS name or IP to verify for; "" verifies without one
	}{
		{"client certificate with groups", "system:node:n1", []string{"system:nodes", "team"}, nil, x509.ExtKeyUsageClientAuth, ""},
		{"serving certificate for a name", "server", nil, []string{"localhost", "127.0.0.1"}, x509.ExtKeyUsageServerAuth, "localhost"},
		{"serving certificate for an IPv6 address", "server", nil, []string{"::1"}, x509.ExtKeyUsageServerAuth, "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := ca.Issue(tt.cn, tt.orgs, tt.hosts, tt.usage)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
				t.Fatalf("certificate and key do not pair: %v", err)
			}
			leaf := parseCert(t, certPEM)
			orgs := slices.Sorted(slices.Values(leaf.Subject.Organization)) // DER sorts the set
			if leaf.IsCA || leaf.Subject.CommonName != tt.cn || !slices.Equal(orgs, slices.Sorted(slices.Values(tt.orgs))) {
				t.Errorf("subject %v (IsCA %v), want CN %q O %q", leaf.Subject, leaf.IsCA, tt.cn, tt.orgs)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: tt.verifyFor, Roots: roots, KeyUsages: []x509.ExtKeyUsage{tt.usage}}); err != nil {
				t.Errorf("does not verify against the CA for %q: %v", tt.verifyFor, err)
			}
			other := x509.ExtKeyUsageClientAuth
			if tt.usage == other {
				other = x509.ExtKeyUsageServerAuth
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{other}}); err == nil {
				t.Errorf("verifies for extended key usage %v too, want only %v", other, tt.usage)
			}
		})
	}
}

func TestCAsAreDistinct(t *testing.T) {
	a, b := newTestCA(t, "same-name"), newTestCA(t, "same-name")
	alice := keyPair(t, a, "alice", nil, x509.ExtKeyUsageClientAuth)
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, b.CertPEM()))
	leaf, err := x509.ParseCertificate(alice.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("a certificate from one CA verifies against another CA of the same name")
	}
}

func TestSelfSigned(t *testing.T) {
	certPEM, keyPEM, err := SelfSigned("self", []string{"localhost"}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("certificate and key do not pair: %v", err)
	}
	leaf := parseCert(t, certPEM)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: roots}); err != nil {
		t.Errorf("does not verify against itself: %v", err)
	}
	if leaf.IsCA || leaf.Subject.CommonName != "self" {
		t.Errorf("IsCA %v CN %q, want a leaf named self", leaf.IsCA, leaf.Subject.CommonName)
	}
}
