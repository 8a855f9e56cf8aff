package upstreamdiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	certsv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/kubernetes/pkg/auth/nodeidentifier"
	upstream "k8s.io/kubernetes/plugin/pkg/auth/authorizer/node"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy"

	ours "github.com/authfilter/authfilter/authz/node"
)

// TestNodeAuthorizer builds the same random graph in both authorizers (3,000 pod, PV,
// attachment, slice and pod certificate request events, deletions included) and compares
// 300,000 random requests per seed. Decisions and errors must match; reasons are counted.
func TestNodeAuthorizer(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { compareNodeAuthorizers(t, seed) })
	}
}

// graphs is one random graph built in both implementations.
type graphs struct {
	rng      *rand.Rand
	up       *upstream.Graph
	ours     *ours.Graph
	nodes    []string
	nss      []string
	mutation int
}

func (g *graphs) pick(l []string) string { return l[g.rng.IntN(len(l))] }

func (g *graphs) name(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, g.rng.IntN(n)) }

func ptr[T any](v T) *T { return &v }

// randomPod returns a pod bound to a random node, referencing random objects.
func (g *graphs) randomPod() *corev1.Pod {
	g.mutation++
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.pick(g.nss[:2]), Name: g.name("p", 20), UID: types.UID(fmt.Sprint(g.mutation))},
		Spec:       corev1.PodSpec{NodeName: g.pick(g.nodes), ServiceAccountName: g.name("sa", 3), Containers: []corev1.Container{{Name: "c"}}},
	}
	if g.rng.IntN(8) == 0 {
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	}
	c := &p.Spec.Containers[0]
	vol := func(src corev1.VolumeSource) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: g.name("v", 5), VolumeSource: src})
	}
	local := func(prefix string) corev1.LocalObjectReference {
		return corev1.LocalObjectReference{Name: g.name(prefix, 8)}
	}
	for range g.rng.IntN(3) {
		switch g.rng.IntN(9) {
		case 0:
			c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: local("s")}})
		case 1:
			c.Env = append(c.Env, corev1.EnvVar{Name: "x", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: local("c")}}})
		case 2:
			vol(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: g.name("s", 8)}})
		case 3:
			vol(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: g.name("pvc", 6)}})
		case 4:
			vol(corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}})
		case 5:
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, local("s"))
		case 6:
			p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, corev1.PodResourceClaim{Name: "x", ResourceClaimName: ptr(g.name("rc", 4))})
		case 7:
			vol(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: local("c")}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: local("s")}},
			}}})
		case 8:
			p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, corev1.PodResourceClaim{Name: "t", ResourceClaimTemplateName: ptr("tmpl")})
			p.Status.ResourceClaimStatuses = append(p.Status.ResourceClaimStatuses, corev1.PodResourceClaimStatus{Name: "t", ResourceClaimName: ptr(g.name("rc", 4))})
		}
	}
	return p
}

// mutate applies one random event to both graphs.
func (g *graphs) mutate() {
	switch op := g.rng.IntN(12); {
	case op < 5:
		p := g.randomPod()
		g.up.AddPod(p)
		g.ours.AddPod(p)
	case op < 7:
		ns, n := g.pick(g.nss[:2]), g.name("p", 20)
		g.up.DeletePod(n, ns)
		g.ours.DeletePod(ns, n)
	case op < 8:
		claimNS := g.pick(g.nss[:2])
		pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: g.name("pv", 6)}}
		if g.rng.IntN(5) > 0 {
			pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: claimNS, Name: g.name("pvc", 6)}
		}
		switch g.rng.IntN(4) {
		case 0:
			pv.Spec.CSI = &corev1.CSIPersistentVolumeSource{
				NodePublishSecretRef:       &corev1.SecretReference{Namespace: g.pick(g.nss[:2]), Name: g.name("s", 8)},
				ControllerPublishSecretRef: &corev1.SecretReference{Namespace: claimNS, Name: g.name("s", 8)},
			}
		case 1:
			pv.Spec.RBD = &corev1.RBDPersistentVolumeSource{SecretRef: &corev1.SecretReference{Name: g.name("s", 8)}}
		case 2:
			pv.Spec.AzureFile = &corev1.AzureFilePersistentVolumeSource{SecretName: g.name("s", 8)}
		}
		g.up.AddPV(pv)
		g.ours.AddPV(pv)
	case op < 9:
		n := g.name("pv", 6)
		g.up.DeletePV(n)
		g.ours.DeletePV(n)
	case op < 10:
		n, nd := g.name("va", 4), g.pick(append(g.nodes, ""))
		g.up.AddVolumeAttachment(n, nd)
		g.ours.AddVolumeAttachment(&storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: n}, Spec: storagev1.VolumeAttachmentSpec{NodeName: nd}})
	case op < 11:
		n, nd := g.name("sl", 4), g.pick(g.nodes)
		g.up.AddResourceSlice(n, nd)
		g.ours.AddResourceSlice(&resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: n}, Spec: resourcev1.ResourceSliceSpec{NodeName: &nd}})
	default:
		pcr := &certsv1.PodCertificateRequest{
			ObjectMeta: metav1.ObjectMeta{Namespace: g.pick(g.nss[:2]), Name: g.name("pcr", 4)},
			Spec:       certsv1.PodCertificateRequestSpec{NodeName: types.NodeName(g.pick(g.nodes))},
		}
		g.up.AddPodCertificateRequest(pcr)
		g.ours.AddPodCertificateRequest(pcr)
	}
}

// requestResource is a resource the requests pick from, with its names and subresources.
type requestResource struct {
	group, resource string
	names           func() string
	subs            []string
}

func compareNodeAuthorizers(t *testing.T, seed uint64) {
	g := &graphs{
		rng: rand.New(rand.NewPCG(seed, 9)), up: upstream.NewGraph(), ours: ours.NewGraph(),
		nodes: []string{"n0", "n1", "n2", "n3"}, nss: []string{"a", "b", "kube-node-lease", ""},
	}
	up := upstream.NewAuthorizer(g.up, nodeidentifier.NewDefaultNodeIdentifier(), bootstrappolicy.NodeRules())
	oa, err := ours.NewFromGraph(g.ours, func() bool { return true }, ours.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3000 {
		g.mutate()
	}
	fixed := func(s string) func() string { return func() string { return s } }
	named := func(p string, n int) func() string { return func() string { return g.name(p, n) } }
	node := func() string { return g.pick(g.nodes) }
	resources := []requestResource{
		{"", "secrets", named("s", 8), []string{"", "x"}},
		{"", "configmaps", named("c", 8), []string{""}},
		{"", "pods", named("p", 20), []string{"", "status", "eviction", "log", "exec", "binding", "ephemeralcontainers"}},
		{"", "persistentvolumeclaims", named("pvc", 6), []string{"", "status"}},
		{"", "persistentvolumes", named("pv", 6), []string{"", "status"}},
		{"", "serviceaccounts", named("sa", 3), []string{"", "token"}},
		{"", "nodes", node, []string{"", "status", "proxy"}},
		{"", "services", fixed("svc"), []string{"", "proxy"}},
		{"", "endpoints", fixed("svc"), []string{""}},
		{"", "events", fixed("e"), []string{""}},
		{"events.k8s.io", "events", fixed("e"), []string{""}},
		{"discovery.k8s.io", "endpointslices", fixed("e"), []string{""}},
		{"coordination.k8s.io", "leases", node, []string{""}},
		{"storage.k8s.io", "csinodes", node, []string{"", "status"}},
		{"storage.k8s.io", "volumeattachments", named("va", 4), []string{"", "status"}},
		{"storage.k8s.io", "csidrivers", fixed("d"), []string{""}},
		{"resource.k8s.io", "resourceclaims", named("rc", 4), []string{"", "status"}},
		{"resource.k8s.io", "resourceslices", named("sl", 4), []string{"", "status"}},
		{"certificates.k8s.io", "podcertificaterequests", named("pcr", 4), []string{"", "status"}},
		{"certificates.k8s.io", "certificatesigningrequests", fixed("csr"), []string{"", "approval"}},
		{"certificates.k8s.io", "clustertrustbundles", fixed("b"), []string{""}},
		{"node.k8s.io", "runtimeclasses", fixed("r"), []string{""}},
		{"authentication.k8s.io", "tokenreviews", fixed(""), []string{""}},
		{"authentication.k8s.io", "selfsubjectreviews", fixed(""), []string{""}},
		{"authorization.k8s.io", "subjectaccessreviews", fixed(""), []string{""}},
		{"authorization.k8s.io", "localsubjectaccessreviews", fixed(""), []string{""}},
		{"authorization.k8s.io", "selfsubjectaccessreviews", fixed(""), []string{""}},
		{"apps", "deployments", fixed("d"), []string{""}},
		{"example.com", "secrets", named("s", 8), []string{""}},
	}
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "proxy", "escalate"}
	selectors := []string{"", "spec.nodeName=n0", "spec.nodeName=n1", "spec.nodeName!=n1", "metadata.name=n1", "spec.nodeName==n1,a=b", "spec.nodeName"}
	users := []user.Info{
		&user.DefaultInfo{Name: "system:node:n0", Groups: []string{"system:nodes", "system:authenticated"}},
		&user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes"}},
		&user.DefaultInfo{Name: "system:node:n3", Groups: []string{"system:nodes"}},
		&user.DefaultInfo{Name: "system:node:n9", Groups: []string{"system:nodes"}},
		&user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:authenticated"}},
		&user.DefaultInfo{Name: "system:node:", Groups: []string{"system:nodes"}},
		&user.DefaultInfo{Name: "alice", Groups: []string{"system:nodes"}},
	}
	const requests = 300000
	allows, mismatches, reasonDiffs := 0, 0, 0
	perResource := map[string]int{}
	ctx := context.Background()
	for range requests {
		r := resources[g.rng.IntN(len(resources))]
		a := authorizer.AttributesRecord{
			User: users[g.rng.IntN(len(users))], Verb: g.pick(verbs), APIGroup: r.group, Resource: r.resource,
			Subresource: g.pick(r.subs), Namespace: g.pick(g.nss), ResourceRequest: true,
		}
		if g.rng.IntN(5) > 0 {
			a.Name = r.names()
		}
		if g.rng.IntN(30) == 0 {
			a = authorizer.AttributesRecord{User: a.User, Verb: "get", Path: "/healthz"}
		}
		if s := g.pick(selectors); s != "" {
			if sel, err := fields.ParseSelector(s); err != nil {
				a.FieldSelectorParsingErr = err
			} else {
				a.FieldSelectorRequirements = sel.Requirements()
			}
		}
		ud, ur, uerr := up.Authorize(ctx, a)
		od, or, oerr := oa.Authorize(ctx, a)
		if ud == authorizer.DecisionAllow {
			allows++
			perResource[r.resource]++
		}
		switch {
		case ud != od || (uerr == nil) != (oerr == nil):
			mismatches++
			if mismatches <= 30 {
				t.Errorf("mismatch for %+v (user %s): upstream (%v, %q, %v), authfilter (%v, %q, %v)", a, a.User.GetName(), ud, ur, uerr, od, or, oerr)
			}
		case ur != "" && ur != or:
			reasonDiffs++
			if reasonDiffs <= 10 {
				t.Logf("reason differs: upstream %q, authfilter %q", ur, or)
			}
		}
	}
	t.Logf("allowed per resource: %v", perResource)
	t.Logf("%d requests, %d allowed by upstream, %d decision mismatches, %d reason differences", requests, allows, mismatches, reasonDiffs)
	if allows < requests/50 {
		t.Errorf("only %d requests allowed: the comparison proves little", allows)
	}
}
