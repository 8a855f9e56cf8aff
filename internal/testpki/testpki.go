// Package testpki makes throw-away certificate authorities and certificates for tests: client
// certificates (valid, expired, not yet valid, without the clientAuth usage) and serving
// certificates. Keys are ECDSA P-256 unless an RSA key is asked for. It is for tests only.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a certificate authority that signs certificates for tests.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// PEM is the CA certificate, PEM-encoded, for a client CA bundle.
	PEM []byte
}

// Cert is a leaf certificate with its key.
type Cert struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// TLS returns the certificate as a tls.Certificate, with the chain given after the leaf.
func (c *Cert) TLS(chain ...*x509.Certificate) tls.Certificate {
	out := tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
	for _, ic := range chain {
		out.Certificate = append(out.Certificate, ic.Raw)
	}
	return out
}

// Options describe a certificate. The zero value is a client certificate valid for an hour.
type Options struct {
	CommonName    string
	Organization  []string
	NotBefore     time.Time // default: an hour ago
	NotAfter      time.Time // default: in an hour
	ExtKeyUsage   []x509.ExtKeyUsage
	IPs           []net.IP
	DNSNames      []string
	RSA           bool // an RSA-2048 key instead of ECDSA P-256
	IsCA          bool
	NoExtKeyUsage bool // leave ExtKeyUsage empty (which x509 treats as "any")
	// ExtraNames are added to the subject, e.g. UID attributes; default: none.
	ExtraNames []pkix.AttributeTypeAndValue
}

// NewCA returns a self-signed CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	return NewCAWith(t, Options{CommonName: name})
}

// NewCAWith returns a self-signed CA described by opts (IsCA is implied), e.g. with given
// validity times.
func NewCAWith(t testing.TB, opts Options) *CA {
	t.Helper()
	return newCA(t, nil, nil, opts)
}

// Intermediate returns a CA signed by ca.
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	t.Helper()
	return ca.IntermediateWith(t, Options{CommonName: name})
}

// IntermediateWith returns a CA described by opts (IsCA is implied), signed by ca.
func (ca *CA) IntermediateWith(t testing.TB, opts Options) *CA {
	t.Helper()
	return newCA(t, ca.Cert, ca.Key, opts)
}

func newCA(t testing.TB, parent *x509.Certificate, parentKey crypto.Signer, opts Options) *CA {
	t.Helper()
	opts.IsCA = true
	cert, key := issue(t, parent, parentKey, opts)
	return &CA{Cert: cert, Key: key, PEM: pemBlock("CERTIFICATE", cert.Raw)}
}

// Client returns a client certificate (clientAuth usage unless opts say otherwise).
func (ca *CA) Client(t testing.TB, opts Options) *Cert {
	t.Helper()
	if opts.ExtKeyUsage == nil && !opts.NoExtKeyUsage {
		opts.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	return ca.leaf(t, opts)
}

// Server returns a serving certificate for 127.0.0.1, ::1 and localhost plus opts' names.
func (ca *CA) Server(t testing.TB, opts Options) *Cert {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "localhost"
	}
	opts.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	opts.IPs = append(opts.IPs, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	opts.DNSNames = append(opts.DNSNames, "localhost")
	return ca.leaf(t, opts)
}

func (ca *CA) leaf(t testing.TB, opts Options) *Cert {
	t.Helper()
	cert, key := issue(t, ca.Cert, ca.Key, opts)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{Cert: cert, Key: key, CertPEM: pemBlock("CERTIFICATE", cert.Raw), KeyPEM: pemBlock("PRIVATE KEY", der)}
}

// CertPool returns a pool holding only this CA.
func (ca *CA) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func issue(t testing.TB, parent *x509.Certificate, parentKey crypto.Signer, opts Options) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	var key crypto.Signer
	var err error
	if opts.RSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: opts.CommonName, Organization: opts.Organization, ExtraNames: opts.ExtraNames},
		NotBefore:             opts.NotBefore,
		NotAfter:              opts.NotAfter,
		ExtKeyUsage:           opts.ExtKeyUsage,
		IPAddresses:           opts.IPs,
		DNSNames:              opts.DNSNames,
		BasicConstraintsValid: true,
		IsCA:                  opts.IsCA,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(time.Hour)
	}
	if opts.IsCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
