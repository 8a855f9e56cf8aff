// Package node is the API server's Node authorizer as an authfilter part: it lets a server that
// kubelets (or agents holding node credentials) talk to authorize them exactly as a Kubernetes
// v1.37 API server with --authorization-mode=Node does, and compose with the other authorizers
// of package authz (a union of Node and SAR is the shape of --authorization-mode=Node,RBAC).
//
//	a, err := node.New(clientset, node.Options{})
//	if err != nil {
//		return err
//	}
//	a.Start(ctx)                      // informers run until ctx is done
//	a.WaitForSync(ctx)                // until then every node request is NoOpinion
//	both, err := authz.NewUnion(a, sar) // Node, then SubjectAccessReview (RBAC)
//
// # Who is a node
//
// [Identify]: the user name is "system:node:<name>" with a non-empty name AND the groups contain
// "system:nodes". Everybody else gets NoOpinion with an empty reason, so a union falls through.
//
// # The rules (for a node n; anything not listed is NoOpinion with a reason)
//
//   - nodes: get, list, watch of the Node named n only (list/watch name it with a
//     metadata.name=n field selector, which the API server's request parsing turns into the
//     request's name; attributes without a name are not enough); create, update, patch of nodes
//     and update, patch of nodes/status (the NodeRestriction admission plugin limits them to n).
//   - pods: get of pods bound to n; list, watch with a spec.nodeName=n field selector (or of one
//     pod bound to n by name); create and delete (mirror pods); update, patch of pods/status;
//     create of pods/eviction.
//   - secrets, configmaps: get, list, watch of one named object in a namespace that is related
//     to n (see the graph below); persistentvolumeclaims, persistentvolumes, volumeattachments,
//     resource.k8s.io resourceclaims: get of one related object; update, patch of
//     persistentvolumeclaims/status of related claims.
//   - serviceaccounts: get of, and create of serviceaccounts/token for, service accounts of pods
//     bound to n.
//   - coordination.k8s.io leases in kube-node-lease named n: get, update, patch, delete; create
//     (any name). storage.k8s.io csinodes named n: get, update, patch, delete; create (any name).
//   - resource.k8s.io resourceslices: create; get, update, patch, delete of slices of n;
//     list, watch, deletecollection with a spec.nodeName=n field selector.
//   - certificates.k8s.io podcertificaterequests (unless disabled): create; get of requests of
//     n; list, watch with a spec.nodeName=n field selector.
//   - the static rules of upstream's bootstrap policy for nodes: get, list, watch of services,
//     storage.k8s.io csidrivers, node.k8s.io runtimeclasses and certificates.k8s.io
//     clustertrustbundles; get of endpoints; create, update, patch of events (core and
//     events.k8s.io); create, get, list, watch of certificatesigningrequests; create of
//     tokenreviews, subjectaccessreviews and localsubjectaccessreviews.
//
// Decisions are Allow or NoOpinion, never Deny, with upstream's reason texts. The feature-gated
// rules follow the v1.37 defaults: PodCertificateRequest, ClusterTrustBundle,
// KubeletServiceAccountTokenForCredentialProviders and DynamicResourceAllocation on,
// CSIVolumeHealth off (csinodes/status is NoOpinion).
//
// # The graph
//
// [Graph] records which objects are related to which node; [Graph.AddPod] and [Graph.AddPV]
// list every reference kind covered. In short: a pod with spec.nodeName relates to its node; its
// service account, the secrets and configmaps it names (volumes, projected sources, env
// valueFrom, envFrom, image pull secrets, of init, regular and ephemeral containers, CSI
// nodePublishSecretRef and the in-tree volume plugins' secret references), its claims
// (persistentVolumeClaim and generic ephemeral volumes) and its resource claims relate to the
// pod; a PV relates to the claim in its spec.claimRef and its kubelet-visible secrets relate to
// the PV; volume attachments, resource slices and pod certificate requests relate to the node
// in their spec.nodeName. Mirror pods relate only themselves. [Populator] keeps a graph current
// from client-go informers of a typed clientset, so k8s.io/client-go/kubernetes/fake works in
// tests.
//
// # Compared with an API server's Node,RBAC
//
// The Node decision matches the v1.37 API server's Node authorizer for the same attributes and
// objects, once both graphs have seen the same events. A SubjectAccessReview answered by an API
// server with --authorization-mode=Node,RBAC also consults RBAC, whose default bindings give
// every authenticated user, nodes included, what this authorizer leaves to others:
//
//   - create of authorization.k8s.io selfsubjectaccessreviews and selfsubjectrulesreviews and of
//     authentication.k8s.io selfsubjectreviews (system:basic-user);
//   - get of the non-resource URLs /api, /api/*, /apis, /apis/*, /openapi, /openapi/*,
//     /version, /version/, /healthz, /livez and /readyz (system:discovery,
//     system:public-info-viewer).
//
// The system:node ClusterRole exists but its default binding has no subjects, so RBAC grants
// nodes nothing else unless the cluster adds bindings (kubeadm binds a few: kubelet-config and
// kubeadm-config configmaps, CSR auto-approval). For those requests Node says NoOpinion while
// Node,RBAC allows; union this authorizer with
// [github.com/authfilter/authfilter/authz.SAR] to get the API server's answer.
//
// # Admission: what a node may write
//
// The Node authorizer lets nodes create, update and delete nodes and pods without looking at
// the objects; kube-apiserver's NodeRestriction admission plugin narrows those writes. A server
// that accepts writes from nodes gets the same checks from a [Restriction]: call
// [Restriction.Admit] with each [Write] a node's request makes. It keeps a node to its own Node
// object and labels outside node-restriction.kubernetes.io/, to mirror pods bound to itself and
// the pods bound to it, and to service account tokens bound to its pods, for audiences those
// pods reference (or an authorizer allows, with verb "request-serviceaccounts-token-audience").
//
// # Fail closed
//
//   - Until the graph has synced every node request is NoOpinion with [ReasonNotSynced].
//   - Unknown objects, objects of other nodes, unbound pods and requests without a name are
//     NoOpinion; a field selector that failed to parse counts as absent.
//   - Nil collaborators are construction errors; nil attributes are NoOpinion with an error.
//
// Nothing is logged about a request but its node, verb, resource, namespace, name and path.
// Every type is safe for concurrent use once constructed.
package node
