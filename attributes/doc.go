// Package attributes answers "what is this request?" for authfilter: it maps an authenticated
// user and an HTTP request to the authorizer.Attributes an authorizer must check, the way the
// kubelet maps requests to its API.
//
// A [Getter] returns one or more attributes, in order; the request is allowed when any of them is
// allowed. Three presets are provided:
//
//   - [Kubelet] reproduces the kubelet's table: every request is a resource request on the
//     "nodes" resource named after the node, with a subresource chosen by path ("/stats" is
//     nodes/stats, "/logs" is nodes/log, everything unlisted is nodes/proxy), and, for "/pods",
//     "/runningpods", "/healthz" and "/configz", a fine-grained subresource tried before the
//     nodes/proxy fallback (the kubelet's KubeletFineGrainedAuthz behaviour);
//   - [NonResource] maps every request to a non-resource URL, as kube-apiserver does for paths
//     such as "/healthz" or "/metrics";
//   - [APIServer] parses Kubernetes API paths ("/api/v1/namespaces/ns/secrets/name",
//     "/apis/group/version/...", list and watch with field and label selectors) with
//     k8s.io/apiserver's own request-info parser, for servers that protect a Kubernetes-like API
//     with union(Node, SubjectAccessReview).
//
// Write your own with [GetterFunc], building on [ResourceVerb], [NonResourceVerb] and
// [CanonicalPath].
//
// # Methods
//
// Only GET, HEAD, POST, PUT, PATCH and DELETE have a Kubernetes verb. Any other method (OPTIONS,
// CONNECT, TRACE, WebDAV methods, or a lowercase "get": methods are case-sensitive as in
// net/http) is refused with an error wrapping [ErrMethodNotAllowed], which authfilter answers
// with 405. The kubelet instead authorizes such requests with an empty verb; refusing them is
// stricter and cannot be bypassed.
//
// # Canonical paths: refuse, never clean
//
// The path that is authorized must be the path that is served. authfilter wraps a mux it does
// not know (http.ServeMux, go-restful, gorilla, chi, ...), and muxes disagree about paths that
// are not canonical: http.ServeMux redirects "/stats/../pods" to "/pods", some muxes route on
// the escaped path ("/stats%2Fsummary" is one segment) and others on the decoded one ("/stats"
// then "summary"), some decode twice. Cleaning the path before authorizing it would mean
// guessing which of these the wrapped mux does, so [CanonicalPath] does not clean: it refuses
// every path that any mux could read in more than one way, with an error wrapping
// [ErrNonCanonicalPath] that authfilter answers with 400. Well-behaved clients (kubectl, the API
// server's proxy, Prometheus) never send such paths.
//
// A path is refused when it is empty or not absolute ("*" from "OPTIONS *"), when it has an
// empty segment ("//"), a "." or ".." segment, a backslash, a percent sign, a NUL or another
// control character, or when its escaped form contains an encoded slash, dot, backslash or
// percent (%2F, %2E, %5C, %25, in any case) or does not decode to the path. A trailing slash is
// canonical ("/logs/" is served by the kubelet's log browser). Every path that is accepted is
// routed unchanged by http.ServeMux, without a redirect.
//
// # Concurrency
//
// The getters in this package are immutable once constructed and safe for concurrent use. Each
// call returns a fresh slice of fresh authorizer.AttributesRecord values that the caller may
// keep or modify.
package attributes
