package node

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kubeletapis "k8s.io/kubelet/pkg/apis"
)

// admitNodeObject allows a node to write only its own Node object, without setting a config
// source, changing its taints or owner references, or labels outside what kubelets may set.
func admitNodeObject(nodeName string, w *Write) error {
	name := w.Name
	if w.Operation == Create { // the path has no name: the node is the one the object names
		node, ok := w.Object.(*corev1.Node)
		if !ok || node == nil {
			return forbidden(w, unexpectedType(w.Object))
		}
		if name != "" && name != node.Name {
			return forbidden(w, fmt.Errorf("the request names node %q but its object is node %q", name, node.Name))
		}
		name = node.Name
	}
	if name != nodeName {
		return forbidden(w, fmt.Errorf("node %q is not allowed to modify node %q", nodeName, name))
	}
	switch w.Operation {
	case Create:
		node := w.Object.(*corev1.Node) // checked above
		if node.Spec.ConfigSource != nil {
			return forbidden(w, fmt.Errorf("node %q is not allowed to create pods with a non-nil configSource", nodeName))
		}
		if bad := forbiddenLabels(modifiedLabels(node.Labels, nil)); len(bad) > 0 {
			return forbidden(w, fmt.Errorf("node %q is not allowed to set the following labels: %s", nodeName, strings.Join(bad, ", ")))
		}
	case Update:
		node, ok := w.Object.(*corev1.Node)
		if !ok || node == nil {
			return forbidden(w, unexpectedType(w.Object))
		}
		oldNode, ok := w.OldObject.(*corev1.Node)
		if !ok || oldNode == nil {
			return forbidden(w, unexpectedType(w.Object))
		}
		if node.Spec.ConfigSource != nil && !equality.Semantic.DeepEqual(node.Spec.ConfigSource, oldNode.Spec.ConfigSource) {
			return forbidden(w, fmt.Errorf("node %q is not allowed to update configSource to a new non-nil configSource", nodeName))
		}
		if !equality.Semantic.DeepEqual(node.Spec.Taints, oldNode.Spec.Taints) {
			return forbidden(w, fmt.Errorf("node %q is not allowed to modify taints", nodeName))
		}
		if !equality.Semantic.DeepEqual(node.OwnerReferences, oldNode.OwnerReferences) {
			return forbidden(w, fmt.Errorf("node %q is not allowed to modify ownerReferences", nodeName))
		}
		if bad := forbiddenLabels(modifiedLabels(node.Labels, oldNode.Labels)); len(bad) > 0 {
			return forbidden(w, fmt.Errorf("is not allowed to modify labels: %s", strings.Join(bad, ", ")))
		}
	}
	return nil
}

// modifiedLabels returns the keys whose presence or value differs between a and b.
func modifiedLabels(a, b map[string]string) []string {
	var out []string
	for k, va := range a {
		if vb, ok := b[k]; !ok || va != vb {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// forbiddenLabels returns, sorted, the keys a node may not add, remove or change on its own
// Node object: the node-restriction.kubernetes.io namespace (and its subdomains), and the
// kubernetes.io and k8s.io namespaces (and their subdomains) except the labels kubelets set.
func forbiddenLabels(keys []string) []string {
	var out []string
	for _, k := range keys {
		ns := labelNamespace(k)
		restricted := ns == corev1.LabelNamespaceNodeRestriction || strings.HasSuffix(ns, "."+corev1.LabelNamespaceNodeRestriction)
		if restricted || (isKubernetesLabelNamespace(ns) && !kubeletapis.IsKubeletLabel(k)) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func isKubernetesLabelNamespace(ns string) bool {
	return ns == "kubernetes.io" || strings.HasSuffix(ns, ".kubernetes.io") ||
		ns == "k8s.io" || strings.HasSuffix(ns, ".k8s.io")
}

// labelNamespace returns the prefix of a label key before its first "/", or "".
func labelNamespace(key string) string {
	ns, _, found := strings.Cut(key, "/")
	if !found {
		return ""
	}
	return ns
}
