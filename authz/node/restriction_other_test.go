package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRestrictionNodes(t *testing.T) {
	env := newRestrictionEnv(t, RestrictionOptions{}, nil)
	labeled := func(labels map[string]string) *corev1.Node {
		return nodeObj("n1", "uid-n1", func(n *corev1.Node) { n.Labels = labels })
	}
	base := labeled(map[string]string{
		"kubernetes.io/hostname": "n1", "node-restriction.kubernetes.io/pool": "secure", "team": "a",
	})
	changed := func(f func(*corev1.Node)) *corev1.Node {
		n := base.DeepCopy()
		f(n)
		return n
	}
	tests := []struct {
		name string
		w    Write
		want outcome
		msg  string
	}{
		{"register with kubelet labels", write("n1", Create, "", "nodes", "", "", "n1", labeled(map[string]string{
			"kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
			"topology.kubernetes.io/zone": "z", "node.kubernetes.io/instance-type": "big",
			"kubelet.kubernetes.io/x": "y", "foo.node.kubernetes.io/bar": "1", "example.com/team": "a", "plain": "b",
		}), nil), admitted, ""},
		{"register another node", write("n1", Create, "", "nodes", "", "", "n2", nodeObj("n2", ""), nil), refused, `is not allowed to modify node "n2"`},
		// A create's path has no name (Write.Name is empty): the node is the one its object names.
		{"register, no name in the path", write("n1", Create, "", "nodes", "", "", "", nodeObj("n1", ""), nil), admitted, ""},
		{"register another node, no name in the path", write("n1", Create, "", "nodes", "", "", "", nodeObj("n2", ""), nil), refused, `is not allowed to modify node "n2"`},
		{"register, path and object disagree", write("n1", Create, "", "nodes", "", "", "n1", nodeObj("n2", ""), nil), refused, `names node "n1" but its object is node "n2"`},
		{"register a nil node", write("n1", Create, "", "nodes", "", "", "", (*corev1.Node)(nil), nil), refused, "unexpected type"},
		{"register with a node-restriction label", write("n1", Create, "", "nodes", "", "", "n1", labeled(map[string]string{
			"node-restriction.kubernetes.io/pool": "secure"}), nil), refused, "node-restriction.kubernetes.io/pool"},
		{"register with a node-restriction subdomain label", write("n1", Create, "", "nodes", "", "", "n1", labeled(map[string]string{
			"a.node-restriction.kubernetes.io/x": "y"}), nil), refused, "a.node-restriction.kubernetes.io/x"},
		{"register with other kubernetes.io and k8s.io labels", write("n1", Create, "", "nodes", "", "", "n1", labeled(map[string]string{
			"node-role.kubernetes.io/control-plane": "", "x.k8s.io/y": "z", "k8s.io/a": "b"}), nil), refused,
			"k8s.io/a, node-role.kubernetes.io/control-plane, x.k8s.io/y"},
		{"register with a config source", write("n1", Create, "", "nodes", "", "", "n1", nodeObj("n1", "", func(n *corev1.Node) {
			n.Spec.ConfigSource = &corev1.NodeConfigSource{}
		}), nil), refused, "configSource"},
		{"update status keeping the restricted label", write("n1", Update, "", "nodes", "status", "", "n1",
			changed(func(n *corev1.Node) { n.Status.Phase = corev1.NodeRunning }), base), admitted, ""},
		{"update own labels", write("n1", Update, "", "nodes", "", "", "n1",
			changed(func(n *corev1.Node) { n.Labels["team"] = "b"; n.Labels["kubernetes.io/hostname"] = "h" }), base), admitted, ""},
		{"change a restricted label", write("n1", Update, "", "nodes", "", "", "n1",
			changed(func(n *corev1.Node) { n.Labels["node-restriction.kubernetes.io/pool"] = "other" }), base), refused, "not allowed to modify labels: node-restriction.kubernetes.io/pool"},
		{"remove a restricted label", write("n1", Update, "", "nodes", "", "", "n1",
			changed(func(n *corev1.Node) { delete(n.Labels, "node-restriction.kubernetes.io/pool") }), base), refused, "node-restriction.kubernetes.io/pool"},
		{"add a restricted label through status", write("n1", Update, "", "nodes", "status", "", "n1",
			changed(func(n *corev1.Node) { n.Labels["node-restriction.kubernetes.io/new"] = "x" }), base), refused, "node-restriction.kubernetes.io/new"},
		{"modify taints", write("n1", Update, "", "nodes", "", "", "n1",
			changed(func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}} }), base), refused, "modify taints"},
		{"modify owner references", write("n1", Update, "", "nodes", "", "", "n1",
			changed(func(n *corev1.Node) { n.OwnerReferences = []metav1.OwnerReference{{Name: "x"}} }), base), refused, "ownerReferences"},
		{"set a new config source", write("n1", Update, "", "nodes", "", "", "n1",
			changed(func(n *corev1.Node) { n.Spec.ConfigSource = &corev1.NodeConfigSource{} }), base), refused, "configSource"},
		{"update another node", write("n1", Update, "", "nodes", "", "", "n2", nodeObj("n2", ""), nodeObj("n2", "")), refused, "not allowed to modify node"},
		{"update without old object", write("n1", Update, "", "nodes", "", "", "n1", base, nil), refused, "unexpected type"},
		{"delete own node", write("n1", Delete, "", "nodes", "", "", "n1", nil, base), admitted, ""},
		{"delete another node", write("n1", Delete, "", "nodes", "", "", "n2", nil, nil), refused, "not allowed to modify node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAdmit(t, env.r.Admit(t.Context(), tt.w), tt.want, tt.msg)
		})
	}
}

func csrPEM(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestRestrictionOtherResources(t *testing.T) {
	env := newRestrictionEnv(t, RestrictionOptions{}, nil)
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "c1", ResourceVersion: "5"},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: "pv1"},
	}
	pvcChanged := func(f func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
		c := pvc.DeepCopy()
		f(c)
		return c
	}
	lease := func(name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-node-lease", Name: name}}
	}
	slice := func(node *string) *resourcev1.ResourceSlice {
		return &resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Spec: resourcev1.ResourceSliceSpec{NodeName: node}}
	}
	csr := func(signer string, req []byte) *certificatesv1.CertificateSigningRequest {
		return &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: signer, Request: req}}
	}
	const co, st, rs, ce = "coordination.k8s.io", "storage.k8s.io", "resource.k8s.io", "certificates.k8s.io"
	tests := []struct {
		name string
		w    Write
		want outcome
		msg  string
	}{
		{"claim status capacity and conditions", write("n1", Update, "", "persistentvolumeclaims", "status", "ns1", "c1", pvcChanged(func(c *corev1.PersistentVolumeClaim) {
			c.ResourceVersion = ""
			c.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}
			c.Status.Conditions = []corev1.PersistentVolumeClaimCondition{{Type: corev1.PersistentVolumeClaimResizing}}
			c.Status.AllocatedResources = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}
		}), pvc), admitted, ""},
		{"claim status phase", write("n1", Update, "", "persistentvolumeclaims", "status", "ns1", "c1", pvcChanged(func(c *corev1.PersistentVolumeClaim) {
			c.Status.Phase = corev1.ClaimLost
		}), pvc), refused, "not allowed to update fields other than"},
		{"claim labels through status", write("n1", Update, "", "persistentvolumeclaims", "status", "ns1", "c1", pvcChanged(func(c *corev1.PersistentVolumeClaim) {
			c.Labels = map[string]string{"a": "b"}
		}), pvc), refused, "not allowed to update fields other than"},
		{"claim spec", write("n1", Update, "", "persistentvolumeclaims", "", "ns1", "c1", pvc, pvc), refused, "may only update PVC status"},
		{"claim status patch on create", write("n1", Create, "", "persistentvolumeclaims", "status", "ns1", "c1", pvc, nil), refused, "unexpected operation"},

		{"own lease", write("n1", Update, co, "leases", "", "kube-node-lease", "n1", lease("n1"), lease("n1")), admitted, ""},
		{"create own lease", write("n1", Create, co, "leases", "", "kube-node-lease", "", lease("n1"), nil), admitted, ""},
		{"create another lease", write("n1", Create, co, "leases", "", "kube-node-lease", "", lease("n2"), nil), refused, "same name as the requesting node"},
		{"create a nil lease", write("n1", Create, co, "leases", "", "kube-node-lease", "", (*coordinationv1.Lease)(nil), nil), refused, "unexpected type"},
		{"delete another lease", write("n1", Delete, co, "leases", "", "kube-node-lease", "n2", nil, lease("n2")), refused, "same name as the requesting node"},
		{"lease elsewhere", write("n1", Update, co, "leases", "", "kube-system", "n1", lease("n1"), lease("n1")), refused, "kube-node-lease"},
		{"create lease of another type", write("n1", Create, co, "leases", "", "kube-node-lease", "", &corev1.ConfigMap{}, nil), refused, "unexpected type"},

		{"create own CSINode", write("n1", Create, st, "csinodes", "", "", "", &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, nil), admitted, ""},
		{"create another CSINode", write("n1", Create, st, "csinodes", "", "", "", &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, nil), refused, "CSINode with the same name"},
		{"update own CSINode", write("n1", Update, st, "csinodes", "", "", "n1", &storagev1.CSINode{}, &storagev1.CSINode{}), admitted, ""},
		{"delete another CSINode", write("n1", Delete, st, "csinodes", "", "", "n2", nil, nil), refused, "CSINode with the same name"},
		{"own CSINode status", write("n1", Update, st, "csinodes", "status", "", "n1", &storagev1.CSINode{}, &storagev1.CSINode{}), refused, "CSIVolumeHealth"},

		{"create own slice", write("n1", Create, rs, "resourceslices", "", "", "", slice(ptrTo("n1")), nil), admitted, ""},
		{"create slice of another node", write("n1", Create, rs, "resourceslices", "", "", "", slice(ptrTo("n2")), nil), refused, "can only create ResourceSlice"},
		{"create slice without node", write("n1", Create, rs, "resourceslices", "", "", "", slice(nil), nil), refused, "can only create ResourceSlice"},
		{"delete own slice", write("n1", Delete, rs, "resourceslices", "", "", "s", nil, slice(ptrTo("n1"))), admitted, ""},
		{"delete slice of another node", write("n1", Delete, rs, "resourceslices", "", "", "s", nil, slice(ptrTo("n2"))), refused, "can only delete ResourceSlice"},
		{"update any slice (the authorizer's job)", write("n1", Update, rs, "resourceslices", "", "", "s", slice(ptrTo("n2")), slice(ptrTo("n2"))), admitted, ""},

		{"client CSR for itself", write("n1", Create, ce, "certificatesigningrequests", "", "", "", csr(certificatesv1.KubeAPIServerClientKubeletSignerName, csrPEM(t, "system:node:n1")), nil), admitted, ""},
		{"serving CSR for another node", write("n1", Create, ce, "certificatesigningrequests", "", "", "", csr(certificatesv1.KubeletServingSignerName, csrPEM(t, "system:node:n2")), nil), refused, "CN=system:node:n1"},
		{"CSR that is no PEM", write("n1", Create, ce, "certificatesigningrequests", "", "", "", csr(certificatesv1.KubeletServingSignerName, []byte("x")), nil), refused, "unable to parse csr"},
		{"CSR for another signer", write("n1", Create, ce, "certificatesigningrequests", "", "", "", csr("example.com/signer", csrPEM(t, "system:node:n2")), nil), admitted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAdmit(t, env.r.Admit(t.Context(), tt.w), tt.want, tt.msg)
		})
	}
}

func TestRestrictionPodCertificateRequests(t *testing.T) {
	podWithSigner := pod("ns1", "p1", "n1", withSA("sa1"), withVolume("certs", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{PodCertificate: &corev1.PodCertificateProjection{SignerName: "example.com/mounted"}}}}}))
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "sa1", UID: "uid-sa1"}}
	env := newRestrictionEnv(t, RestrictionOptions{}, func(s authorizationv1.SubjectAccessReviewSpec) (bool, error) {
		return s.ResourceAttributes.Resource == "example.com:granted", nil
	}, nodeObj("n1", "uid-n1"), nodeObj("n2", "uid-n2"), podWithSigner, pod("ns1", "p2", "n2", withSA("sa1")), sa,
		pod("ns1", "mirror", "n1", withSA("sa1"), func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} }))
	pcr := func(f func(*certificatesv1.PodCertificateRequestSpec)) *certificatesv1.PodCertificateRequest {
		r := &certificatesv1.PodCertificateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "r"}, Spec: certificatesv1.PodCertificateRequestSpec{
			SignerName: "example.com/mounted", PodName: "p1", PodUID: podWithSigner.UID, ServiceAccountName: "sa1",
			ServiceAccountUID: "uid-sa1", NodeName: "n1", NodeUID: "uid-n1",
		}}
		if f != nil {
			f(&r.Spec)
		}
		return r
	}
	create := func(obj *certificatesv1.PodCertificateRequest) Write {
		return write("n1", Create, "certificates.k8s.io", "podcertificaterequests", "", "ns1", "", obj, nil)
	}
	tests := []struct {
		name string
		w    Write
		want outcome
		msg  string
		sars int
	}{
		{"mounted signer", create(pcr(nil)), admitted, "", 0},
		{"signer allowed by the authorizer", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.SignerName = "example.com/granted" })), admitted, "", 1},
		{"signer neither mounted nor allowed", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.SignerName = "example.com/other" })), refused, "does not mount a podCertificate", 1},
		{"another node named", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.NodeName, s.NodeUID = "n2", "uid-n2" })), refused, "not the requesting node", 0},
		{"stale node UID", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.NodeUID = "old" })), failed, "names node UID", 0},
		{"pod of another node", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.PodName, s.PodUID = "p2", "ns1/p2@n2" })), refused, "is not running on node", 0},
		{"stale pod UID", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.PodUID = "old" })), failed, "contains pod UID", 0},
		{"missing pod", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.PodName = "gone" })), missing, "while retrieving pod", 0},
		{"mirror pod", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.PodName, s.PodUID = "mirror", "ns1/mirror@n1" })), refused, "is a mirror pod", 0},
		{"another service account", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.ServiceAccountName = "sa2" })), refused, "contains serviceAccountName", 0},
		{"stale service account UID", create(pcr(func(s *certificatesv1.PodCertificateRequestSpec) { s.ServiceAccountUID = "old" })), failed, "names service account UID", 0},
		{"update", write("n1", Update, "certificates.k8s.io", "podcertificaterequests", "", "ns1", "r", pcr(nil), pcr(nil)), refused, "unexpected operation", 0},
		{"status", write("n1", Create, "certificates.k8s.io", "podcertificaterequests", "status", "ns1", "r", pcr(nil), nil), refused, "unexpected subresource", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(env.sars.sent())
			checkAdmit(t, env.r.Admit(t.Context(), tt.w), tt.want, tt.msg)
			sent := env.sars.sent()[before:]
			if len(sent) != tt.sars {
				t.Fatalf("%d SubjectAccessReviews sent, want %d", len(sent), tt.sars)
			}
			for _, s := range sent {
				ra := s.ResourceAttributes
				if s.User != "system:node:n1" || ra == nil || ra.Verb != VerbPodCertificateSigner || ra.Group != "certificates.k8s.io" ||
					ra.Namespace != "ns1" || ra.Name != "sa1" || ra.Version != "v1" ||
					ra.Resource != strings.ReplaceAll(tt.w.Object.(*certificatesv1.PodCertificateRequest).Spec.SignerName, "/", ":") {
					t.Errorf("unexpected review %+v (resource attributes %+v)", s, ra)
				}
			}
		})
	}

	disabled := newRestrictionEnv(t, RestrictionOptions{DisablePodCertificateRequests: true}, nil)
	checkAdmit(t, disabled.r.Admit(t.Context(), create(pcr(nil))), refused, "feature gate is disabled")
}
