//go:build e2e

package nodediff_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
)

// apiResource is one resource the generator asks about, with the names and subresources it
// picks from.
type apiResource struct {
	group, version, resource string
	namespaced               bool
	names                    []string
	subresources             []string // "" is the object itself
	// focus are "<node> <namespace>/<name>" objects the fixture relates to the node ("-": to no
	// node, though something similar is related), picked often for named requests, preferring
	// the caller's own.
	focus []string
}

// resources covers every rule of the Node authorizer and the static node rules, plus
// resources nodes have nothing to do with.
var resources = []apiResource{
	{"", "v1", "secrets", true, append(secretNames, "kube-root-ca.crt"), []string{"", "", "", "status"}, []string{
		"node-a ns-a/sec-0", "node-a ns-a/sec-1", "node-a ns-a/sec-2", "node-a ns-a/sec-3", "node-b ns-a/sec-4",
		"node-b ns-b/sec-0", "node-a ns-b/sec-5", "node-a ns-a/sec-8", "node-a ns-b/sec-9",
		"- ns-a/sec-6", "- ns-a/sec-7", "- ns-b/sec-8", "- ns-a/sec-9"}},
	{"", "v1", "configmaps", true, append(cmNames, "kube-root-ca.crt"), []string{"", "", "", "status"}, []string{
		"node-a ns-a/cm-0", "node-a ns-a/cm-1", "node-a ns-a/cm-2", "node-b ns-a/cm-3", "node-a ns-b/cm-5",
		"node-a ns-a/kube-root-ca.crt", "node-b ns-a/kube-root-ca.crt", "node-a ns-b/kube-root-ca.crt", "node-b ns-b/kube-root-ca.crt",
		"- ns-a/cm-6", "- ns-a/cm-7", "- ns-b/cm-0"}},
	{"", "v1", "pods", true, podNames, []string{"", "", "status", "eviction", "log", "exec", "binding", "ephemeralcontainers", "proxy"}, []string{
		"node-a ns-a/pa1", "node-b ns-a/pa2", "node-b ns-b/pb1", "node-a ns-b/pb2", "node-a ns-a/mirror-a", "- ns-a/pending", "- ns-b/pa1"}},
	{"", "v1", "persistentvolumeclaims", true, pvcNames, []string{"", "", "status"}, []string{
		"node-a ns-a/pvc-0", "node-b ns-a/pvc-1", "node-b ns-b/pvc-2", "node-b ns-b/pb1-scratch", "- ns-b/pvc-3", "- ns-b/pvc-0"}},
	{"", "v1", "persistentvolumes", false, pvNames, []string{"", "", "status"}, []string{
		"node-a /pv-0", "node-b /pv-1", "node-b /pv-2", "- /pv-3"}},
	{"", "v1", "serviceaccounts", true, saNames, []string{"", "token", "token"}, []string{
		"node-a ns-a/sa-1", "node-b ns-a/default", "node-b ns-b/sa-1", "node-a ns-b/default", "- ns-a/sa-2", "- ns-b/sa-2"}},
	{"", "v1", "nodes", false, identities, []string{"", "", "status", "proxy", "log"}, nil},
	{"", "v1", "services", true, []string{"kubernetes", "svc"}, []string{"", "proxy", "status"}, nil},
	{"", "v1", "endpoints", true, []string{"kubernetes", "svc"}, []string{""}, nil},
	{"", "v1", "events", true, []string{"e1"}, []string{""}, nil},
	{"", "v1", "namespaces", false, namespaces, []string{"", "status"}, nil},
	{"events.k8s.io", "v1", "events", true, []string{"e1"}, []string{""}, nil},
	{"discovery.k8s.io", "v1", "endpointslices", true, []string{"e1"}, []string{""}, nil},
	{"coordination.k8s.io", "v1", "leases", true, identities, []string{""}, nil},
	{"storage.k8s.io", "v1", "csinodes", false, identities, []string{"", "status"}, nil},
	{"storage.k8s.io", "v1", "volumeattachments", false, append(vaNames, "va-x"), []string{"", "status"}, nil},
	{"storage.k8s.io", "v1", "csidrivers", false, []string{"csi.example.com"}, []string{""}, nil},
	{"resource.k8s.io", "v1", "resourceclaims", true, claimNames, []string{"", "status"}, nil},
	{"resource.k8s.io", "v1", "resourceslices", false, append(sliceNames, "slice-x"), []string{"", "status"}, nil},
	{"certificates.k8s.io", "v1", "podcertificaterequests", true, []string{"pcr-1"}, []string{"", "status"}, nil},
	{"certificates.k8s.io", "v1", "certificatesigningrequests", false, []string{"csr-1"}, []string{"", "approval", "status"}, nil},
	{"certificates.k8s.io", "v1beta1", "clustertrustbundles", false, []string{"bundle"}, []string{""}, nil},
	{"node.k8s.io", "v1", "runtimeclasses", false, []string{"runc"}, []string{""}, nil},
	{"authentication.k8s.io", "v1", "tokenreviews", false, nil, []string{""}, nil},
	{"authentication.k8s.io", "v1", "selfsubjectreviews", false, nil, []string{""}, nil},
	{"authorization.k8s.io", "v1", "subjectaccessreviews", false, nil, []string{""}, nil},
	{"authorization.k8s.io", "v1", "localsubjectaccessreviews", true, nil, []string{""}, nil},
	{"authorization.k8s.io", "v1", "selfsubjectaccessreviews", false, nil, []string{""}, nil},
	{"authorization.k8s.io", "v1", "selfsubjectrulesreviews", false, nil, []string{""}, nil},
	{"apps", "v1", "deployments", true, []string{"web"}, []string{"", "scale"}, nil},
	{"rbac.authorization.k8s.io", "v1", "clusterroles", false, []string{"system:node"}, []string{""}, nil},
}

// nonResourcePaths are asked with every method.
var nonResourcePaths = []string{
	"/", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/healthz", "/healthz/etcd",
	"/livez", "/readyz", "/version", "/version/", "/openapi/v2", "/openapi/v3/apis/apps/v1",
	"/metrics", "/logs/", "/debug/pprof/",
}

// caller is an identity requests are made as.
type caller struct {
	user  user.Info
	label string
	node  string // the node name for node identities, else ""
}

func callers() []caller {
	var out []caller
	for _, n := range identities {
		out = append(out, caller{
			user:  &user.DefaultInfo{Name: "system:node:" + n, Groups: []string{user.NodesGroup, user.AllAuthenticated}},
			label: "node " + n, node: n,
		})
	}
	return out
}

// notNodes are identities the Node authorizer must leave alone (a few requests each).
var notNodes = []caller{
	{user: &user.DefaultInfo{Name: "system:node:node-a", Groups: []string{user.AllAuthenticated}}, label: "node-a without system:nodes"},
	{user: &user.DefaultInfo{Name: "kubelet-node-a", Groups: []string{user.NodesGroup, user.AllAuthenticated}}, label: "system:nodes member"},
}

// generated is one request of the generator.
type generated struct {
	caller caller
	req    *http.Request
}

// generator draws requests deterministically from a seed.
type generator struct {
	rng      *rand.Rand
	weighted []int // indexes into resources; the graph's resources appear three times
}

func newGenerator(seed uint64) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(seed, 2))}
	for i, r := range resources {
		g.weighted = append(g.weighted, i)
		if r.group == "" && r.names != nil && r.namespaced && r.resource != "events" || r.resource == "persistentvolumes" || r.resource == "nodes" {
			g.weighted = append(g.weighted, i, i)
		}
	}
	return g
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// focus picks a namespace and name from focus, half of the time one related to node.
func (g *generator) focus(focus []string, node string) (ns, name string) {
	pick := g.pick(focus)
	if g.chance(0.5) {
		var own []string
		for _, f := range focus {
			if strings.HasPrefix(f, node+" ") {
				own = append(own, f)
			}
		}
		if len(own) > 0 {
			pick = g.pick(own)
		}
	}
	_, obj, _ := strings.Cut(pick, " ")
	ns, name, _ = strings.Cut(obj, "/")
	return ns, name
}

// request returns one request of c: a resource request (about 90%) or a non-resource one.
func (g *generator) request(c caller) *http.Request {
	methods := []string{http.MethodGet, http.MethodGet, http.MethodGet, http.MethodGet, http.MethodHead,
		http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	method := g.pick(methods)
	if g.chance(0.1) {
		return newRequest(method, g.pick(nonResourcePaths), nil)
	}
	r := resources[g.weighted[g.rng.IntN(len(g.weighted))]]
	ns, name := "", ""
	if r.namespaced {
		ns = g.pick(namespaces)
		switch {
		case r.resource == "leases" && g.chance(0.7):
			ns = "kube-node-lease"
		case g.chance(0.05):
			ns = "kube-system"
		case g.chance(0.1):
			ns = "" // all namespaces
		}
	}
	if len(r.names) > 0 && g.chance(0.7) {
		name = g.pick(r.names)
		if len(r.focus) > 0 && g.chance(0.6) {
			ns, name = g.focus(r.focus, c.node)
			if g.chance(0.5) {
				method = http.MethodGet
			}
		}
	}
	var b strings.Builder
	if r.group == "" {
		b.WriteString("/api/" + r.version)
	} else {
		b.WriteString("/apis/" + r.group + "/" + r.version)
	}
	if method == http.MethodGet && g.chance(0.03) {
		b.WriteString("/watch")
	}
	if ns != "" {
		b.WriteString("/namespaces/" + ns)
	}
	b.WriteString("/" + r.resource)
	if name != "" {
		b.WriteString("/" + name)
		if sub := g.pick(r.subresources); sub != "" {
			b.WriteString("/" + sub)
		}
	}
	q := url.Values{}
	if name == "" || g.chance(0.1) {
		if method == http.MethodGet && g.chance(0.3) {
			q.Set("watch", g.pick([]string{"true", "1", "false"}))
		}
		self, other := c.node, "node-b"
		if self == "" || self == "node-b" {
			other = "node-a"
		}
		if self == "" {
			self = "node-a"
		}
		fieldName := name
		if fieldName == "" && len(r.names) > 0 {
			fieldName = g.pick(r.names)
		}
		if fs := g.pick([]string{"", "", "spec.nodeName=" + self, "spec.nodeName=" + self, "spec.nodeName==" + self,
			"spec.nodeName=" + other, "spec.nodeName!=" + other, "metadata.name=" + fieldName, "metadata.name=" + fieldName,
			"metadata.name=" + self, "spec.nodeName=" + self + ",metadata.namespace=ns-a", "spec.nodeName", "spec.nodeName in (" + self + ")",
		}); fs != "" {
			q.Set("fieldSelector", fs)
		}
		if ls := g.pick([]string{"", "", "", "app=web", "tier in (a,b)", "a in ("}); ls != "" {
			q.Set("labelSelector", ls)
		}
	}
	return newRequest(method, b.String(), q)
}

func newRequest(method, path string, q url.Values) *http.Request {
	u := &url.URL{Scheme: "https", Host: "apiserver.example", Path: path, RawQuery: q.Encode()}
	r, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		panic(fmt.Sprintf("building %s %s: %v", method, u, err))
	}
	return r
}

// generate returns n requests of node identities and a few of identities that are not nodes.
func generate(seed uint64, n int) []generated {
	g := newGenerator(seed)
	nodes := callers()
	out := make([]generated, 0, n+n/20)
	for range n {
		c := nodes[g.rng.IntN(len(nodes))]
		out = append(out, generated{caller: c, req: g.request(c)})
	}
	for range n / 20 {
		c := notNodes[g.rng.IntN(len(notNodes))]
		out = append(out, generated{caller: c, req: g.request(c)})
	}
	return out
}
