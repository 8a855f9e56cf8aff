package cache

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxEntries is the bound used when Options.MaxEntries is zero.
const DefaultMaxEntries = 10000

const (
	shardCount = 32 // power of two
	// evictionSample is how many entries a full shard looks at to choose a victim.
	evictionSample = 8
	// hotSlots is the number of entries per shard that Get can find without taking the
	// shard's lock (power of two).
	hotSlots = 16
)

// Options tune a Cache. The zero value is valid.
type Options struct {
	// MaxEntries bounds the number of entries. Zero means DefaultMaxEntries. The bound is split
	// evenly over 32 shards, so the cache holds at most max(MaxEntries, 32) entries, and a little
	// fewer when MaxEntries is not a multiple of 32. When a shard is full, an insert first drops expired entries among a small sample, else the sampled entry
	// that expires soonest.
	MaxEntries int
	// Now is the clock. Nil means the real clock, of which the cache reads only the monotonic
	// part (so TTLs are immune to changes of the wall clock).
	Now func() time.Time
}

// Cache maps Keys to values of type V until each entry's TTL passes. The zero value is not
// usable; call New. All methods are safe for concurrent use.
type Cache[V any] struct {
	shards   [shardCount]shard[V]
	perShard int
	now      func() time.Time // Options.Now; nil for the real clock
	base     time.Time        // expiry times are nanoseconds since base
}

type shard[V any] struct {
	mu       sync.RWMutex
	entries  map[Key]entry[V]
	inflight map[Key]*call[V]
	// hot holds copies of some entries so that a hit on them takes no lock at all, not even
	// the read lock (whose counter every core would otherwise write). A slot is filled by Get
	// under the read lock, from the map, and only when it is empty or its entry has expired;
	// every change of a key's map entry (set, delete, eviction, purge) happens under the write
	// lock and empties the slot holding that key. So a slot holding a key always holds the
	// key's current entry.
	hot [hotSlots]atomic.Pointer[hotEntry[V]]
}

type entry[V any] struct {
	value   V
	expires int64 // nanoseconds since the cache's base time (see clock)
}

// hotEntry is an immutable copy of the entry of key.
type hotEntry[V any] struct {
	key Key
	entry[V]
}

type call[V any] struct {
	done  chan struct{}
	value V
	err   error
}

// New returns an empty cache.
func New[V any](opts Options) (*Cache[V], error) {
	if opts.MaxEntries < 0 {
		return nil, fmt.Errorf("cache: MaxEntries must not be negative, got %d", opts.MaxEntries)
	}
	limit := opts.MaxEntries
	if limit == 0 {
		limit = DefaultMaxEntries
	}
	c := &Cache[V]{perShard: max(limit/shardCount, 1), now: opts.Now}
	if c.now == nil {
		c.base = time.Now()
	} else {
		c.base = c.now()
	}
	for i := range c.shards {
		c.shards[i].entries = make(map[Key]entry[V])
		c.shards[i].inflight = make(map[Key]*call[V])
	}
	return c, nil
}

func (c *Cache[V]) shard(k Key) *shard[V] {
	return &c.shards[binary.LittleEndian.Uint64(k[:8])&(shardCount-1)]
}

// clock returns the current time in nanoseconds since c.base. With the real clock it reads
// only the monotonic clock (time.Since), which is cheaper than time.Now and immune to changes
// of the wall clock.
func (c *Cache[V]) clock() int64 {
	if c.now == nil {
		return int64(time.Since(c.base))
	}
	return int64(c.now().Sub(c.base))
}

// hotSlot returns the slot of s that may hold k (chosen by other bits than the shard).
func (s *shard[V]) hotSlot(k Key) *atomic.Pointer[hotEntry[V]] {
	return &s.hot[binary.LittleEndian.Uint64(k[8:16])&(hotSlots-1)]
}

// forgetHotLocked empties k's hot slot if it holds k. The caller holds s.mu for writing.
func (s *shard[V]) forgetHotLocked(k Key) {
	slot := s.hotSlot(k)
	if h := slot.Load(); h != nil && h.key == k {
		slot.Store(nil)
	}
}

// Get returns the value stored under k if it has not expired. A hit on a recently read entry
// takes no lock.
func (c *Cache[V]) Get(k Key) (V, bool) {
	s := c.shard(k)
	now := c.clock()
	slot := s.hotSlot(k)
	if h := slot.Load(); h != nil && h.key == k {
		if now >= h.expires {
			var zero V
			return zero, false
		}
		return h.value, true
	}
	s.mu.RLock()
	e, ok := s.entries[k]
	if ok && now < e.expires {
		if h := slot.Load(); h == nil || now >= h.expires {
			slot.Store(&hotEntry[V]{key: k, entry: e})
		}
	}
	s.mu.RUnlock()
	if !ok || now >= e.expires {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Set stores v under k for ttl. A ttl of zero or less removes k instead.
func (c *Cache[V]) Set(k Key, v V, ttl time.Duration) {
	s := c.shard(k)
	s.mu.Lock()
	c.setLocked(s, k, v, ttl)
	s.mu.Unlock()
}

func (c *Cache[V]) setLocked(s *shard[V], k Key, v V, ttl time.Duration) {
	s.forgetHotLocked(k)
	if ttl <= 0 {
		delete(s.entries, k)
		return
	}
	now := c.clock()
	if _, exists := s.entries[k]; !exists && len(s.entries) >= c.perShard {
		c.evictLocked(s, now)
	}
	s.entries[k] = entry[V]{value: v, expires: expiry(now, ttl)}
}

// expiry returns now + ttl, or the latest representable time when that overflows (a
// certificate valid until 9999, for instance), so a long TTL never wraps into the past.
func expiry(now int64, ttl time.Duration) int64 {
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// evictLocked makes room for one entry: it drops the expired entries among a sample, or else
// the sampled entry closest to expiry. Map iteration order is random, so the sample is too.
func (c *Cache[V]) evictLocked(s *shard[V], now int64) {
	var victim Key
	victimExpires := int64(-1)
	dropped, seen := 0, 0
	for k, e := range s.entries {
		if e.expires <= now {
			delete(s.entries, k)
			s.forgetHotLocked(k)
			dropped++
		} else if victimExpires < 0 || e.expires < victimExpires {
			victim, victimExpires = k, e.expires
		}
		if seen++; seen >= evictionSample {
			break
		}
	}
	if dropped == 0 && victimExpires >= 0 {
		delete(s.entries, victim)
		s.forgetHotLocked(victim)
	}
}

// Delete removes k.
func (c *Cache[V]) Delete(k Key) {
	s := c.shard(k)
	s.mu.Lock()
	delete(s.entries, k)
	s.forgetHotLocked(k)
	s.mu.Unlock()
}

// Purge removes every entry. Loads in flight still complete and store their results.
func (c *Cache[V]) Purge() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.entries)
		for j := range s.hot {
			s.hot[j].Store(nil)
		}
		s.mu.Unlock()
	}
}

// Len returns the number of stored entries, expired ones included until they are evicted.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}

// LoadFunc computes the value for a missing key and how long to keep it. A ttl of zero or less,
// or a non-nil error, stores nothing.
type LoadFunc[V any] func(ctx context.Context) (value V, ttl time.Duration, err error)

// Do returns the cached value for k, or calls load once for all concurrent callers that miss
// on the same k and gives each of them its result (errors included, but never cached).
//
// load runs in its own goroutine with ctx's values but not its cancellation, so one caller
// giving up does not fail the others; each caller stops waiting when its own ctx is done and
// then returns ctx.Err(). load should therefore bound its own duration. A panic in load is
// returned to every waiter as an error.
func (c *Cache[V]) Do(ctx context.Context, k Key, load LoadFunc[V]) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	s := c.shard(k)
	s.mu.Lock()
	if e, ok := s.entries[k]; ok && c.clock() < e.expires {
		s.mu.Unlock()
		return e.value, nil
	}
	cl, running := s.inflight[k]
	if !running {
		cl = &call[V]{done: make(chan struct{})}
		s.inflight[k] = cl
		go c.run(context.WithoutCancel(ctx), s, k, cl, load)
	}
	s.mu.Unlock()

	select {
	case <-cl.done:
		return cl.value, cl.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func (c *Cache[V]) run(ctx context.Context, s *shard[V], k Key, cl *call[V], load LoadFunc[V]) {
	var ttl time.Duration
	defer func() {
		if r := recover(); r != nil {
			cl.err = fmt.Errorf("cache: load panicked: %v", r)
			ttl = 0
		}
		s.mu.Lock()
		if cl.err == nil {
			c.setLocked(s, k, cl.value, ttl)
		}
		delete(s.inflight, k)
		s.mu.Unlock()
		close(cl.done)
	}()
	cl.value, ttl, cl.err = load(ctx)
}
