package authz

import "reflect"

// isNil reports whether v is nil or an interface holding a nil pointer, map, slice, func or
// channel, so that constructors refuse a typed nil as well as an untyped one.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
