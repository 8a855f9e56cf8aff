package authn

import (
	"bytes"
	"crypto/x509"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"

	"github.com/authfilter/authfilter/internal/cache"
)

// DefaultX509CacheEntries bounds the verification cache of an [X509] when
// X509Options.MaxCacheEntries is zero.
const DefaultX509CacheEntries = 1024

// x509KeyVersion starts every key, so a change to the key layout can never match old keys.
const x509KeyVersion = "authn.x509/v1"

// chainMemoSlots is the number of presented chains whose keys verifiedChains remembers (a
// power of two).
const chainMemoSlots = 64

// verifiedChains caches successful verifications of client certificate chains, so that a client
// presenting the same chain again is not verified again while nothing the verification depends
// on has changed. It is safe for concurrent use; a hit usually takes no lock (see cache.Get
// and the memo below).
//
// An entry is keyed by a keyed hash (HMAC-SHA256) of the CA generation and of every
// certificate presented, raw DER, in order, and it remembers the CA pool it was verified
// against. It is used only:
//
//   - under the same CA generation and pool; the whole cache is dropped as soon as another
//     generation or pool is seen;
//   - while the clock lies within the validity of every certificate of the verified chain, from
//     the latest NotBefore (inclusive) to the earliest NotAfter (exclusive): the entry expires at
//     that NotAfter, and the clock going back before NotBefore is a miss.
//
// Failed verifications are never stored, so a refused chain is verified again every time.
//
// The key of a chain whose verification was found in the cache is remembered together with
// the certificate objects and copies of their DER, so the next request presenting the same
// objects (the same TLS connection) compares the DER instead of hashing it.
type verifiedChains struct {
	hasher *cache.Hasher
	cache  *cache.Cache[verifiedChain]

	current atomic.Pointer[caVersion] // the CA the cached entries were verified against
	mu      sync.Mutex                // serialises the purge when the CA changes

	// memo remembers the keys of recently presented chains, so that a client that presents
	// the same parsed certificates again (every request on one TLS connection does) is not
	// hashed again: see keyOf.
	seed maphash.Seed
	memo [chainMemoSlots]atomic.Pointer[chainMemo]
}

// chainMemo is the key of one presented chain under one CA, with what it was computed from.
type chainMemo struct {
	certs []*x509.Certificate
	raws  [][]byte // copies of the certificates' DER when the key was computed
	ca    caVersion
	key   cache.Key
}

// caVersion identifies a CA bundle.
type caVersion struct {
	pool       *x509.CertPool
	generation uint64
}

// verifiedChain is one cached verification.
type verifiedChain struct {
	resp      *authenticator.Response // shared by every request presenting the chain; read-only
	ca        caVersion
	notBefore int64 // unix nanoseconds, the latest NotBefore of the chain
	notAfter  int64 // unix nanoseconds, the earliest NotAfter (also the entry's cache TTL)
}

func newVerifiedChains(maxEntries int, now func() time.Time) (*verifiedChains, error) {
	if maxEntries == 0 {
		maxEntries = DefaultX509CacheEntries
	}
	c, err := cache.New[verifiedChain](cache.Options{MaxEntries: maxEntries, Now: now})
	if err != nil {
		return nil, err
	}
	h, err := cache.NewHasher()
	if err != nil {
		return nil, err
	}
	v := &verifiedChains{hasher: h, cache: c, seed: maphash.MakeSeed()}
	v.current.Store(&caVersion{})
	return v, nil
}

// key returns the cache key of certs presented under ca.
func (v *verifiedChains) key(ca caVersion, certs []*x509.Certificate) cache.Key {
	b := v.hasher.Begin().String(x509KeyVersion).Uint64(ca.generation).Uint64(uint64(len(certs)))
	for _, c := range certs {
		b.Bytes(c.Raw)
	}
	return b.Sum()
}

// keyOf returns key(ca, certs), from the memo when the same certificate objects, with the
// same DER, were presented under the same CA before.
func (v *verifiedChains) keyOf(ca caVersion, certs []*x509.Certificate) (cache.Key, *atomic.Pointer[chainMemo]) {
	slot := &v.memo[maphash.Comparable(v.seed, certs[0])&(chainMemoSlots-1)]
	if m := slot.Load(); m != nil && m.matches(ca, certs) {
		return m.key, nil
	}
	return v.key(ca, certs), slot
}

// remember stores key as the key of certs under ca in slot (from keyOf; nil: already there).
func (v *verifiedChains) remember(slot *atomic.Pointer[chainMemo], ca caVersion, certs []*x509.Certificate, key cache.Key) {
	if slot == nil {
		return
	}
	m := &chainMemo{certs: slices.Clone(certs), raws: make([][]byte, len(certs)), ca: ca, key: key}
	for i, c := range certs {
		m.raws[i] = bytes.Clone(c.Raw)
	}
	slot.Store(m)
}

// matches reports whether certs are m's certificate objects, still with the DER they had, and
// ca is m's CA.
func (m *chainMemo) matches(ca caVersion, certs []*x509.Certificate) bool {
	if m.ca != ca || len(certs) != len(m.certs) {
		return false
	}
	for i, c := range certs {
		if c != m.certs[i] || !bytes.Equal(c.Raw, m.raws[i]) {
			return false
		}
	}
	return true
}

// observe records that ca is the CA in force, dropping every entry when it differs from the
// one the entries were verified against.
func (v *verifiedChains) observe(ca caVersion) {
	if *v.current.Load() == ca {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if *v.current.Load() == ca {
		return
	}
	v.cache.Purge()
	// A copy declared here: only a change of CA allocates (&ca would move ca to the heap on
	// every call, a cache hit included).
	current := ca
	v.current.Store(&current)
}

// get returns the response cached under key for ca, if any is usable at now.
func (v *verifiedChains) get(key cache.Key, ca caVersion, now time.Time) (*authenticator.Response, bool) {
	e, ok := v.cache.Get(key)
	if t := now.UnixNano(); !ok || e.ca != ca || t < e.notBefore || t >= e.notAfter {
		return nil, false
	}
	return e.resp, true
}

// put caches resp, the result of verifying the presented certificates into chains under ca at
// now, for as long as the best of chains stays valid. Nothing is stored if ca is no longer the
// CA in force.
func (v *verifiedChains) put(key cache.Key, ca caVersion, resp *authenticator.Response, chains [][]*x509.Certificate, now time.Time) {
	notBefore, notAfter, ok := validity(chains)
	if !ok || *v.current.Load() != ca {
		return
	}
	if ttl := notAfter.Sub(now); ttl > 0 && !now.Before(notBefore) {
		v.cache.Set(key, verifiedChain{resp: resp, ca: ca, notBefore: unixNano(notBefore), notAfter: unixNano(notAfter)}, ttl)
	}
}

// unixNano is t.UnixNano, clamped to the int64 range instead of undefined outside the years
// 1678 to 2262 (RFC 5280's "no expiry" is 9999-12-31).
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxUnixNano):
		return math.MaxInt64
	case t.Before(minUnixNano):
		return math.MinInt64
	}
	return t.UnixNano()
}

var (
	maxUnixNano = time.Unix(0, math.MaxInt64)
	minUnixNano = time.Unix(0, math.MinInt64)
)

// validity returns the validity window of the verified chain that stays valid the longest: the
// latest NotBefore and the earliest NotAfter of its certificates.
func validity(chains [][]*x509.Certificate) (notBefore, notAfter time.Time, ok bool) {
	for _, chain := range chains {
		if len(chain) == 0 {
			continue
		}
		nb, na := chain[0].NotBefore, chain[0].NotAfter
		for _, c := range chain[1:] {
			if c.NotBefore.After(nb) {
				nb = c.NotBefore
			}
			if c.NotAfter.Before(na) {
				na = c.NotAfter
			}
		}
		if !ok || na.After(notAfter) {
			notBefore, notAfter, ok = nb, na, true
		}
	}
	return notBefore, notAfter, ok
}
