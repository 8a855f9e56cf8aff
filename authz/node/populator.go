package node

import (
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Populator keeps a [Graph] current from client-go informers: pods, PersistentVolumes and
// VolumeAttachments, and (unless disabled in [Options]) ResourceSlices and
// PodCertificateRequests, the informers the API server's Node authorizer uses. Create it with
// [NewPopulator]; it is safe for concurrent use.
//
// PersistentVolumeClaims are not watched: the graph relates a PV to its claim through the PV's
// spec.claimRef, and a pod to a claim through the pod's volumes, so the claim objects
// themselves add nothing (and their spec.volumeName must not be trusted).
type Populator struct {
	graph  *Graph
	logger logr.Logger
	synced []cache.InformerSynced
}

// NewPopulator registers event handlers that feed graph on the informers of factory. It does not
// start the factory: the caller starts it (factory.Start) and the graph is complete once
// [Populator.HasSynced] is true. A nil graph or factory is an error. The identity behind the
// factory's client needs (as a ClusterRole; drop the last two rules when disabled in opts):
//
//	rules:
//	- apiGroups: [""]
//	  resources: ["pods", "persistentvolumes"]
//	  verbs: ["list", "watch"]
//	- apiGroups: ["storage.k8s.io"]
//	  resources: ["volumeattachments"]
//	  verbs: ["list", "watch"]
//	- apiGroups: ["resource.k8s.io"]
//	  resources: ["resourceslices"]
//	  verbs: ["list", "watch"]
//	- apiGroups: ["certificates.k8s.io"]
//	  resources: ["podcertificaterequests"]
//	  verbs: ["list", "watch"]
func NewPopulator(graph *Graph, factory informers.SharedInformerFactory, opts Options) (*Populator, error) {
	if graph == nil {
		return nil, errors.New("node: NewPopulator needs a graph")
	}
	if factory == nil || isNilInterface(factory) {
		return nil, errors.New("node: NewPopulator needs an informer factory")
	}
	p := &Populator{graph: graph, logger: opts.Logger}
	add := func(what string, inf cache.SharedIndexInformer, h cache.ResourceEventHandlerFuncs) error {
		reg, err := inf.AddEventHandler(h)
		if err != nil {
			return fmt.Errorf("node: adding the %s event handler: %w", what, err)
		}
		p.synced = append(p.synced, reg.HasSynced)
		return nil
	}
	err := errors.Join(
		add("pod", factory.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: p.addPod, UpdateFunc: p.updatePod, DeleteFunc: p.deletePod,
		}),
		add("persistentvolume", factory.Core().V1().PersistentVolumes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: p.addPV, UpdateFunc: p.updatePV, DeleteFunc: p.deletePV,
		}),
		add("volumeattachment", factory.Storage().V1().VolumeAttachments().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: p.addVA, UpdateFunc: p.updateVA, DeleteFunc: p.deleteVA,
		}),
	)
	if err == nil && !opts.DisableResourceSlices {
		err = add("resourceslice", factory.Resource().V1().ResourceSlices().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: p.addSlice, UpdateFunc: p.updateSlice, DeleteFunc: p.deleteSlice,
		})
	}
	if err == nil && !opts.DisablePodCertificateRequests {
		err = add("podcertificaterequest", factory.Certificates().V1().PodCertificateRequests().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: p.addPCR, UpdateFunc: p.updatePCR, DeleteFunc: p.deletePCR,
		})
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// HasSynced reports whether every informer has synced and delivered its initial list to the
// graph. It stays true afterwards.
func (p *Populator) HasSynced() bool {
	for _, s := range p.synced {
		if !s() {
			return false
		}
	}
	return true
}

// tombstone unwraps a cache.DeletedFinalStateUnknown.
func tombstone(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

func (p *Populator) unexpected(obj any) {
	p.logger.V(2).Info("node authorizer: ignoring an object of an unexpected type", "type", fmt.Sprintf("%T", obj))
}

func (p *Populator) addPod(obj any) { p.updatePod(nil, obj) }

// updatePod re-adds a bound pod unless nothing the graph records can have changed: the node,
// the UID, the ephemeral containers (they can only be added) and the resource claim statuses.
// Everything else the graph reads from a pod is immutable.
func (p *Populator) updatePod(oldObj, obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod == nil {
		p.unexpected(obj)
		return
	}
	if pod.Spec.NodeName == "" {
		return // not bound yet: relates nothing
	}
	if old, ok := oldObj.(*corev1.Pod); ok && old != nil &&
		old.Spec.NodeName == pod.Spec.NodeName && old.UID == pod.UID &&
		len(old.Spec.EphemeralContainers) == len(pod.Spec.EphemeralContainers) &&
		claimStatusesEqual(old, pod) {
		return
	}
	p.graph.AddPod(pod)
}

// claimStatusesEqual compares what addResourceClaims reads from the pod status.
func claimStatusesEqual(a, b *corev1.Pod) bool {
	sa, sb := a.Status.ResourceClaimStatuses, b.Status.ResourceClaimStatuses
	if len(sa) != len(sb) {
		return false
	}
	for i := range sa {
		if sa[i].Name != sb[i].Name || !equalStringPtr(sa[i].ResourceClaimName, sb[i].ResourceClaimName) {
			return false
		}
	}
	ea, eb := a.Status.ExtendedResourceClaimStatus, b.Status.ExtendedResourceClaimStatus
	if ea == nil || eb == nil {
		return ea == nil && eb == nil
	}
	return ea.ResourceClaimName == eb.ResourceClaimName
}

func equalStringPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (p *Populator) deletePod(obj any) {
	withType(p, tombstone(obj), func(pod *corev1.Pod) { p.graph.DeletePod(pod.Namespace, pod.Name) })
}

func (p *Populator) addPV(obj any)       { p.updatePV(nil, obj) }
func (p *Populator) updatePV(_, obj any) { withType(p, obj, p.graph.AddPV) }
func (p *Populator) deletePV(obj any) {
	withType(p, tombstone(obj), func(pv *corev1.PersistentVolume) { p.graph.DeletePV(pv.Name) })
}

func (p *Populator) addVA(obj any) { p.updateVA(nil, obj) }
func (p *Populator) updateVA(oldObj, obj any) {
	withType(p, obj, func(va *storagev1.VolumeAttachment) {
		if old, ok := oldObj.(*storagev1.VolumeAttachment); ok && old.Spec.NodeName == va.Spec.NodeName {
			return
		}
		p.graph.AddVolumeAttachment(va)
	})
}
func (p *Populator) deleteVA(obj any) {
	withType(p, tombstone(obj), func(va *storagev1.VolumeAttachment) { p.graph.DeleteVolumeAttachment(va.Name) })
}

func (p *Populator) addSlice(obj any)       { p.updateSlice(nil, obj) }
func (p *Populator) updateSlice(_, obj any) { withType(p, obj, p.graph.AddResourceSlice) }
func (p *Populator) deleteSlice(obj any) {
	withType(p, tombstone(obj), func(s *resourcev1.ResourceSlice) { p.graph.DeleteResourceSlice(s.Name) })
}

func (p *Populator) addPCR(obj any)       { p.updatePCR(nil, obj) }
func (p *Populator) updatePCR(_, obj any) { withType(p, obj, p.graph.AddPodCertificateRequest) }
func (p *Populator) deletePCR(obj any) {
	withType(p, tombstone(obj), func(r *certificatesv1.PodCertificateRequest) {
		p.graph.DeletePodCertificateRequest(r.Namespace, r.Name)
	})
}

// withType calls f with obj if it is a *T, and logs anything else.
func withType[T any](p *Populator, obj any, f func(*T)) {
	if t, ok := obj.(*T); ok && t != nil {
		f(t)
		return
	}
	p.unexpected(obj)
}
