//go:build e2e

package kubelet_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/authfilter/authfilter/test/e2e/cluster"
)

const (
	// exampleUser is the identity the example server uses towards the API server.
	exampleUser = "authfilter-example"
	// netnsIP is a TEST-NET-1 address that exists only on lo inside a test's own namespace.
	netnsIP = "192.0.2.10"
	// pollTimeout bounds every wait for something that should happen within seconds.
	pollTimeout = 20 * time.Second
	// pollInterval is the delay between two attempts of a poll.
	pollInterval = 50 * time.Millisecond
	// requireEnv, when "1" (as .ci/run sets it), turns the skips for missing binaries or an
	// unavailable network namespace into failures, so that CI cannot pass by skipping.
	requireEnv = "AUTHFILTER_E2E_REQUIRE"
)

// env is one test's cluster and the example server's identity in it.
type env struct {
	c  *cluster.Cluster
	cs *kubernetes.Clientset // admin (system:masters)
	// host is where example servers listen: 127.0.0.1, or netnsIP inside the namespace.
	host string
	// exampleCert is the example's client certificate, CN exampleUser.
	exampleCert *cluster.KeyPair
	// kubeconfig reaches the API server as exampleUser.
	kubeconfig string
}

// envOptions choose how newEnv sets the cluster up.
type envOptions struct {
	// NetNS runs the cluster and the example servers in a new network namespace, so that the
	// API server's node proxy may reach them. The test skips if the namespace cannot be made.
	NetNS bool
	// NoAuthDelegator leaves exampleUser without system:auth-delegator.
	NoAuthDelegator bool
}

// newEnv starts a cluster (skipping the test if the binaries are missing), creates the example
// server's identity and kubeconfig, and unless told otherwise binds it to
// system:auth-delegator, as README.md tells deployers to.
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	skip := t.Skipf
	if os.Getenv(requireEnv) == "1" {
		skip = t.Fatalf
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if _, err := os.Stat(filepath.Join(cluster.DefaultBinDir(), name)); err != nil {
			skip("%v (run make realk8s): %v", cluster.ErrBinariesMissing, err)
		}
	}
	opts := cluster.Options{}
	host := "127.0.0.1"
	if o.NetNS {
		ns := fmt.Sprintf("afk-%d", os.Getpid())
		if err := cluster.CreateNetNS(ns, netnsIP); err != nil {
			skip("network namespace unavailable (needs root and iproute2): %v", err)
		}
		t.Cleanup(func() {
			if err := cluster.DeleteNetNS(ns); err != nil {
				t.Errorf("deleting netns: %v", err)
			}
		})
		opts.NetNS, opts.BindIP, host = ns, netnsIP, netnsIP
	}
	start := time.Now()
	c := cluster.StartT(t, opts)
	t.Logf("cluster started in %v", time.Since(start).Round(time.Millisecond))
	e := &env{c: c, cs: c.Clientset(), host: host}
	kp, err := c.IssueClientCert(exampleUser)
	if err != nil {
		t.Fatal(err)
	}
	e.exampleCert = kp
	e.kubeconfig = filepath.Join(t.TempDir(), "example.kubeconfig")
	e.writeKubeconfig(t, e.kubeconfig, kp)
	if !o.NoAuthDelegator {
		e.bindAuthDelegator(t)
	}
	return e
}

// writeKubeconfig writes a kubeconfig for the cluster that authenticates with kp.
func (e *env) writeKubeconfig(t *testing.T, path string, kp *cluster.KeyPair) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["realk8s"] = &clientcmdapi.Cluster{Server: e.c.Host(), CertificateAuthorityData: e.c.CAPEM()}
	cfg.AuthInfos["example"] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	cfg.Contexts["example"] = &clientcmdapi.Context{Cluster: "realk8s", AuthInfo: "example"}
	cfg.CurrentContext = "example"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// bindAuthDelegator binds exampleUser to the built-in system:auth-delegator ClusterRole and
// waits until the API server's authorizer sees it.
func (e *env) bindAuthDelegator(t *testing.T) {
	t.Helper()
	e.bind(t, "authfilter-example:auth-delegator", "system:auth-delegator", userSubject(exampleUser))
	for _, ra := range []authzv1.ResourceAttributes{
		{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"},
		{Group: "authorization.k8s.io", Resource: "subjectaccessreviews", Verb: "create"},
	} {
		e.waitAccess(t, exampleUser, nil, ra, true)
	}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func saSubject(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

// nodeRule allows verbs on the given subresources of nodes ("stats" means nodes/stats).
func nodeRule(verbs []string, subresources ...string) rbacv1.PolicyRule {
	r := rbacv1.PolicyRule{APIGroups: []string{""}, Verbs: verbs}
	for _, s := range subresources {
		r.Resources = append(r.Resources, "nodes/"+s)
	}
	return r
}

// grant creates a ClusterRole name with rules and a ClusterRoleBinding name to subjects. It
// does not wait: callers either poll the example or call waitAccess.
func (e *env) grant(t *testing.T, name string, rules []rbacv1.PolicyRule, subjects ...rbacv1.Subject) {
	t.Helper()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	if _, err := e.cs.RbacV1().ClusterRoles().Create(t.Context(), role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole %s: %v", name, err)
	}
	e.bind(t, name, name, subjects...)
}

// bind creates the ClusterRoleBinding name of ClusterRole role to subjects.
func (e *env) bind(t *testing.T, name, role string, subjects ...rbacv1.Subject) {
	t.Helper()
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
	if _, err := e.cs.RbacV1().ClusterRoleBindings().Create(t.Context(), b, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRoleBinding %s: %v", name, err)
	}
}

// unbind deletes the ClusterRoleBinding name.
func (e *env) unbind(t *testing.T, name string) {
	t.Helper()
	if err := e.cs.RbacV1().ClusterRoleBindings().Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete ClusterRoleBinding %s: %v", name, err)
	}
}

// waitAccess polls the API server's own SubjectAccessReview (as admin, which the example never
// sees) until user in groups is allowed ra, or denied it when want is false. It shows that an
// RBAC change has reached the API server's authorizer, which takes tens of milliseconds.
func (e *env) waitAccess(t *testing.T, user string, groups []string, ra authzv1.ResourceAttributes, want bool) {
	t.Helper()
	eventually(t, fmt.Sprintf("API server: %s allowed %s %s/%s = %v", user, ra.Verb, ra.Resource, ra.Subresource, want), func() (bool, string) {
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: &ra}}
		got, err := e.cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
		if err != nil {
			return false, err.Error()
		}
		return got.Status.Allowed == want, fmt.Sprintf("allowed=%v reason=%q", got.Status.Allowed, got.Status.Reason)
	})
}

// nodeAccess is the resource attributes of verb on nodes/<sub> of node.
func nodeAccess(verb, sub, node string) authzv1.ResourceAttributes {
	return authzv1.ResourceAttributes{Verb: verb, Resource: "nodes", Subresource: sub, Name: node}
}

// serviceAccount creates namespace ns (if needed) and ServiceAccount name in it.
func (e *env) serviceAccount(t *testing.T, ns, name string) {
	t.Helper()
	ctx := t.Context()
	_, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		if _, err := e.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := e.cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
}

// token mints a token for ServiceAccount ns/name through the TokenRequest API, for the given
// audiences (none: the API server's own).
func (e *env) token(t *testing.T, ns, name string, audiences ...string) string {
	t.Helper()
	expiry := int64(3600)
	tr := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &expiry}}
	got, err := e.cs.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), name, tr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", ns, name, err)
	}
	return got.Status.Token
}

// clientCert issues a client certificate for user cn in groups orgs.
func (e *env) clientCert(t *testing.T, cn string, orgs ...string) *cluster.KeyPair {
	t.Helper()
	kp, err := e.c.IssueClientCert(cn, orgs...)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// servingCert issues the example's serving certificate, for the node name and e.host, from the
// cluster CA (which the API server uses as --kubelet-certificate-authority).
func (e *env) servingCert(t *testing.T, nodeName string) *cluster.KeyPair {
	t.Helper()
	kp, err := e.c.IssueServingCert([]string{nodeName}, []net.IP{net.ParseIP(e.host)})
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// eventually calls f until it reports done, failing the test with f's last description if
// pollTimeout passes first. It never sleeps longer than pollInterval at a time.
func eventually(t *testing.T, what string, f func() (done bool, last string)) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		done, last := f()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last: %s", what, pollTimeout, last)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v; last: %s", what, t.Context().Err(), last)
		case <-time.After(pollInterval):
		}
	}
}
