//go:build e2e

// Package kubelet is the real-cluster end-to-end suite for authfilter: it starts a real etcd
// and kube-apiserver (test/e2e/cluster), builds the example kubelet-like server
// (examples/kubelet) once with -race, runs it as a subprocess pointed at that API server, and
// asserts on the responses real clients get: through the API server's node proxy, with
// service-account tokens, anonymously, with the review caches, with the API server down, and
// driven by a KubeletConfiguration file. See test/e2e/README.md.
//
// The tests skip when the binaries are missing (make realk8s builds them); the node-proxy test
// also skips when a network namespace cannot be created (it needs root). Traffic only ever goes
// to loopback or to an address inside a namespace the test created itself.
package kubelet
