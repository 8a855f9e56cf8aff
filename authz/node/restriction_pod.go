package node

import (
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
)

// admitPod allows a node to create mirror pods bound to itself and to delete pods bound to
// itself.
func (r *Restriction) admitPod(nodeName string, w *Write) error {
	switch w.Operation {
	case Create:
		return r.admitMirrorPod(nodeName, w)
	case Delete:
		pod, err := r.pods.Pods(w.Namespace).Get(w.Name)
		if err != nil {
			return lookupError(w, err)
		}
		if pod.Spec.NodeName != nodeName {
			return forbidden(w, fmt.Errorf("node %q can only delete pods with spec.nodeName set to itself", nodeName))
		}
		return nil
	}
	return forbidden(w, fmt.Errorf("unexpected operation %q, node %q can only create and delete mirror pods", w.Operation, nodeName))
}

func (r *Restriction) admitMirrorPod(nodeName string, w *Write) error {
	pod, ok := w.Object.(*corev1.Pod)
	if !ok || pod == nil {
		return forbidden(w, unexpectedType(w.Object))
	}
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; !mirror {
		return forbidden(w, fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", corev1.MirrorPodAnnotationKey, nodeName))
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(w, fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", nodeName))
	}
	switch len(pod.OwnerReferences) {
	case 0:
		return forbidden(w, fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	case 1:
	default:
		return forbidden(w, fmt.Errorf("node %q can only create pods with a single owner reference set to itself", nodeName))
	}
	owner := pod.OwnerReferences[0]
	if owner.APIVersion != corev1.SchemeGroupVersion.String() || owner.Kind != "Node" || owner.Name != nodeName {
		return forbidden(w, fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	}
	if owner.Controller == nil || !*owner.Controller {
		return forbidden(w, fmt.Errorf("node %q can only create pods with a controller owner reference set to itself", nodeName))
	}
	if owner.BlockOwnerDeletion != nil && *owner.BlockOwnerDeletion {
		return forbidden(w, fmt.Errorf("node %q must not set blockOwnerDeletion on an owner reference", nodeName))
	}
	node, err := r.nodes.Get(nodeName)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return err
		}
		return forbidden(w, fmt.Errorf("error looking up node %s to verify uid: %v", nodeName, err))
	}
	if owner.UID != node.UID {
		return forbidden(w, fmt.Errorf("node %s UID mismatch: expected %s got %s", nodeName, owner.UID, node.UID))
	}
	what, err := apiObjectReference(pod)
	if err != nil {
		return forbidden(w, fmt.Errorf("error checking mirror pod for API references: %w", err))
	}
	if what != "" {
		return forbidden(w, fmt.Errorf("node %q can not create pods that reference %s", nodeName, what))
	}
	return nil
}

// apiObjectReference returns what kind of API object the pod references, or "" when it
// references none: a mirror pod is made from a file on the node and may use nothing of the
// API. It follows upstream's podutil.HasAPIObjectReference, including its order.
func apiObjectReference(pod *corev1.Pod) (string, error) {
	if pod.Spec.ServiceAccountName != "" {
		return "serviceaccounts", nil
	}
	refs := collectPodReferences(pod)
	for _, kind := range []Kind{KindSecret, KindConfigMap} {
		if slices.ContainsFunc(refs, func(k objKey) bool { return k.kind == kind }) {
			return kind.String() + "s", nil
		}
	}
	if len(pod.Spec.ResourceClaims) > 0 {
		return "resourceclaims", nil
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		switch s := &v.VolumeSource; {
		case s.AWSElasticBlockStore != nil, s.AzureDisk != nil, s.CephFS != nil, s.Cinder != nil,
			s.DownwardAPI != nil, s.EmptyDir != nil, s.FC != nil, s.FlexVolume != nil, s.Flocker != nil,
			s.GCEPersistentDisk != nil, s.GitRepo != nil, s.HostPath != nil, s.Image != nil, s.ISCSI != nil,
			s.NFS != nil, s.PhotonPersistentDisk != nil, s.PortworxVolume != nil, s.Quobyte != nil,
			s.RBD != nil, s.ScaleIO != nil, s.StorageOS != nil, s.VsphereVolume != nil:
			continue
		case s.ConfigMap != nil:
			return "configmaps (via configmap volumes)", nil
		case s.Secret != nil:
			return "secrets (via secret volumes)", nil
		case s.CSI != nil:
			return "csidrivers (via CSI volumes)", nil
		case s.Glusterfs != nil:
			return "endpoints (via glusterFS volumes)", nil
		case s.PersistentVolumeClaim != nil:
			return "persistentvolumeclaims", nil
		case s.Ephemeral != nil:
			return "persistentvolumeclaims (via ephemeral volumes)", nil
		case s.AzureFile != nil:
			return "secrets (via azureFile volumes)", nil
		case s.Projected != nil:
			for _, p := range s.Projected.Sources {
				switch {
				case p.ConfigMap != nil:
					return "configmaps (via projected volumes)", nil
				case p.Secret != nil:
					return "secrets (via projected volumes)", nil
				case p.ServiceAccountToken != nil:
					return "serviceaccounts (via projected volumes)", nil
				case p.ClusterTrustBundle != nil:
					return "clustertrustbundles", nil
				case p.PodCertificate != nil:
					return "podcertificates", nil
				case p.DownwardAPI != nil:
					continue
				default:
					return "", fmt.Errorf("unknown source for projected volume %q", v.Name)
				}
			}
		default:
			return "", fmt.Errorf("unknown volume type for volume  %q", v.Name)
		}
	}
	return "", nil
}

// admitPodStatus allows a node to update the status of pods bound to itself, without
// changing their labels or resource claim statuses.
func admitPodStatus(nodeName string, w *Write) error {
	if w.Operation != Update {
		return forbidden(w, fmt.Errorf("unexpected operation %q", w.Operation))
	}
	oldPod, ok := w.OldObject.(*corev1.Pod)
	if !ok || oldPod == nil {
		return forbidden(w, unexpectedType(w.OldObject))
	}
	if oldPod.Spec.NodeName != nodeName {
		return forbidden(w, fmt.Errorf("node %q can only update pod status for pods with spec.nodeName set to itself", nodeName))
	}
	newPod, ok := w.Object.(*corev1.Pod)
	if !ok || newPod == nil {
		return forbidden(w, unexpectedType(w.Object))
	}
	switch {
	case !labels.Equals(oldPod.Labels, newPod.Labels):
		return forbidden(w, fmt.Errorf("node %q cannot update labels through pod status", nodeName))
	case !resourceClaimStatusesEqual(oldPod.Status.ResourceClaimStatuses, newPod.Status.ResourceClaimStatuses):
		return forbidden(w, fmt.Errorf("node %q cannot update resource claim statues", nodeName))
	case !extendedClaimStatusEqual(oldPod.Status.ExtendedResourceClaimStatus, newPod.Status.ExtendedResourceClaimStatus):
		return forbidden(w, fmt.Errorf("node %q cannot update extended resource claim status", nodeName))
	case !nodeAllocatableClaimStatusesEqual(oldPod.Status.NodeAllocatableResourceClaimStatuses, newPod.Status.NodeAllocatableResourceClaimStatuses):
		return forbidden(w, fmt.Errorf("node %q cannot update node allocatable resource claim statuses", nodeName))
	}
	return nil
}

func resourceClaimStatusesEqual(a, b []corev1.PodResourceClaimStatus) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.PodResourceClaimStatus) bool {
		return x.Name == y.Name && equalStringPtr(x.ResourceClaimName, y.ResourceClaimName)
	})
}

func extendedClaimStatusEqual(a, b *corev1.PodExtendedResourceClaimStatus) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.ResourceClaimName == b.ResourceClaimName && slices.Equal(a.RequestMappings, b.RequestMappings)
}

func nodeAllocatableClaimStatusesEqual(a, b []corev1.NodeAllocatableResourceClaimStatus) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.NodeAllocatableResourceClaimStatus) bool {
		return x.ResourceClaimName == y.ResourceClaimName &&
			slices.Equal(x.Containers, y.Containers) &&
			slices.EqualFunc(x.Mapping, y.Mapping, func(p, q corev1.NodeAllocatableMappedResources) bool {
				return p.Name == q.Name && resource.QuantityPtrEqual(p.Quantity, q.Quantity)
			}) &&
			slices.EqualFunc(x.Overhead, y.Overhead, func(p, q corev1.NodeAllocatableOverheadResources) bool {
				return p.Name == q.Name && resource.QuantityPtrEqual(p.PerPod, q.PerPod) && resource.QuantityPtrEqual(p.PerContainer, q.PerContainer)
			})
	})
}

// admitPodEviction allows a node to evict pods bound to itself.
func (r *Restriction) admitPodEviction(nodeName string, w *Write) error {
	if w.Operation != Create {
		return forbidden(w, fmt.Errorf("unexpected operation %s", w.Operation))
	}
	var evictionName string
	switch e := w.Object.(type) {
	case *policyv1.Eviction:
		if e == nil {
			return forbidden(w, unexpectedType(w.Object))
		}
		evictionName = e.Name
	case *policyv1beta1.Eviction:
		if e == nil {
			return forbidden(w, unexpectedType(w.Object))
		}
		evictionName = e.Name
	default:
		return forbidden(w, unexpectedType(w.Object))
	}
	podName := w.Name // the path's name wins over the Eviction's
	if podName == "" {
		if podName = evictionName; podName == "" {
			return forbidden(w, errors.New("could not determine pod from request data"))
		}
	}
	pod, err := r.pods.Pods(w.Namespace).Get(podName)
	if err != nil {
		return lookupError(w, err)
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(w, fmt.Errorf("node %s can only evict pods with spec.nodeName set to itself", nodeName))
	}
	return nil
}
