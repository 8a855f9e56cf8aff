package authn

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// X509Options tune an [X509]. The zero value is valid.
type X509Options struct {
	// Now is the clock certificates are checked against (x509.VerifyOptions.CurrentTime).
	// Nil means time.Now.
	Now func() time.Time
}

// X509 authenticates requests by their TLS client certificate, the way the kubelet's
// --client-ca-file does: the user is the certificate's Subject CommonName and the groups are
// its Subject Organizations. Create it with [NewX509]; it is safe for concurrent use.
//
// The TLS server should request client certificates without verifying them itself
// (tls.RequestClientCert or tls.VerifyClientCertIfGiven); X509 does the verification against
// the current pool of its [ClientCA], so a rotated CA bundle applies to new requests at once.
type X509 struct {
	ca  ClientCA
	now func() time.Time
}

var _ authenticator.Request = (*X509)(nil)

// NewX509 returns an authenticator that verifies client certificates against ca. A nil ca is
// an error.
func NewX509(ca ClientCA, opts X509Options) (*X509, error) {
	if isNil(ca) {
		return nil, errors.New("authn: x509 authenticator needs a ClientCA, got nil")
	}
	a := &X509{ca: ca, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// AuthenticateRequest returns (nil, false, nil) when r has no TLS connection state or no peer
// certificate. Otherwise the first peer certificate is verified, with the others as
// intermediates, against the current CA pool for the clientAuth extended key usage. Any
// failure is an error, never (nil, false, nil): the request must be refused, not passed on to
// the next authenticator. The errors name the failed check and the certificate's subject, and
// never contain key material.
func (a *X509) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	pool, _ := a.ca.CurrentCA()
	if pool == nil {
		return nil, false, errors.New("x509: no client CA bundle is loaded; refusing the client certificate")
	}
	leaf := r.TLS.PeerCertificates[0]
	opts := x509.VerifyOptions{
		Roots:       pool,
		CurrentTime: a.now(),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(r.TLS.PeerCertificates) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
	}
	if _, err := leaf.Verify(opts); err != nil {
		// The x509 errors say which check failed, e.g. "x509: certificate has expired or is
		// not yet valid: ...", "x509: certificate signed by unknown authority" or
		// "x509: certificate specifies an incompatible key usage".
		return nil, false, fmt.Errorf("verifying client certificate (subject %q, serial %s): %w",
			leaf.Subject.String(), leaf.SerialNumber, err)
	}
	if leaf.Subject.CommonName == "" {
		return nil, false, fmt.Errorf("x509: client certificate (subject %q, serial %s) has an empty CommonName",
			leaf.Subject.String(), leaf.SerialNumber)
	}
	return &authenticator.Response{User: &user.DefaultInfo{
		Name:   leaf.Subject.CommonName,
		Groups: slices.Clone(leaf.Subject.Organization),
	}}, true, nil
}
