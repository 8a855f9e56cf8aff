package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serials atomic.Int64

// certSpec describes a certificate to issue. Zero times mean "valid for an hour around now".
type certSpec struct {
	cn        string
	orgs      []string
	notBefore time.Time
	notAfter  time.Time
	usages    []x509.ExtKeyUsage // nil means clientAuth
	isCA      bool
	uids      []any // values of subject UID attributes (OID 0.9.2342.19200300.100.1.1)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newCA returns a self-signed root CA.
func newCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	cert := sign(t, certSpec{cn: name, isCA: true}, &key.PublicKey, nil, key)
	return &testCA{cert: cert, key: key, pem: pemOf(cert)}
}

// intermediate returns a CA signed by ca.
func (ca *testCA) intermediate(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	cert := sign(t, certSpec{cn: name, isCA: true}, &key.PublicKey, ca.cert, ca.key)
	return &testCA{cert: cert, key: key, pem: pemOf(cert)}
}

// issue returns a leaf certificate signed by ca, and its key.
func (ca *testCA) issue(t testing.TB, spec certSpec) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	return sign(t, spec, &key.PublicKey, ca.cert, ca.key), key
}

func sign(t testing.TB, spec certSpec, pub *ecdsa.PublicKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serials.Add(1)),
		Subject:      pkix.Name{CommonName: spec.cn, Organization: spec.orgs, ExtraNames: uidNames(spec.uids)},
		NotBefore:    spec.notBefore,
		NotAfter:     spec.notAfter,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(time.Hour)
	}
	if spec.isCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = spec.usages
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pemOf(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

// tlsRequest returns a request that presents certs as its TLS peer certificates.
func tlsRequest(certs ...*x509.Certificate) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://node.example/pods", nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: certs}
	return r
}

// bearerRequest returns a request with the given Authorization header values.
func headerRequest(authorization ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://node.example/pods", nil)
	for _, v := range authorization {
		r.Header.Add("Authorization", v)
	}
	return r
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Step(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// logSink collects every log line (all verbosities) of a logr.Logger.
type logSink struct {
	mu    sync.Mutex
	lines []string
	ch    chan string
}

func newLogSink() (*logSink, logr.Logger) {
	s := &logSink{ch: make(chan string, 1000)}
	l := funcr.New(func(prefix, args string) {
		line := prefix + " " + args
		s.mu.Lock()
		s.lines = append(s.lines, line)
		s.mu.Unlock()
		select {
		case s.ch <- line:
		default:
		}
	}, funcr.Options{Verbosity: 10})
	return s, l
}

func (s *logSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// waitFor returns the first line containing substr, failing the test after a deadline.
func (s *logSink) waitFor(t *testing.T, substr string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line := <-s.ch:
			if strings.Contains(line, substr) {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line containing %q; got:\n%s", substr, s.all())
			return ""
		}
	}
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// assertNoSecret fails if err's message or the logs mention secret.
func assertNoSecret(t *testing.T, err error, logs, secret string) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the credential: %v", err)
	}
	if strings.Contains(logs, secret) {
		t.Errorf("logs leak the credential:\n%s", logs)
	}
}

func uidNames(uids []any) []pkix.AttributeTypeAndValue {
	var out []pkix.AttributeTypeAndValue
	for _, v := range uids {
		out = append(out, pkix.AttributeTypeAndValue{Type: uidOID, Value: v})
	}
	return out
}
