// Command nodesecrets is a small node-facing HTTPS server that hands each node only the
// secrets of its own pods, authorized the way kube-apiserver authorizes kubelets with
// --authorization-mode=Node,RBAC.
//
// It serves one endpoint with the API server's path and verb:
//
//	GET /api/v1/namespaces/{namespace}/secrets/{name}
//
// and answers it with the secret as JSON, read from the API server with the server's own
// client. In front of it, one authfilter Filter does what kube-apiserver does:
//
//   - authentication: a client certificate verified against --client-ca-file (a kubelet's
//     system:node:<name> certificate in group system:nodes), else a bearer token checked with a
//     TokenReview;
//   - attributes: attributes.NewAPIServer, kube-apiserver's own request parsing, so the path
//     above is "get secrets <name> in <namespace>";
//   - authorization: the union of the Node authorizer (authz/node: a node may read a secret only
//     when a pod bound to it references the secret) and a SubjectAccessReview (RBAC), in that
//     order, so a node gets its pods' secrets without any RBAC rule, and anybody else gets what
//     RBAC grants.
//
// Everything else, other paths included, is refused by the filter before the mux sees it (a
// node listing secrets, reading another node's secret, or reading a subresource gets 403).
//
// # Demo mode (no cluster needed)
//
// With --demo (the default when --kubeconfig is not given) the API server is an in-process fake
// (k8s.io/client-go/kubernetes/fake) holding two nodes, node-a and node-b, a pod on each
// (team-a/web on node-a uses the secret db-password, team-b/api on node-b the secret api-key),
// and those secrets; the fake RBAC allows nothing. The demo generates a CA, a serving
// certificate and a client certificate per node in a temporary directory, prints curl commands
// with the status each returns (node-a reads team-a/db-password: 200; node-a reads
// team-b/api-key: 403; and the same for node-b), and deletes the directory on exit:
//
//	go run ./examples/nodesecrets --port 18443
//
// # Against a real cluster
//
//	go run ./examples/nodesecrets --kubeconfig ~/.kube/config \
//	    --client-ca-file /etc/kubernetes/pki/ca.crt --address 0.0.0.0 --port 8443
//
// The kubeconfig's identity needs the Node authorizer's informers (list and watch of pods,
// persistentvolumes, storage.k8s.io volumeattachments, resource.k8s.io resourceslices and
// certificates.k8s.io podcertificaterequests), get of secrets (to serve them), and create of
// tokenreviews and subjectaccessreviews (system:auth-delegator). Without --tls-cert-file and
// --tls-private-key-file a self-signed serving certificate is generated in memory. SIGINT or
// SIGTERM shuts the server down gracefully.
package main
