package node

import (
	"context"
	"errors"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

// allowedSoon waits until node's request is allowed (want) or not (!want).
func allowedSoon(t *testing.T, a *Authorizer, node string, r req, want bool) {
	t.Helper()
	eventually(t, "the graph reflects the change", func() bool {
		d, _ := decision(t, a, nodeUser(node), r)
		return (d == authorizer.DecisionAllow) == want
	})
}

func getSecret(ns, name string) req { return req{verb: "get", resource: "secrets", ns: ns, name: name} }

// TestStoppedInformersFailClosed ends the context given to Start after the sync, as a caller
// that bounds its start-up with a timeout would: the graph then no longer follows the cluster
// (a deleted pod would keep its secrets readable), so every node request becomes NoOpinion
// with ReasonStopped, the static rules' too, and HasSynced turns false.
func TestStoppedInformersFailClosed(t *testing.T) {
	client := fake.NewClientset(pod("ns1", "p1", "n1", secretVolume("s1")))
	a, err := New(client, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	a.Start(ctx)
	if !a.WaitForSync(ctx) {
		t.Fatal("WaitForSync returned false")
	}
	allowedSoon(t, a, "n1", getSecret("ns1", "s1"), true)
	cancel()
	for _, r := range []req{getSecret("ns1", "s1"), {verb: "list", resource: "services"}} {
		eventually(t, "the authorizer notices its informers stopped", func() bool {
			d, reason := decision(t, a, nodeUser("n1"), r)
			return d == authorizer.DecisionNoOpinion && reason == ReasonStopped
		})
	}
	if a.HasSynced() {
		t.Error("HasSynced is true after the informers stopped")
	}
}

// TestNewFedByFakeClientset drives the informers of New with a fake clientset: objects that exist
// before the start, then creates, updates and deletes, each waited for by polling.
func TestNewFedByFakeClientset(t *testing.T) {
	client := fake.NewClientset(
		pod("ns1", "p1", "n1", secretVolume("s1"), projectedTokenVolume(), withSA("sa1")),
		pod("ns1", "pending", "", secretVolume("s9")),
	)
	a, err := New(client, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, r := range []req{getSecret("ns1", "s1"), {verb: "list", resource: "services"}, {verb: "get", resource: "nodes", name: "n1"}} {
		if d, reason := decision(t, a, nodeUser("n1"), r); d != authorizer.DecisionNoOpinion || reason != ReasonNotSynced {
			t.Fatalf("before sync %+v: got (%v, %q), want NoOpinion %q", r, d, reason, ReasonNotSynced)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a.Start(ctx)
	if !a.WaitForSync(ctx) {
		t.Fatal("WaitForSync returned false")
	}
	if !a.HasSynced() {
		t.Fatal("HasSynced false after WaitForSync")
	}
	core := client.CoreV1()

	steps := []struct {
		name  string
		do    func() error
		node  string
		r     req
		allow bool
	}{
		{"initial pod's secret", nil, "n1", getSecret("ns1", "s1"), true},
		{"initial pod's kube-root-ca.crt", nil, "n1", req{verb: "get", resource: "configmaps", ns: "ns1", name: "kube-root-ca.crt"}, true},
		{"initial pod's service account token", nil, "n1", req{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns1", name: "sa1"}, true},
		{"unbound pod's secret", nil, "n1", getSecret("ns1", "s9"), false},
		{"created pod on n2", func() error {
			_, err := core.Pods("ns1").Create(ctx, pod("ns1", "p2", "n2", configMapVolume("cm2")), metav1.CreateOptions{})
			return err
		}, "n2", req{verb: "get", resource: "configmaps", ns: "ns1", name: "cm2"}, true},
		{"pending pod gets bound", func() error {
			_, err := core.Pods("ns1").Update(ctx, pod("ns1", "pending", "n2", secretVolume("s9")), metav1.UpdateOptions{})
			return err
		}, "n2", getSecret("ns1", "s9"), true},
		{"ephemeral container adds a secret", func() error {
			p := pod("ns1", "p2", "n2", configMapVolume("cm2"), func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "debug", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "debug-secret"}}}}}}}
			})
			_, err := core.Pods("ns1").Update(ctx, p, metav1.UpdateOptions{})
			return err
		}, "n2", getSecret("ns1", "debug-secret"), true},
		{"pod deleted: its secret is revoked", func() error {
			return core.Pods("ns1").Delete(ctx, "p1", metav1.DeleteOptions{})
		}, "n1", getSecret("ns1", "s1"), false},
		{"pod recreated on n2 under the same name", func() error {
			p := pod("ns1", "p1", "n2", secretVolume("s1"))
			p.UID = types.UID("second")
			_, err := core.Pods("ns1").Create(ctx, p, metav1.CreateOptions{})
			return err
		}, "n2", getSecret("ns1", "s1"), true},
		{"n1 stays without it", nil, "n1", getSecret("ns1", "s1"), false},
		{"PV secret through the claim", func() error {
			if _, err := core.Pods("ns1").Create(ctx, pod("ns1", "db", "n1", pvcVolume("data")), metav1.CreateOptions{}); err != nil {
				return err
			}
			_, err := core.PersistentVolumes().Create(ctx, pv("pv1", "ns1", "data", "csi-secret"), metav1.CreateOptions{})
			return err
		}, "n1", getSecret("ns1", "csi-secret"), true},
		{"the PV itself", nil, "n1", req{verb: "get", resource: "persistentvolumes", name: "pv1"}, true},
		{"PV deleted", func() error {
			return core.PersistentVolumes().Delete(ctx, "pv1", metav1.DeleteOptions{})
		}, "n1", getSecret("ns1", "csi-secret"), false},
		{"volume attachment", func() error {
			_, err := client.StorageV1().VolumeAttachments().Create(ctx, va("va1", "n1"), metav1.CreateOptions{})
			return err
		}, "n1", req{verb: "get", group: "storage.k8s.io", resource: "volumeattachments", name: "va1"}, true},
		{"volume attachment moved", func() error {
			_, err := client.StorageV1().VolumeAttachments().Update(ctx, va("va1", "n2"), metav1.UpdateOptions{})
			return err
		}, "n1", req{verb: "get", group: "storage.k8s.io", resource: "volumeattachments", name: "va1"}, false},
		{"resource slice", func() error {
			n := "n1"
			_, err := client.ResourceV1().ResourceSlices().Create(ctx, &resourcev1.ResourceSlice{
				ObjectMeta: metav1.ObjectMeta{Name: "sl1"}, Spec: resourcev1.ResourceSliceSpec{NodeName: &n, Driver: "d"}}, metav1.CreateOptions{})
			return err
		}, "n1", req{verb: "update", group: "resource.k8s.io", resource: "resourceslices", name: "sl1"}, true},
		{"resource slice deleted", func() error {
			return client.ResourceV1().ResourceSlices().Delete(ctx, "sl1", metav1.DeleteOptions{})
		}, "n1", req{verb: "update", group: "resource.k8s.io", resource: "resourceslices", name: "sl1"}, false},
		{"pod certificate request", func() error {
			_, err := client.CertificatesV1().PodCertificateRequests("ns1").Create(ctx, &certificatesv1.PodCertificateRequest{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "pcr1"}, Spec: certificatesv1.PodCertificateRequestSpec{NodeName: "n1"}}, metav1.CreateOptions{})
			return err
		}, "n1", req{verb: "get", group: "certificates.k8s.io", resource: "podcertificaterequests", ns: "ns1", name: "pcr1"}, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.do != nil {
				if err := s.do(); err != nil {
					t.Fatalf("changing the fake API server: %v", err)
				}
			}
			allowedSoon(t, a, s.node, s.r, s.allow)
		})
	}
}

// TestNewFromFactory shares the caller's factory, which the caller starts, and uses the
// options that turn off the optional informers.
func TestNewFromFactory(t *testing.T) {
	client := fake.NewClientset(pod("ns1", "p1", "n1", secretVolume("s1")))
	factory := informers.NewSharedInformerFactory(client, 0)
	a, err := NewFromFactory(factory, Options{DisableResourceSlices: true, DisablePodCertificateRequests: true})
	if err != nil {
		t.Fatalf("NewFromFactory: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer func() {
		cancel()
		factory.Shutdown()
	}()
	factory.Start(ctx.Done())
	a.Start(ctx) // starting twice is harmless
	eventually(t, "synced", a.HasSynced)
	allowedSoon(t, a, "n1", getSecret("ns1", "s1"), true)
	if got := len(factory.WaitForCacheSync(ctx.Done())); got != 3 {
		t.Errorf("factory runs %d informers, want 3 (pods, PVs, volume attachments)", got)
	}
}

// TestPopulatorHandlers calls the event handlers directly for what informers rarely produce:
// tombstones, objects of unexpected types and updates that change nothing the graph reads.
func TestPopulatorHandlers(t *testing.T) {
	g := NewGraph()
	p, err := NewPopulator(g, informers.NewSharedInformerFactory(fake.NewClientset(), 0), Options{})
	if err != nil {
		t.Fatalf("NewPopulator: %v", err)
	}
	p1 := pod("ns", "p", "n1", secretVolume("s"))
	p.addPod(p1)
	if !g.Related("n1", KindSecret, "ns", "s") {
		t.Fatal("addPod did not add")
	}
	// An update with the same UID and node keeps the recorded references, as upstream: a
	// pod's references cannot change once it is bound.
	p.updatePod(p1, pod("ns", "p", "n1", secretVolume("other")))
	if !g.Related("n1", KindSecret, "ns", "s") || g.Related("n1", KindSecret, "ns", "other") {
		t.Error("a no-op update changed the graph")
	}
	p.deletePod(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: p1})
	if g.Related("n1", KindPod, "ns", "p") {
		t.Error("tombstone delete did not remove the pod")
	}
	p.addPV(pv("pv", "ns", "c", "s"))
	p.deletePV(cache.DeletedFinalStateUnknown{Key: "pv", Obj: pv("pv", "ns", "c", "s")})
	p.addVA(va("va", "n1"))
	p.deleteVA(cache.DeletedFinalStateUnknown{Key: "va", Obj: va("va", "n1")})
	for _, bad := range []any{"not an object", nil, (*corev1.Pod)(nil), &corev1.Secret{}} {
		p.addPod(bad)
		p.deletePod(bad)
		p.addPV(bad)
		p.deletePV(bad)
		p.addVA(bad)
		p.deleteVA(bad)
		p.addSlice(bad)
		p.deleteSlice(bad)
		p.addPCR(bad)
		p.deletePCR(bad)
	}
	if len(g.pods)+len(g.pvs)+len(g.direct)+len(g.nodeIDs) != 0 {
		t.Errorf("graph not empty: pods=%d pvs=%d direct=%d nodes=%d", len(g.pods), len(g.pvs), len(g.direct), len(g.nodeIDs))
	}
}

func TestConstructorErrors(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	tests := []struct {
		name string
		err  error
	}{
		{"New(nil)", second(New(nil, Options{}))},
		{"New(typed nil)", second(New((*fake.Clientset)(nil), Options{}))},
		{"NewFromFactory(nil)", second(NewFromFactory(nil, Options{}))},
		{"NewFromGraph(nil graph)", second(NewFromGraph(nil, alwaysSynced, Options{}))},
		{"NewFromGraph(nil hasSynced)", second(NewFromGraph(NewGraph(), nil, Options{}))},
		{"NewPopulator(nil graph)", second(NewPopulator(nil, factory, Options{}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Error("no error")
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestAuthorizerInterface(t *testing.T) {
	a := newGraphAuthorizer(t, fixtureGraph(), Options{})
	if d, _, err := a.Authorize(t.Context(), nil); err == nil || d != authorizer.DecisionNoOpinion {
		t.Errorf("nil attributes: got (%v, %v), want NoOpinion with an error", d, err)
	}
	attrs := getSecret("ns1", "s1").attrs(nodeUser("n1"))
	if cd := a.ConditionsAwareAuthorize(t.Context(), attrs); !cd.IsAllow() {
		t.Errorf("ConditionsAwareAuthorize = %v, want Allow", cd)
	}
	other := getSecret("ns1", "s2").attrs(nodeUser("n1"))
	if cd := a.ConditionsAwareAuthorize(t.Context(), other); !cd.IsNoOpinion() {
		t.Errorf("ConditionsAwareAuthorize = %v, want NoOpinion", cd)
	}
	d, _, err := a.EvaluateConditions(t.Context(), authorizer.ConditionsAwareDecision{}, nil)
	if d != authorizer.DecisionDeny || !errors.Is(err, authorizer.ErrorConditionEvaluationNotSupported) {
		t.Errorf("EvaluateConditions = (%v, %v), want Deny with ErrorConditionEvaluationNotSupported", d, err)
	}
	if a.Graph() == nil {
		t.Error("Graph() = nil")
	}
}

// TestTrimKeepsReferences checks that New's informer transform keeps every reference the graph
// reads and is idempotent.
func TestTrimKeepsReferences(t *testing.T) {
	claim := "rc"
	full := pod("ns", "p", "n1", withSA("sa"), secretVolume("s"), configMapVolume("c"), pvcVolume("v"), projectedTokenVolume(), func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "x"}
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "m", "other": "y"}
		p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
		p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "pull"}}
		p.Spec.InitContainers = []corev1.Container{{Name: "i", Env: []corev1.EnvVar{
			{Name: "PLAIN", Value: "v"},
			{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "init-s"}}}},
		}}}
		p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ef"}}}}
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e",
			Env: []corev1.EnvVar{{Name: "C", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "eph-c"}}}}}}}}
		p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: &claim}}
		p.Status.Phase = corev1.PodRunning
	})
	full.Annotations = map[string]string{"other": "y"} // not a mirror pod, so every reference counts
	once, err := trimObject(full.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	twice, _ := trimObject(once)
	a, b, c := podReferences(full), podReferences(once.(*corev1.Pod)), podReferences(twice.(*corev1.Pod))
	if len(a) != 10 {
		t.Fatalf("full pod has %d references, want 10: %v", len(a), a)
	}
	if !equalKeys(a, b) || !equalKeys(a, c) {
		t.Errorf("references changed by trimming:\nfull %v\nonce %v\ntwice %v", a, b, c)
	}
	tp := once.(*corev1.Pod)
	if tp.Labels != nil || tp.Annotations != nil || tp.ManagedFields != nil || tp.Status.Phase != "" || len(tp.Spec.InitContainers[0].Env) != 1 {
		t.Errorf("trimmed pod keeps unneeded fields: %+v", tp)
	}
	mirror := pod("ns", "m", "n1", func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x", "y": "z"} })
	tm, _ := trimObject(mirror)
	if _, ok := tm.(*corev1.Pod).Annotations[corev1.MirrorPodAnnotationKey]; !ok || len(tm.(*corev1.Pod).Annotations) != 1 {
		t.Errorf("mirror annotation not kept alone: %v", tm.(*corev1.Pod).Annotations)
	}
	pvObj := pv("pv", "ns", "c", "s")
	pvObj.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x"}}
	if out, _ := trimObject(pvObj); out.(*corev1.PersistentVolume).ManagedFields != nil {
		t.Error("managed fields kept on a PV")
	}
	var nonObject runtime.Object = &metav1.Status{}
	if out, err := trimObject(nonObject); out != nonObject || err != nil {
		t.Error("an object without metadata was not passed through")
	}
}

func equalKeys(a, b []objKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
