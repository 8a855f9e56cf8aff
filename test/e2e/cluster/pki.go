//go:build e2e

package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// KeyPair is a PEM-encoded certificate and private key, also written to
// CertPath and KeyPath (mode 0600 for the key).
type KeyPair struct {
	CertPEM  []byte
	KeyPEM   []byte
	CertPath string
	KeyPath  string
}

// TLSCertificate parses the pair for use in a tls.Config.
func (k *KeyPair) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(k.CertPEM, k.KeyPEM)
}

// authority is a self-signed CA that issues every certificate of a cluster.
type authority struct {
	dir     string
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	mu      sync.Mutex
	serial  int64
}

func newAuthority(dir string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "realk8s-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &authority{dir: dir, cert: cert, key: key, serial: 1,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if err := writePair(ca.certPath(), ca.certPEM, filepath.Join(dir, "ca.key"), keyPEM); err != nil {
		return nil, err
	}
	return ca, nil
}

func (a *authority) certPath() string { return filepath.Join(a.dir, "ca.crt") }

// certSpec describes a leaf certificate.
type certSpec struct {
	name  string // file base name
	cn    string
	orgs  []string
	dns   []string
	ips   []net.IP
	usage []x509.ExtKeyUsage
}

func (a *authority) issue(spec certSpec) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.serial++
	serial := a.serial
	a.mu.Unlock()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: spec.cn, Organization: spec.orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  spec.usage,
		DNSNames:     spec.dns,
		IPAddresses:  spec.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	kp := &KeyPair{
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:   keyPEM,
		CertPath: filepath.Join(a.dir, fmt.Sprintf("%s-%d.crt", spec.name, serial)),
		KeyPath:  filepath.Join(a.dir, fmt.Sprintf("%s-%d.key", spec.name, serial)),
	}
	if err := writePair(kp.CertPath, kp.CertPEM, kp.KeyPath, kp.KeyPEM); err != nil {
		return nil, err
	}
	return kp, nil
}

// serving issues a server certificate for the given host names and IPs.
func (a *authority) serving(name string, dns []string, ips []net.IP) (*KeyPair, error) {
	if len(dns) == 0 && len(ips) == 0 {
		return nil, fmt.Errorf("cluster: a serving certificate needs at least one DNS name or IP")
	}
	return a.issue(certSpec{name: name, cn: firstName(dns, ips), dns: dns, ips: ips,
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
}

// client issues a client certificate; the apiserver maps CN to the user
// name and O to groups.
func (a *authority) client(name, cn string, orgs []string) (*KeyPair, error) {
	if cn == "" {
		return nil, fmt.Errorf("cluster: a client certificate needs a common name")
	}
	return a.issue(certSpec{name: name, cn: cn, orgs: orgs,
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

func firstName(dns []string, ips []net.IP) string {
	if len(dns) > 0 {
		return dns[0]
	}
	return ips[0].String()
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writeServiceAccountKeys writes sa.key (signing) and sa.pub (verifying).
func writeServiceAccountKeys(dir string) (keyPath, pubPath string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	keyPath, pubPath = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	return keyPath, pubPath, writePair(pubPath, pubPEM, keyPath, keyPEM)
}

func writePair(certPath string, certPEM []byte, keyPath string, keyPEM []byte) error {
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, keyPEM, 0o600)
}
