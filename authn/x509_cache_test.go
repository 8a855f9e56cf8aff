package authn

import (
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"

	"github.com/authfilter/authfilter/internal/testpki"
)

// rotatingCA is a ClientCA whose bundle a test can replace; every replacement is a new
// generation.
type rotatingCA struct {
	mu         sync.Mutex
	pool       *x509.CertPool
	generation uint64
}

func newRotatingCA(certs ...*x509.Certificate) *rotatingCA {
	ca := &rotatingCA{}
	ca.set(certs...)
	return ca
}

func (c *rotatingCA) set(certs ...*x509.Certificate) {
	pool := x509.NewCertPool()
	for _, cert := range certs {
		pool.AddCert(cert)
	}
	c.mu.Lock()
	c.pool, c.generation = pool, c.generation+1
	c.mu.Unlock()
}

func (c *rotatingCA) CurrentCA() (*x509.CertPool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pool, c.generation
}

// authOK authenticates a request presenting certs and fails the test unless it succeeds as
// the user name.
func authOK(t *testing.T, a *X509, name string, certs ...*x509.Certificate) *authenticator.Response {
	t.Helper()
	resp, ok, err := a.AuthenticateRequest(tlsRequest(certs...))
	if err != nil || !ok || resp.User.GetName() != name {
		t.Fatalf("AuthenticateRequest = (%v, %v, %v), want user %q", resp, ok, err, name)
	}
	return resp
}

// authErr authenticates a request presenting certs and fails the test unless it fails with
// an error containing want.
func authErr(t *testing.T, a *X509, want string, certs ...*x509.Certificate) {
	t.Helper()
	resp, ok, err := a.AuthenticateRequest(tlsRequest(certs...))
	if err == nil || ok || resp != nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("AuthenticateRequest = (%v, %v, %v), want an error containing %q", resp, ok, err, want)
	}
}

// TestX509CacheServesRepeatedChains checks that presenting the same chain again is answered
// from the cache (the same response), and that the cache separates chains: another leaf, the
// same leaf with an intermediate added, or the same certificates in another order.
func TestX509CacheServesRepeatedChains(t *testing.T) {
	root := testpki.NewCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	alice := root.Client(t, testpki.Options{CommonName: "alice"}).Cert
	bob := root.Client(t, testpki.Options{CommonName: "bob"}).Cert
	carol := inter.Client(t, testpki.Options{CommonName: "carol"}).Cert
	a := newTestX509(t, staticCA(t, root.PEM), X509Options{})

	first := authOK(t, a, "alice", alice)
	if again := authOK(t, a, "alice", alice); again != first {
		t.Fatal("the same certificate was verified again instead of served from the cache")
	}
	if got := authOK(t, a, "bob", bob); got == first {
		t.Fatal("another certificate got alice's cached response")
	}
	viaInter := authOK(t, a, "carol", carol, inter.Cert)
	// The same leaf with an extra, unneeded certificate is another chain: verified on its own.
	if got := authOK(t, a, "carol", carol, inter.Cert, alice); got == viaInter {
		t.Fatal("a different presented chain shared the cached entry")
	}
	// Without the intermediate the leaf does not verify, although it verified with it.
	authErr(t, a, "unknown authority", carol)
	if n := a.verified.cache.Len(); n != 4 {
		t.Fatalf("cache holds %d chains, want 4 (the failed one is not cached)", n)
	}
}

// TestX509CacheEndsAtNotAfter moves a fake clock through the validity of a chain whose
// intermediate expires before its leaf: the cached verification is used until just before the
// earliest NotAfter, never at or after it, and never before the latest NotBefore.
func TestX509CacheEndsAtNotAfter(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.Now()
	root := testpki.NewCAWith(t, testpki.Options{CommonName: "root", NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(10 * time.Hour)})
	inter := root.IntermediateWith(t, testpki.Options{CommonName: "inter", NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(2 * time.Hour)})
	leaf := inter.Client(t, testpki.Options{CommonName: "alice", NotBefore: t0.Add(-10 * time.Minute), NotAfter: t0.Add(5 * time.Hour)}).Cert
	a := newTestX509(t, newRotatingCA(root.Cert), X509Options{Now: clk.Now})
	notAfter := inter.Cert.NotAfter // the earliest NotAfter of the chain

	cached := authOK(t, a, "alice", leaf, inter.Cert)
	clk.Step(notAfter.Sub(t0) - time.Second)
	if got := authOK(t, a, "alice", leaf, inter.Cert); got != cached {
		t.Fatal("the cached verification was not used within the chain's validity")
	}
	clk.Step(time.Second) // exactly NotAfter: x509 still accepts it, but the entry has ended
	if got := authOK(t, a, "alice", leaf, inter.Cert); got == cached {
		t.Fatal("the cached verification was used at the chain's earliest NotAfter")
	}
	clk.Step(time.Second)
	authErr(t, a, "expired or is not yet valid", leaf, inter.Cert)

	// Back before the leaf's NotBefore: the entry made at t0 must not be used.
	clk.Step(t0.Sub(clk.Now())) // back to t0
	fresh := authOK(t, a, "alice", leaf, inter.Cert)
	clk.Step(-11 * time.Minute)
	authErr(t, a, "expired or is not yet valid", leaf, inter.Cert)
	clk.Step(11 * time.Minute)
	if got := authOK(t, a, "alice", leaf, inter.Cert); got != fresh {
		t.Fatal("the entry made at t0 was not used again at t0")
	}
}

// TestX509CacheNoExpiry caches the verification of a chain valid until 9999-12-31 (RFC 5280's
// "no well-defined expiration date"), beyond what nanoseconds since 1970 can hold.
func TestX509CacheNoExpiry(t *testing.T) {
	noExpiry := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	root := testpki.NewCAWith(t, testpki.Options{CommonName: "root", NotAfter: noExpiry})
	leaf := root.Client(t, testpki.Options{CommonName: "alice", NotAfter: noExpiry}).Cert
	a := newTestX509(t, staticCA(t, root.PEM), X509Options{})
	first := authOK(t, a, "alice", leaf)
	if again := authOK(t, a, "alice", leaf); again != first {
		t.Fatal("a chain valid until 9999 was verified again instead of served from the cache")
	}
}

// TestX509CacheDroppedOnCARotation caches a verification, rotates the CA bundle to one that
// does not trust the client any more, and checks that the client is refused at once and that
// the cache was emptied; a bundle that trusts it again verifies it anew.
func TestX509CacheDroppedOnCARotation(t *testing.T) {
	oldRoot, newRoot := testpki.NewCA(t, "old-root"), testpki.NewCA(t, "new-root")
	alice := oldRoot.Client(t, testpki.Options{CommonName: "alice"}).Cert
	bob := newRoot.Client(t, testpki.Options{CommonName: "bob"}).Cert
	ca := newRotatingCA(oldRoot.Cert)
	a := newTestX509(t, ca, X509Options{})

	cached := authOK(t, a, "alice", alice)
	ca.set(newRoot.Cert)
	authErr(t, a, "unknown authority", alice)
	if n := a.verified.cache.Len(); n != 0 {
		t.Fatalf("cache holds %d entries after the CA rotated", n)
	}
	authOK(t, a, "bob", bob)

	ca.set(oldRoot.Cert, newRoot.Cert) // trusts alice again: a new generation, verified anew
	if got := authOK(t, a, "alice", alice); got == cached {
		t.Fatal("a verification from an earlier CA generation was reused")
	}
}

// TestX509CacheEntryOfOldGenerationUnused stores an entry as if a verification under an old CA
// had finished after the rotation, and checks it is never used under the new CA.
func TestX509CacheEntryOfOldGenerationUnused(t *testing.T) {
	root := testpki.NewCA(t, "root")
	alice := root.Client(t, testpki.Options{CommonName: "alice"}).Cert
	ca := newRotatingCA(root.Cert)
	a := newTestX509(t, ca, X509Options{})
	oldPool, oldGen := ca.CurrentCA()
	old := caVersion{pool: oldPool, generation: oldGen}
	authOK(t, a, "alice", alice)

	ca.set(root.Cert) // same certificates, new generation and pool
	newPool, newGen := ca.CurrentCA()
	current := caVersion{pool: newPool, generation: newGen}
	a.verified.observe(current)
	stale := &authenticator.Response{}
	chains, err := alice.Verify(x509.VerifyOptions{Roots: oldPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a.verified.put(a.verified.key(old, []*x509.Certificate{alice}), old, stale, chains, now)
	if n := a.verified.cache.Len(); n != 0 {
		t.Fatal("an entry verified under a replaced CA was stored")
	}
	// Even stored under the current key, an entry made under another CA is not used.
	key := a.verified.key(current, []*x509.Certificate{alice})
	a.verified.cache.Set(key, verifiedChain{resp: stale, ca: old, notAfter: now.Add(time.Hour).UnixNano()}, time.Hour)
	if got := authOK(t, a, "alice", alice); got == stale {
		t.Fatal("an entry made under another CA version was used")
	}
}

// TestX509CacheFailuresNotCached checks that refused chains are verified every time and leave
// nothing in the cache.
func TestX509CacheFailuresNotCached(t *testing.T) {
	root, other := testpki.NewCA(t, "root"), testpki.NewCA(t, "other")
	now := time.Now()
	tests := []struct {
		name string
		cert func() *x509.Certificate
		want string
	}{
		{"wrong CA", func() *x509.Certificate { return other.Client(t, testpki.Options{CommonName: "m"}).Cert }, "unknown authority"},
		{"expired", func() *x509.Certificate {
			return root.Client(t, testpki.Options{CommonName: "old", NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}).Cert
		}, "expired"},
		{"server only", func() *x509.Certificate {
			return root.Client(t, testpki.Options{CommonName: "s", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}).Cert
		}, "incompatible key usage"},
		{"empty CommonName", func() *x509.Certificate {
			return root.Client(t, testpki.Options{Organization: []string{"dev"}}).Cert
		}, "empty CommonName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestX509(t, staticCA(t, root.PEM), X509Options{})
			cert := tt.cert()
			for range 3 {
				authErr(t, a, tt.want, cert)
			}
			if n := a.verified.cache.Len(); n != 0 {
				t.Fatalf("a refused chain was cached (%d entries)", n)
			}
		})
	}
}

// TestX509CacheBounded presents many distinct certificates to a small cache.
func TestX509CacheBounded(t *testing.T) {
	const max = 32 // one entry per shard of the cache
	root := testpki.NewCA(t, "root")
	a := newTestX509(t, staticCA(t, root.PEM), X509Options{MaxCacheEntries: max})
	for i := range 200 {
		cert := root.Client(t, testpki.Options{CommonName: fmt.Sprint("user-", i)}).Cert
		authOK(t, a, fmt.Sprint("user-", i), cert)
		if n := a.verified.cache.Len(); n > max {
			t.Fatalf("after %d certificates the cache holds %d, bound %d", i+1, n, max)
		}
	}
}

func TestNewX509RejectsNegativeCacheBound(t *testing.T) {
	if _, err := NewX509(staticCA(t, testpki.NewCA(t, "root").PEM), X509Options{MaxCacheEntries: -1}); err == nil {
		t.Fatal("NewX509 accepted MaxCacheEntries -1")
	}
}

// TestX509CacheConcurrent authenticates several chains from many goroutines while the CA
// rotates between two bundles that both trust them; with -race it checks the cache's locking.
func TestX509CacheConcurrent(t *testing.T) {
	root := testpki.NewCA(t, "root")
	certs := make([]*x509.Certificate, 4)
	for i := range certs {
		certs[i] = root.Client(t, testpki.Options{CommonName: fmt.Sprint("user-", i)}).Cert
	}
	ca := newRotatingCA(root.Cert)
	a := newTestX509(t, ca, X509Options{})
	var wg sync.WaitGroup
	var failures atomic.Int32
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				ca.set(root.Cert)
				time.Sleep(time.Millisecond)
			}
		}
	})
	var workers sync.WaitGroup
	for g := range 8 {
		workers.Go(func() {
			for i := range 200 {
				c := certs[(g+i)%len(certs)]
				resp, ok, err := a.AuthenticateRequest(tlsRequest(c))
				if err != nil || !ok || resp.User.GetName() != c.Subject.CommonName {
					failures.Add(1)
				}
			}
		})
	}
	workers.Wait()
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d authentications failed or returned the wrong user", n)
	}
}

// TestX509CacheKeyMemo checks that the remembered key of a presented chain is only used for the
// same certificate objects with unchanged DER under the same CA, and is always the key the
// chain's contents hash to.
func TestX509CacheKeyMemo(t *testing.T) {
	root := testpki.NewCA(t, "root")
	alice := root.Client(t, testpki.Options{CommonName: "alice"}).Cert
	ca := newRotatingCA(root.Cert)
	a := newTestX509(t, ca, X509Options{})
	authOK(t, a, "alice", alice)
	authOK(t, a, "alice", alice) // a hit: the chain's key is remembered
	pool, gen := ca.CurrentCA()
	current := caVersion{pool: pool, generation: gen}
	certs := []*x509.Certificate{alice}
	key, slot := a.verified.keyOf(current, certs)
	if slot != nil || key != a.verified.key(current, certs) {
		t.Fatal("the key of a chain presented twice was not remembered, or is not its key")
	}

	copied := *alice // another object, the same DER: hashed again, the same key
	if key2, slot := a.verified.keyOf(current, []*x509.Certificate{&copied}); slot == nil || key2 != key {
		t.Fatalf("another certificate object with the same DER: remembered %v, same key %v", slot == nil, key2 == key)
	}
	other := caVersion{pool: x509.NewCertPool(), generation: gen + 1}
	if key3, slot := a.verified.keyOf(other, certs); slot == nil || key3 == key {
		t.Fatal("the remembered key was used under another CA")
	}

	alice.Raw[len(alice.Raw)-1] ^= 1 // the same object, its DER changed in place
	key4, slot := a.verified.keyOf(current, certs)
	if slot == nil || key4 == key || key4 != a.verified.key(current, certs) {
		t.Fatal("the remembered key survived a change of the certificate's DER")
	}
}

// TestX509CacheHitAllocatesNothing guards the hit path of a certificate presented again on a
// keep-alive connection (the same parsed certificates).
func TestX509CacheHitAllocatesNothing(t *testing.T) {
	root := testpki.NewCA(t, "root")
	r := tlsRequest(root.Client(t, testpki.Options{CommonName: "alice"}).Cert)
	a := newTestX509(t, staticCA(t, root.PEM), X509Options{})
	authOK(t, a, "alice", r.TLS.PeerCertificates...)
	if n := testing.AllocsPerRun(100, func() { _, _, _ = a.AuthenticateRequest(r) }); n != 0 {
		t.Errorf("a cache hit allocates %v times", n)
	}
}
