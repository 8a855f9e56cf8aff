package node

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodReferences covers every reference kind a pod relates to its node: each case adds one
// pod on n1 and expects the object to be related to n1 and not to n2.
func TestPodReferences(t *testing.T) {
	local := func(n string) *corev1.LocalObjectReference { return &corev1.LocalObjectReference{Name: n} }
	str := func(s string) *string { return &s }
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		kind   Kind
		object string
	}{
		{"service account", withSA("sa"), KindServiceAccount, "sa"},
		{"image pull secret", func(p *corev1.Pod) { p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "x"}} }, KindSecret, "x"},
		{"secret volume", secretVolume("x"), KindSecret, "x"},
		{"configmap volume", configMapVolume("x"), KindConfigMap, "x"},
		{"projected secret", withVolume("v", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}}), KindSecret, "x"},
		{"projected configmap (kube-root-ca.crt)", projectedTokenVolume(), KindConfigMap, "kube-root-ca.crt"},
		{"env secretKeyRef", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}
		}, KindSecret, "x"},
		{"env configMapKeyRef", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}
		}, KindConfigMap, "x"},
		{"envFrom secret", func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}
		}, KindSecret, "x"},
		{"envFrom configmap", func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}
		}, KindConfigMap, "x"},
		{"init container env", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i", Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}}}
		}, KindSecret, "x"},
		{"ephemeral container envFrom", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e",
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}}}
		}, KindConfigMap, "x"},
		{"csi nodePublishSecretRef", withVolume("v", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d", NodePublishSecretRef: local("x")}}), KindSecret, "x"},
		{"azureFile", withVolume("v", corev1.VolumeSource{AzureFile: &corev1.AzureFileVolumeSource{SecretName: "x"}}), KindSecret, "x"},
		{"cephfs", withVolume("v", corev1.VolumeSource{CephFS: &corev1.CephFSVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"cinder", withVolume("v", corev1.VolumeSource{Cinder: &corev1.CinderVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"flexVolume", withVolume("v", corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"iscsi", withVolume("v", corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"rbd", withVolume("v", corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"scaleIO", withVolume("v", corev1.VolumeSource{ScaleIO: &corev1.ScaleIOVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"storageos", withVolume("v", corev1.VolumeSource{StorageOS: &corev1.StorageOSVolumeSource{SecretRef: local("x")}}), KindSecret, "x"},
		{"persistentVolumeClaim", pvcVolume("x"), KindPersistentVolumeClaim, "x"},
		{"generic ephemeral volume", withVolume("scratch", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}), KindPersistentVolumeClaim, "p-scratch"},
		{"resourceClaimName", func(p *corev1.Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: str("x")}}
		}, KindResourceClaim, "x"},
		{"claim from template", func(p *corev1.Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: str("tmpl")}}
			p.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "gpu", ResourceClaimName: str("x")}}
		}, KindResourceClaim, "x"},
		{"extended resource claim", func(p *corev1.Pod) {
			p.Status.ExtendedResourceClaimStatus = &corev1.PodExtendedResourceClaimStatus{ResourceClaimName: "x"}
		}, KindResourceClaim, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGraph()
			g.AddPod(pod("ns", "p", "n1", tt.mutate))
			g.AddPod(pod("ns", "other", "n2"))
			if !g.Related("n1", tt.kind, "ns", tt.object) {
				t.Errorf("%v ns/%s not related to n1", tt.kind, tt.object)
			}
			if g.Related("n2", tt.kind, "ns", tt.object) {
				t.Errorf("%v ns/%s related to n2", tt.kind, tt.object)
			}
			if g.Related("n1", tt.kind, "other-ns", tt.object) {
				t.Errorf("%v other-ns/%s related to n1", tt.kind, tt.object)
			}
			// A mirror pod with the same spec relates only itself.
			g.AddPod(pod("ns", "p", "n1", tt.mutate, func(p *corev1.Pod) {
				p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
			}))
			if g.Related("n1", tt.kind, "ns", tt.object) {
				t.Errorf("mirror pod: %v ns/%s related to n1", tt.kind, tt.object)
			}
			if !g.Related("n1", KindPod, "ns", "p") {
				t.Errorf("mirror pod not related to its node")
			}
		})
	}
}

func TestPVSecrets(t *testing.T) {
	sref := func(ns, n string) *corev1.SecretReference { return &corev1.SecretReference{Namespace: ns, Name: n} }
	str := func(s string) *string { return &s }
	tests := []struct {
		name      string
		source    corev1.PersistentVolumeSource
		namespace string // of the secret that should be related ("" for none)
		secret    string
	}{
		{"csi nodePublish", corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{NodePublishSecretRef: sref("sns", "x")}}, "sns", "x"},
		{"csi nodeStage", corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{NodeStageSecretRef: sref("sns", "x")}}, "sns", "x"},
		{"csi nodeExpand", corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{NodeExpandSecretRef: sref("sns", "x")}}, "sns", "x"},
		{"csi controllerPublish is not kubelet-visible", corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{ControllerPublishSecretRef: sref("sns", "x")}}, "", "x"},
		{"csi controllerExpand is not kubelet-visible", corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{ControllerExpandSecretRef: sref("sns", "x")}}, "", "x"},
		{"azureFile with namespace", corev1.PersistentVolumeSource{AzureFile: &corev1.AzureFilePersistentVolumeSource{SecretName: "x", SecretNamespace: str("sns")}}, "sns", "x"},
		{"azureFile in claim namespace", corev1.PersistentVolumeSource{AzureFile: &corev1.AzureFilePersistentVolumeSource{SecretName: "x"}}, "cns", "x"},
		{"cephfs", corev1.PersistentVolumeSource{CephFS: &corev1.CephFSPersistentVolumeSource{SecretRef: sref("sns", "x")}}, "sns", "x"},
		{"cephfs in claim namespace", corev1.PersistentVolumeSource{CephFS: &corev1.CephFSPersistentVolumeSource{SecretRef: sref("", "x")}}, "cns", "x"},
		{"cinder as written", corev1.PersistentVolumeSource{Cinder: &corev1.CinderPersistentVolumeSource{SecretRef: sref("sns", "x")}}, "sns", "x"},
		{"flexVolume in claim namespace", corev1.PersistentVolumeSource{FlexVolume: &corev1.FlexPersistentVolumeSource{SecretRef: sref("", "x")}}, "cns", "x"},
		{"iscsi", corev1.PersistentVolumeSource{ISCSI: &corev1.ISCSIPersistentVolumeSource{SecretRef: sref("", "x")}}, "cns", "x"},
		{"rbd", corev1.PersistentVolumeSource{RBD: &corev1.RBDPersistentVolumeSource{SecretRef: sref("sns", "x")}}, "sns", "x"},
		{"scaleIO", corev1.PersistentVolumeSource{ScaleIO: &corev1.ScaleIOPersistentVolumeSource{SecretRef: sref("", "x")}}, "cns", "x"},
		{"storageos", corev1.PersistentVolumeSource{StorageOS: &corev1.StorageOSPersistentVolumeSource{SecretRef: &corev1.ObjectReference{Namespace: "sns", Name: "x"}}}, "sns", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGraph()
			g.AddPod(pod("cns", "p", "n1", pvcVolume("claim")))
			g.AddPV(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}, Spec: corev1.PersistentVolumeSpec{
				ClaimRef: &corev1.ObjectReference{Namespace: "cns", Name: "claim"}, PersistentVolumeSource: tt.source}})
			if !g.Related("n1", KindPersistentVolume, "", "pv") {
				t.Fatalf("pv not related to n1")
			}
			for _, ns := range []string{"sns", "cns"} {
				want := ns == tt.namespace
				if got := g.Related("n1", KindSecret, ns, tt.secret); got != want {
					t.Errorf("secret %s/%s related to n1 = %v, want %v", ns, tt.secret, got, want)
				}
				if g.Related("n2", KindSecret, ns, tt.secret) {
					t.Errorf("secret %s/%s related to n2", ns, tt.secret)
				}
			}
			g.DeletePV("pv")
			if g.Related("n1", KindPersistentVolume, "", "pv") || g.Related("n1", KindSecret, tt.namespace, tt.secret) {
				t.Errorf("still related after DeletePV")
			}
		})
	}
}
