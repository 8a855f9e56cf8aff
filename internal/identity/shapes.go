package identity

import (
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"unique"
)

// DefaultMaxShapes is the number of distinct shapes a Shapes keeps when NewShapes is given 0.
const DefaultMaxShapes = 1024

// shape is what many users have in common: their groups, their extra keys and how many values
// each key has. It is never modified after it is built.
type shape struct {
	groups []string // canonical copies (package unique)
	keys   []string // sorted, distinct, canonical copies
	ends   []int    // ends[i] is the end of key i's values; nil when every key has one value
}

// valueRange returns where key i's values are in a user's values.
func (s *shape) valueRange(i int) (start, end int) {
	if s.ends == nil {
		return i, i + 1
	}
	if i > 0 {
		start = s.ends[i-1]
	}
	return start, s.ends[i]
}

// Shapes builds Users, sharing one copy of the groups and extra keys among the users that
// have the same ones (all service accounts of a namespace, for instance). It keeps at most its
// maximum number of distinct shapes and forgets them all when it is full, so its memory is
// bounded whatever users it is given; users already built keep theirs. It is safe for
// concurrent use; Make takes a lock, so call it when a user is built (a cache miss), not on
// every request.
type Shapes struct {
	max int
	mu  sync.Mutex
	m   map[string]*shape // by encodeShape
}

// NewShapes returns a Shapes that keeps at most max distinct shapes; 0 means
// DefaultMaxShapes, and a negative max keeps none (every user gets its own copy).
func NewShapes(max int) *Shapes {
	if max == 0 {
		max = DefaultMaxShapes
	}
	return &Shapes{max: max, m: make(map[string]*shape)}
}

// New returns the User with these name, UID, groups and extra, sharing nothing with other
// users: for users built once (the anonymous user) rather than on every cache miss.
func New(name, uid string, groups []string, extra map[string][]string) User {
	return MakeUser[[]string](nil, name, uid, groups, extra)
}

// Make returns the User with these name, UID, groups (in order) and extra (each key's values
// in order); it is MakeUser for a map[string][]string.
func (s *Shapes) Make(name, uid string, groups []string, extra map[string][]string) User {
	return MakeUser(s, name, uid, groups, extra)
}

// MakeUser returns the User with these name, UID, groups (in order) and extra (each key's
// values in order), for any map of string lists (the API's map[string]ExtraValue, for
// instance). A nil s shares nothing. It copies everything it keeps: the caller may reuse its
// arguments. A key with no values is kept (a SubjectAccessReview sends it). The name, UID and
// extra values share one allocation.
func MakeUser[V ~[]string](s *Shapes, name, uid string, groups []string, extra map[string]V) User {
	var keyBuf [16]string
	keys := keyBuf[:0]
	total, single := 0, true
	size := len(name) + len(uid)
	for k, vs := range extra {
		keys = append(keys, k)
		total += len(vs)
		single = single && len(vs) == 1
		for _, v := range vs {
			size += len(v)
		}
	}
	slices.Sort(keys)

	var b strings.Builder
	b.Grow(size)
	b.WriteString(name)
	b.WriteString(uid)
	for _, k := range keys {
		for _, v := range extra[k] {
			b.WriteString(v)
		}
	}
	all := b.String()
	u := User{name: all[:len(name)], uid: all[len(name) : len(name)+len(uid)]}
	at := len(name) + len(uid)

	var endBuf [16]int
	var ends []int
	if !single {
		ends = endBuf[:0]
	}
	if total > 0 {
		u.values = make([]string, 0, total)
	}
	for _, k := range keys {
		for _, v := range extra[k] {
			u.values = append(u.values, all[at:at+len(v)])
			at += len(v)
		}
		if !single {
			ends = append(ends, len(u.values))
		}
	}
	if len(groups) > 0 || len(keys) > 0 {
		u.shape = s.shape(groups, keys, ends)
	}
	return u
}

// WithGroup returns u with group g appended to its groups.
func (s *Shapes) WithGroup(u *User, g string) User {
	out := *u
	var keys []string
	var ends []int
	if u.shape != nil {
		keys, ends = u.shape.keys, u.shape.ends
	}
	out.shape = s.shape(append(slices.Clip(u.Groups()), g), keys, ends)
	return out
}

// shape returns the canonical shape of (groups, keys, ends), creating it if needed; a nil s
// shares nothing and creates a new one. It keeps none of its arguments.
func (s *Shapes) shape(groups, keys []string, ends []int) *shape {
	if s == nil {
		return &shape{groups: internAll(groups), keys: internAll(keys), ends: slices.Clone(ends)}
	}
	var buf [512]byte
	id := appendShapeID(buf[:0], groups, keys, ends)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh, ok := s.m[string(id)]; ok {
		return sh
	}
	sh := &shape{groups: internAll(groups), keys: internAll(keys), ends: slices.Clone(ends)}
	if s.max < 0 {
		return sh
	}
	if len(s.m) >= s.max {
		clear(s.m)
	}
	s.m[string(id)] = sh
	return sh
}

// appendShapeID appends to buf an identifier that differs for any two different
// (groups, keys, ends): every list and string is length-prefixed.
func appendShapeID(buf []byte, groups, keys []string, ends []int) []byte {
	for _, ss := range [2][]string{groups, keys} {
		buf = binary.AppendUvarint(buf, uint64(len(ss)))
		for _, s := range ss {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(ends)))
	for _, e := range ends {
		buf = binary.AppendUvarint(buf, uint64(e))
	}
	return buf
}

// internAll returns a new slice of the canonical copies of ss (nil for an empty ss), so that
// the names every shape repeats ("system:authenticated", ...) are kept once.
func internAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = unique.Make(s).Value()
	}
	return out
}
