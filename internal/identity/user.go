package identity

import (
	"slices"

	"k8s.io/apiserver/pkg/authentication/user"
)

// User is an immutable user.Info. Build it with [Shapes.Make]; the zero value is a user with
// no name, no groups and no extra. A User never changes after it is built, so it is safe for
// concurrent use, and two reads of one *User always see the same contents.
//
// GetGroups and GetExtra return fresh copies, so a caller that modifies what they return cannot
// change the User (or the other users sharing its shape); the allocation-free readers Groups,
// ExtraLen and Extra are for code that only reads.
type User struct {
	name, uid string
	shape     *shape   // groups and extra keys, shared by users of the same shape; nil: none
	values    []string // the extra values, key after key in shape order; read-only
}

var _ user.Info = (*User)(nil)

// GetName returns the user name.
func (u *User) GetName() string { return u.name }

// GetUID returns the user's UID.
func (u *User) GetUID() string { return u.uid }

// GetGroups returns a copy of the user's groups, in order (nil when there are none).
func (u *User) GetGroups() []string { return slices.Clone(u.Groups()) }

// GetExtra returns a new map of the user's extra values (nil when there are none). Each call
// allocates the map and its values.
func (u *User) GetExtra() map[string][]string {
	n := u.ExtraLen()
	if n == 0 {
		return nil
	}
	values := slices.Clone(u.values)
	extra := make(map[string][]string, n)
	for i := range n {
		start, end := u.shape.valueRange(i)
		extra[u.shape.keys[i]] = values[start:end:end]
	}
	return extra
}

// Groups returns the user's groups without copying them. The caller must not modify the slice.
func (u *User) Groups() []string {
	if u.shape == nil {
		return nil
	}
	return u.shape.groups
}

// HasGroup reports whether the user is in group g.
func (u *User) HasGroup(g string) bool { return slices.Contains(u.Groups(), g) }

// InGroup reports whether u is in group g, without copying the groups of a *User.
func InGroup(u user.Info, g string) bool {
	if iu, ok := u.(*User); ok {
		return iu.HasGroup(g)
	}
	return slices.Contains(u.GetGroups(), g)
}

// ExtraLen returns the number of extra keys.
func (u *User) ExtraLen() int {
	if u.shape == nil {
		return 0
	}
	return len(u.shape.keys)
}

// Extra returns the i-th extra key (keys are sorted) and its values, without copying them.
// The caller must not modify the values.
func (u *User) Extra(i int) (key string, values []string) {
	start, end := u.shape.valueRange(i)
	return u.shape.keys[i], u.values[start:end:end]
}
