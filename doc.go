// Package authfilter is a drop-in authentication and authorization filter for HTTPS servers
// that protects them the way the kubelet protects its API, delegating to a Kubernetes API
// server.
//
// A request goes through three steps before the wrapped handler sees it:
//
//  1. who is it: an authenticator.Request (package authn: x509 client certificates, then bearer
//     tokens reviewed with TokenReview, then anonymous when enabled);
//  2. what is it: an attributes.Getter maps the verb and path to authorizer.Attributes (package
//     attributes: the kubelet's table, or non-resource URLs);
//  3. may they: an authorizer.Authorizer decides (package authz: AlwaysAllow, or
//     SubjectAccessReview with separate caches for allowed and denied decisions).
//
// Use New to assemble your own chain, or NewFromKubeletConfig to build exactly the kubelet's from
// a KubeletConfiguration. Then wrap the whole mux once:
//
//	f, err := authfilter.NewFromKubeletConfig(ctx, cfg, nodeName, clientset)
//	...
//	server.Handler = f.Handler(mux)
//
// Status codes: 401 authentication failed, 403 denied, 405 a method with no Kubernetes verb, 400
// a path that is not canonical, 500 the authorizer failed and nothing allowed the request. A
// backend failure never lets a request through.
package authfilter
