//go:build e2e

package kubelet_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/authfilter/authfilter/test/e2e/cluster"
)

// proxyPaths are the kubelet paths TestNodeProxy fetches through the API server, each with a
// piece of the body the example serves there for node.
var proxyPaths = []struct {
	path string
	want func(node string) string
}{
	{"stats/summary", func(node string) string { return fmt.Sprintf("%q: %q", "nodeName", node) }},
	{"metrics", func(node string) string { return fmt.Sprintf("kubelet_node_name{node=%q} 1", node) }},
	{"logs/", func(string) string { return `<a href="kubelet.log">kubelet.log</a>` }},
	{"spec/", func(node string) string { return fmt.Sprintf("%q: %q", "machine_id", node) }},
	{"pods", func(string) string { return `"kind": "PodList"` }},
	{"healthz", func(string) string { return "ok" }},
}

// TestNodeProxy is the seed's whole story: the API server's node proxy
// (/api/v1/nodes/<node>/proxy/...) reaches the example, which authenticates the API server by
// its kubelet client certificate (--client-ca-file is the cluster CA) and authorizes it with a
// SubjectAccessReview sent back to the same API server. Every path is 403 until the ClusterRole
// README.md documents is bound, and 200 after. It runs two examples, one configured by flags
// and one by a KubeletConfiguration file. Needs root for the network namespace: the API server
// refuses to proxy to loopback addresses.
func TestNodeProxy(t *testing.T) {
	e := newEnv(t, envOptions{NetNS: true})
	flags := e.startServer(t, "node-flags", append(e.serverFlags(t, "node-flags"), "--authorization-webhook-cache-unauthorized-ttl=1s")...)
	// Inside the namespace the kubelet's own port is free.
	cfg := e.writeKubeletConfig(t, "node-config", kubeletConfig{address: netnsIP, port: 10250,
		tokenTTL: time.Minute, authorizedTTL: 5 * time.Minute, deniedTTL: time.Second})
	file := e.startServer(t, "node-config", "--config="+cfg)
	if want := "https://" + netnsIP + ":10250"; file.url != want {
		t.Fatalf("config example serves on %s, want %s from the file", file.url, want)
	}
	servers := []*server{flags, file}
	for _, s := range servers {
		e.registerNode(t, s.node, s.url)
	}

	t.Run("403 before RBAC", func(t *testing.T) {
		for _, s := range servers {
			for _, p := range proxyPaths {
				code, body := e.proxyGet(t, s.node, p.path)
				// The body is the example's, proving the API server got through and the example
				// denied it with a SubjectAccessReview answered by RBAC.
				want := "Forbidden (user=" + cluster.KubeletClientCN + ", verb=get, resource=nodes"
				if code != http.StatusForbidden || !strings.Contains(body, want) {
					t.Errorf("%s %s before RBAC = %d %q, want 403 %q", s.node, p.path, code, body, want)
				}
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	admin := testdataKubeletAPIAdmin(t)
	if _, err := e.cs.RbacV1().ClusterRoles().Create(t.Context(), &admin.role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.RbacV1().ClusterRoleBindings().Create(t.Context(), &admin.binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("200 after binding README's ClusterRole", func(t *testing.T) {
		for _, s := range servers {
			name := s.node
			for _, p := range proxyPaths {
				// The denial is cached for 1s, and RBAC needs tens of milliseconds: poll.
				var code int
				var body string
				eventually(t, name+" "+p.path+" answers 200", func() (bool, string) {
					code, body = e.proxyGet(t, name, p.path)
					return code == http.StatusOK, fmt.Sprintf("%d %q", code, body)
				})
				if want := p.want(name); !strings.Contains(body, want) {
					t.Errorf("%s %s = %q, want it to contain %q", name, p.path, body, want)
				}
			}
			// The identity the example established is the API server's kubelet client cert.
			hdr := e.proxyHeaders(t, name, "healthz")
			if u, g := hdr.Get("X-Authfilter-User"), splitGroups(hdr.Get("X-Authfilter-Groups")); u != cluster.KubeletClientCN || !slices.Equal(g, []string{"system:authenticated"}) {
				t.Errorf("%s: identity user=%q groups=%q, want %s [system:authenticated]", name, u, g, cluster.KubeletClientCN)
			}
		}
	})
	for _, s := range servers {
		if n := s.reviewLines("TokenReview"); n != 0 {
			t.Errorf("%s sent %d TokenReviews for certificate-authenticated requests", s.node, n)
		}
	}
}

// registerNode creates the Node name whose InternalIP and kubelet port are those of url. The
// status must be part of the create: a later update of the main resource drops it.
func (e *env) registerNode(t *testing.T, name, url string) {
	t.Helper()
	var port int32
	if _, err := fmt.Sscanf(url, "https://"+e.host+":%d", &port); err != nil {
		t.Fatalf("example URL %s: %v", url, err)
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: e.host}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: port}},
		},
	}
	got, err := e.cs.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	if len(got.Status.Addresses) != 1 || got.Status.DaemonEndpoints.KubeletEndpoint.Port != port {
		t.Fatalf("node %s status not kept: %+v", name, got.Status)
	}
}

// proxyGet fetches path on node through the API server's node proxy as admin with client-go's
// RESTClient, returning the status code and body the API server relayed. client-go turns a
// plain-text error body into an APIStatus error whose message is that body.
func (e *env) proxyGet(t *testing.T, node, path string) (int, string) {
	t.Helper()
	res := e.cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/" + node + "/proxy/" + path).Do(t.Context())
	var code int
	res.StatusCode(&code)
	body, err := res.Raw()
	if err == nil {
		return code, string(body)
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		t.Fatalf("node proxy %s %s: %v", node, path, err)
	}
	return int(st.Status().Code), st.Status().Message
}

// proxyHeaders fetches path on node through the node proxy with client-go's transport, for the
// response headers the example set and the API server relayed. The request must succeed.
func (e *env) proxyHeaders(t *testing.T, node, path string) http.Header {
	t.Helper()
	hc, err := rest.HTTPClientFor(e.c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.c.Host()+"/api/v1/nodes/"+node+"/proxy/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("node proxy %s %s = %d %q", node, path, resp.StatusCode, body)
	}
	return resp.Header
}
