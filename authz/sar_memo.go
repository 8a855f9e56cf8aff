package authz

import (
	"hash/maphash"
	"slices"
	"sync/atomic"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/authfilter/authfilter/internal/cache"
	"github.com/authfilter/authfilter/internal/identity"
)

// keyMemoSlots is the number of (user, attributes) keys a keyMemo remembers (a power of two).
const keyMemoSlots = 256

// keyMemo remembers the decision-cache keys of recently authorized (user, attributes) pairs, so
// that a request whose user object was seen before (authenticators cache their users: every
// request with the same token carries the same user) does not hash the user's name, UID,
// groups and extra again. It only saves hashing: an entry is used only when the attributes are
// equal and the user object is the same, and, for a *user.DefaultInfo (which can be changed in
// place), its name, UID, groups and extra still equal the copies taken when the key was
// computed; an *identity.User cannot change. So the key it returns is always the key of the
// current contents. Slots are read and replaced without locks; it is safe for concurrent
// use.
type keyMemo struct {
	seed  maphash.Seed
	slots [keyMemoSlots]atomic.Pointer[keyMemoEntry]
}

// keyMemoEntry is one remembered key, with copies of everything it was computed from.
type keyMemoEntry struct {
	immutable   *identity.User // the user, if immutable: its pointer stands for its contents
	user        *user.DefaultInfo
	name, uid   string
	groups      []string
	extraKeys   []string // sorted
	extraValues [][]string
	attrs       attrFields
	key         cache.Key
}

// attrFields are the attributes that go into a review without selectors.
type attrFields struct {
	resource                                                bool
	namespace, verb, group, version, res, subresource, name string
	path                                                    string // non-resource requests only
}

func newKeyMemo() *keyMemo { return &keyMemo{seed: maphash.MakeSeed()} }

// fieldsOf returns the reviewed fields of attrs.
func fieldsOf(attrs authorizer.Attributes) attrFields {
	if rec, ok := attrs.(*authorizer.AttributesRecord); ok {
		// The methods of AttributesRecord have value receivers: calling them through a pointer
		// copies the whole record every time.
		if !rec.ResourceRequest {
			return attrFields{verb: rec.Verb, path: rec.Path}
		}
		return attrFields{
			resource: true, namespace: rec.Namespace, verb: rec.Verb, group: rec.APIGroup,
			version: rec.APIVersion, res: rec.Resource, subresource: rec.Subresource, name: rec.Name,
		}
	}
	if !attrs.IsResourceRequest() {
		return attrFields{verb: attrs.GetVerb(), path: attrs.GetPath()}
	}
	return attrFields{
		resource:    true,
		namespace:   attrs.GetNamespace(),
		verb:        attrs.GetVerb(),
		group:       attrs.GetAPIGroup(),
		version:     attrs.GetAPIVersion(),
		res:         attrs.GetResource(),
		subresource: attrs.GetSubresource(),
		name:        attrs.GetName(),
	}
}

// memoizable reports whether the memo can remember keys for u: a *user.DefaultInfo (checked
// against copies of its contents) or an immutable *identity.User (identified by its pointer).
func memoizable(u user.Info) bool {
	switch u := u.(type) {
	case *user.DefaultInfo:
		return u != nil
	case *identity.User:
		return u != nil
	}
	return false
}

// slot returns the slot of (u, f); u must be memoizable.
func (m *keyMemo) slot(u user.Info, f *attrFields) *atomic.Pointer[keyMemoEntry] {
	var h uint64
	switch u := u.(type) {
	case *user.DefaultInfo:
		h = maphash.Comparable(m.seed, u)
	case *identity.User:
		h = maphash.Comparable(m.seed, u)
	}
	for _, s := range [...]string{f.verb, f.subresource, f.path} { // enough to spread one user's
		h = h*0x100000001b3 ^ maphash.String(m.seed, s)
	}
	return &m.slots[h&(keyMemoSlots-1)]
}

// lookup returns the remembered key of (u, f), if the slot holds it and u is unchanged.
func (m *keyMemo) lookup(slot *atomic.Pointer[keyMemoEntry], u user.Info, f *attrFields) (cache.Key, bool) {
	e := slot.Load()
	if e == nil || e.attrs != *f {
		return cache.Key{}, false
	}
	switch u := u.(type) {
	case *identity.User:
		if e.immutable == u {
			return e.key, true
		}
	case *user.DefaultInfo:
		if e.user == u && e.sameUser(u) {
			return e.key, true
		}
	}
	return cache.Key{}, false
}

// remember stores key as the key of (u, f), replacing whatever the slot held; u must be
// memoizable.
func (m *keyMemo) remember(slot *atomic.Pointer[keyMemoEntry], u user.Info, f *attrFields, key cache.Key) {
	switch u := u.(type) {
	case *identity.User:
		slot.Store(&keyMemoEntry{immutable: u, attrs: *f, key: key})
	case *user.DefaultInfo:
		m.rememberDefault(slot, u, f, key)
	}
}

// rememberDefault stores key as the key of (u, f), with copies of u's contents.
func (m *keyMemo) rememberDefault(slot *atomic.Pointer[keyMemoEntry], u *user.DefaultInfo, f *attrFields, key cache.Key) {
	e := &keyMemoEntry{
		user: u, name: u.Name, uid: u.UID, groups: slices.Clone(u.Groups),
		attrs: *f, key: key,
	}
	if len(u.Extra) > 0 {
		e.extraKeys = make([]string, 0, len(u.Extra))
		for k := range u.Extra {
			e.extraKeys = append(e.extraKeys, k)
		}
		slices.Sort(e.extraKeys)
		e.extraValues = make([][]string, len(e.extraKeys))
		for i, k := range e.extraKeys {
			e.extraValues[i] = slices.Clone(u.Extra[k])
		}
	}
	slot.Store(e)
}

// sameUser reports whether u's name, UID, groups and extra equal e's copies. Nil and empty
// compare equal, as they give the same review.
func (e *keyMemoEntry) sameUser(u *user.DefaultInfo) bool {
	if u.Name != e.name || u.UID != e.uid || !slices.Equal(u.Groups, e.groups) || len(u.Extra) != len(e.extraKeys) {
		return false
	}
	for i, k := range e.extraKeys {
		v, ok := u.Extra[k]
		if !ok || !slices.Equal(v, e.extraValues[i]) {
			return false
		}
	}
	return true
}
