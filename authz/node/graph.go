package node

import (
	"strconv"
	"sync"
)

// Kind is the kind of API object a [Graph] vertex stands for. The zero value is not a valid
// kind: [Graph.Related] reports false for it.
type Kind uint8

// The kinds of objects the graph relates to nodes.
const (
	KindPod Kind = iota + 1
	KindSecret
	KindConfigMap
	KindPersistentVolumeClaim
	KindPersistentVolume
	KindServiceAccount
	KindResourceClaim
	KindVolumeAttachment
	KindResourceSlice
	KindPodCertificateRequest
)

// String returns the lower-case name of the kind ("pod", "secret", ...).
func (k Kind) String() string {
	switch k {
	case KindPod:
		return "pod"
	case KindSecret:
		return "secret"
	case KindConfigMap:
		return "configmap"
	case KindPersistentVolumeClaim:
		return "persistentvolumeclaim"
	case KindPersistentVolume:
		return "persistentvolume"
	case KindServiceAccount:
		return "serviceaccount"
	case KindResourceClaim:
		return "resourceclaim"
	case KindVolumeAttachment:
		return "volumeattachment"
	case KindResourceSlice:
		return "resourceslice"
	case KindPodCertificateRequest:
		return "podcertificaterequest"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// objKey names one object of the graph. Cluster-scoped objects have an empty ns.
type objKey struct {
	ns, name string
	kind     Kind
}

// Graph holds which API objects are related to which nodes, the way the API server's Node
// authorizer sees them. Every relationship leads to a node:
//
//	pod                                   -> node   (pods with spec.nodeName)
//	secret, configmap, pvc, serviceaccount,
//	resourceclaim                         -> pod    (references in the pod spec, see AddPod)
//	pv                                    -> pvc    (the PV's spec.claimRef)
//	secret                                -> pv     (the PV source's kubelet-visible secrets)
//	volumeattachment, resourceslice,
//	podcertificaterequest                 -> node   (their spec.nodeName)
//
// Create it with [NewGraph]; the zero value is not usable. All methods are safe for concurrent
// use: changes take a write lock, [Graph.Related] a read lock, and no method calls out while
// holding it.
//
// Instead of a general graph it keeps, for each object referenced by pods, a reference count per
// node (how many pods on that node reference it), so that a query is a few map lookups and not
// a graph traversal. Only secrets are reached through a second hop (secret -> pv -> pvc), which
// costs one lookup per PV referencing the secret.
type Graph struct {
	mu sync.RWMutex

	nodeIDs map[string]uint32 // node name -> id (ids start at 1)
	nodes   []nodeSlot        // by id; nodes[0] is unused
	freeIDs []uint32          // ids of released nodes, reused first

	pods map[objKey]*podEntry // KindPod -> the pod's node and references
	refs map[objKey]*refEntry // objects referenced by pods -> nodes of those pods

	pvs         map[objKey]*pvEntry // KindPersistentVolume -> claim and secrets
	pvsBySecret map[objKey][]objKey // secret -> PVs that reference it
	direct      map[objKey]uint32   // VA, slice, PCR -> node id
}

// nodeSlot is one interned node name and how many graph entries (pods, attachments, slices,
// pod certificate requests) point at it.
type nodeSlot struct {
	name string
	refs int
}

// podEntry is a pod bound to a node and the objects it references (each at most once).
type podEntry struct {
	node uint32
	refs []*refEntry
}

// refEntry is one object referenced by pods and the nodes those pods are bound to.
type refEntry struct {
	key   objKey
	nodes nodeSet
}

// pvEntry is a PersistentVolume with a claimRef and the kubelet-visible secrets it names.
type pvEntry struct {
	claim   objKey
	secrets []objKey
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{
		nodeIDs:     map[string]uint32{},
		nodes:       make([]nodeSlot, 1),
		pods:        map[objKey]*podEntry{},
		refs:        map[objKey]*refEntry{},
		pvs:         map[objKey]*pvEntry{},
		pvsBySecret: map[objKey][]objKey{},
		direct:      map[objKey]uint32{},
	}
}

// Related reports whether the object of the given kind, namespace and name is related to the
// node: whether a node authorizer would find a path from the object to the node. Cluster-scoped
// kinds (PersistentVolume, VolumeAttachment, ResourceSlice) need an empty namespace, namespaced
// kinds a non-empty one, exactly as the API server looks them up; anything unknown is false.
func (g *Graph) Related(nodeName string, kind Kind, namespace, name string) bool {
	if nodeName == "" || name == "" {
		return false
	}
	key := objKey{kind: kind, ns: namespace, name: name}
	g.mu.RLock()
	defer g.mu.RUnlock()
	id, ok := g.nodeIDs[nodeName]
	if !ok {
		return false
	}
	switch kind {
	case KindPod:
		p := g.pods[key]
		return p != nil && p.node == id
	case KindConfigMap, KindPersistentVolumeClaim, KindServiceAccount, KindResourceClaim:
		return g.refHasLocked(key, id)
	case KindSecret:
		if g.refHasLocked(key, id) {
			return true
		}
		for _, pv := range g.pvsBySecret[key] {
			if g.pvHasLocked(pv, id) {
				return true
			}
		}
		return false
	case KindPersistentVolume:
		return g.pvHasLocked(key, id)
	case KindVolumeAttachment, KindResourceSlice, KindPodCertificateRequest:
		n, ok := g.direct[key]
		return ok && n == id
	}
	return false
}

// refHasLocked reports whether a pod on node id references key. Needs the read lock.
func (g *Graph) refHasLocked(key objKey, id uint32) bool {
	r := g.refs[key]
	return r != nil && r.nodes.has(id)
}

// pvHasLocked reports whether the PV's claim is referenced by a pod on node id. Needs the read
// lock.
func (g *Graph) pvHasLocked(pv objKey, id uint32) bool {
	e := g.pvs[pv]
	return e != nil && g.refHasLocked(e.claim, id)
}

// acquireNodeLocked returns the id of the node, interning it, and counts one more reference to
// it. Needs the write lock.
func (g *Graph) acquireNodeLocked(name string) uint32 {
	if id, ok := g.nodeIDs[name]; ok {
		g.nodes[id].refs++
		return id
	}
	var id uint32
	if n := len(g.freeIDs); n > 0 {
		id = g.freeIDs[n-1]
		g.freeIDs = g.freeIDs[:n-1]
		g.nodes[id] = nodeSlot{name: name, refs: 1}
	} else {
		id = uint32(len(g.nodes))
		g.nodes = append(g.nodes, nodeSlot{name: name, refs: 1})
	}
	g.nodeIDs[name] = id
	return id
}

// releaseNodeLocked drops one reference to node id and forgets the node after the last one.
// Needs the write lock.
func (g *Graph) releaseNodeLocked(id uint32) {
	s := &g.nodes[id]
	s.refs--
	if s.refs > 0 {
		return
	}
	delete(g.nodeIDs, s.name)
	*s = nodeSlot{}
	g.freeIDs = append(g.freeIDs, id)
}

// setDirect relates a VolumeAttachment, ResourceSlice or PodCertificateRequest to a node,
// replacing what was recorded for it; an empty nodeName removes it.
func (g *Graph) setDirect(key objKey, nodeName string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old, ok := g.direct[key]; ok {
		if nodeName != "" && g.nodes[old].name == nodeName {
			return
		}
		delete(g.direct, key)
		g.releaseNodeLocked(old)
	}
	if nodeName != "" {
		g.direct[key] = g.acquireNodeLocked(nodeName)
	}
}

// nodeSetMapThreshold is the number of distinct nodes above which a nodeSet switches from a
// slice to a map, so that objects shared by pods on many nodes (a namespace's
// kube-root-ca.crt, a common pull secret) stay O(1) to query.
const nodeSetMapThreshold = 16

// nodeSet counts, per node id, how many pods on that node reference one object.
type nodeSet struct {
	list []nodeCount      // used while small
	m    map[uint32]int32 // used once more than nodeSetMapThreshold nodes were seen
}

type nodeCount struct {
	node  uint32
	count int32
}

func (s *nodeSet) has(id uint32) bool {
	if s.m != nil {
		return s.m[id] > 0
	}
	for _, c := range s.list {
		if c.node == id {
			return true
		}
	}
	return false
}

func (s *nodeSet) add(id uint32) {
	if s.m != nil {
		s.m[id]++
		return
	}
	for i := range s.list {
		if s.list[i].node == id {
			s.list[i].count++
			return
		}
	}
	if len(s.list) < nodeSetMapThreshold {
		s.list = append(s.list, nodeCount{node: id, count: 1})
		return
	}
	s.m = make(map[uint32]int32, 2*nodeSetMapThreshold)
	for _, c := range s.list {
		s.m[c.node] = c.count
	}
	s.list = nil
	s.m[id] = 1
}

// remove drops one reference from node id and reports whether the set became empty.
func (s *nodeSet) remove(id uint32) (empty bool) {
	if s.m != nil {
		if n := s.m[id]; n > 1 {
			s.m[id] = n - 1
		} else {
			delete(s.m, id)
		}
		return len(s.m) == 0
	}
	for i := range s.list {
		if s.list[i].node != id {
			continue
		}
		if s.list[i].count > 1 {
			s.list[i].count--
		} else {
			last := len(s.list) - 1
			s.list[i] = s.list[last]
			s.list = s.list[:last]
		}
		break
	}
	return len(s.list) == 0
}
