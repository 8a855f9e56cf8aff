package node

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestGraphUpdates(t *testing.T) {
	tests := []struct {
		name  string
		steps func(g *Graph)
		node  string
		kind  Kind
		ns    string
		obj   string
		want  bool
	}{
		{"pod moved to another node: old node loses its secret", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", secretVolume("s")))
			g.AddPod(pod("ns", "p", "n2", secretVolume("s")))
		}, "n1", KindSecret, "ns", "s", false},
		{"pod moved to another node: new node gains its secret", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", secretVolume("s")))
			g.AddPod(pod("ns", "p", "n2", secretVolume("s")))
		}, "n2", KindSecret, "ns", "s", true},
		{"pod moved: old node loses the pod", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1"))
			g.AddPod(pod("ns", "p", "n2"))
		}, "n1", KindPod, "ns", "p", false},
		{"pod deleted", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", secretVolume("s")))
			g.DeletePod("ns", "p")
		}, "n1", KindSecret, "ns", "s", false},
		{"pod re-added unbound", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", withSA("sa")))
			g.AddPod(pod("ns", "p", "", withSA("sa")))
		}, "n1", KindServiceAccount, "ns", "sa", false},
		{"pod updated with fewer references", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", secretVolume("s"), configMapVolume("c")))
			g.AddPod(pod("ns", "p", "n1", configMapVolume("c")))
		}, "n1", KindSecret, "ns", "s", false},
		{"shared secret survives one of two pods", func(g *Graph) {
			g.AddPod(pod("ns", "p1", "n1", secretVolume("s")))
			g.AddPod(pod("ns", "p2", "n1", secretVolume("s")))
			g.DeletePod("ns", "p1")
		}, "n1", KindSecret, "ns", "s", true},
		{"secret referenced twice by one pod is gone with it", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", secretVolume("s"), func(p *corev1.Pod) {
				p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "s"}}
			}))
			g.DeletePod("ns", "p")
		}, "n1", KindSecret, "ns", "s", false},
		{"PV rebound to another claim", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", pvcVolume("c1")))
			g.AddPV(pv("pv", "ns", "c1", "sec"))
			g.AddPV(pv("pv", "ns", "c2", "sec"))
		}, "n1", KindSecret, "ns", "sec", false},
		{"PV released (no claimRef)", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", pvcVolume("c1")))
			g.AddPV(pv("pv", "ns", "c1", "sec"))
			g.AddPV(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}})
		}, "n1", KindPersistentVolume, "", "pv", false},
		{"PV added before its pod", func(g *Graph) {
			g.AddPV(pv("pv", "ns", "c1", "sec"))
			g.AddPod(pod("ns", "p", "n1", pvcVolume("c1")))
		}, "n1", KindSecret, "ns", "sec", true},
		{"PV secret after the pod using the claim is gone", func(g *Graph) {
			g.AddPod(pod("ns", "p", "n1", pvcVolume("c1")))
			g.AddPV(pv("pv", "ns", "c1", "sec"))
			g.DeletePod("ns", "p")
		}, "n1", KindSecret, "ns", "sec", false},
		{"attachment moved", func(g *Graph) {
			g.AddVolumeAttachment(va("va", "n1"))
			g.AddVolumeAttachment(va("va", "n2"))
		}, "n1", KindVolumeAttachment, "", "va", false},
		{"attachment deleted", func(g *Graph) {
			g.AddVolumeAttachment(va("va", "n1"))
			g.DeleteVolumeAttachment("va")
		}, "n1", KindVolumeAttachment, "", "va", false},
		{"attachment without node", func(g *Graph) {
			g.AddVolumeAttachment(va("va", "n1"))
			g.AddVolumeAttachment(va("va", ""))
		}, "n1", KindVolumeAttachment, "", "va", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGraph()
			tt.steps(g)
			if got := g.Related(tt.node, tt.kind, tt.ns, tt.obj); got != tt.want {
				t.Errorf("Related(%s, %v, %s/%s) = %v, want %v", tt.node, tt.kind, tt.ns, tt.obj, got, tt.want)
			}
		})
	}
}

func pv(name, claimNS, claim, secret string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		ClaimRef: &corev1.ObjectReference{Namespace: claimNS, Name: claim},
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
			Driver: "d", NodePublishSecretRef: &corev1.SecretReference{Namespace: claimNS, Name: secret}}},
	}}
}

func va(name, node string) *storagev1.VolumeAttachment {
	return &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: storagev1.VolumeAttachmentSpec{NodeName: node}}
}

// modelPod is what the model test chose for a pod; the model derives relations from it
// independently of podReferences.
type modelPod struct {
	node, sa string
	secrets  []string
	cms      []string
	pvcs     []string
	mirror   bool
}

type modelPV struct{ claimNS, claim, secret string }

// TestGraphMatchesModel applies random adds, updates and deletes and compares every relation
// with a brute-force model after each step, then checks that deleting everything leaves no
// state behind. More than nodeSetMapThreshold nodes share objects, so both nodeSet forms are
// exercised.
func TestGraphMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := make([]string, 24)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("n%d", i)
	}
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, rng.IntN(n)) }
	namespaces := []string{"a", "b"}
	const podNames = 30 // per namespace: more than nodeSetMapThreshold nodes can share an object
	g := NewGraph()
	pods := map[[2]string]modelPod{}
	pvs := map[string]modelPV{}
	vas := map[string]string{}

	check := func(step int) {
		t.Helper()
		related := func(node string, kind Kind, ns, name string) bool {
			podUses := func(match func(modelPod) bool) bool {
				for k, p := range pods {
					if k[0] == ns && p.node == node && !p.mirror && match(p) {
						return true
					}
				}
				return false
			}
			claimUsed := func(cns, claim string) bool {
				for k, p := range pods {
					if k[0] == cns && p.node == node && !p.mirror && slices.Contains(p.pvcs, claim) {
						return true
					}
				}
				return false
			}
			switch kind {
			case KindPod:
				p, ok := pods[[2]string{ns, name}]
				return ok && p.node == node
			case KindServiceAccount:
				return podUses(func(p modelPod) bool { return p.sa == name })
			case KindConfigMap:
				return podUses(func(p modelPod) bool { return slices.Contains(p.cms, name) })
			case KindPersistentVolumeClaim:
				return claimUsed(ns, name)
			case KindSecret:
				if podUses(func(p modelPod) bool { return slices.Contains(p.secrets, name) }) {
					return true
				}
				for _, v := range pvs {
					if v.claimNS == ns && v.secret == name && claimUsed(v.claimNS, v.claim) {
						return true
					}
				}
				return false
			case KindPersistentVolume:
				v, ok := pvs[name]
				return ok && ns == "" && claimUsed(v.claimNS, v.claim)
			case KindVolumeAttachment:
				return ns == "" && vas[name] == node && node != ""
			}
			return false
		}
		type probe struct {
			kind   Kind
			prefix string
			n      int
			nsList []string
		}
		probes := []probe{
			{KindPod, "p", podNames, namespaces}, {KindServiceAccount, "sa", 3, namespaces},
			{KindSecret, "s", 6, namespaces}, {KindConfigMap, "c", 4, namespaces},
			{KindPersistentVolumeClaim, "v", 4, namespaces}, {KindPersistentVolume, "pv", 4, []string{""}},
			{KindVolumeAttachment, "va", 4, []string{""}},
		}
		for _, node := range nodes {
			for _, pr := range probes {
				for _, ns := range pr.nsList {
					for i := range pr.n {
						name := fmt.Sprintf("%s%d", pr.prefix, i)
						if got, want := g.Related(node, pr.kind, ns, name), related(node, pr.kind, ns, name); got != want {
							t.Fatalf("step %d: Related(%s, %v, %q, %s) = %v, model says %v", step, node, pr.kind, ns, name, got, want)
						}
					}
				}
			}
		}
	}

	for step := range 1500 {
		switch op := rng.IntN(10); {
		case op < 5: // add or update a pod
			ns, name := namespaces[rng.IntN(2)], pick("p", podNames)
			m := modelPod{sa: pick("sa", 3), mirror: rng.IntN(10) == 0}
			if rng.IntN(6) > 0 {
				m.node = nodes[rng.IntN(len(nodes))]
			}
			for range rng.IntN(3) {
				m.secrets = append(m.secrets, pick("s", 6))
			}
			for range rng.IntN(3) {
				m.cms = append(m.cms, pick("c", 4))
			}
			for range rng.IntN(2) {
				m.pvcs = append(m.pvcs, pick("v", 4))
			}
			p := pod(ns, name, m.node, withSA(m.sa))
			for _, s := range m.secrets {
				p.Spec.Containers[0].EnvFrom = append(p.Spec.Containers[0].EnvFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: s}}})
			}
			for _, c := range m.cms {
				configMapVolume(c)(p)
			}
			for _, c := range m.pvcs {
				pvcVolume(c)(p)
			}
			if m.mirror {
				p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "m"}
			}
			g.AddPod(p)
			if m.node == "" {
				delete(pods, [2]string{ns, name})
			} else {
				pods[[2]string{ns, name}] = m
			}
		case op < 7:
			ns, name := namespaces[rng.IntN(2)], pick("p", podNames)
			g.DeletePod(ns, name)
			delete(pods, [2]string{ns, name})
		case op < 8:
			name := pick("pv", 4)
			v := modelPV{claimNS: namespaces[rng.IntN(2)], claim: pick("v", 4), secret: pick("s", 6)}
			g.AddPV(pv(name, v.claimNS, v.claim, v.secret))
			pvs[name] = v
		case op < 9:
			name := pick("pv", 4)
			g.DeletePV(name)
			delete(pvs, name)
		default:
			name, node := pick("va", 4), ""
			if rng.IntN(4) > 0 {
				node = nodes[rng.IntN(len(nodes))]
			}
			g.AddVolumeAttachment(va(name, node))
			if node == "" {
				delete(vas, name)
			} else {
				vas[name] = node
			}
		}
		if step%10 == 0 {
			check(step)
		}
	}
	check(-1)

	for k := range pods {
		g.DeletePod(k[0], k[1])
	}
	for name := range pvs {
		g.DeletePV(name)
	}
	for name := range vas {
		g.DeleteVolumeAttachment(name)
	}
	if len(g.pods)+len(g.refs)+len(g.pvs)+len(g.pvsBySecret)+len(g.direct)+len(g.nodeIDs) != 0 {
		t.Errorf("state left after deleting everything: pods=%d refs=%d pvs=%d pvsBySecret=%d direct=%d nodes=%d",
			len(g.pods), len(g.refs), len(g.pvs), len(g.pvsBySecret), len(g.direct), len(g.nodeIDs))
	}
}

func TestNodeSet(t *testing.T) {
	var s nodeSet
	const n = 3 * nodeSetMapThreshold
	for id := uint32(1); id <= n; id++ {
		s.add(id)
		s.add(id)
		if !s.has(id) {
			t.Fatalf("has(%d) = false after add", id)
		}
	}
	if s.m == nil {
		t.Fatalf("set of %d nodes did not switch to a map", n)
	}
	for id := uint32(1); id <= n; id++ {
		if s.remove(id) {
			t.Fatalf("empty after removing one of two references to %d", id)
		}
		if !s.has(id) {
			t.Fatalf("has(%d) = false with one reference left", id)
		}
		empty := s.remove(id)
		if s.has(id) {
			t.Fatalf("has(%d) = true after removing both references", id)
		}
		if empty != (id == n) {
			t.Fatalf("remove(%d) reported empty=%v", id, empty)
		}
	}
}
