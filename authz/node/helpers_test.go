package node

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func nodeUser(name string) user.Info {
	return &user.DefaultInfo{Name: NodeUserPrefix + name, Groups: []string{user.NodesGroup, user.AllAuthenticated}}
}

// req describes one request; fieldSelector is parsed the way the API server parses it.
type req struct {
	verb, group, resource, sub, ns, name string
	fieldSelector                        string
	path                                 string // non-resource request when set
}

func (r req) attrs(u user.Info) authorizer.AttributesRecord {
	a := authorizer.AttributesRecord{
		User: u, Verb: r.verb, APIGroup: r.group, Resource: r.resource, Subresource: r.sub,
		Namespace: r.ns, Name: r.name, ResourceRequest: r.path == "", Path: r.path,
	}
	if r.fieldSelector != "" {
		sel, err := fields.ParseSelector(r.fieldSelector)
		if err != nil {
			a.FieldSelectorParsingErr = err
		} else {
			a.FieldSelectorRequirements = sel.Requirements()
		}
	}
	return a
}

// pod returns a pod in ns bound to node (unbound when node is empty), changed by the mutators.
func pod(ns, name, node string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name + "@" + node)},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func withSA(sa string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.ServiceAccountName = sa }
}

func withVolume(name string, src corev1.VolumeSource) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: src})
	}
}

func secretVolume(secret string) func(*corev1.Pod) {
	return withVolume("sec-"+secret, corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}})
}

func configMapVolume(cm string) func(*corev1.Pod) {
	return withVolume("cm-"+cm, corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}}})
}

func pvcVolume(claim string) func(*corev1.Pod) {
	return withVolume("pvc-"+claim, corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}})
}

// projectedTokenVolume is the kube-api-access volume the API server adds to pods.
func projectedTokenVolume() func(*corev1.Pod) {
	return withVolume("kube-api-access", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{}},
	}}})
}

func alwaysSynced() bool { return true }

// newGraphAuthorizer returns an authorizer over g that is always synced.
func newGraphAuthorizer(t *testing.T, g *Graph, opts Options) *Authorizer {
	t.Helper()
	a, err := NewFromGraph(g, alwaysSynced, opts)
	if err != nil {
		t.Fatalf("NewFromGraph: %v", err)
	}
	return a
}

// eventually polls cond until it holds, failing the test after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// decision returns only the decision of a.Authorize, failing on an error.
func decision(t *testing.T, a *Authorizer, u user.Info, r req) (authorizer.Decision, string) {
	t.Helper()
	d, reason, err := a.Authorize(t.Context(), r.attrs(u))
	if err != nil {
		t.Fatalf("Authorize(%+v): unexpected error %v", r, err)
	}
	if d == authorizer.DecisionDeny {
		t.Fatalf("Authorize(%+v) = Deny; the node authorizer never denies", r)
	}
	return d, reason
}
