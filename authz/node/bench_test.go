package node

import (
	"runtime"
	"strconv"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

// The benchmark cluster: benchNodes nodes running benchPods pods (30 each) in benchNamespaces
// namespaces. Every pod has its own configmap (envFrom) and secret (volume), its namespace's
// service account and the projected kube-api-access volume (service account token plus the
// namespace's kube-root-ca.crt, shared by pods on many nodes); every benchPVCEvery-th pod mounts
// its own claim, bound to a CSI PV with a node-publish secret.
const (
	benchNodes      = 5000
	benchPods       = 150000
	benchNamespaces = 1000
	benchPVCEvery   = 10
)

func benchNode(i int) string      { return "node-" + strconv.Itoa(i%benchNodes) }
func benchNamespace(i int) string { return "ns-" + strconv.Itoa(i%benchNamespaces) }

// benchPod returns pod i, bound to node i%benchNodes; generation selects a distinct UID.
func benchPod(i, generation int) *corev1.Pod {
	ns, name := benchNamespace(i), "pod-"+strconv.Itoa(i)
	p := pod(ns, name, benchNode(i), withSA("sa-"+ns), secretVolume("secret-"+strconv.Itoa(i)), projectedTokenVolume())
	p.UID = types.UID(name + "-" + strconv.Itoa(generation))
	p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "cm-" + strconv.Itoa(i)}}}}
	if i%benchPVCEvery == 0 {
		pvcVolume("claim-" + strconv.Itoa(i))(p)
	}
	return p
}

func benchPV(i int) *corev1.PersistentVolume {
	return pv("pv-"+strconv.Itoa(i), benchNamespace(i), "claim-"+strconv.Itoa(i), "csi-"+strconv.Itoa(i))
}

// buildBenchGraph fills a graph with the benchmark cluster; pods are generated one at a time so
// that only the graph keeps memory.
func buildBenchGraph() *Graph {
	g := NewGraph()
	for i := range benchPods {
		g.AddPod(benchPod(i, 0))
		if i%benchPVCEvery == 0 {
			g.AddPV(benchPV(i))
		}
	}
	return g
}

var benchGraph = sync.OnceValue(buildBenchGraph)

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkGraphMemory builds the whole benchmark graph per iteration and reports the heap it
// keeps (after GC) in MB and bytes per pod, and the build rate.
func BenchmarkGraphMemory(b *testing.B) {
	b.ReportAllocs()
	var kept uint64
	for b.Loop() {
		b.StopTimer()
		before := heapAlloc()
		b.StartTimer()
		g := buildBenchGraph()
		b.StopTimer()
		kept = heapAlloc() - before
		runtime.KeepAlive(g)
		b.StartTimer()
	}
	b.ReportMetric(float64(kept)/(1<<20), "MB")
	b.ReportMetric(float64(kept)/benchPods, "B/pod")
	b.ReportMetric(float64(b.N)*benchPods/b.Elapsed().Seconds(), "pods/s")
}

// BenchmarkGraphEvents measures event handling on the full graph: pod updates that re-add a
// pod (new UID), a pod added then deleted, and the same updates through the informer handler,
// also the common no-op update (status change) the handler skips.
func BenchmarkGraphEvents(b *testing.B) {
	g := benchGraph()
	pods := make([]*corev1.Pod, 1000) // a window of pods, prebuilt so the loop measures the graph
	for i := range pods {
		pods[i] = benchPod(i*(benchPods/len(pods)), 1)
	}
	report := func(b *testing.B, eventsPerOp int) {
		b.ReportMetric(float64(eventsPerOp*b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("graph/AddPod-update", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.AddPod(pods[i%len(pods)])
			i++
		}
		report(b, 1)
	})
	b.Run("graph/AddPod+DeletePod-new", func(b *testing.B) {
		b.ReportAllocs()
		fresh := make([]*corev1.Pod, len(pods))
		for i := range fresh {
			fresh[i] = benchPod(benchPods+i, 0)
		}
		i := 0
		for b.Loop() {
			p := fresh[i%len(fresh)]
			g.AddPod(p)
			g.DeletePod(p.Namespace, p.Name)
			i++
		}
		report(b, 2)
	})
	p, err := NewPopulator(g, informers.NewSharedInformerFactory(fake.NewClientset(), 0), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("handler/updatePod-new-UID", func(b *testing.B) {
		b.ReportAllocs()
		olds := make([]*corev1.Pod, len(pods))
		for i := range olds {
			olds[i] = pods[i].DeepCopy()
			olds[i].UID = "old"
		}
		i := 0
		for b.Loop() {
			k := i % len(pods)
			p.updatePod(olds[k], pods[k])
			i++
		}
		report(b, 1)
	})
	b.Run("handler/updatePod-status-only", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := i % len(pods)
			p.updatePod(pods[k], pods[k])
			i++
		}
		report(b, 1)
	})
}

// BenchmarkAuthorize measures decisions on the full graph.
func BenchmarkAuthorize(b *testing.B) {
	g := benchGraph()
	a, err := NewFromGraph(g, alwaysSynced, Options{})
	if err != nil {
		b.Fatal(err)
	}
	const i = 4242 // pod-4242 runs on node-4242
	self, other := nodeUser(benchNode(i)), nodeUser(benchNode(i+1))
	cases := []struct {
		name  string
		user  user.Info
		r     req
		allow bool
	}{
		{"secret-get-allowed", self, getSecret(benchNamespace(i), "secret-"+strconv.Itoa(i)), true},
		{"secret-get-denied", other, getSecret(benchNamespace(i), "secret-"+strconv.Itoa(i)), false},
		{"secret-get-unknown", self, getSecret(benchNamespace(i), "no-such-secret"), false},
		{"pv-secret-get-allowed", nodeUser(benchNode(0)), getSecret(benchNamespace(0), "csi-0"), true},
		{"shared-configmap-get-allowed", self, req{verb: "get", resource: "configmaps", ns: benchNamespace(i), name: "kube-root-ca.crt"}, true},
		{"pod-list-selector", self, req{verb: "list", resource: "pods", fieldSelector: "spec.nodeName=" + benchNode(i)}, true},
		{"sa-token-create", self, req{verb: "create", resource: "serviceaccounts", sub: "token", ns: benchNamespace(i), name: "sa-" + benchNamespace(i)}, true},
		{"static-services-list", self, req{verb: "list", resource: "services"}, true},
	}
	for _, tc := range cases {
		var attrs authorizer.Attributes = tc.r.attrs(tc.user) // boxed once, as a filter would
		if d, reason, _ := a.Authorize(b.Context(), attrs); (d == authorizer.DecisionAllow) != tc.allow {
			b.Fatalf("%s: got (%v, %q), want allow=%v", tc.name, d, reason, tc.allow)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = a.Authorize(b.Context(), attrs)
			}
		})
	}
	b.Run("secret-get-allowed-parallel", func(b *testing.B) {
		b.ReportAllocs()
		var attrs authorizer.Attributes = cases[0].r.attrs(self)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _, _ = a.Authorize(b.Context(), attrs)
			}
		})
	})
}

// BenchmarkAuthorizeDuringUpdates measures allowed secret gets while another goroutine keeps
// re-adding pods, the RWMutex contention case.
func BenchmarkAuthorizeDuringUpdates(b *testing.B) {
	g := benchGraph()
	a, err := NewFromGraph(g, alwaysSynced, Options{})
	if err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				g.AddPod(benchPod((i*7919)%benchPods, i))
			}
		}
	}()
	var attrs authorizer.Attributes = getSecret(benchNamespace(4242), "secret-4242").attrs(nodeUser(benchNode(4242)))
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = a.Authorize(b.Context(), attrs)
	}
	close(stop)
	<-done
}
