package node

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/authfilter/authfilter/authz"
)

// mirrorPod returns a mirror pod of node n1 (UID uid-n1) as the kubelet creates it.
func mirrorPod(mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := pod("ns1", "static-web-n1", "n1", func(p *corev1.Pod) {
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "uid-n1", Controller: ptrTo(true)}}
	})
	for _, m := range mutate {
		m(p)
	}
	return p
}

func TestRestrictionPods(t *testing.T) {
	env := newRestrictionEnv(t, RestrictionOptions{}, nil,
		nodeObj("n1", "uid-n1"), nodeObj("n2", "uid-n2"),
		pod("ns1", "p1", "n1"), pod("ns1", "p2", "n2"), pod("ns1", "pending", ""))
	owner := func(f func(*metav1.OwnerReference)) func(*corev1.Pod) {
		return func(p *corev1.Pod) { f(&p.OwnerReferences[0]) }
	}
	status := func(p *corev1.Pod, f func(*corev1.Pod)) *corev1.Pod {
		p = p.DeepCopy()
		f(p)
		return p
	}
	p1, p2 := pod("ns1", "p1", "n1"), pod("ns1", "p2", "n2")
	tests := []struct {
		name string
		w    Write
		want outcome
		msg  string
	}{
		{"create mirror pod", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(), nil), admitted, ""},
		{"mirror pod with emptyDir, hostPath, downward projection", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(
			withVolume("e", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
			withVolume("h", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}),
			withVolume("d", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{DownwardAPI: &corev1.DownwardAPIProjection{}}}}}),
		), nil), admitted, ""},
		{"pod without mirror annotation", write("n1", Create, "", "pods", "", "ns1", "", pod("ns1", "x", "n1"), nil), refused, "can only create mirror pods"},
		{"create a nil pod", write("n1", Create, "", "pods", "", "ns1", "", (*corev1.Pod)(nil), nil), refused, "unexpected type"},
		{"mirror pod of another node", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) { p.Spec.NodeName = "n2" }), nil), refused, "spec.nodeName set to itself"},
		{"unbound mirror pod", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) { p.Spec.NodeName = "" }), nil), refused, "spec.nodeName set to itself"},
		{"no owner", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) { p.OwnerReferences = nil }), nil), refused, "an owner reference set to itself"},
		{"two owners", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) {
			p.OwnerReferences = append(p.OwnerReferences, p.OwnerReferences[0])
		}), nil), refused, "single owner reference"},
		{"owner of another kind", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.Kind = "Pod" })), nil), refused, "owner reference set to itself"},
		{"owner with another version", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.APIVersion = "v2" })), nil), refused, "owner reference set to itself"},
		{"owner is another node", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.Name, o.UID = "n2", "uid-n2" })), nil), refused, "owner reference set to itself"},
		{"owner not controller", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.Controller = nil })), nil), refused, "controller owner reference"},
		{"owner blocks deletion", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.BlockOwnerDeletion = ptrTo(true) })), nil), refused, "blockOwnerDeletion"},
		{"owner blockOwnerDeletion false", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.BlockOwnerDeletion = ptrTo(false) })), nil), admitted, ""},
		{"stale node UID", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(owner(func(o *metav1.OwnerReference) { o.UID = "old" })), nil), refused, "UID mismatch"},
		{"node object missing", write("n3", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) {
			p.Spec.NodeName, p.OwnerReferences[0].Name = "n3", "n3"
		}), nil), missing, ""},
		{"mirror pod with service account", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(withSA("default")), nil), refused, "reference serviceaccounts"},
		{"mirror pod with secret env", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}
		}), nil), refused, "reference secrets"},
		{"mirror pod with configmap volume", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(configMapVolume("c")), nil), refused, "reference configmaps"},
		{"mirror pod with claim", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(pvcVolume("c")), nil), refused, "reference persistentvolumeclaims"},
		{"mirror pod with CSI volume", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(withVolume("c", corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d"}})), nil), refused, "csidrivers (via CSI volumes)"},
		{"mirror pod with projected token", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(withVolume("t", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t"}}}}})), nil), refused, "serviceaccounts (via projected volumes)"},
		{"mirror pod with resource claim", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(func(p *corev1.Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptrTo("c")}}
		}), nil), refused, "reference resourceclaims"},
		{"mirror pod with a volume of no known type", write("n1", Create, "", "pods", "", "ns1", "", mirrorPod(withVolume("x", corev1.VolumeSource{})), nil), refused, "unknown volume type"},
		{"create with another object type", write("n1", Create, "", "pods", "", "ns1", "", &corev1.Node{}, nil), refused, "unexpected type"},
		{"update pod", write("n1", Update, "", "pods", "", "ns1", "p1", p1, p1), refused, "can only create and delete mirror pods"},
		{"delete own pod", write("n1", Delete, "", "pods", "", "ns1", "p1", nil, p1), admitted, ""},
		{"delete pod of another node", write("n1", Delete, "", "pods", "", "ns1", "p2", nil, p2), refused, "can only delete pods"},
		{"delete unbound pod", write("n1", Delete, "", "pods", "", "ns1", "pending", nil, nil), refused, "can only delete pods"},
		{"delete missing pod", write("n1", Delete, "", "pods", "", "ns1", "gone", nil, nil), missing, ""},

		{"update own pod status", write("n1", Update, "", "pods", "status", "ns1", "p1",
			status(p1, func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }), p1), admitted, ""},
		{"update status of another node's pod", write("n1", Update, "", "pods", "status", "ns1", "p2", p2, p2), refused, "update pod status"},
		{"change labels through status", write("n1", Update, "", "pods", "status", "ns1", "p1",
			status(p1, func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }), p1), refused, "cannot update labels"},
		{"change resource claim statuses", write("n1", Update, "", "pods", "status", "ns1", "p1",
			status(p1, func(p *corev1.Pod) {
				p.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "gpu", ResourceClaimName: ptrTo("other")}}
			}), p1), refused, "resource claim statues"},
		{"change extended resource claim status", write("n1", Update, "", "pods", "status", "ns1", "p1",
			status(p1, func(p *corev1.Pod) {
				p.Status.ExtendedResourceClaimStatus = &corev1.PodExtendedResourceClaimStatus{ResourceClaimName: "x"}
			}), p1), refused, "extended resource claim status"},
		{"status create", write("n1", Create, "", "pods", "status", "ns1", "p1", p1, nil), refused, "unexpected operation"},
		{"status without old object", write("n1", Update, "", "pods", "status", "ns1", "p1", p1, nil), refused, "unexpected type"},

		{"evict own pod", write("n1", Create, "", "pods", "eviction", "ns1", "p1", &policyv1.Eviction{}, nil), admitted, ""},
		{"evict pod named in the body", write("n1", Create, "", "pods", "eviction", "ns1", "", &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p1"}}, nil), admitted, ""},
		{"path name wins over the body", write("n1", Create, "", "pods", "eviction", "ns1", "p2", &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p1"}}, nil), refused, "can only evict pods"},
		{"evict another node's pod", write("n1", Create, "", "pods", "eviction", "ns1", "p2", &policyv1.Eviction{}, nil), refused, "can only evict pods"},
		{"evict without a pod name", write("n1", Create, "", "pods", "eviction", "ns1", "", &policyv1.Eviction{}, nil), refused, "could not determine pod"},
		{"evict missing pod", write("n1", Create, "", "pods", "eviction", "ns1", "gone", &policyv1.Eviction{}, nil), missing, ""},
		{"eviction of another type", write("n1", Create, "", "pods", "eviction", "ns1", "p1", p1, nil), refused, "unexpected type"},
		{"pods/exec", write("n1", Create, "", "pods", "exec", "ns1", "p1", nil, nil), refused, "unexpected pod subresource"},
		{"pods/ephemeralcontainers", write("n1", Update, "", "pods", "ephemeralcontainers", "ns1", "p1", p1, p1), refused, "unexpected pod subresource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAdmit(t, env.r.Admit(t.Context(), tt.w), tt.want, tt.msg)
		})
	}
	if n := len(env.sars.sent()); n != 0 {
		t.Errorf("%d SubjectAccessReviews sent for pod writes, want 0", n)
	}
}

func TestRestrictionWho(t *testing.T) {
	env := newRestrictionEnv(t, RestrictionOptions{}, nil, pod("ns1", "p2", "n2"))
	deleteP2 := func(u user.Info) Write {
		w := write("n1", Delete, "", "pods", "", "ns1", "p2", nil, nil)
		w.User = u
		return w
	}
	tests := []struct {
		name string
		w    Write
		want outcome
		msg  string
	}{
		{"node", deleteP2(nodeUser("n1")), refused, "can only delete pods"},
		{"nil user is not restricted", deleteP2(nil), admitted, ""},
		{"node name without nodes group is not restricted", deleteP2(&user.DefaultInfo{Name: "system:node:n1"}), admitted, ""},
		{"nodes group member with another name is not restricted", deleteP2(&user.DefaultInfo{Name: "alice", Groups: []string{user.NodesGroup}}), admitted, ""},
		{"unknown node is refused everything", deleteP2(&user.DefaultInfo{Name: "system:node:", Groups: []string{user.NodesGroup}}), refused, "could not determine node"},
		{"connect is refused", func() Write { w := deleteP2(nodeUser("n1")); w.Operation = "CONNECT"; return w }(), refused, "unexpected operation"},
		{"other resources are not restricted", write("n1", Create, "", "configmaps", "", "ns1", "", &corev1.ConfigMap{}, nil), admitted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAdmit(t, env.r.Admit(t.Context(), tt.w), tt.want, tt.msg)
		})
	}
}

func TestRestrictionNotSynced(t *testing.T) {
	client := fake.NewClientset(pod("ns1", "p1", "n1"))
	sar, err := authz.NewSAR(client.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRestriction(informers.NewSharedInformerFactory(client, 0), sar, RestrictionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.HasSynced() {
		t.Fatal("HasSynced before the factory started")
	}
	checkAdmit(t, r.Admit(t.Context(), write("n1", Delete, "", "pods", "", "ns1", "p1", nil, nil)), refused, "not yet ready")
	checkAdmit(t, r.Admit(t.Context(), Write{User: &user.DefaultInfo{Name: "admin"}, Operation: Delete, Resource: "pods"}), admitted, "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if r.WaitForSync(ctx) {
		t.Error("WaitForSync with a done context returned true")
	}
}

func TestRestrictionZeroValue(t *testing.T) {
	var r Restriction
	checkAdmit(t, r.Admit(t.Context(), write("n1", Delete, "", "pods", "", "ns1", "p1", nil, nil)), refused, "not yet ready")
	checkAdmit(t, r.Admit(t.Context(), Write{User: &user.DefaultInfo{Name: "admin"}, Operation: Delete, Resource: "pods"}), admitted, "")
}

func TestNewRestrictionErrors(t *testing.T) {
	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactory(client, 0)
	var nilFactory informers.SharedInformerFactory
	var nilSAR *authz.SAR
	allow := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionAllow, "", nil
	})
	tests := []struct {
		name    string
		factory informers.SharedInformerFactory
		authz   authorizer.Authorizer
	}{
		{"nil factory", nilFactory, allow},
		{"nil authorizer", factory, nil},
		{"typed nil authorizer", factory, nilSAR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := NewRestriction(tt.factory, tt.authz, RestrictionOptions{}); err == nil || r != nil {
				t.Fatalf("NewRestriction = %v, %v; want an error", r, err)
			}
		})
	}
}
