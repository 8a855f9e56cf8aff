//go:build e2e

package cluster_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/authfilter/authfilter/test/e2e/cluster"
)

// netnsIP is a TEST-NET-1 address, only ever configured on lo inside the
// test namespace.
const netnsIP = "192.0.2.10"

// TestNetNSNodeProxy runs the cluster in a private network namespace and
// proves the apiserver's node proxy reaches a fake kubelet there, presenting
// its kubelet client certificate. It needs root; otherwise it is skipped.
func TestNetNSNodeProxy(t *testing.T) {
	ns := fmt.Sprintf("afe2e-%d", os.Getpid())
	if err := cluster.CreateNetNS(ns, netnsIP); err != nil {
		t.Skipf("network namespace unavailable: %v", err)
	}
	t.Cleanup(func() {
		if err := cluster.DeleteNetNS(ns); err != nil {
			t.Error(err)
		}
	})
	c := cluster.StartT(t, cluster.Options{NetNS: ns, BindIP: netnsIP})
	cs := c.Clientset()

	// Fake kubelet inside the namespace, TLS with a cert from the cluster
	// CA, requiring a client cert from the same CA.
	serving, err := c.IssueServingCert(nil, []net.IP{net.ParseIP(netnsIP)})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := serving.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Listen("tcp", net.JoinHostPort(netnsIP, "0"))
	if err != nil {
		t.Fatalf("listen in netns: %v", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cn := ""
			if len(r.TLS.PeerCertificates) > 0 {
				cn = r.TLS.PeerCertificates[0].Subject.CommonName
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"peerCertCN": cn, "servedPath": r.URL.Path})
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: c.CAPool(),
			ClientAuth: tls.RequireAndVerifyClientCert},
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	// Node whose InternalIP and kubelet port point at the fake kubelet;
	// status must be part of the initial create.
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "fake-node"},
		Status: corev1.NodeStatus{
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: netnsIP}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create node: %v", err)
	}
	// The admin (system:masters) may use nodes/proxy; the fake kubelet sees
	// the apiserver's kubelet client certificate.
	got := proxyGet(t, cs, "stats/summary")
	if got["peerCertCN"] != cluster.KubeletClientCN || got["servedPath"] != "/stats/summary" {
		t.Fatalf("node proxy answer: %v", got)
	}

	// An unprivileged client cert is refused by RBAC before the proxy.
	kp, err := c.IssueClientCert("nobody")
	if err != nil {
		t.Fatal(err)
	}
	nobody := kubernetes.NewForConfigOrDie(c.CertConfig(kp))
	err = nobody.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/fake-node/proxy/stats/summary").Do(t.Context()).Error()
	if err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("nobody via node proxy: err = %v", err)
	}
	grantNodeProxy(t, cs, "nobody-node-proxy", rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "nobody"})
	waitFor(t, 10*time.Second, func() bool {
		return nobody.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/fake-node/proxy/stats/summary").Do(t.Context()).Error() == nil
	})

	// kubectl runs inside the namespace through Command/Kubectl.
	out, err := c.Kubectl(t.Context(), "get", "--raw", "/api/v1/nodes/fake-node/proxy/healthz").CombinedOutput()
	if err != nil || !strings.Contains(string(out), cluster.KubeletClientCN) {
		t.Fatalf("kubectl node proxy: %v: %s", err, out)
	}
}

func proxyGet(t *testing.T, cs kubernetes.Interface, path string) map[string]string {
	t.Helper()
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/fake-node/proxy/" + path).DoRaw(t.Context())
	if err != nil {
		t.Fatalf("node proxy GET %s: %v (%s)", path, err, raw)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("node proxy GET %s: %v: %s", path, err, raw)
	}
	return m
}
