package cache

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
)

// Key is a cache key: the HMAC-SHA256 of the fields that identify an entry.
type Key [sha256.Size]byte

// Hasher turns fields into Keys with HMAC-SHA256 under a random secret made by NewHasher, so
// keys cannot be predicted or reversed outside the process. It is safe for concurrent use.
type Hasher struct {
	pool sync.Pool // of *KeyBuilder
}

// NewHasher returns a Hasher with a fresh random 32-byte secret.
func NewHasher() (*Hasher, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("cache: generating hash secret: %w", err)
	}
	h := &Hasher{}
	h.pool.New = func() any {
		return &KeyBuilder{mac: hmac.New(sha256.New, secret), buf: make([]byte, 0, 1024)}
	}
	return h, nil
}

// Begin returns an empty KeyBuilder. Call Sum exactly once when done; the builder must not be
// used after that.
func (h *Hasher) Begin() *KeyBuilder {
	b := h.pool.Get().(*KeyBuilder)
	b.owner = h
	return b
}

// KeyBuilder collects fields for one Key. Every field is written with its length in front, so
// ("ab", "c") and ("a", "bc") give different keys. It is not safe for concurrent use.
type KeyBuilder struct {
	owner *Hasher
	mac   hash.Hash
	buf   []byte
	sum   []byte
}

// String adds one string field.
func (b *KeyBuilder) String(s string) *KeyBuilder {
	b.buf = binary.AppendUvarint(b.buf, uint64(len(s)))
	b.buf = append(b.buf, s...)
	return b
}

// Strings adds a list of strings as one field (its length, then each string).
func (b *KeyBuilder) Strings(ss []string) *KeyBuilder {
	b.buf = binary.AppendUvarint(b.buf, uint64(len(ss)))
	for _, s := range ss {
		b.String(s)
	}
	return b
}

// Count starts a list of n fields that the caller adds next: Count(len(ss)) followed by
// String(s) for each s of ss is the same as Strings(ss).
func (b *KeyBuilder) Count(n int) *KeyBuilder {
	b.buf = binary.AppendUvarint(b.buf, uint64(n))
	return b
}

// Bytes adds one byte-slice field; it is the same field as String(string(p)).
func (b *KeyBuilder) Bytes(p []byte) *KeyBuilder {
	b.buf = binary.AppendUvarint(b.buf, uint64(len(p)))
	b.buf = append(b.buf, p...)
	return b
}

// Uint64 adds one fixed-size integer field.
func (b *KeyBuilder) Uint64(v uint64) *KeyBuilder {
	b.buf = binary.BigEndian.AppendUint64(b.buf, v)
	return b
}

// Bool adds one boolean field.
func (b *KeyBuilder) Bool(v bool) *KeyBuilder {
	if v {
		b.buf = append(b.buf, 1)
	} else {
		b.buf = append(b.buf, 0)
	}
	return b
}

// Sum returns the Key of the fields added so far and releases the builder, whose buffer is
// cleared so no credential stays in pooled memory.
func (b *KeyBuilder) Sum() Key {
	b.mac.Reset()
	b.mac.Write(b.buf)
	b.sum = b.mac.Sum(b.sum[:0])
	var k Key
	copy(k[:], b.sum)
	clear(b.buf)
	b.buf = b.buf[:0]
	owner := b.owner
	b.owner = nil
	if cap(b.buf) <= 64<<10 { // do not keep huge buffers alive in the pool
		owner.pool.Put(b)
	}
	return k
}
