package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// pki holds the client CAs and client certificates of the benchmarks: an RSA-2048 CA that
// signed an RSA-2048 client certificate, and an ECDSA P-256 CA that signed an ECDSA P-256 one.
type pki struct {
	bundle    []byte // PEM of both CAs: the --client-ca-file
	rsaLeaf   *x509.Certificate
	ecdsaLeaf *x509.Certificate
	untrusted *x509.Certificate // a client certificate from a CA outside the bundle
}

// The RSA keys take a while to generate, so every benchmark shares one pki.
var sharedPKI = sync.OnceValues(func() (*pki, error) {
	rsaCAKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	rsaLeafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ecCAKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ecLeafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rsaCA, err := issue("bench-rsa-ca", nil, true, rsaCAKey.Public(), nil, rsaCAKey)
	if err != nil {
		return nil, err
	}
	ecCA, err := issue("bench-ecdsa-ca", nil, true, ecCAKey.Public(), nil, ecCAKey)
	if err != nil {
		return nil, err
	}
	orgs := []string{"kubeadm:cluster-admins"}
	rsaLeaf, err := issue("kube-apiserver-kubelet-client", orgs, false, rsaLeafKey.Public(), rsaCA, rsaCAKey)
	if err != nil {
		return nil, err
	}
	ecLeaf, err := issue("kube-apiserver-kubelet-client", orgs, false, ecLeafKey.Public(), ecCA, ecCAKey)
	if err != nil {
		return nil, err
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	other, err := issue("bench-other-ca", nil, true, otherKey.Public(), nil, otherKey)
	if err != nil {
		return nil, err
	}
	untrusted, err := issue("mallory", orgs, false, ecLeafKey.Public(), other, otherKey)
	if err != nil {
		return nil, err
	}
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaCA.Raw})
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ecCA.Raw})...)
	return &pki{bundle: bundle, rsaLeaf: rsaLeaf, ecdsaLeaf: ecLeaf, untrusted: untrusted}, nil
})

func issue(cn string, orgs []string, isCA bool, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, error) {
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if isCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = nil
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func loadPKI(tb testing.TB) *pki {
	tb.Helper()
	p, err := sharedPKI()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
