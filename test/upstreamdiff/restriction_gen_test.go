package upstreamdiff

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/rand/v2"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"

	ours "github.com/authfilter/authfilter/authz/node"
)

func vol(name string, src corev1.VolumeSource) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: src}
}

func tokenVol(audience string) corev1.Volume {
	return vol("t-"+audience, corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: audience, Path: "t"}}}}})
}

func fixturePod(name, node string, vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("u-" + name), Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: node, ServiceAccountName: "sa1", Containers: []corev1.Container{{Name: "c"}}, Volumes: vols},
	}
}

// restrictionFixture: nodes n1 and n2; pods on them with audiences in projected volumes, CSI
// drivers inline, through claims and through translated in-tree volumes; claims, volumes and
// drivers (one claim missing); service accounts.
func restrictionFixture() []runtime.Object {
	driver := func(name, aud string) *storagev1.CSIDriver {
		return &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: storagev1.CSIDriverSpec{TokenRequests: []storagev1.TokenRequest{{Audience: aud}}}}
	}
	claim := func(name, pv string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: pv}}
	}
	mirror := fixturePod("m1", "n1")
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	mirror.Spec.ServiceAccountName = "sa1"
	return []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "u-n1"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2", UID: "u-n2"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sa1", UID: "u-sa1"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sa2", UID: "u-sa2"}},
		fixturePod("p1", "n1", tokenVol(""), tokenVol("vault"),
			vol("csi", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store"}}),
			vol("data", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}),
			vol("scratch", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{}}}),
			vol("pd", corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "d"}}),
			vol("certs", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{PodCertificate: &corev1.PodCertificateProjection{SignerName: "example.com/mounted"}}}}})),
		fixturePod("p2", "n2", tokenVol("other")),
		fixturePod("p3", "n1", tokenVol("vault"), vol("gone", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "missing"}})),
		fixturePod("p4", "n1", vol("csi", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "no-such-driver"}})),
		fixturePod("pending", ""),
		mirror,
		claim("data", "pv-data"), claim("p1-scratch", "pv-ebs"),
		&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-data"}, Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
			CSI: &corev1.CSIPersistentVolumeSource{Driver: "fs.example.com", VolumeHandle: "h"}}}},
		&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-ebs"}, Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
			AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "vol-1"}}}},
		driver("secrets-store", "azure"), driver("fs.example.com", "fs"), driver("ebs.csi.aws.com", "aws"), driver("pd.csi.storage.gke.io", "gcp"),
	}
}

// writeGen draws random writes.
type writeGen struct{ rng *rand.Rand }

func (g *writeGen) pick(l ...string) string { return l[g.rng.IntN(len(l))] }
func (g *writeGen) chance(p float64) bool   { return g.rng.Float64() < p }

var podNames = []string{"p1", "p2", "p3", "p4", "pending", "m1", "gone"}

func (g *writeGen) user() user.Info {
	switch g.rng.IntN(20) {
	case 0:
		return &user.DefaultInfo{Name: "system:node:", Groups: []string{"system:nodes"}}
	case 1:
		return &user.DefaultInfo{Name: "alice", Groups: []string{"system:nodes"}}
	case 2:
		return &user.DefaultInfo{Name: "system:node:n9", Groups: []string{"system:nodes"}}
	case 3, 4, 5:
		return &user.DefaultInfo{Name: "system:node:n2", Groups: []string{"system:nodes"}}
	}
	return &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
}

func (g *writeGen) pod(name string) *corev1.Pod {
	for _, o := range restrictionFixture() {
		if p, ok := o.(*corev1.Pod); ok && p.Name == name {
			return p
		}
	}
	return fixturePod(name, g.pick("n1", "n2", ""))
}

func (g *writeGen) op(ops ...ours.Operation) ours.Operation { return ops[g.rng.IntN(len(ops))] }

// write returns one random write.
func (g *writeGen) write() ours.Write {
	w := ours.Write{User: g.user(), APIVersion: "v1", Namespace: "ns"}
	switch g.rng.IntN(11) {
	case 0, 1:
		g.podWrite(&w)
	case 2:
		g.podStatus(&w)
	case 3:
		w.Resource, w.Subresource, w.Operation = "pods", "eviction", g.op(ours.Create, ours.Create, ours.Update)
		w.Name = g.pick(append(podNames, "")...)
		w.Object = &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: g.pick(podNames...)}}
	case 4, 5:
		g.nodeWrite(&w)
	case 6, 7:
		g.tokenWrite(&w)
	case 8:
		g.pcrWrite(&w)
	default:
		g.otherWrite(&w)
	}
	return w
}

func (g *writeGen) podWrite(w *ours.Write) {
	w.Resource, w.Operation = "pods", g.op(ours.Create, ours.Create, ours.Delete, ours.Update)
	if g.chance(0.05) {
		w.Subresource = g.pick("exec", "binding", "ephemeralcontainers")
	}
	if w.Operation != ours.Create {
		w.Name = g.pick(podNames...)
		return
	}
	p := fixturePod("static-"+g.pick("a", "b"), g.pick("n1", "n1", "n2", ""))
	p.UID, p.Labels = "", nil
	p.Spec.ServiceAccountName = ""
	if g.chance(0.9) {
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "h"}
	}
	node := g.pick("n1", "n1", "n1", "n2")
	owner := metav1.OwnerReference{APIVersion: g.pick("v1", "v1", "v1", "v2"), Kind: g.pick("Node", "Node", "Node", "Pod"), Name: node,
		UID: types.UID(g.pick("u-"+node, "u-"+node, "u-x")), Controller: []*bool{ptr(true), ptr(true), nil, ptr(false)}[g.rng.IntN(4)],
		BlockOwnerDeletion: []*bool{nil, nil, ptr(false), ptr(true)}[g.rng.IntN(4)]}
	p.OwnerReferences = [][]metav1.OwnerReference{{owner}, {owner}, {owner}, {owner}, nil, {owner, owner}}[g.rng.IntN(6)]
	switch g.rng.IntN(12) {
	case 0:
		p.Spec.ServiceAccountName = "sa1"
	case 1:
		p.Spec.Volumes = append(p.Spec.Volumes, vol("s", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}))
	case 2:
		p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}}
	case 3:
		p.Spec.Volumes = append(p.Spec.Volumes, tokenVol("x"))
	case 4:
		p.Spec.Volumes = append(p.Spec.Volumes, vol("c", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d"}}))
	case 5:
		p.Spec.Volumes = append(p.Spec.Volumes, vol("e", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
			vol("h", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}))
	case 6:
		p.Spec.Volumes = append(p.Spec.Volumes, vol("x", corev1.VolumeSource{}))
	case 7:
		p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "r", ResourceClaimName: ptr("rc")}}
	case 8:
		p.Spec.Volumes = append(p.Spec.Volumes, vol("pv", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}))
	}
	w.Object = p
}

func (g *writeGen) podStatus(w *ours.Write) {
	w.Resource, w.Subresource, w.Operation = "pods", "status", g.op(ours.Update, ours.Update, ours.Update, ours.Create)
	old := g.pod(g.pick(podNames...))
	w.Name = old.Name
	p := old.DeepCopy()
	switch g.rng.IntN(5) {
	case 0:
		p.Labels = map[string]string{"app": "other"}
	case 1:
		p.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "r", ResourceClaimName: ptr("x")}}
	case 2:
		p.Status.ExtendedResourceClaimStatus = &corev1.PodExtendedResourceClaimStatus{ResourceClaimName: "x"}
	default:
		p.Status.Phase = corev1.PodRunning
	}
	w.Object, w.OldObject = p, old
}

func (g *writeGen) nodeWrite(w *ours.Write) {
	w.Namespace, w.Resource = "", "nodes"
	w.Operation = g.op(ours.Create, ours.Update, ours.Update, ours.Delete)
	if g.chance(0.3) {
		w.Subresource = "status"
	}
	w.Name = g.pick("n1", "n1", "n2")
	labels := func() map[string]string {
		l := map[string]string{"kubernetes.io/hostname": w.Name}
		for range g.rng.IntN(3) {
			l[g.pick("node-restriction.kubernetes.io/pool", "a.node-restriction.kubernetes.io/x", "node-role.kubernetes.io/worker",
				"kubernetes.io/os", "topology.kubernetes.io/zone", "node.kubernetes.io/instance-type", "kubelet.kubernetes.io/x",
				"x.node.kubernetes.io/y", "example.com/team", "k8s.io/a", "foo.k8s.io/b", "plain")] = g.pick("1", "2")
		}
		return l
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: w.Name, Labels: labels()}}
	if g.chance(0.1) {
		n.Spec.ConfigSource = &corev1.NodeConfigSource{ConfigMap: &corev1.ConfigMapNodeConfigSource{Namespace: "kube-system", Name: "c", KubeletConfigKey: "k"}}
	}
	if g.chance(0.1) {
		n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
	}
	if g.chance(0.1) {
		n.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "u"}}
	}
	switch w.Operation {
	case ours.Create:
		w.Object = n
	case ours.Update:
		old := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: w.Name, Labels: labels()}}
		if g.chance(0.5) {
			old.Labels = n.Labels
		}
		w.Object, w.OldObject = n, old
	}
}

func (g *writeGen) tokenWrite(w *ours.Write) {
	w.Resource, w.Name = "serviceaccounts", g.pick("sa1", "sa2")
	w.Operation, w.Subresource = g.op(ours.Create, ours.Create, ours.Create, ours.Update), g.pick("token", "token", "token", "")
	pod := g.pick(podNames...)
	ref := &authenticationv1.BoundObjectReference{APIVersion: g.pick("v1", "v1", "v1", "v2"), Kind: g.pick("Pod", "Pod", "Pod", "Secret"),
		Name: pod, UID: types.UID(g.pick("u-"+pod, "u-"+pod, "u-"+pod, "stale", ""))}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: ref}}
	if g.chance(0.05) {
		tr.Spec.BoundObjectRef = nil
	}
	switch n := g.rng.IntN(10); {
	case n == 0:
	case n == 1:
		tr.Spec.Audiences = []string{"vault", "vault"}
	default:
		tr.Spec.Audiences = []string{g.pick("", "vault", "azure", "fs", "aws", "gcp", "other", "rbac-ok", "rbac-error", "unknown")}
	}
	w.Object = tr
}

func (g *writeGen) pcrWrite(w *ours.Write) {
	w.APIGroup, w.Resource = "certificates.k8s.io", "podcertificaterequests"
	w.Operation = g.op(ours.Create, ours.Create, ours.Create, ours.Update)
	if g.chance(0.05) {
		w.Subresource = "status"
	}
	pod := g.pick("p1", "p1", "p2", "m1", "gone")
	node := g.pick("n1", "n1", "n2")
	w.Object = &certificatesv1.PodCertificateRequest{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r"}, Spec: certificatesv1.PodCertificateRequestSpec{
		SignerName: g.pick("example.com/mounted", "example.com/ok", "example.com/other"), PodName: pod,
		PodUID: types.UID(g.pick("u-"+pod, "u-"+pod, "stale")), ServiceAccountName: g.pick("sa1", "sa1", "sa2", "sa3"),
		ServiceAccountUID: types.UID(g.pick("u-sa1", "u-sa1", "stale")), NodeName: types.NodeName(node), NodeUID: types.UID(g.pick("u-"+node, "u-"+node, "stale")),
	}}
}

func csrPEM(cn string) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), zeroReader{})
	der, err := x509.CreateCertificateRequest(zeroReader{}, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// zeroReader is a deterministic (and insecure) randomness source for test keys.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 1
	}
	return len(p), nil
}

var csrs = map[string][]byte{"system:node:n1": csrPEM("system:node:n1"), "system:node:n2": csrPEM("system:node:n2")}

func (g *writeGen) otherWrite(w *ours.Write) {
	op := g.op(ours.Create, ours.Update, ours.Delete)
	w.Operation = op
	switch g.rng.IntN(5) {
	case 0:
		w.Resource, w.Subresource, w.Name = "persistentvolumeclaims", g.pick("status", "status", ""), "data"
		old := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", ResourceVersion: "3"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-data"}}
		c := old.DeepCopy()
		switch g.rng.IntN(4) {
		case 0:
			c.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
			c.ResourceVersion = ""
		case 1:
			c.Status.Phase = corev1.ClaimLost
		case 2:
			c.Labels = map[string]string{"a": "b"}
		}
		w.Object, w.OldObject = c, old
	case 1:
		w.APIGroup, w.Resource, w.Namespace = "coordination.k8s.io", "leases", g.pick("kube-node-lease", "kube-node-lease", "ns")
		name := g.pick("n1", "n1", "n2")
		if op != ours.Create {
			w.Name = name
		}
		w.Object = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: name}}
	case 2:
		w.APIGroup, w.Resource, w.Namespace, w.Subresource = "storage.k8s.io", "csinodes", "", g.pick("", "", "status")
		name := g.pick("n1", "n1", "n2")
		if op != ours.Create {
			w.Name = name
		}
		w.Object = &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: name}}
	case 3:
		w.APIGroup, w.Resource, w.Namespace, w.Name = "resource.k8s.io", "resourceslices", "", "s"
		s := &resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: "s"}}
		if n := g.pick("n1", "n1", "n2", ""); n != "" {
			s.Spec.NodeName = ptr(n)
		}
		w.Object, w.OldObject = s, s
		if op == ours.Delete {
			w.Object = nil
		}
	default:
		w.APIGroup, w.Resource, w.Namespace = "certificates.k8s.io", "certificatesigningrequests", ""
		req := csrs[g.pick("system:node:n1", "system:node:n1", "system:node:n2")]
		if g.chance(0.1) {
			req = []byte("garbage")
		}
		w.Object = &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "csr"}, Spec: certificatesv1.CertificateSigningRequestSpec{
			SignerName: g.pick(certificatesv1.KubeletServingSignerName, certificatesv1.KubeAPIServerClientKubeletSignerName, "example.com/x"), Request: req,
			Usages: []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature}}}
	}
}
