package node

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// boundPodsSelector keeps pods that are not scheduled yet out of New's pod informer: they
// relate nothing to a node, and the watch reports a pod as added once it is bound.
const boundPodsSelector = "spec.nodeName!="

// newFactory returns the informer factory of New: no resync, objects stripped of managed
// fields, pods limited to bound ones and trimmed to what the graph reads.
func newFactory(client kubernetes.Interface) informers.SharedInformerFactory {
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(trimObject))
	f.InformerFor(&corev1.Pod{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewFilteredPodInformer(c, metav1.NamespaceAll, resync, cache.Indexers{},
			func(o *metav1.ListOptions) { o.FieldSelector = boundPodsSelector })
	})
	return f
}

// trimObject is the transform of New's informers. It is idempotent, as client-go requires.
func trimObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return trimPod(o), nil
	case metav1.Object:
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// trimPod returns a copy of pod holding only what AddPod and the populator read, so that the
// informer's cache of many pods stays small.
func trimPod(pod *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:            pod.Name,
			Namespace:       pod.Namespace,
			UID:             pod.UID,
			ResourceVersion: pod.ResourceVersion,
		},
		Spec: corev1.PodSpec{
			NodeName:           pod.Spec.NodeName,
			ServiceAccountName: pod.Spec.ServiceAccountName,
			ImagePullSecrets:   pod.Spec.ImagePullSecrets,
			Volumes:            pod.Spec.Volumes,
			ResourceClaims:     pod.Spec.ResourceClaims,
			InitContainers:     trimContainers(pod.Spec.InitContainers),
			Containers:         trimContainers(pod.Spec.Containers),
		},
		Status: corev1.PodStatus{
			ResourceClaimStatuses:       pod.Status.ResourceClaimStatuses,
			ExtendedResourceClaimStatus: pod.Status.ExtendedResourceClaimStatus,
		},
	}
	if v, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		out.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: v}
	}
	if n := len(pod.Spec.EphemeralContainers); n > 0 {
		out.Spec.EphemeralContainers = make([]corev1.EphemeralContainer, n)
		for i, c := range pod.Spec.EphemeralContainers {
			out.Spec.EphemeralContainers[i].Name = c.Name
			out.Spec.EphemeralContainers[i].EnvFrom = c.EnvFrom
			out.Spec.EphemeralContainers[i].Env = trimEnv(c.Env)
		}
	}
	return out
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, EnvFrom: c.EnvFrom, Env: trimEnv(c.Env)}
	}
	return out
}

// trimEnv keeps the variables that reference a secret or a configmap, dropping their values.
func trimEnv(env []corev1.EnvVar) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, e := range env {
		if e.ValueFrom != nil && (e.ValueFrom.SecretKeyRef != nil || e.ValueFrom.ConfigMapKeyRef != nil) {
			out = append(out, corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: e.ValueFrom.SecretKeyRef, ConfigMapKeyRef: e.ValueFrom.ConfigMapKeyRef,
			}})
		}
	}
	return out
}
