package node

import (
	"fmt"

	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Names and reasons shared by several rules; the reason texts are upstream's.
const (
	reasonNoName        = "No Object name found"
	nodeLeaseNamespace  = "kube-node-lease"
	selectorSpecNode    = "spec.nodeName"
	reasonGetOnly       = "can only get individual resources of this type"
	reasonNoSubresource = "cannot get subresource"
)

type groupResource struct{ group, resource string }

var (
	allow     = authorizer.DecisionAllow
	noOpinion = authorizer.DecisionNoOpinion
)

// decide applies the v1.37 Node authorizer's rules to a request of node nodeName.
func (a *Authorizer) decide(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	if attrs.IsResourceRequest() {
		switch (groupResource{attrs.GetAPIGroup(), attrs.GetResource()}) {
		case groupResource{"", "secrets"}:
			return a.readNamespaced(nodeName, KindSecret, attrs)
		case groupResource{"", "configmaps"}:
			return a.readNamespaced(nodeName, KindConfigMap, attrs)
		case groupResource{"", "persistentvolumeclaims"}:
			if attrs.GetSubresource() == "status" {
				return a.updateStatus(nodeName, KindPersistentVolumeClaim, attrs)
			}
			return a.getOne(nodeName, KindPersistentVolumeClaim, attrs)
		case groupResource{"", "persistentvolumes"}:
			return a.getOne(nodeName, KindPersistentVolume, attrs)
		case groupResource{"resource.k8s.io", "resourceclaims"}:
			return a.getOne(nodeName, KindResourceClaim, attrs)
		case groupResource{"storage.k8s.io", "volumeattachments"}:
			return a.getOne(nodeName, KindVolumeAttachment, attrs)
		case groupResource{"", "serviceaccounts"}:
			return a.serviceAccount(nodeName, attrs)
		case groupResource{"coordination.k8s.io", "leases"}:
			return lease(nodeName, attrs)
		case groupResource{"storage.k8s.io", "csinodes"}:
			return csiNode(nodeName, attrs)
		case groupResource{"resource.k8s.io", "resourceslices"}:
			return a.resourceSlice(nodeName, attrs)
		case groupResource{"", "nodes"}:
			return nodeObject(nodeName, attrs)
		case groupResource{"", "pods"}:
			return a.pod(nodeName, attrs)
		case groupResource{"certificates.k8s.io", "podcertificaterequests"}:
			if a.pcr {
				return a.podCertificateRequest(nodeName, attrs)
			}
			return noOpinion, fmt.Sprintf("node '%s' cannot access podcertificaterequests (disabled)", nodeName)
		}
	}
	if staticRulesAllow(attrs) {
		return allow, ""
	}
	return noOpinion, notAllowed(nodeName, attrs)
}

// notAllowed is the reason for requests no rule covers (upstream gives none).
func notAllowed(nodeName string, attrs authorizer.Attributes) string {
	if !attrs.IsResourceRequest() {
		return fmt.Sprintf("node '%s' cannot %s path %q", nodeName, attrs.GetVerb(), attrs.GetPath())
	}
	r := attrs.GetResource()
	if s := attrs.GetSubresource(); s != "" {
		r += "/" + s
	}
	if g := attrs.GetAPIGroup(); g != "" {
		r += "." + g
	}
	return fmt.Sprintf("node '%s' cannot %s %s", nodeName, attrs.GetVerb(), r)
}

// related is the graph check behind every per-object rule.
func (a *Authorizer) related(nodeName string, kind Kind, attrs authorizer.Attributes) (authorizer.Decision, string) {
	if attrs.GetName() == "" {
		return noOpinion, reasonNoName
	}
	if !a.graph.Related(nodeName, kind, attrs.GetNamespace(), attrs.GetName()) {
		return noOpinion, fmt.Sprintf("no relationship found between node '%s' and this object", nodeName)
	}
	return allow, ""
}

// getOne allows get of a related object (no subresource).
func (a *Authorizer) getOne(nodeName string, kind Kind, attrs authorizer.Attributes) (authorizer.Decision, string) {
	if attrs.GetVerb() != "get" {
		return noOpinion, reasonGetOnly
	}
	if attrs.GetSubresource() != "" {
		return noOpinion, reasonNoSubresource
	}
	return a.related(nodeName, kind, attrs)
}

// readNamespaced allows get, list and watch of one related namespaced object (list and watch
// name it through a metadata.name field selector, which the API server turns into the name).
func (a *Authorizer) readNamespaced(nodeName string, kind Kind, attrs authorizer.Attributes) (authorizer.Decision, string) {
	switch attrs.GetVerb() {
	case "get", "list", "watch":
	default:
		return noOpinion, "can only read resources of this type"
	}
	if attrs.GetSubresource() != "" {
		return noOpinion, "cannot read subresource"
	}
	if attrs.GetNamespace() == "" {
		return noOpinion, "can only read namespaced object of this type"
	}
	return a.related(nodeName, kind, attrs)
}

// updateStatus allows update and patch of the status of a related object.
func (a *Authorizer) updateStatus(nodeName string, kind Kind, attrs authorizer.Attributes) (authorizer.Decision, string) {
	switch attrs.GetVerb() {
	case "update", "patch":
	default:
		return noOpinion, "can only get/update/patch this type"
	}
	if attrs.GetSubresource() != "status" {
		return noOpinion, "can only update status subresource"
	}
	return a.related(nodeName, kind, attrs)
}

// serviceAccount allows get of a related service account and create of a token for it.
func (a *Authorizer) serviceAccount(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	if attrs.GetVerb() == "get" && attrs.GetSubresource() == "" {
		return a.readNamespaced(nodeName, KindServiceAccount, attrs)
	}
	if attrs.GetVerb() != "create" || attrs.GetName() == "" {
		return noOpinion, "can only create tokens for individual service accounts"
	}
	if attrs.GetSubresource() != "token" {
		return noOpinion, "can only create token subresource of serviceaccount"
	}
	return a.related(nodeName, KindServiceAccount, attrs)
}

// lease allows the node's own lease in kube-node-lease (any name on create, which the
// NodeRestriction admission plugin checks).
func lease(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	verb := attrs.GetVerb()
	switch verb {
	case "get", "create", "update", "patch", "delete":
	default:
		return noOpinion, "can only get, create, update, patch, or delete a node lease"
	}
	if attrs.GetNamespace() != nodeLeaseNamespace {
		return noOpinion, fmt.Sprintf("can only access leases in the %q system namespace", nodeLeaseNamespace)
	}
	if verb != "create" && attrs.GetName() != nodeName {
		return noOpinion, "can only access node lease with the same name as the requesting node"
	}
	return allow, ""
}

// csiNode allows the node's own CSINode (any name on create). csinodes/status needs the
// CSIVolumeHealth feature, off by default in v1.37.
func csiNode(nodeName string, attrs authorizer.Attributes) (authorizer.Decision, string) {
	verb := attrs.GetVerb()
	switch attrs.GetSubresource() {
	case "":
		switch verb {
		case "get", "create", "update", "patch", "delete":
		default:
			return noOpinion, "can only get, create, update, patch, or delete a CSINode"
		}
	case "status":
		return noOpinion, "CSINode status access requires CSIVolumeHealth feature"
	default:
		return noOpinion, "cannot authorize CSINode subresources"
	}
	if verb != "create" && attrs.GetName() != nodeName {
		return noOpinion, "can only access CSINode with the same name as the requesting node"
	}
	return allow, ""
}

// hasNodeSelector reports whether the field selector contains <field>=<nodeName>. A selector
// that failed to parse counts as absent.
func hasNodeSelector(attrs authorizer.Attributes, field, nodeName string) bool {
	reqs, _ := attrs.GetFieldSelector()
	for _, r := range reqs {
		if r.Field == field && r.Operator == selection.Equals && r.Value == nodeName {
			return true
		}
	}
	return false
}
