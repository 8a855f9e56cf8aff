// Package cache holds the one bounded TTL cache that authfilter's token authenticator and
// SubjectAccessReview authorizer share.
//
// Keys are [Key] values: 32-byte keyed HMAC-SHA256 digests built with a [Hasher], so a raw
// credential is never kept as a key and two different inputs cannot share an entry. The cache
// is split into shards, each behind its own lock, so the hit path takes no global lock, and a
// hit on a recently read entry takes no lock at all (see [Cache.Get]); it is bounded by an
// entry count, and [Cache.Do] merges concurrent misses of the same key into one load. All
// methods are safe for concurrent use.
package cache
