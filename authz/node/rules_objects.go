package node

import (
	"fmt"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// nodeObject allows reading the node's own Node object (by name, so list and watch need a
// metadata.name field selector, which the API server turns into the name) and any create,
// update and patch of nodes and nodes/status, which the NodeRestriction admission plugin limits
// to the node's own object.
func nodeObject(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	switch attrs.GetSubresource() {
	case "":
		switch attrs.GetVerb() {
		case "create", "update", "patch":
			return allow, ""
		case "get", "list", "watch":
			switch attrs.GetName() {
			case nodeName:
				return allow, ""
			case "":
				return noOpinion, fmt.Sprintf("node '%s' cannot read all nodes, only its own Node object", nodeName)
			default:
				return noOpinion, fmt.Sprintf("node '%s' cannot read '%s', only its own Node object", nodeName, attrs.GetName())
			}
		}
	case "status":
		switch attrs.GetVerb() {
		case "update", "patch":
			return allow, ""
		}
	}
	return noOpinion, notAllowed(nodeName, attrs)
}

// pod allows get of pods bound to the node, list and watch with a spec.nodeName=<node> field
// selector (or of one bound pod by name), create and delete (mirror pods), update and patch of
// pods/status and create of pods/eviction; NodeRestriction limits the writes to the node's pods.
func (a *Authorizer) pod(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	switch attrs.GetSubresource() {
	case "":
		switch attrs.GetVerb() {
		case "get":
			return a.getOne(nodeName, KindPod, attrs)
		case "list", "watch":
			if hasNodeSelector(attrs, selectorSpecNode, nodeName) {
				return allow, ""
			}
			if attrs.GetName() != "" {
				return a.related(nodeName, KindPod, attrs)
			}
			return noOpinion, "can only list/watch pods with spec.nodeName field selector"
		case "create", "delete":
			return allow, ""
		}
	case "status":
		switch attrs.GetVerb() {
		case "update", "patch":
			return allow, ""
		}
	case "eviction":
		if attrs.GetVerb() == "create" {
			return allow, ""
		}
	}
	return noOpinion, notAllowed(nodeName, attrs)
}

// resourceSlice allows create (NodeRestriction checks spec.nodeName), get/update/patch/delete of
// slices of the node and list/watch/deletecollection with a spec.nodeName=<node> field selector.
func (a *Authorizer) resourceSlice(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	if attrs.GetSubresource() != "" {
		return noOpinion, "cannot authorize ResourceSlice subresources"
	}
	switch attrs.GetVerb() {
	case "create":
		return allow, ""
	case "get", "update", "patch", "delete":
		return a.related(nodeName, KindResourceSlice, attrs)
	case "watch", "list", "deletecollection":
		if hasNodeSelector(attrs, selectorSpecNode, nodeName) {
			return allow, ""
		}
		return noOpinion, "can only list/watch/deletecollection resourceslices with nodeName field selector"
	}
	return noOpinion, "only the following verbs are allowed for a ResourceSlice: get, watch, list, create, update, patch, delete, deletecollection"
}

// podCertificateRequest allows create (NodeRestriction checks it), get of the node's requests and
// list/watch with a spec.nodeName=<node> field selector.
func (a *Authorizer) podCertificateRequest(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	if attrs.GetSubresource() != "" {
		return noOpinion, "nodes may not access the status subresource of PodCertificateRequests"
	}
	switch attrs.GetVerb() {
	case "create":
		return allow, ""
	case "get":
		return a.related(nodeName, KindPodCertificateRequest, attrs)
	case "list", "watch":
		if hasNodeSelector(attrs, selectorSpecNode, nodeName) {
			return allow, ""
		}
		return noOpinion, "can only list/watch podcertificaterequests with nodeName field selector"
	}
	return noOpinion, fmt.Sprintf("nodes may not %s podcertificaterequests", attrs.GetVerb())
}

// staticRulesAllow applies the rules of upstream's bootstrappolicy.NodeRules (v1.37, default
// feature gates) to the resources the other rules do not handle. None of them has a
// subresource, and none covers non-resource URLs.
func staticRulesAllow(attrs authorizer.Attributes) bool {
	if !attrs.IsResourceRequest() || attrs.GetSubresource() != "" {
		return false
	}
	verb := attrs.GetVerb()
	read := verb == "get" || verb == "list" || verb == "watch"
	switch (groupResource{attrs.GetAPIGroup(), attrs.GetResource()}) {
	case groupResource{"authentication.k8s.io", "tokenreviews"},
		groupResource{"authorization.k8s.io", "subjectaccessreviews"},
		groupResource{"authorization.k8s.io", "localsubjectaccessreviews"}:
		return verb == "create"
	case groupResource{"", "services"},
		groupResource{"storage.k8s.io", "csidrivers"},
		groupResource{"node.k8s.io", "runtimeclasses"},
		groupResource{"certificates.k8s.io", "clustertrustbundles"}:
		return read
	case groupResource{"", "events"}, groupResource{"events.k8s.io", "events"}:
		return verb == "create" || verb == "update" || verb == "patch"
	case groupResource{"", "endpoints"}:
		return verb == "get"
	case groupResource{"certificates.k8s.io", "certificatesigningrequests"}:
		return read || verb == "create"
	}
	return false
}
