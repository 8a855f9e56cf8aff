package node

import (
	"errors"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// tokenFixtures are the objects of the token tests: pods on n1 and n2 using service account
// sa1 with audiences in projected volumes and through CSI drivers, claims and volumes.
func tokenFixtures() []runtime.Object {
	tokenVolume := func(name, audience string) func(*corev1.Pod) {
		return withVolume(name, corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: audience, Path: "t"}}}}})
	}
	csiDriver := func(name string, audiences ...string) *storagev1.CSIDriver {
		d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: name}}
		for _, a := range audiences {
			d.Spec.TokenRequests = append(d.Spec.TokenRequests, storagev1.TokenRequest{Audience: a})
		}
		return d
	}
	claim := func(name, volume string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: name}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: volume}}
	}
	return []runtime.Object{
		// p1: the API server's kube-api-access volume (no audience) and one for "vault".
		pod("ns1", "p1", "n1", withSA("sa1"), projectedTokenVolume(), tokenVolume("vault", "vault")),
		// p2: on another node, with audience "other-node".
		pod("ns1", "p2", "n2", withSA("sa1"), tokenVolume("t", "other-node")),
		// p3: inline CSI volume of driver secrets-store, whose token requests are for "azure".
		pod("ns1", "p3", "n1", withSA("sa1"), withVolume("csi", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store"}})),
		// p4: a claim bound to a CSI volume of driver fs.example.com ("fs-audience"), a generic
		// ephemeral volume whose claim is bound to an in-tree EBS volume (ebs.csi.aws.com,
		// "aws"), and an inline GCE PD (pd.csi.storage.gke.io, "gcp").
		pod("ns1", "p4", "n1", withSA("sa1"), pvcVolume("data"),
			withVolume("scratch", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{}}}),
			withVolume("pd", corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "disk"}})),
		// p5: a claim that does not exist, and a volume for "vault".
		pod("ns1", "p5", "n1", withSA("sa1"), pvcVolume("missing"), tokenVolume("vault", "vault")),
		// p6: a CSI driver without a CSIDriver object.
		pod("ns1", "p6", "n1", withSA("sa1"), withVolume("csi", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "unknown"}})),
		claim("data", "pv-data"), claim("p4-scratch", "pv-ebs"),
		&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-data"}, Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "fs.example.com", VolumeHandle: "h"}}}},
		&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-ebs"}, Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource: corev1.PersistentVolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}}}},
		csiDriver("secrets-store", "azure", "https://kubernetes.default.svc"), csiDriver("fs.example.com", "fs-audience"),
		csiDriver("ebs.csi.aws.com", "aws"), csiDriver("pd.csi.storage.gke.io", "gcp"),
	}
}

func tokenRequest(podName string, uid types.UID, audiences ...string) *authenticationv1.TokenRequest {
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}
	if podName != "" {
		tr.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: podName, UID: uid}
	}
	return tr
}

func uidOf(name, node string) types.UID { return types.UID("ns1/" + name + "@" + node) }

func TestRestrictionTokenAudiences(t *testing.T) {
	const apiAudience = "https://kubernetes.default.svc"
	tests := []struct {
		name      string
		opts      RestrictionOptions
		answer    func(authorizationv1.SubjectAccessReviewSpec) (bool, error)
		sa        string // the service account in the path; default sa1
		tr        *authenticationv1.TokenRequest
		want      outcome
		msg       string
		reviewFor string // the audience a review must have been sent for; "-" for none
	}{
		{"default audience from kube-api-access", RestrictionOptions{}, nil, "", tokenRequest("p1", uidOf("p1", "n1")), admitted, "", "-"},
		{"projected audience", RestrictionOptions{}, nil, "", tokenRequest("p1", uidOf("p1", "n1"), "vault"), admitted, "", "-"},
		{"audience of inline CSI driver", RestrictionOptions{}, nil, "", tokenRequest("p3", uidOf("p3", "n1"), "azure"), admitted, "", "-"},
		{"audience of CSI driver of a claim's volume", RestrictionOptions{}, nil, "", tokenRequest("p4", uidOf("p4", "n1"), "fs-audience"), admitted, "", "-"},
		{"audience of translated in-tree volume of an ephemeral claim", RestrictionOptions{}, nil, "", tokenRequest("p4", uidOf("p4", "n1"), "aws"), admitted, "", "-"},
		{"audience of translated inline in-tree volume", RestrictionOptions{}, nil, "", tokenRequest("p4", uidOf("p4", "n1"), "gcp"), admitted, "", "-"},
		{"API audience explicitly, without the option", RestrictionOptions{}, nil, "", tokenRequest("p1", uidOf("p1", "n1"), apiAudience), refused, "not authorized to request tokens", apiAudience},
		{"API audience explicitly, with the option", RestrictionOptions{APIAudiences: []string{apiAudience}}, nil, "", tokenRequest("p1", uidOf("p1", "n1"), apiAudience), admitted, "", "-"},
		{"API audience option needs a source without audience", RestrictionOptions{APIAudiences: []string{apiAudience}}, nil, "", tokenRequest("p4", uidOf("p4", "n1"), apiAudience), refused, "not authorized", apiAudience},
		{"API audience through a CSI driver's token request", RestrictionOptions{}, nil, "", tokenRequest("p3", uidOf("p3", "n1"), apiAudience), admitted, "", "-"},
		{"audience of another pod's volume", RestrictionOptions{}, nil, "", tokenRequest("p1", uidOf("p1", "n1"), "other-node"), refused, `not authorized to request tokens for audience "other-node"`, "other-node"},
		{"unreferenced audience allowed by RBAC", RestrictionOptions{}, allowAudience("custom"), "", tokenRequest("p1", uidOf("p1", "n1"), "custom"), admitted, "", "custom"},
		{"unreferenced audience denied by RBAC", RestrictionOptions{}, allowAudience("custom"), "", tokenRequest("p1", uidOf("p1", "n1"), "custom2"), refused, "not authorized", "custom2"},
		{"default audience without kube-api-access", RestrictionOptions{}, allowAudience(""), "", tokenRequest("p3", uidOf("p3", "n1")), admitted, "", ""},
		{"review error", RestrictionOptions{}, func(authorizationv1.SubjectAccessReviewSpec) (bool, error) { return false, errors.New("boom") },
			"", tokenRequest("p1", uidOf("p1", "n1"), "custom"), refused, "error authorizing system:node:n1", "custom"},
		{"lookup error refuses without a review", RestrictionOptions{}, allowAudience("custom"), "", tokenRequest("p5", uidOf("p5", "n1"), "custom"), refused, "error validating audience", "-"},
		{"lookup error does not hide a reference", RestrictionOptions{}, nil, "", tokenRequest("p5", uidOf("p5", "n1"), "vault"), admitted, "", "-"},
		{"driver without CSIDriver object", RestrictionOptions{}, allowAudience("x"), "", tokenRequest("p6", uidOf("p6", "n1"), "x"), refused, "error validating audience", "-"},
		{"two audiences", RestrictionOptions{}, nil, "", tokenRequest("p1", uidOf("p1", "n1"), "vault", "vault"), refused, "0 or 1 audiences", "-"},
		{"pod on another node", RestrictionOptions{}, nil, "", tokenRequest("p2", uidOf("p2", "n2"), "other-node"), refused, "scheduled on a different node", "-"},
		{"stale pod UID", RestrictionOptions{}, nil, "", tokenRequest("p1", "old", "vault"), refused, "does not match the UID in record", "-"},
		{"missing pod", RestrictionOptions{}, nil, "", tokenRequest("gone", "u"), missing, "", "-"},
		{"not bound to an object", RestrictionOptions{}, nil, "", tokenRequest("", ""), refused, "not bound to a pod", "-"},
		{"bound to a secret", RestrictionOptions{}, nil, "", func() *authenticationv1.TokenRequest {
			tr := tokenRequest("p1", uidOf("p1", "n1"))
			tr.Spec.BoundObjectRef.Kind = "Secret"
			return tr
		}(), refused, "not bound to a pod", "-"},
		{"another service account", RestrictionOptions{}, allowAudience("custom"), "sa2", tokenRequest("p1", uidOf("p1", "n1"), "custom"), admitted, "", "custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newRestrictionEnv(t, tt.opts, tt.answer, tokenFixtures()...)
			sa := tt.sa
			if sa == "" {
				sa = "sa1"
			}
			w := write("n1", Create, "", "serviceaccounts", "token", "ns1", sa, tt.tr, nil)
			checkAdmit(t, env.r.Admit(t.Context(), w), tt.want, tt.msg)
			sent := env.sars.sent()
			if tt.reviewFor == "-" {
				if len(sent) != 0 {
					t.Fatalf("%d reviews sent, want none: %+v", len(sent), sent)
				}
				return
			}
			if len(sent) != 1 {
				t.Fatalf("%d reviews sent, want 1: %+v", len(sent), sent)
			}
			want := authorizationv1.SubjectAccessReviewSpec{
				User:   "system:node:n1",
				Groups: []string{"system:nodes", "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: "ns1", Verb: VerbTokenAudience, Group: "", Version: "v1", Resource: tt.reviewFor, Name: sa,
				},
			}
			got := sent[0]
			if got.User != want.User || len(got.Groups) != 2 || got.Groups[0] != want.Groups[0] || got.Groups[1] != want.Groups[1] ||
				got.NonResourceAttributes != nil || got.ResourceAttributes == nil || *got.ResourceAttributes != *want.ResourceAttributes {
				t.Fatalf("review spec\n%+v (%+v)\nwant\n%+v (%+v)", got, got.ResourceAttributes, want, want.ResourceAttributes)
			}
		})
	}
}

func TestRestrictionTokenOtherWrites(t *testing.T) {
	env := newRestrictionEnv(t, RestrictionOptions{}, nil, tokenFixtures()...)
	tests := []struct {
		name string
		w    Write
		want outcome
		msg  string
	}{
		{"update a service account", write("n1", Update, "", "serviceaccounts", "", "ns1", "sa1", &corev1.ServiceAccount{}, &corev1.ServiceAccount{}), admitted, ""},
		{"token of another type", write("n1", Create, "", "serviceaccounts", "token", "ns1", "sa1", &corev1.Pod{}, nil), refused, "unexpected type"},
		{"token without body", write("n1", Create, "", "serviceaccounts", "token", "ns1", "sa1", nil, nil), refused, "unexpected type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAdmit(t, env.r.Admit(t.Context(), tt.w), tt.want, tt.msg)
		})
	}
	if n := len(env.sars.sent()); n != 0 {
		t.Errorf("%d reviews sent, want 0", n)
	}
}
