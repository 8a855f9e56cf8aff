//go:build e2e

package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/authfilter/authfilter/test/e2e/cluster"
)

const (
	testNS = "authz-test"
	testSA = "tester"
	saUser = "system:serviceaccount:" + testNS + ":" + testSA
)

func TestSmoke(t *testing.T) {
	staticToken := rand.Text()
	begin := time.Now()
	c := cluster.StartT(t, cluster.Options{
		StaticTokens: []cluster.StaticToken{{Token: staticToken, User: "static-nobody", Groups: []string{"static-group"}}},
	})
	t.Logf("Start took %v", time.Since(begin).Round(time.Millisecond))
	ctx := t.Context()
	cs := c.Clientset()

	// ServiceAccount + TokenRequest.
	mustCreateSA(t, cs)
	token := mintToken(t, cs)

	// TokenReview: valid SA token.
	st := tokenReview(t, cs, token, nil)
	if !st.Authenticated || st.User.Username != saUser {
		t.Fatalf("valid SA token: got %+v", st)
	}
	for _, g := range []string{"system:serviceaccounts", "system:serviceaccounts:" + testNS, "system:authenticated"} {
		if !slices.Contains(st.User.Groups, g) {
			t.Errorf("valid SA token: groups %v lack %q", st.User.Groups, g)
		}
	}
	if !slices.Contains(st.Audiences, cluster.ServiceAccountIssuer) {
		t.Errorf("valid SA token: audiences %v", st.Audiences)
	}
	// Garbage and wrong-audience tokens: not authenticated, error set.
	if st := tokenReview(t, cs, "garbage", nil); st.Authenticated || st.Error == "" {
		t.Errorf("garbage token: got %+v", st)
	}
	if st := tokenReview(t, cs, token, []string{"some-other-aud"}); st.Authenticated || st.Error == "" {
		t.Errorf("wrong audience: got authenticated=%v error=%q", st.Authenticated, st.Error)
	}
	// Static token from tokens.csv.
	if st := tokenReview(t, cs, staticToken, nil); !st.Authenticated || st.User.Username != "static-nobody" ||
		!slices.Contains(st.User.Groups, "static-group") {
		t.Errorf("static token: got authenticated=%v user=%+v", st.Authenticated, st.User)
	}

	// SubjectAccessReview: denied, then allowed once RBAC is granted.
	proxy := &authzv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "fake-node"}
	if s := sar(t, cs, saUser, nil, proxy); s.Allowed {
		t.Fatalf("nodes/proxy allowed before any grant: %+v", s)
	}
	grantNodeProxy(t, cs, "tester-node-proxy", rbacv1.Subject{Kind: "ServiceAccount", Name: testSA, Namespace: testNS})
	var s authzv1.SubjectAccessReviewStatus
	waitFor(t, 10*time.Second, func() bool { s = sar(t, cs, saUser, nil, proxy); return s.Allowed })
	if !strings.Contains(s.Reason, "tester-node-proxy") {
		t.Errorf("nodes/proxy reason = %q", s.Reason)
	}
	// Node authorizer.
	node := []string{"system:nodes"}
	if s := sar(t, cs, "system:node:fake-node", node, &authzv1.ResourceAttributes{Verb: "get", Resource: "nodes", Name: "fake-node"}); !s.Allowed {
		t.Errorf("node get self: %+v", s)
	}
	if s := sar(t, cs, "system:node:fake-node", node, &authzv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: testNS, Name: "x"}); s.Allowed {
		t.Errorf("node get unrelated secret: %+v", s)
	}

	// kubectl through the admin kubeconfig reports the ldflags version.
	out, err := c.Kubectl(ctx, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl version: %v", err)
	}
	var v struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
		ClientVersion struct{ GitVersion string } `json:"clientVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.ServerVersion.GitVersion != "v1.37.2" || v.ClientVersion.GitVersion != "v1.37.2" {
		t.Errorf("kubectl version: %+v (%v)", v, err)
	}

	// API server down, then restarted on the same etcd, port and certs.
	oldPID := c.APIServerPID()
	down := time.Now()
	if err := c.StopAPIServer(); err != nil {
		t.Fatalf("StopAPIServer: %v", err)
	}
	t.Logf("StopAPIServer took %v", time.Since(down).Round(time.Millisecond))
	shortCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = c.WaitReady(shortCtx)
	cancel()
	if err == nil {
		t.Fatal("WaitReady succeeded while the apiserver was stopped")
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, testNS, metav1.GetOptions{}); err == nil {
		t.Fatal("GET succeeded while the apiserver was stopped")
	}
	up := time.Now()
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatalf("StartAPIServer: %v", err)
	}
	t.Logf("StartAPIServer took %v", time.Since(up).Round(time.Millisecond))
	if c.APIServerPID() == oldPID {
		t.Error("apiserver PID unchanged after restart")
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady after restart: %v", err)
	}
	// Data survived in etcd; the token still validates.
	if _, err := cs.CoreV1().ServiceAccounts(testNS).Get(ctx, testSA, metav1.GetOptions{}); err != nil {
		t.Errorf("SA after restart: %v", err)
	}
	if st := tokenReview(t, cs, token, nil); !st.Authenticated {
		t.Errorf("token after restart: %+v", st)
	}

	// Stop kills both processes and is idempotent.
	pid := c.APIServerPID()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("apiserver pid %d still exists after Stop (kill 0: %v)", pid, err)
	}
}

func mustCreateSA(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: testSA}}
	if _, err := cs.CoreV1().ServiceAccounts(testNS).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service account: %v", err)
	}
}

func mintToken(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	exp := int64(600)
	tr, err := cs.CoreV1().ServiceAccounts(testNS).CreateToken(t.Context(), testSA,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest: %v", err)
	}
	if tr.Status.Token == "" {
		t.Fatal("TokenRequest returned an empty token")
	}
	return tr.Status.Token
}

func tokenReview(t *testing.T, cs kubernetes.Interface, token string, audiences []string) authnv1.TokenReviewStatus {
	t.Helper()
	tr := &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token, Audiences: audiences}}
	res, err := cs.AuthenticationV1().TokenReviews().Create(t.Context(), tr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenReview: %v", err)
	}
	return res.Status
}

func sar(t *testing.T, cs kubernetes.Interface, user string, groups []string, ra *authzv1.ResourceAttributes) authzv1.SubjectAccessReviewStatus {
	t.Helper()
	r := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: ra}}
	res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), r, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SubjectAccessReview: %v", err)
	}
	return res.Status
}

// grantNodeProxy binds a ClusterRole for nodes/proxy, nodes/stats and
// nodes/metrics to subject.
func grantNodeProxy(t *testing.T, cs kubernetes.Interface, name string, subject rbacv1.Subject) {
	t.Helper()
	ctx := t.Context()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes/proxy", "nodes/stats", "nodes/metrics"},
			Verbs: []string{"get", "create"}}},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRole: %v", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{subject},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ClusterRoleBinding: %v", err)
	}
}

// waitFor polls cond every 20ms until it holds or timeout passes (RBAC
// changes reach the authorizer through informers, tens of ms later).
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
