// Package bench compares authfilter with the chain the kubelet builds from k8s.io/apiserver's
// delegating factories, side by side, in one `go test -bench` run. See BENCHMARKS.md at the
// repository root for the results and how to reproduce them.
//
// Both chains talk to the same in-process API server ([Backend]) through the same
// *kubernetes.Clientset, so a TokenReview or SubjectAccessReview costs both exactly the same.
// The benchmarks build the upstream chain from authenticatorfactory.DelegatingAuthenticatorConfig
// and authorizerfactory.DelegatingAuthorizerConfig with the kubelet's settings, and authfilter
// with NewFromKubeletConfig and the same settings.
//
// Only the tests of this package import the heavy upstream factories; no library package of
// authfilter imports this package or them.
package bench
