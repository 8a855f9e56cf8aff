// Package nilcheck tells whether a collaborator handed to a constructor is missing, so that
// authfilter refuses a typed nil (a nil *T in an interface) as firmly as an untyped nil: a
// missing authenticator or authorizer is a construction error, never "allow everything".
package nilcheck

import "reflect"

// IsNil reports whether v is nil or an interface holding a nil pointer, map, slice, func,
// channel or interface. It is safe for concurrent use.
func IsNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
