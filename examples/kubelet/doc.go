// Command kubelet is a kubelet-like HTTPS server protected by authfilter exactly the way the
// kubelet protects its own API: client certificates, bearer tokens checked with TokenReview,
// access checked with SubjectAccessReview against the node's subresources.
//
// It serves /stats/summary, /metrics, /metrics/cadvisor, /logs/, /spec/, /pods, /runningpods/,
// /healthz and /configz with small made-up bodies (404 for any other path). The whole mux is
// wrapped once by the filter built with authfilter.NewFromKubeletConfig, so every request,
// including a 404, is authenticated and authorized first. Each served response carries the
// identity the filter established in the headers X-Authfilter-User and X-Authfilter-Groups
// (comma-joined), and the server logs one line per served request with the user and groups.
//
// # Demo mode (no cluster needed)
//
// With --demo, or when neither --kubeconfig nor --config is given, the server needs nothing but
// itself: it generates in a temporary directory a CA, a serving certificate for 127.0.0.1 and
// localhost, and client certificates for demo-admin (group demo:admins) and demo-viewer (group
// demo:viewers), plus a random bearer token for demo-token-user (group demo:viewers). An
// in-process fake API server (k8s.io/client-go/kubernetes/fake) answers the reviews with a tiny
// policy: demo:admins may do anything on nodes/*, demo:viewers may get nodes/stats,
// nodes/metrics and nodes/healthz, and nothing else is allowed. The demo listens on
// 127.0.0.1:10250 unless --address or --port say otherwise, prints ready-to-paste curl commands
// with the status each should return, and deletes the directory on exit:
//
//	go run ./examples/kubelet --port 18443
//
// # Against a real cluster
//
//	go run ./examples/kubelet --kubeconfig ~/.kube/config --address 127.0.0.1 \
//	    --client-ca-file /etc/kubernetes/pki/ca.crt --hostname-override node-1
//
// or with a KubeletConfiguration file (--config). The server then sends its TokenReviews and
// SubjectAccessReviews to the API server named in the kubeconfig; the identity in the
// kubeconfig needs RBAC permission to create tokenreviews (authentication.k8s.io) and
// subjectaccessreviews (authorization.k8s.io), as the system:auth-delegator ClusterRole grants.
// A standalone server (--config without --kubeconfig) can only use x509 client certificates,
// anonymous access and the AlwaysAllow mode, as a standalone kubelet.
//
// # Flags
//
// The flags have the kubelet's names and meanings: --address, --port, --tls-cert-file,
// --tls-private-key-file, --client-ca-file, --anonymous-auth, --authentication-token-webhook,
// --authentication-token-webhook-cache-ttl, --authorization-mode,
// --authorization-webhook-cache-authorized-ttl, --authorization-webhook-cache-unauthorized-ttl,
// --kubeconfig, --hostname-override, --config and -v; --demo is the example's own. As in the
// kubelet, a flag given on the command line overrides the same setting in the --config file,
// and relative clientCAFile, tlsCertFile and tlsPrivateKeyFile paths in the file are resolved
// against the file's directory. Of the config file only address, port, tlsCertFile,
// tlsPrivateKeyFile, authentication and authorization are used; the file must be a strictly
// valid kubelet.config.k8s.io/v1beta1 KubeletConfiguration: an unknown or duplicate field, or
// a field name in the wrong case, is an error. When --tls-cert-file and --tls-private-key-file
// are both empty, a self-signed serving certificate is generated in memory; setting only one
// of them is an error.
//
// Deliberate difference from the kubelet: settings left unset take the KubeletConfiguration
// v1beta1 defaults (anonymous access off, token webhook on with a 2m cache, authorization mode
// Webhook with 5m/30s caches), whether or not --config is given. The kubelet's legacy flag
// defaults (anonymous access on, token webhook off, AlwaysAllow) let anyone who can reach the
// port do anything, and are not reproduced.
//
// # Observability
//
// Logs go to stderr through logr (funcr); -v=2 also logs why a request was refused. Every
// TokenReview and SubjectAccessReview sent to the API server (or to the demo's fake one) is
// logged as "review sent" with its kind and running total, never its body, and counted in
// /metrics as authfilter_example_reviews_total{kind="TokenReview"} and
// authfilter_example_reviews_total{kind="SubjectAccessReview"}. SIGINT or SIGTERM shuts the
// server down gracefully.
package main
