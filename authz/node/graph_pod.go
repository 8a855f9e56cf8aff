package node

import (
	corev1 "k8s.io/api/core/v1"
)

// AddPod adds the pod to the graph or replaces what was recorded for the same namespace/name.
// A pod without spec.nodeName is removed instead: only bound pods relate anything to a node.
//
// A bound pod relates to its node, and (unless it is a mirror pod, annotated
// kubernetes.io/config.mirror, which gets the pod -> node relation only, as upstream does for
// defence in depth) relates to it, in the pod's namespace:
//   - its service account (spec.serviceAccountName);
//   - secrets: spec.imagePullSecrets; envFrom[].secretRef and env[].valueFrom.secretKeyRef of
//     init, regular and ephemeral containers; volumes secret, projected sources' secret,
//     csi.nodePublishSecretRef, azureFile.secretName, cephfs, cinder, flexVolume, iscsi, rbd,
//     scaleIO and storageos secretRef;
//   - configmaps: envFrom[].configMapRef and env[].valueFrom.configMapKeyRef of all containers;
//     volumes configMap and projected sources' configMap;
//   - persistentvolumeclaims: volumes persistentVolumeClaim.claimName, and "<pod>-<volume>" for
//     generic ephemeral volumes;
//   - resourceclaims: spec.resourceClaims[].resourceClaimName, the claim generated from a
//     template as recorded in status.resourceClaimStatuses, and
//     status.extendedResourceClaimStatus.resourceClaimName.
//
// These are the references of upstream's podutil.VisitPodSecretNames/VisitPodConfigmapNames and
// the Node authorizer's graph in Kubernetes v1.37. Empty names are ignored.
func (g *Graph) AddPod(pod *corev1.Pod) {
	if pod == nil {
		return
	}
	key := objKey{kind: KindPod, ns: pod.Namespace, name: pod.Name}
	if pod.Spec.NodeName == "" {
		g.DeletePod(pod.Namespace, pod.Name)
		return
	}
	refs := podReferences(pod) // outside the lock: it only reads the pod

	g.mu.Lock()
	defer g.mu.Unlock()
	// Count the new references before dropping the old ones, so that objects referenced both
	// before and after are updated in place rather than freed and recreated.
	id := g.acquireNodeLocked(pod.Spec.NodeName)
	entry := &podEntry{node: id, refs: make([]*refEntry, len(refs))}
	for i, k := range refs {
		r := g.refs[k]
		if r == nil {
			r = &refEntry{key: k}
			g.refs[k] = r
		}
		r.nodes.add(id)
		entry.refs[i] = r
	}
	old := g.pods[key]
	g.pods[key] = entry
	if old != nil {
		g.dropPodLocked(old)
	}
}

// DeletePod removes the pod and every relation it brought; objects no other pod references are
// forgotten. Deleting an unknown pod does nothing.
func (g *Graph) DeletePod(namespace, name string) {
	key := objKey{kind: KindPod, ns: namespace, name: name}
	g.mu.Lock()
	defer g.mu.Unlock()
	if old := g.pods[key]; old != nil {
		delete(g.pods, key)
		g.dropPodLocked(old)
	}
}

// dropPodLocked releases the references and the node of a pod entry that is no longer in
// g.pods. Needs the write lock.
func (g *Graph) dropPodLocked(p *podEntry) {
	for _, r := range p.refs {
		if r.nodes.remove(p.node) {
			delete(g.refs, r.key)
		}
	}
	g.releaseNodeLocked(p.node)
}

// refCollector gathers a pod's references without duplicates.
type refCollector struct {
	ns   string
	keys []objKey
	seen map[objKey]struct{} // only once keys grows past a few entries
}

// collectorMapThreshold is the number of references after which duplicates are found with a map
// instead of a linear scan.
const collectorMapThreshold = 16

func (c *refCollector) add(kind Kind, name string) {
	if name == "" {
		return
	}
	k := objKey{kind: kind, ns: c.ns, name: name}
	if c.seen != nil {
		if _, dup := c.seen[k]; dup {
			return
		}
		c.seen[k] = struct{}{}
		c.keys = append(c.keys, k)
		return
	}
	for _, have := range c.keys {
		if have == k {
			return
		}
	}
	c.keys = append(c.keys, k)
	if len(c.keys) > collectorMapThreshold {
		c.seen = make(map[objKey]struct{}, 2*len(c.keys))
		for _, have := range c.keys {
			c.seen[have] = struct{}{}
		}
	}
}

// podReferences lists, without duplicates, the objects a bound pod relates to its node (see
// AddPod).
func podReferences(pod *corev1.Pod) []objKey {
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return nil
	}
	return collectPodReferences(pod)
}

// collectPodReferences lists, without duplicates, the objects the pod references, whether or
// not it is a mirror pod.
func collectPodReferences(pod *corev1.Pod) []objKey {
	c := &refCollector{ns: pod.Namespace, keys: make([]objKey, 0, 4)}
	c.add(KindServiceAccount, pod.Spec.ServiceAccountName)
	for _, s := range pod.Spec.ImagePullSecrets {
		c.add(KindSecret, s.Name)
	}
	for i := range pod.Spec.InitContainers {
		c.addEnv(pod.Spec.InitContainers[i].EnvFrom, pod.Spec.InitContainers[i].Env)
	}
	for i := range pod.Spec.Containers {
		c.addEnv(pod.Spec.Containers[i].EnvFrom, pod.Spec.Containers[i].Env)
	}
	for i := range pod.Spec.EphemeralContainers {
		e := &pod.Spec.EphemeralContainers[i].EphemeralContainerCommon
		c.addEnv(e.EnvFrom, e.Env)
	}
	for i := range pod.Spec.Volumes {
		c.addVolume(pod.Name, &pod.Spec.Volumes[i])
	}
	c.addResourceClaims(pod)
	return c.keys
}

func (c *refCollector) addEnv(from []corev1.EnvFromSource, env []corev1.EnvVar) {
	for _, f := range from {
		if f.SecretRef != nil {
			c.add(KindSecret, f.SecretRef.Name)
		}
		if f.ConfigMapRef != nil {
			c.add(KindConfigMap, f.ConfigMapRef.Name)
		}
	}
	for _, e := range env {
		if e.ValueFrom == nil {
			continue
		}
		if e.ValueFrom.SecretKeyRef != nil {
			c.add(KindSecret, e.ValueFrom.SecretKeyRef.Name)
		}
		if e.ValueFrom.ConfigMapKeyRef != nil {
			c.add(KindConfigMap, e.ValueFrom.ConfigMapKeyRef.Name)
		}
	}
}

func (c *refCollector) addVolume(podName string, v *corev1.Volume) {
	s := &v.VolumeSource
	switch {
	case s.Secret != nil:
		c.add(KindSecret, s.Secret.SecretName)
	case s.ConfigMap != nil:
		c.add(KindConfigMap, s.ConfigMap.Name)
	case s.Projected != nil:
		for _, p := range s.Projected.Sources {
			if p.Secret != nil {
				c.add(KindSecret, p.Secret.Name)
			}
			if p.ConfigMap != nil {
				c.add(KindConfigMap, p.ConfigMap.Name)
			}
		}
	case s.PersistentVolumeClaim != nil:
		c.add(KindPersistentVolumeClaim, s.PersistentVolumeClaim.ClaimName)
	case s.Ephemeral != nil:
		c.add(KindPersistentVolumeClaim, podName+"-"+v.Name)
	case s.CSI != nil:
		if s.CSI.NodePublishSecretRef != nil {
			c.add(KindSecret, s.CSI.NodePublishSecretRef.Name)
		}
	case s.AzureFile != nil:
		c.add(KindSecret, s.AzureFile.SecretName)
	case s.CephFS != nil:
		c.addLocalRef(s.CephFS.SecretRef)
	case s.Cinder != nil:
		c.addLocalRef(s.Cinder.SecretRef)
	case s.FlexVolume != nil:
		c.addLocalRef(s.FlexVolume.SecretRef)
	case s.ISCSI != nil:
		c.addLocalRef(s.ISCSI.SecretRef)
	case s.RBD != nil:
		c.addLocalRef(s.RBD.SecretRef)
	case s.ScaleIO != nil:
		c.addLocalRef(s.ScaleIO.SecretRef)
	case s.StorageOS != nil:
		c.addLocalRef(s.StorageOS.SecretRef)
	}
}

func (c *refCollector) addLocalRef(ref *corev1.LocalObjectReference) {
	if ref != nil {
		c.add(KindSecret, ref.Name)
	}
}

// addResourceClaims adds the ResourceClaims that exist for the pod: named claims, claims
// generated from templates (once recorded in the status) and the extended-resource claim.
func (c *refCollector) addResourceClaims(pod *corev1.Pod) {
	for _, pc := range pod.Spec.ResourceClaims {
		switch {
		case pc.ResourceClaimName != nil:
			c.add(KindResourceClaim, *pc.ResourceClaimName)
		case pc.ResourceClaimTemplateName != nil:
			for _, st := range pod.Status.ResourceClaimStatuses {
				if st.Name == pc.Name && st.ResourceClaimName != nil {
					c.add(KindResourceClaim, *st.ResourceClaimName)
					break
				}
			}
		}
	}
	if ext := pod.Status.ExtendedResourceClaimStatus; ext != nil {
		c.add(KindResourceClaim, ext.ResourceClaimName)
	}
}
