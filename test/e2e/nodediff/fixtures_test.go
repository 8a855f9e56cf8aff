//go:build e2e

package nodediff_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The fixture: two namespaces, two nodes with pods, and node-x, an identity without a Node
// object or pods. Every name below is also used by the request generator.
var (
	namespaces = []string{"ns-a", "ns-b"}
	nodeNames  = []string{"node-a", "node-b"}
	identities = []string{"node-a", "node-b", "node-x"}
)

func named(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + string(rune('0'+i))
	}
	return out
}

var (
	secretNames = named("sec-", 10)
	cmNames     = named("cm-", 10)
	pvcNames    = append(named("pvc-", 4), "pb1-scratch")
	pvNames     = named("pv-", 4)
	saNames     = []string{"default", "sa-1", "sa-2"}
	podNames    = []string{"pa1", "pa2", "pb1", "pb2", "pending", "mirror-a"}
	vaNames     = []string{"va-a", "va-b"}
	sliceNames  = []string{"slice-a", "slice-b"}
	claimNames  = []string{"rc-1", "rc-2"}
)

// fixturePod is a pod of the fixture and the node it is bound to ("" for none).
type fixturePod struct {
	ns, name, node string
	spec           func(*corev1.PodSpec)
	mirror         bool
}

func secretVol(name string) corev1.Volume {
	return corev1.Volume{Name: "v-" + name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}
}

func cmVol(name string) corev1.Volume {
	return corev1.Volume{Name: "v-" + name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
}

func pvcVol(name string) corev1.Volume {
	return corev1.Volume{Name: "v-" + name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}}
}

func claimSpec() corev1.PersistentVolumeClaimSpec {
	return corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
	}
}

// fixturePods relate, per node (see the comments), secrets, configmaps, claims, service
// accounts and resource claims through every kind of reference; kube-apiserver's ServiceAccount
// admission adds the kube-api-access volume (configmap kube-root-ca.crt) to each non-mirror pod.
var fixturePods = []fixturePod{
	// node-a: ns-a/sec-0..3, cm-0..2, pvc-0 (and pv-0 through it, and pv-0's secrets), sa-1.
	{ns: "ns-a", name: "pa1", node: "node-a", spec: func(s *corev1.PodSpec) {
		s.ServiceAccountName = "sa-1"
		s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "sec-2"}}
		s.Containers[0].Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "sec-1"}, Key: "k"}}}}
		s.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-1"}}}}
		s.Volumes = append(s.Volumes, secretVol("sec-0"), cmVol("cm-0"), pvcVol("pvc-0"), corev1.Volume{Name: "proj", VolumeSource: corev1.VolumeSource{
			Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec-3"}}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-2"}}},
			}}}})
	}},
	// node-b: ns-a/sec-4, cm-3 (init container), pvc-1 (pv-1), default.
	{ns: "ns-a", name: "pa2", node: "node-b", spec: func(s *corev1.PodSpec) {
		s.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Env: []corev1.EnvVar{{Name: "Y", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm-3"}, Key: "k"}}}}}}
		s.Volumes = append(s.Volumes, secretVol("sec-4"), pvcVol("pvc-1"))
	}},
	// node-b: ns-b/sec-0, pvc-2 (pv-2), the generic ephemeral claim pb1-scratch, rc-1, sa-1.
	{ns: "ns-b", name: "pb1", node: "node-b", spec: func(s *corev1.PodSpec) {
		s.ServiceAccountName = "sa-1"
		s.Volumes = append(s.Volumes, secretVol("sec-0"), pvcVol("pvc-2"), corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{
			Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: claimSpec()}}}})
		s.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptr("rc-1")}}
	}},
	// node-a: ns-b/cm-5, sec-5 (inline CSI nodePublishSecretRef).
	{ns: "ns-b", name: "pb2", node: "node-a", spec: func(s *corev1.PodSpec) {
		s.Volumes = append(s.Volumes, cmVol("cm-5"), corev1.Volume{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{
			Driver: "csi.example.com", NodePublishSecretRef: &corev1.LocalObjectReference{Name: "sec-5"}}}})
	}},
	// not bound: ns-a/sec-6 and cm-6 relate to no node.
	{ns: "ns-a", name: "pending", spec: func(s *corev1.PodSpec) {
		s.Volumes = append(s.Volumes, secretVol("sec-6"), cmVol("cm-6"))
	}},
	// a mirror pod on node-a: relates only itself, not ns-a/cm-7.
	{ns: "ns-a", name: "mirror-a", node: "node-a", mirror: true, spec: func(s *corev1.PodSpec) {
		s.Volumes = append(s.Volumes, cmVol("cm-7"))
	}},
}

func ptr[T any](v T) *T { return &v }

// createFixture creates every object of the fixture through the admin client.
func createFixture(ctx context.Context, t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("creating %s: %v", what, err)
		}
	}
	create := metav1.CreateOptions{}
	for _, n := range nodeNames {
		_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, create)
		must("node "+n, err)
	}
	for _, ns := range namespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, create)
		must("namespace "+ns, err)
		for _, sa := range saNames {
			_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, create)
			must("service account "+sa, err)
		}
		for _, s := range secretNames {
			_, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s}, StringData: map[string]string{"k": "v"}}, create)
			must("secret "+s, err)
		}
		for _, c := range cmNames {
			_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: c}, Data: map[string]string{"k": "v"}}, create)
			must("configmap "+c, err)
		}
		for _, c := range pvcNames[:4] {
			_, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: c}, Spec: claimSpec()}, create)
			must("claim "+c, err)
		}
	}
	// pv-i is bound (claimRef) to pvc-i: ns-a for 0 and 1, ns-b for 2 and 3. pv-0 is a CSI
	// volume whose node secrets are ns-a/sec-8 and ns-b/sec-9; its controller secret ns-a/sec-7
	// is not the kubelet's. pv-3's claim is used by no pod.
	for i, name := range pvNames {
		ns := "ns-a"
		if i >= 2 {
			ns = "ns-b"
		}
		pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			ClaimRef:               &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: pvcNames[i]},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + name}},
		}}
		if i == 0 {
			pv.Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: "csi.example.com", VolumeHandle: "h0",
				NodePublishSecretRef:       &corev1.SecretReference{Namespace: "ns-a", Name: "sec-8"},
				NodeStageSecretRef:         &corev1.SecretReference{Namespace: "ns-b", Name: "sec-9"},
				ControllerPublishSecretRef: &corev1.SecretReference{Namespace: "ns-a", Name: "sec-7"},
			}}
		}
		_, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, create)
		must("persistent volume "+name, err)
	}
	for _, p := range fixturePods {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: p.name},
			Spec:       corev1.PodSpec{NodeName: p.node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
		if p.mirror {
			pod.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
		}
		p.spec(&pod.Spec)
		_, err := cs.CoreV1().Pods(p.ns).Create(ctx, pod, create)
		must("pod "+p.name, err)
	}
	for i, name := range vaNames {
		_, err := cs.StorageV1().VolumeAttachments().Create(ctx, &storagev1.VolumeAttachment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: storagev1.VolumeAttachmentSpec{Attacher: "csi.example.com", NodeName: nodeNames[i],
				Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr(pvNames[i])}},
		}, create)
		must("volume attachment "+name, err)
	}
	for i, name := range sliceNames {
		_, err := cs.ResourceV1().ResourceSlices().Create(ctx, &resourcev1.ResourceSlice{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: resourcev1.ResourceSliceSpec{Driver: "dra.example.com", NodeName: ptr(nodeNames[i]),
				Pool: resourcev1.ResourcePool{Name: nodeNames[i], ResourceSliceCount: 1}},
		}, create)
		must("resource slice "+name, err)
	}
}
