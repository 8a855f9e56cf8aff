// Package identity provides User, the immutable user.Info that authfilter's authenticators
// cache and share between requests, and Shapes, which lets users with the same groups and extra
// keys share one copy of them.
//
// A User is a few strings and two pointers: far smaller than a *user.DefaultInfo with its extra
// map, which is what a token cache mostly holds. Because a User cannot change, code that keys
// something on a user (the authorizer's key memo) may compare User pointers instead of
// contents.
package identity
