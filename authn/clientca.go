package authn

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ClientCA provides the CA pool that client certificates are verified against, and a
// generation number that changes whenever the pool changes, so that anything derived from the
// pool can be keyed on it.
//
// CurrentCA must be safe for concurrent use. A nil pool means no CA is loaded; [X509] then
// refuses every client certificate.
type ClientCA interface {
	CurrentCA() (*x509.CertPool, uint64)
}

// StaticClientCA is a [ClientCA] whose bundle never changes. Create it with
// [NewStaticClientCA]. It is safe for concurrent use.
type StaticClientCA struct {
	pool *x509.CertPool
}

var _ ClientCA = (*StaticClientCA)(nil)

// NewStaticClientCA parses a PEM bundle of one or more CERTIFICATE blocks. Blocks of other
// types are ignored. It returns an error if the bundle holds no certificate, if a certificate
// does not parse, or if the data ends in a truncated PEM block.
func NewStaticClientCA(pemBundle []byte) (*StaticClientCA, error) {
	pool, _, err := parseCABundle(pemBundle)
	if err != nil {
		return nil, fmt.Errorf("authn: client CA bundle: %w", err)
	}
	return &StaticClientCA{pool: pool}, nil
}

// CurrentCA returns the pool and the constant generation 1. On a nil *StaticClientCA it
// returns (nil, 0), so an [X509] built on one refuses every certificate.
func (s *StaticClientCA) CurrentCA() (*x509.CertPool, uint64) {
	if s == nil {
		return nil, 0
	}
	return s.pool, 1
}

// parseCABundle turns PEM data into a pool and counts the certificates in it. The errors it
// returns never quote the data.
func parseCABundle(data []byte) (*x509.CertPool, int, error) {
	pool := x509.NewCertPool()
	n, block, rest := 0, 0, data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		block++
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("PEM block %d: %w", block, err)
		}
		pool.AddCert(cert)
		n++
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, 0, fmt.Errorf("malformed or truncated PEM block after block %d", block)
	}
	if n == 0 {
		return nil, 0, errors.New("no PEM CERTIFICATE block found")
	}
	return pool, n, nil
}
