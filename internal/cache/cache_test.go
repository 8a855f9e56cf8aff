package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestCache[V any](t *testing.T, max int) (*Cache[V], *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	c, err := New[V](Options{MaxEntries: max, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func newTestHasher(t *testing.T) *Hasher {
	t.Helper()
	h, err := NewHasher()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewRejectsNegativeBound(t *testing.T) {
	if _, err := New[int](Options{MaxEntries: -1}); err == nil {
		t.Fatal("New accepted MaxEntries -1")
	}
}

func TestGetSetExpiry(t *testing.T) {
	c, clk := newTestCache[string](t, 0)
	h := newTestHasher(t)
	k := h.Begin().String("a").Sum()
	if _, ok := c.Get(k); ok {
		t.Fatal("empty cache returned a value")
	}
	c.Set(k, "v", time.Minute)
	if v, ok := c.Get(k); !ok || v != "v" {
		t.Fatalf("Get = %q, %v; want v, true", v, ok)
	}
	clk.Step(59 * time.Second)
	if _, ok := c.Get(k); !ok {
		t.Fatal("entry expired before its TTL")
	}
	clk.Step(time.Second)
	if _, ok := c.Get(k); ok {
		t.Fatal("entry still served at its TTL")
	}
	c.Set(k, "v", time.Minute)
	c.Set(k, "v", 0)
	if _, ok := c.Get(k); ok || c.Len() != 0 {
		t.Fatal("Set with ttl 0 did not remove the entry")
	}
}

// TestLongestTTL checks that a TTL too long to add to the clock (a certificate valid until
// 9999 gives one) keeps the entry instead of wrapping its expiry into the past.
func TestLongestTTL(t *testing.T) {
	c, clk := newTestCache[string](t, 0)
	k := newTestHasher(t).Begin().String("a").Sum()
	clk.Step(time.Hour) // a clock past the cache's base time, so that now + ttl overflows
	c.Set(k, "v", time.Duration(math.MaxInt64))
	if v, ok := c.Get(k); !ok || v != "v" {
		t.Fatalf("Get = %q, %v; want v, true", v, ok)
	}
	clk.Step(100 * 365 * 24 * time.Hour)
	if _, ok := c.Get(k); !ok {
		t.Fatal("entry with the longest TTL expired")
	}
}

func TestKeysSeparateFields(t *testing.T) {
	h := newTestHasher(t)
	keys := map[string]Key{
		"ab,c":      h.Begin().String("ab").String("c").Sum(),
		"a,bc":      h.Begin().String("a").String("bc").Sum(),
		"[ab c]":    h.Begin().Strings([]string{"ab", "c"}).Sum(),
		"[ab] c":    h.Begin().Strings([]string{"ab"}).String("c").Sum(),
		"abc":       h.Begin().String("abc").Sum(),
		"abc,true":  h.Begin().String("abc").Bool(true).Sum(),
		"abc,false": h.Begin().String("abc").Bool(false).Sum(),
	}
	seen := map[Key]string{}
	for name, k := range keys {
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[k] = name
	}
	if h.Begin().String("x").Sum() != h.Begin().String("x").Sum() {
		t.Error("the same fields gave different keys")
	}
	if newTestHasher(t).Begin().String("x").Sum() == h.Begin().String("x").Sum() {
		t.Error("two hashers share a secret")
	}
}

func TestBoundedUnderFlood(t *testing.T) {
	const max = 1000
	c, _ := newTestCache[int](t, max)
	h := newTestHasher(t)
	limit := max
	for i := range 50_000 {
		c.Set(h.Begin().String(fmt.Sprint("bogus", i)).Sum(), i, time.Hour)
		if i%997 == 0 && c.Len() > limit {
			t.Fatalf("after %d inserts Len = %d, bound %d", i, c.Len(), limit)
		}
	}
	if n := c.Len(); n > limit || n < max/2 {
		t.Fatalf("Len = %d, want between %d and %d", n, max/2, limit)
	}
}

func TestEvictionPrefersExpired(t *testing.T) {
	c, clk := newTestCache[int](t, shardCount) // one entry per shard
	h := newTestHasher(t)
	// Find two keys in the same shard.
	first := h.Begin().String("first").Sum()
	var second Key
	for i := 1; ; i++ {
		second = h.Begin().String(fmt.Sprint("k", i)).Sum()
		if c.shard(second) == c.shard(first) {
			break
		}
	}
	c.Set(first, 1, time.Second)
	clk.Step(2 * time.Second)
	c.Set(second, 2, time.Minute)
	if _, ok := c.Get(second); !ok {
		t.Fatal("new entry not stored after evicting an expired one")
	}
	if c.shard(first).entries[first] != (entry[int]{}) {
		t.Fatal("expired entry kept although its shard was full")
	}
}

func TestDoMergesConcurrentMisses(t *testing.T) {
	c, _ := newTestCache[string](t, 0)
	k := newTestHasher(t).Begin().String("token").Sum()
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (string, time.Duration, error) {
		loads.Add(1)
		<-release
		return "user", time.Minute, nil
	}
	const waiters = 1000
	var wg sync.WaitGroup
	results := make(chan string, waiters)
	for range waiters {
		wg.Go(func() {
			v, err := c.Do(t.Context(), k, load)
			if err != nil {
				t.Error(err)
			}
			results <- v
		})
	}
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != "user" {
			t.Fatalf("waiter got %q", v)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("load ran %d times for %d concurrent misses, want 1", n, waiters)
	}
	if _, err := c.Do(t.Context(), k, load); err != nil || loads.Load() != 1 {
		t.Fatalf("hit after load: err %v, loads %d", err, loads.Load())
	}
}

func TestDoDoesNotCacheErrors(t *testing.T) {
	c, _ := newTestCache[int](t, 0)
	k := newTestHasher(t).Begin().String("k").Sum()
	calls := 0
	failing := func(context.Context) (int, time.Duration, error) {
		calls++
		return 0, time.Minute, errors.New("backend down")
	}
	for range 2 {
		if _, err := c.Do(t.Context(), k, failing); err == nil {
			t.Fatal("error not returned")
		}
	}
	if calls != 2 || c.Len() != 0 {
		t.Fatalf("calls %d, Len %d: an error was cached", calls, c.Len())
	}
	noTTL := func(context.Context) (int, time.Duration, error) { calls++; return 7, 0, nil }
	for range 2 {
		if v, err := c.Do(t.Context(), k, noTTL); err != nil || v != 7 {
			t.Fatalf("Do = %d, %v", v, err)
		}
	}
	if calls != 4 || c.Len() != 0 {
		t.Fatalf("calls %d, Len %d: a zero-TTL value was cached", calls, c.Len())
	}
}

func TestDoWaiterHonoursItsContext(t *testing.T) {
	c, _ := newTestCache[int](t, 0)
	k := newTestHasher(t).Begin().String("k").Sum()
	release := make(chan struct{})
	loadSawCancel := make(chan bool, 1)
	load := func(ctx context.Context) (int, time.Duration, error) {
		<-release
		loadSawCancel <- ctx.Err() != nil
		return 1, time.Minute, nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { _, err := c.Do(ctx, k, load); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter got %v, want context.Canceled", err)
	}
	// A second caller still receives the shared load's result.
	go func() { _, err := c.Do(t.Context(), k, load); done <- err }()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("second waiter: %v", err)
	}
	if <-loadSawCancel {
		t.Fatal("the shared load saw the first caller's cancellation")
	}
}

func TestDoRecoversPanic(t *testing.T) {
	c, _ := newTestCache[int](t, 0)
	k := newTestHasher(t).Begin().String("k").Sum()
	_, err := c.Do(t.Context(), k, func(context.Context) (int, time.Duration, error) { panic("boom") })
	if err == nil {
		t.Fatal("panic in load not reported")
	}
	v, err := c.Do(t.Context(), k, func(context.Context) (int, time.Duration, error) { return 3, time.Minute, nil })
	if err != nil || v != 3 {
		t.Fatalf("after a panic Do = %d, %v", v, err)
	}
}

func TestPurge(t *testing.T) {
	c, _ := newTestCache[int](t, 0)
	h := newTestHasher(t)
	for i := range 100 {
		c.Set(h.Begin().String(fmt.Sprint(i)).Sum(), i, time.Hour)
	}
	c.Purge()
	if c.Len() != 0 {
		t.Fatalf("Len after Purge = %d", c.Len())
	}
}

func TestKeysBytesAndUint64(t *testing.T) {
	h := newTestHasher(t)
	if h.Begin().Bytes([]byte("abc")).Sum() != h.Begin().String("abc").Sum() {
		t.Error("Bytes(p) and String(string(p)) gave different keys")
	}
	keys := map[string]Key{
		"bytes a,bc":  h.Begin().Bytes([]byte("a")).Bytes([]byte("bc")).Sum(),
		"bytes ab,c":  h.Begin().Bytes([]byte("ab")).Bytes([]byte("c")).Sum(),
		"uint64 1":    h.Begin().Uint64(1).Sum(),
		"uint64 2":    h.Begin().Uint64(2).Sum(),
		"uint64 1, 2": h.Begin().Uint64(1).Uint64(2).Sum(),
		"uint64 2, 1": h.Begin().Uint64(2).Uint64(1).Sum(),
	}
	seen := map[Key]string{}
	for name, k := range keys {
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[k] = name
	}
}

// TestHotEntriesFollowWrites reads an entry (which puts it in its shard's lock-free slot) and
// then changes it every way the cache can: the next read must always see the change.
func TestHotEntriesFollowWrites(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Cache[string], clk *fakeClock, k Key)
		want   string // "" means a miss
	}{
		{"set", func(c *Cache[string], _ *fakeClock, k Key) { c.Set(k, "new", time.Minute) }, "new"},
		{"set with ttl 0", func(c *Cache[string], _ *fakeClock, k Key) { c.Set(k, "new", 0) }, ""},
		{"delete", func(c *Cache[string], _ *fakeClock, k Key) { c.Delete(k) }, ""},
		{"purge", func(c *Cache[string], _ *fakeClock, _ Key) { c.Purge() }, ""},
		{"expiry", func(_ *Cache[string], clk *fakeClock, _ Key) { clk.Step(time.Minute) }, ""},
		{"do after expiry", func(c *Cache[string], clk *fakeClock, k Key) {
			clk.Step(time.Minute)
			if _, err := c.Do(context.Background(), k, func(context.Context) (string, time.Duration, error) {
				return "loaded", time.Minute, nil
			}); err != nil {
				panic(err)
			}
		}, "loaded"},
		{"eviction", func(c *Cache[string], _ *fakeClock, k Key) {
			// Fill k's shard (one entry per shard) with another key: k is evicted.
			h := newTestHasher(t)
			for i := 0; ; i++ {
				other := h.Begin().String(fmt.Sprint("other", i)).Sum()
				if c.shard(other) == c.shard(k) {
					c.Set(other, "other", 2*time.Minute)
					return
				}
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newTestCache[string](t, shardCount) // one entry per shard
			k := newTestHasher(t).Begin().String("k").Sum()
			c.Set(k, "old", time.Minute)
			for range 2 { // the first read fills the hot slot, the second is served from it
				if v, ok := c.Get(k); !ok || v != "old" {
					t.Fatalf("Get = %q, %v; want old", v, ok)
				}
			}
			if h := c.shard(k).hotSlot(k).Load(); h == nil || h.key != k {
				t.Fatal("a read entry was not put in its hot slot")
			}
			tt.change(c, clk, k)
			v, ok := c.Get(k)
			if tt.want == "" && ok || tt.want != "" && (!ok || v != tt.want) {
				t.Fatalf("after %s: Get = %q, %v; want %q", tt.name, v, ok, tt.want)
			}
		})
	}
}

// TestHotEntriesConcurrent has readers and a writer work on a few keys (with -race): a reader
// never sees a value older than one the writer had replaced before the read began.
func TestHotEntriesConcurrent(t *testing.T) {
	c, _ := newTestCache[int](t, 0)
	h := newTestHasher(t)
	keys := make([]Key, 4)
	for i := range keys {
		keys[i] = h.Begin().String(fmt.Sprint(i)).Sum()
	}
	var written [4]atomic.Int64 // the last value written and completed per key
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := n % len(keys)
				floor := written[i].Load()
				if v, ok := c.Get(keys[i]); ok && int64(v) < floor {
					t.Errorf("key %d: read %d after %d was written", i, v, floor)
					return
				}
			}
		})
	}
	for n := 1; n <= 20000; n++ {
		i := n % len(keys)
		if n%7 == 0 {
			c.Delete(keys[i])
		}
		c.Set(keys[i], n, time.Hour)
		written[i].Store(int64(n))
	}
	close(stop)
	wg.Wait()
}
