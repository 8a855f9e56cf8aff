package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/authfilter/authfilter/internal/identity"
	"github.com/authfilter/authfilter/internal/nilcheck"
)

// X509Options tune an [X509]. The zero value is valid.
type X509Options struct {
	// Now is the clock certificates are checked against (x509.VerifyOptions.CurrentTime), and
	// the clock of the verification cache. Nil means time.Now.
	Now func() time.Time
	// MaxCacheEntries bounds the cache of verified certificate chains. Zero means
	// DefaultX509CacheEntries (1024); negative is an error.
	MaxCacheEntries int
}

// X509 authenticates requests by their TLS client certificate, the way the kubelet's
// --client-ca-file does: the user is the certificate's Subject CommonName and the groups are
// its Subject Organizations. Create it with [NewX509]; it is safe for concurrent use.
//
// The TLS server should request client certificates without verifying them itself
// (tls.RequestClientCert or tls.VerifyClientCertIfGiven); X509 does the verification against
// the current pool of its [ClientCA], so a rotated CA bundle applies to new requests at once.
//
// A successful verification is cached, so that a client presenting the same certificates again
// costs a hash instead of signature checks. The cache is keyed by the exact certificates
// presented (every raw DER, in order) and by the CA generation; an entry is used only under
// the same CA generation and pool (every entry is dropped when the CA changes), and only while
// the clock lies within the validity of every certificate of the verified chain, so it is never
// used at or past the earliest NotAfter. Failed verifications are not cached. The cache holds
// at most X509Options.MaxCacheEntries chains.
type X509 struct {
	ca       ClientCA
	now      func() time.Time
	verified *verifiedChains
	shapes   *identity.Shapes // users with the same groups share them
}

var _ authenticator.Request = (*X509)(nil)

// NewX509 returns an authenticator that verifies client certificates against ca. A nil ca or a
// negative MaxCacheEntries is an error.
func NewX509(ca ClientCA, opts X509Options) (*X509, error) {
	if nilcheck.IsNil(ca) {
		return nil, errors.New("authn: x509 authenticator needs a ClientCA, got nil")
	}
	if opts.MaxCacheEntries < 0 {
		return nil, fmt.Errorf("authn: x509 MaxCacheEntries must not be negative, got %d", opts.MaxCacheEntries)
	}
	a := &X509{ca: ca, now: opts.Now, shapes: identity.NewShapes(0)}
	if a.now == nil {
		a.now = time.Now
	}
	v, err := newVerifiedChains(opts.MaxCacheEntries, a.now)
	if err != nil {
		return nil, fmt.Errorf("authn: x509 verification cache: %w", err)
	}
	a.verified = v
	return a, nil
}

// AuthenticateRequest returns (nil, false, nil) when r has no TLS connection state or no peer
// certificate. Otherwise the first peer certificate is verified, with the others as
// intermediates, against the current CA pool for the clientAuth extended key usage. Any
// failure is an error, never (nil, false, nil): the request must be refused, not passed on to
// the next authenticator. The errors name the failed check and the certificate's subject, and
// never contain key material. A successful response is shared by the requests that present the
// same certificates while their verification is cached: it must not be modified, and its user
// is immutable (GetGroups and GetExtra return copies).
func (a *X509) AuthenticateRequest(r *http.Request) (*authenticator.Response, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	pool, generation := a.ca.CurrentCA()
	if pool == nil {
		return nil, false, errors.New("x509: no client CA bundle is loaded; refusing the client certificate")
	}
	ca := caVersion{pool: pool, generation: generation}
	a.verified.observe(ca)
	now := a.now()
	key, memo := a.verified.keyOf(ca, r.TLS.PeerCertificates)
	if resp, ok := a.verified.get(key, ca, now); ok {
		a.verified.remember(memo, ca, r.TLS.PeerCertificates, key)
		return resp, true, nil
	}

	leaf := r.TLS.PeerCertificates[0]
	opts := x509.VerifyOptions{
		Roots:       pool,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(r.TLS.PeerCertificates) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
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
	uid, err := certificateUID(leaf)
	if err != nil {
		return nil, false, err
	}
	resp := responseFor(identity.MakeUser(a.shapes, leaf.Subject.CommonName, uid, leaf.Subject.Organization,
		map[string][]string{user.CredentialIDKey: {credentialID(leaf)}}), nil)
	a.verified.put(key, ca, resp, chains, now)
	return resp, true, nil
}

// credentialID identifies the certificate as kube-apiserver and the kubelet do, in the
// authentication.kubernetes.io/credential-id extra: "X509SHA256=" and the hex SHA-256 of its DER.
func credentialID(leaf *x509.Certificate) string {
	fp := sha256.Sum256(leaf.Raw)
	return "X509SHA256=" + hex.EncodeToString(fp[:])
}

// uidOID is the subject attribute (RFC 4519 "uid") that carries a user's UID, as in
// k8s.io/apiserver's x509 authenticator with AllowParsingUserUIDFromCertAuth (on by default).
var uidOID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// certificateUID returns the subject's UID attribute, "" when there is none. More than one, or
// one that is not a string, is an error: an ambiguous identity is refused.
func certificateUID(leaf *x509.Certificate) (string, error) {
	var uid string
	found := false
	for _, n := range leaf.Subject.Names {
		if !n.Type.Equal(uidOID) {
			continue
		}
		v, ok := n.Value.(string)
		if found || !ok {
			return "", fmt.Errorf("x509: client certificate (subject %q, serial %s) has more than one UID or a UID that is not a string",
				leaf.Subject.String(), leaf.SerialNumber)
		}
		uid, found = v, true
	}
	return uid, nil
}
