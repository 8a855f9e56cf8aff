//go:build tools

// Package etcdtools records the etcd server command built by
// hack/build-realk8s.sh so that go mod tidy keeps its dependencies.
package etcdtools

import (
	_ "go.etcd.io/etcd/server/v3"
)
