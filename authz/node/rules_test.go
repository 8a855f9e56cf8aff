package node

import (
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// fixtureGraph holds pods on nodes n1 and n2 and one unbound pod, PVs bound to their claims,
// attachments, a slice and a pod certificate request.
func fixtureGraph() *Graph {
	g := NewGraph()
	rc := "rc1"
	g.AddPod(pod("ns1", "p1", "n1", withSA("sa1"), secretVolume("s1"), pvcVolume("pvc1"), func(p *corev1.Pod) {
		p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull1"}}
		p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm1"}, Key: "k"}}}}
		p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: &rc}}
	}))
	g.AddPod(pod("ns1", "p2", "n2", withSA("sa2"), secretVolume("s2"), configMapVolume("cm2"), pvcVolume("pvc2")))
	g.AddPod(pod("ns1", "pending", "", withSA("sa3"), secretVolume("s3")))
	g.AddPV(&corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv1"},
		Spec: corev1.PersistentVolumeSpec{
			ClaimRef: &corev1.ObjectReference{Namespace: "ns1", Name: "pvc1"},
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver:                     "csi.example.com",
				NodePublishSecretRef:       &corev1.SecretReference{Namespace: "ns1", Name: "pvsec1"},
				ControllerPublishSecretRef: &corev1.SecretReference{Namespace: "ns1", Name: "ctrlsec"},
			}},
		},
	})
	g.AddPV(&corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv2"},
		Spec:       corev1.PersistentVolumeSpec{ClaimRef: &corev1.ObjectReference{Namespace: "ns1", Name: "pvc2"}},
	})
	g.AddVolumeAttachment(&storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va1"}, Spec: storagev1.VolumeAttachmentSpec{NodeName: "n1"}})
	g.AddVolumeAttachment(&storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va2"}, Spec: storagev1.VolumeAttachmentSpec{NodeName: "n2"}})
	n1 := "n1"
	g.AddResourceSlice(&resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: "sl1"}, Spec: resourcev1.ResourceSliceSpec{NodeName: &n1}})
	g.AddPodCertificateRequest(&certificatesv1.PodCertificateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "pcr1"},
		Spec: certificatesv1.PodCertificateRequestSpec{NodeName: "n1"}})
	return g
}

type ruleCase struct {
	name   string
	r      req
	allow  bool
	reason string // substring of the NoOpinion reason; empty means not checked
}

const noRel = "no relationship found between node 'n1'"

func TestRules(t *testing.T) {
	a := newGraphAuthorizer(t, fixtureGraph(), Options{})
	groups := map[string][]ruleCase{
		"nodes": {
			{"get own", req{verb: "get", resource: "nodes", name: "n1"}, true, ""},
			{"get other", req{verb: "get", resource: "nodes", name: "n2"}, false, "cannot read 'n2', only its own Node object"},
			{"list all", req{verb: "list", resource: "nodes"}, false, "cannot read all nodes"},
			{"list own by name", req{verb: "list", resource: "nodes", name: "n1", fieldSelector: "metadata.name=n1"}, true, ""},
			{"watch own by name", req{verb: "watch", resource: "nodes", name: "n1", fieldSelector: "metadata.name=n1"}, true, ""},
			{"list other by name", req{verb: "list", resource: "nodes", name: "n2", fieldSelector: "metadata.name=n2"}, false, "cannot read 'n2'"},
			{"list with selector but no name", req{verb: "list", resource: "nodes", fieldSelector: "metadata.name=n1"}, false, "cannot read all nodes"},
			{"create", req{verb: "create", resource: "nodes"}, true, ""},
			{"update other (left to NodeRestriction)", req{verb: "update", resource: "nodes", name: "n2"}, true, ""},
			{"patch status", req{verb: "patch", resource: "nodes", sub: "status", name: "n1"}, true, ""},
			{"update status", req{verb: "update", resource: "nodes", sub: "status", name: "n1"}, true, ""},
			{"get status", req{verb: "get", resource: "nodes", sub: "status", name: "n1"}, false, "cannot get nodes/status"},
			{"delete own", req{verb: "delete", resource: "nodes", name: "n1"}, false, "cannot delete nodes"},
			{"proxy own", req{verb: "get", resource: "nodes", sub: "proxy", name: "n1"}, false, ""},
		},
		"pods": {
			{"get bound here", req{verb: "get", resource: "pods", ns: "ns1", name: "p1"}, true, ""},
			{"get bound elsewhere", req{verb: "get", resource: "pods", ns: "ns1", name: "p2"}, false, noRel},
			{"get unbound", req{verb: "get", resource: "pods", ns: "ns1", name: "pending"}, false, noRel},
			{"get same name other namespace", req{verb: "get", resource: "pods", ns: "ns2", name: "p1"}, false, noRel},
			{"get without name", req{verb: "get", resource: "pods", ns: "ns1"}, false, "No Object name found"},
			{"list with own nodeName selector", req{verb: "list", resource: "pods", fieldSelector: "spec.nodeName=n1"}, true, ""},
			{"watch with own nodeName selector", req{verb: "watch", resource: "pods", fieldSelector: "spec.nodeName=n1"}, true, ""},
			{"list with == selector", req{verb: "list", resource: "pods", fieldSelector: "spec.nodeName==n1"}, true, ""},
			{"list with selector and namespace", req{verb: "list", resource: "pods", ns: "ns1", fieldSelector: "spec.nodeName=n1,status.phase=Running"}, true, ""},
			{"list with other nodeName", req{verb: "list", resource: "pods", fieldSelector: "spec.nodeName=n2"}, false, "spec.nodeName field selector"},
			{"list with != selector", req{verb: "list", resource: "pods", fieldSelector: "spec.nodeName!=n1"}, false, "spec.nodeName field selector"},
			{"list without selector", req{verb: "list", resource: "pods"}, false, "spec.nodeName field selector"},
			{"list with other field", req{verb: "list", resource: "pods", fieldSelector: "metadata.name=p1"}, false, "spec.nodeName field selector"},
			{"list with unparsable selector", req{verb: "list", resource: "pods", fieldSelector: "spec.nodeName"}, false, "spec.nodeName field selector"},
			{"list one bound pod by name", req{verb: "list", resource: "pods", ns: "ns1", name: "p1", fieldSelector: "metadata.name=p1"}, true, ""},
			{"watch one pod of another node", req{verb: "watch", resource: "pods", ns: "ns1", name: "p2", fieldSelector: "metadata.name=p2"}, false, noRel},
			{"create (mirror pods)", req{verb: "create", resource: "pods", ns: "ns1"}, true, ""},
			{"delete (mirror pods)", req{verb: "delete", resource: "pods", ns: "ns1", name: "p2"}, true, ""},
			{"update", req{verb: "update", resource: "pods", ns: "ns1", name: "p1"}, false, "cannot update pods"},
			{"deletecollection", req{verb: "deletecollection", resource: "pods", ns: "ns1"}, false, ""},
			{"update status", req{verb: "update", resource: "pods", sub: "status", ns: "ns1", name: "p1"}, true, ""},
			{"patch status", req{verb: "patch", resource: "pods", sub: "status", ns: "ns1", name: "p2"}, true, ""},
			{"get status", req{verb: "get", resource: "pods", sub: "status", ns: "ns1", name: "p1"}, false, ""},
			{"create eviction", req{verb: "create", resource: "pods", sub: "eviction", ns: "ns1", name: "p1"}, true, ""},
			{"get log", req{verb: "get", resource: "pods", sub: "log", ns: "ns1", name: "p1"}, false, ""},
			{"create exec", req{verb: "create", resource: "pods", sub: "exec", ns: "ns1", name: "p1"}, false, ""},
		},
		"secrets": {
			{"get volume secret", req{verb: "get", resource: "secrets", ns: "ns1", name: "s1"}, true, ""},
			{"get pull secret", req{verb: "get", resource: "secrets", ns: "ns1", name: "pull1"}, true, ""},
			{"list by name", req{verb: "list", resource: "secrets", ns: "ns1", name: "s1", fieldSelector: "metadata.name=s1"}, true, ""},
			{"watch by name", req{verb: "watch", resource: "secrets", ns: "ns1", name: "s1", fieldSelector: "metadata.name=s1"}, true, ""},
			{"get secret of other node's pod", req{verb: "get", resource: "secrets", ns: "ns1", name: "s2"}, false, noRel},
			{"get secret of unbound pod", req{verb: "get", resource: "secrets", ns: "ns1", name: "s3"}, false, noRel},
			{"get PV node-publish secret", req{verb: "get", resource: "secrets", ns: "ns1", name: "pvsec1"}, true, ""},
			{"get PV controller secret", req{verb: "get", resource: "secrets", ns: "ns1", name: "ctrlsec"}, false, noRel},
			{"get in other namespace", req{verb: "get", resource: "secrets", ns: "ns2", name: "s1"}, false, noRel},
			{"get without namespace", req{verb: "get", resource: "secrets", name: "s1"}, false, "can only read namespaced object"},
			{"list all", req{verb: "list", resource: "secrets", ns: "ns1"}, false, "No Object name found"},
			{"create", req{verb: "create", resource: "secrets", ns: "ns1", name: "s1"}, false, "can only read resources of this type"},
			{"update related", req{verb: "update", resource: "secrets", ns: "ns1", name: "s1"}, false, "can only read resources of this type"},
			{"subresource", req{verb: "get", resource: "secrets", sub: "x", ns: "ns1", name: "s1"}, false, "cannot read subresource"},
			{"other group", req{verb: "get", group: "example.com", resource: "secrets", ns: "ns1", name: "s1"}, false, ""},
		},
		"configmaps": {
			{"get env configmap", req{verb: "get", resource: "configmaps", ns: "ns1", name: "cm1"}, true, ""},
			{"get other node's", req{verb: "get", resource: "configmaps", ns: "ns1", name: "cm2"}, false, noRel},
			{"update", req{verb: "update", resource: "configmaps", ns: "ns1", name: "cm1"}, false, "can only read"},
		},
		"persistentvolumeclaims": {
			{"get own", req{verb: "get", resource: "persistentvolumeclaims", ns: "ns1", name: "pvc1"}, true, ""},
			{"get other", req{verb: "get", resource: "persistentvolumeclaims", ns: "ns1", name: "pvc2"}, false, noRel},
			{"list", req{verb: "list", resource: "persistentvolumeclaims", ns: "ns1", name: "pvc1"}, false, "can only get individual resources"},
			{"update status", req{verb: "update", resource: "persistentvolumeclaims", sub: "status", ns: "ns1", name: "pvc1"}, true, ""},
			{"patch status of other", req{verb: "patch", resource: "persistentvolumeclaims", sub: "status", ns: "ns1", name: "pvc2"}, false, noRel},
			{"get status", req{verb: "get", resource: "persistentvolumeclaims", sub: "status", ns: "ns1", name: "pvc1"}, false, "can only get/update/patch this type"},
			{"update", req{verb: "update", resource: "persistentvolumeclaims", ns: "ns1", name: "pvc1"}, false, "can only get individual resources"},
		},
		"persistentvolumes": {
			{"get own", req{verb: "get", resource: "persistentvolumes", name: "pv1"}, true, ""},
			{"get other", req{verb: "get", resource: "persistentvolumes", name: "pv2"}, false, noRel},
			{"get with a namespace", req{verb: "get", resource: "persistentvolumes", ns: "ns1", name: "pv1"}, false, noRel},
			{"list", req{verb: "list", resource: "persistentvolumes"}, false, "can only get individual resources"},
			{"get subresource", req{verb: "get", resource: "persistentvolumes", sub: "status", name: "pv1"}, false, "cannot get subresource"},
		},
		"resourceclaims": {
			{"get own", req{verb: "get", group: "resource.k8s.io", resource: "resourceclaims", ns: "ns1", name: "rc1"}, true, ""},
			{"get unknown", req{verb: "get", group: "resource.k8s.io", resource: "resourceclaims", ns: "ns1", name: "rc2"}, false, noRel},
			{"list", req{verb: "list", group: "resource.k8s.io", resource: "resourceclaims", ns: "ns1"}, false, "can only get"},
		},
		"volumeattachments": {
			{"get own", req{verb: "get", group: "storage.k8s.io", resource: "volumeattachments", name: "va1"}, true, ""},
			{"get other", req{verb: "get", group: "storage.k8s.io", resource: "volumeattachments", name: "va2"}, false, noRel},
			{"delete own", req{verb: "delete", group: "storage.k8s.io", resource: "volumeattachments", name: "va1"}, false, "can only get"},
		},
		"serviceaccounts": {
			{"create token", req{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns1", name: "sa1"}, true, ""},
			{"create token of other node's SA", req{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns1", name: "sa2"}, false, noRel},
			{"create token of unbound pod's SA", req{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns1", name: "sa3"}, false, noRel},
			{"create token without name", req{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns1"}, false, "can only create tokens for individual service accounts"},
			{"get own", req{verb: "get", resource: "serviceaccounts", ns: "ns1", name: "sa1"}, true, ""},
			{"get other", req{verb: "get", resource: "serviceaccounts", ns: "ns1", name: "sa2"}, false, noRel},
			{"list", req{verb: "list", resource: "serviceaccounts", ns: "ns1"}, false, "can only create tokens for individual service accounts"},
			{"create SA", req{verb: "create", resource: "serviceaccounts", ns: "ns1", name: "sa1"}, false, "can only create token subresource"},
		},
		"leases": {
			{"get own", req{verb: "get", group: "coordination.k8s.io", resource: "leases", ns: "kube-node-lease", name: "n1"}, true, ""},
			{"update own", req{verb: "update", group: "coordination.k8s.io", resource: "leases", ns: "kube-node-lease", name: "n1"}, true, ""},
			{"delete own", req{verb: "delete", group: "coordination.k8s.io", resource: "leases", ns: "kube-node-lease", name: "n1"}, true, ""},
			{"create (any name)", req{verb: "create", group: "coordination.k8s.io", resource: "leases", ns: "kube-node-lease"}, true, ""},
			{"get other", req{verb: "get", group: "coordination.k8s.io", resource: "leases", ns: "kube-node-lease", name: "n2"}, false, "same name as the requesting node"},
			{"get own name elsewhere", req{verb: "get", group: "coordination.k8s.io", resource: "leases", ns: "default", name: "n1"}, false, `"kube-node-lease" system namespace`},
			{"list", req{verb: "list", group: "coordination.k8s.io", resource: "leases", ns: "kube-node-lease"}, false, "can only get, create, update, patch, or delete a node lease"},
		},
		"csinodes": {
			{"get own", req{verb: "get", group: "storage.k8s.io", resource: "csinodes", name: "n1"}, true, ""},
			{"create", req{verb: "create", group: "storage.k8s.io", resource: "csinodes"}, true, ""},
			{"delete own", req{verb: "delete", group: "storage.k8s.io", resource: "csinodes", name: "n1"}, true, ""},
			{"get other", req{verb: "get", group: "storage.k8s.io", resource: "csinodes", name: "n2"}, false, "same name as the requesting node"},
			{"list", req{verb: "list", group: "storage.k8s.io", resource: "csinodes"}, false, "can only get, create, update, patch, or delete a CSINode"},
			{"status (CSIVolumeHealth off)", req{verb: "update", group: "storage.k8s.io", resource: "csinodes", sub: "status", name: "n1"}, false, "CSIVolumeHealth"},
		},
		"resourceslices": {
			{"create", req{verb: "create", group: "resource.k8s.io", resource: "resourceslices"}, true, ""},
			{"get own", req{verb: "get", group: "resource.k8s.io", resource: "resourceslices", name: "sl1"}, true, ""},
			{"update own", req{verb: "update", group: "resource.k8s.io", resource: "resourceslices", name: "sl1"}, true, ""},
			{"get unknown", req{verb: "get", group: "resource.k8s.io", resource: "resourceslices", name: "sl2"}, false, noRel},
			{"list with selector", req{verb: "list", group: "resource.k8s.io", resource: "resourceslices", fieldSelector: "spec.nodeName=n1"}, true, ""},
			{"deletecollection with selector", req{verb: "deletecollection", group: "resource.k8s.io", resource: "resourceslices", fieldSelector: "spec.nodeName=n1"}, true, ""},
			{"list without selector", req{verb: "list", group: "resource.k8s.io", resource: "resourceslices"}, false, "nodeName field selector"},
			{"status", req{verb: "get", group: "resource.k8s.io", resource: "resourceslices", sub: "status", name: "sl1"}, false, "subresources"},
		},
		"podcertificaterequests": {
			{"create", req{verb: "create", group: "certificates.k8s.io", resource: "podcertificaterequests", ns: "ns1"}, true, ""},
			{"get own", req{verb: "get", group: "certificates.k8s.io", resource: "podcertificaterequests", ns: "ns1", name: "pcr1"}, true, ""},
			{"list with selector", req{verb: "list", group: "certificates.k8s.io", resource: "podcertificaterequests", fieldSelector: "spec.nodeName=n1"}, true, ""},
			{"list without selector", req{verb: "list", group: "certificates.k8s.io", resource: "podcertificaterequests"}, false, "nodeName field selector"},
			{"update", req{verb: "update", group: "certificates.k8s.io", resource: "podcertificaterequests", ns: "ns1", name: "pcr1"}, false, "nodes may not update"},
			{"status", req{verb: "update", group: "certificates.k8s.io", resource: "podcertificaterequests", sub: "status", ns: "ns1", name: "pcr1"}, false, "status subresource"},
		},
		"static": {
			{"get services", req{verb: "get", resource: "services", ns: "ns1", name: "svc"}, true, ""},
			{"list services", req{verb: "list", resource: "services"}, true, ""},
			{"watch services", req{verb: "watch", resource: "services"}, true, ""},
			{"update services", req{verb: "update", resource: "services", ns: "ns1", name: "svc"}, false, "cannot update services"},
			{"services/proxy", req{verb: "get", resource: "services", sub: "proxy", ns: "ns1", name: "svc"}, false, ""},
			{"get endpoints", req{verb: "get", resource: "endpoints", ns: "ns1", name: "svc"}, true, ""},
			{"list endpoints", req{verb: "list", resource: "endpoints"}, false, ""},
			{"list endpointslices", req{verb: "list", group: "discovery.k8s.io", resource: "endpointslices"}, false, ""},
			{"create events", req{verb: "create", resource: "events", ns: "ns1"}, true, ""},
			{"patch events.k8s.io events", req{verb: "patch", group: "events.k8s.io", resource: "events", ns: "ns1", name: "e"}, true, ""},
			{"delete events", req{verb: "delete", resource: "events", ns: "ns1", name: "e"}, false, ""},
			{"create CSR", req{verb: "create", group: "certificates.k8s.io", resource: "certificatesigningrequests"}, true, ""},
			{"get CSR", req{verb: "get", group: "certificates.k8s.io", resource: "certificatesigningrequests", name: "csr"}, true, ""},
			{"watch CSR", req{verb: "watch", group: "certificates.k8s.io", resource: "certificatesigningrequests"}, true, ""},
			{"approve CSR", req{verb: "update", group: "certificates.k8s.io", resource: "certificatesigningrequests", sub: "approval", name: "csr"}, false, ""},
			{"create tokenreviews", req{verb: "create", group: "authentication.k8s.io", resource: "tokenreviews"}, true, ""},
			{"create subjectaccessreviews", req{verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews"}, true, ""},
			{"create localsubjectaccessreviews", req{verb: "create", group: "authorization.k8s.io", resource: "localsubjectaccessreviews", ns: "ns1"}, true, ""},
			{"create selfsubjectaccessreviews (RBAC's)", req{verb: "create", group: "authorization.k8s.io", resource: "selfsubjectaccessreviews"}, false, ""},
			{"list csidrivers", req{verb: "list", group: "storage.k8s.io", resource: "csidrivers"}, true, ""},
			{"get runtimeclasses", req{verb: "get", group: "node.k8s.io", resource: "runtimeclasses", name: "rc"}, true, ""},
			{"watch clustertrustbundles", req{verb: "watch", group: "certificates.k8s.io", resource: "clustertrustbundles"}, true, ""},
			{"get deployments", req{verb: "get", group: "apps", resource: "deployments", ns: "ns1", name: "d"}, false, "cannot get deployments.apps"},
			{"non-resource /healthz", req{verb: "get", path: "/healthz"}, false, `cannot get path "/healthz"`},
		},
	}
	for group, cases := range groups {
		for _, tc := range cases {
			t.Run(group+"/"+tc.name, func(t *testing.T) {
				d, reason := decision(t, a, nodeUser("n1"), tc.r)
				if tc.allow {
					if d != authorizer.DecisionAllow || reason != "" {
						t.Errorf("got (%v, %q), want Allow", d, reason)
					}
					return
				}
				if d != authorizer.DecisionNoOpinion {
					t.Fatalf("got (%v, %q), want NoOpinion", d, reason)
				}
				if reason == "" {
					t.Errorf("NoOpinion without a reason")
				}
				if !strings.Contains(reason, tc.reason) {
					t.Errorf("reason %q does not contain %q", reason, tc.reason)
				}
			})
		}
	}
}

// TestRulesOtherNode checks the mirror image: node n2 gets its own objects and not n1's.
func TestRulesOtherNode(t *testing.T) {
	a := newGraphAuthorizer(t, fixtureGraph(), Options{})
	tests := []ruleCase{
		{"own pod", req{verb: "get", resource: "pods", ns: "ns1", name: "p2"}, true, ""},
		{"own configmap", req{verb: "get", resource: "configmaps", ns: "ns1", name: "cm2"}, true, ""},
		{"own pvc's PV", req{verb: "get", resource: "persistentvolumes", name: "pv2"}, true, ""},
		{"n1's PV secret", req{verb: "get", resource: "secrets", ns: "ns1", name: "pvsec1"}, false, "no relationship found between node 'n2'"},
		{"n1's slice", req{verb: "get", group: "resource.k8s.io", resource: "resourceslices", name: "sl1"}, false, "no relationship"},
		{"n1's pod certificate request", req{verb: "get", group: "certificates.k8s.io", resource: "podcertificaterequests", ns: "ns1", name: "pcr1"}, false, "no relationship"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, reason := decision(t, a, nodeUser("n2"), tc.r)
			if (d == authorizer.DecisionAllow) != tc.allow || !strings.Contains(reason, tc.reason) {
				t.Errorf("got (%v, %q), want allow=%v with reason containing %q", d, reason, tc.allow, tc.reason)
			}
		})
	}
	// A node that runs nothing is unknown to the graph but still gets its own Node object and
	// the static rules.
	for _, r := range []req{{verb: "get", resource: "nodes", name: "n9"}, {verb: "list", resource: "services"}} {
		if d, reason := decision(t, a, nodeUser("n9"), r); d != authorizer.DecisionAllow {
			t.Errorf("n9 %+v: got (%v, %q), want Allow", r, d, reason)
		}
	}
	if d, _ := decision(t, a, nodeUser("n9"), req{verb: "get", resource: "secrets", ns: "ns1", name: "s1"}); d != authorizer.DecisionNoOpinion {
		t.Errorf("n9 secret: got %v, want NoOpinion", d)
	}
}

func TestPodCertificateRequestsDisabled(t *testing.T) {
	a := newGraphAuthorizer(t, fixtureGraph(), Options{DisablePodCertificateRequests: true})
	for _, verb := range []string{"create", "get", "list"} {
		t.Run(verb, func(t *testing.T) {
			r := req{verb: verb, group: "certificates.k8s.io", resource: "podcertificaterequests", ns: "ns1", name: "pcr1", fieldSelector: "spec.nodeName=n1"}
			if d, reason := decision(t, a, nodeUser("n1"), r); d != authorizer.DecisionNoOpinion || reason == "" {
				t.Errorf("got (%v, %q), want NoOpinion with a reason", d, reason)
			}
		})
	}
}
