package node

import (
	"slices"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// AddPV adds the PersistentVolume or replaces what was recorded for the same name. A PV relates
// to the claim in its spec.claimRef (never to a claim that merely names the PV in
// spec.volumeName: that field is writable by anyone who can create claims), and relates to it
// the secrets its source hands to the kubelet:
//   - csi: nodePublishSecretRef, nodeStageSecretRef and nodeExpandSecretRef (not the
//     controller-side controllerPublishSecretRef and controllerExpandSecretRef);
//   - azureFile: secretName in secretNamespace, or in the claim's namespace when unset;
//   - cephfs, flexVolume, iscsi, rbd, scaleIO: secretRef in its namespace, or in the claim's
//     namespace when unset;
//   - cinder, storageos: secretRef in its namespace as written.
//
// So a node may read such a secret when a pod bound to it uses the PV's claim. A PV without a
// claimRef relates nothing and is removed. This is upstream's pvutil.VisitPVSecretNames, keeping
// only kubelet-visible secrets.
func (g *Graph) AddPV(pv *corev1.PersistentVolume) {
	if pv == nil {
		return
	}
	key := objKey{kind: KindPersistentVolume, name: pv.Name}
	var entry *pvEntry
	if ref := pv.Spec.ClaimRef; ref != nil {
		entry = &pvEntry{
			claim:   objKey{kind: KindPersistentVolumeClaim, ns: ref.Namespace, name: ref.Name},
			secrets: pvSecrets(pv),
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deletePVLocked(key)
	if entry == nil {
		return
	}
	g.pvs[key] = entry
	for _, s := range entry.secrets {
		g.pvsBySecret[s] = append(g.pvsBySecret[s], key)
	}
}

// DeletePV removes the PersistentVolume. Deleting an unknown PV does nothing.
func (g *Graph) DeletePV(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deletePVLocked(objKey{kind: KindPersistentVolume, name: name})
}

func (g *Graph) deletePVLocked(key objKey) {
	old := g.pvs[key]
	if old == nil {
		return
	}
	delete(g.pvs, key)
	for _, s := range old.secrets {
		list := g.pvsBySecret[s]
		if i := slices.Index(list, key); i >= 0 {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
		}
		if len(list) == 0 {
			delete(g.pvsBySecret, s)
		} else {
			g.pvsBySecret[s] = list
		}
	}
}

// pvSecrets lists the kubelet-visible secrets of a PV with a claimRef (see AddPV).
func pvSecrets(pv *corev1.PersistentVolume) []objKey {
	claimNS := pv.Spec.ClaimRef.Namespace
	var out []objKey
	add := func(ns, name string) {
		if name == "" {
			return
		}
		k := objKey{kind: KindSecret, ns: ns, name: name}
		for _, have := range out {
			if have == k {
				return
			}
		}
		out = append(out, k)
	}
	orClaimNS := func(ns string) string {
		if ns != "" {
			return ns
		}
		return claimNS
	}
	s := &pv.Spec.PersistentVolumeSource
	switch {
	case s.CSI != nil:
		for _, ref := range []*corev1.SecretReference{s.CSI.NodePublishSecretRef, s.CSI.NodeStageSecretRef, s.CSI.NodeExpandSecretRef} {
			if ref != nil {
				add(ref.Namespace, ref.Name)
			}
		}
	case s.AzureFile != nil:
		ns := ""
		if s.AzureFile.SecretNamespace != nil {
			ns = *s.AzureFile.SecretNamespace
		}
		add(orClaimNS(ns), s.AzureFile.SecretName)
	case s.CephFS != nil:
		if r := s.CephFS.SecretRef; r != nil {
			add(orClaimNS(r.Namespace), r.Name)
		}
	case s.Cinder != nil:
		if r := s.Cinder.SecretRef; r != nil {
			add(r.Namespace, r.Name)
		}
	case s.FlexVolume != nil:
		if r := s.FlexVolume.SecretRef; r != nil {
			add(orClaimNS(r.Namespace), r.Name)
		}
	case s.ISCSI != nil:
		if r := s.ISCSI.SecretRef; r != nil {
			add(orClaimNS(r.Namespace), r.Name)
		}
	case s.RBD != nil:
		if r := s.RBD.SecretRef; r != nil {
			add(orClaimNS(r.Namespace), r.Name)
		}
	case s.ScaleIO != nil:
		if r := s.ScaleIO.SecretRef; r != nil {
			add(orClaimNS(r.Namespace), r.Name)
		}
	case s.StorageOS != nil:
		if r := s.StorageOS.SecretRef; r != nil {
			add(r.Namespace, r.Name)
		}
	}
	return out
}

// AddVolumeAttachment relates the VolumeAttachment to spec.nodeName, replacing what was recorded
// for the same name; an empty spec.nodeName removes it. As upstream, the attachment relates only
// itself to the node: it gives no access to the PV it attaches.
func (g *Graph) AddVolumeAttachment(va *storagev1.VolumeAttachment) {
	if va == nil {
		return
	}
	g.setDirect(objKey{kind: KindVolumeAttachment, name: va.Name}, va.Spec.NodeName)
}

// DeleteVolumeAttachment removes the VolumeAttachment. Deleting an unknown one does nothing.
func (g *Graph) DeleteVolumeAttachment(name string) {
	g.setDirect(objKey{kind: KindVolumeAttachment, name: name}, "")
}

// AddResourceSlice relates the ResourceSlice to its spec.nodeName, replacing what was recorded
// for the same name; a slice without a node name is removed.
func (g *Graph) AddResourceSlice(slice *resourcev1.ResourceSlice) {
	if slice == nil {
		return
	}
	nodeName := ""
	if slice.Spec.NodeName != nil {
		nodeName = *slice.Spec.NodeName
	}
	g.setDirect(objKey{kind: KindResourceSlice, name: slice.Name}, nodeName)
}

// DeleteResourceSlice removes the ResourceSlice. Deleting an unknown one does nothing.
func (g *Graph) DeleteResourceSlice(name string) {
	g.setDirect(objKey{kind: KindResourceSlice, name: name}, "")
}

// AddPodCertificateRequest relates the PodCertificateRequest to its spec.nodeName, replacing
// what was recorded for the same namespace/name.
func (g *Graph) AddPodCertificateRequest(pcr *certificatesv1.PodCertificateRequest) {
	if pcr == nil {
		return
	}
	g.setDirect(objKey{kind: KindPodCertificateRequest, ns: pcr.Namespace, name: pcr.Name}, string(pcr.Spec.NodeName))
}

// DeletePodCertificateRequest removes the PodCertificateRequest. Deleting an unknown one does
// nothing.
func (g *Graph) DeletePodCertificateRequest(namespace, name string) {
	g.setDirect(objKey{kind: KindPodCertificateRequest, ns: namespace, name: name}, "")
}
