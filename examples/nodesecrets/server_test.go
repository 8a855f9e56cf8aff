package main

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/examples/internal/serve"
)

// TestHandlerNodeThenRBAC drives the handler with bearer tokens: a node's token gets its pod's
// secret from the Node authorizer without a review; anybody else is asked of RBAC through one
// SubjectAccessReview, whose spec is checked.
func TestHandlerNodeThenRBAC(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "p1"}, Spec: corev1.PodSpec{NodeName: "n1",
			Containers: []corev1.Container{{Name: "c", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s1"}}}}}}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "s1"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns2", Name: "s2"}},
	)
	users := map[string]authenticationv1.UserInfo{
		"token-n1":    {Username: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}},
		"token-alice": {Username: "alice", Groups: []string{"system:authenticated"}},
	}
	var mu sync.Mutex
	var tokenReviews int
	var sars []authorizationv1.SubjectAccessReviewSpec
	client.PrependReactor("create", "tokenreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		review := a.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		mu.Lock()
		tokenReviews++
		mu.Unlock()
		u, ok := users[review.Spec.Token]
		review.Status = authenticationv1.TokenReviewStatus{Authenticated: ok, User: u}
		return true, review, nil
	})
	client.PrependReactor("create", "subjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		review := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		mu.Lock()
		sars = append(sars, review.Spec)
		mu.Unlock()
		ra := review.Spec.ResourceAttributes
		review.Status.Allowed = review.Spec.User == "alice" && ra != nil && ra.Namespace == "ns2" && ra.Verb == "get" && ra.Resource == "secrets"
		return true, review, nil
	})
	ca, _, err := serve.SelfSigned("unused-ca", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	clientCA, err := authn.NewStaticClientCA(ca)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(t.Context(), client, clientCA, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, path string
		want              int
		sar               *authorizationv1.ResourceAttributes // the review sent, nil for none
	}{
		{"node reads its pod's secret", "token-n1", "/api/v1/namespaces/ns1/secrets/s1", 200, nil},
		{"node reads another secret", "token-n1", "/api/v1/namespaces/ns2/secrets/s2", 403,
			&authorizationv1.ResourceAttributes{Namespace: "ns2", Verb: "get", Version: "v1", Resource: "secrets", Name: "s2"}},
		{"RBAC lets alice read ns2", "token-alice", "/api/v1/namespaces/ns2/secrets/s2", 200,
			&authorizationv1.ResourceAttributes{Namespace: "ns2", Verb: "get", Version: "v1", Resource: "secrets", Name: "s2"}},
		{"alice allowed, secret missing", "token-alice", "/api/v1/namespaces/ns2/secrets/gone", 404,
			&authorizationv1.ResourceAttributes{Namespace: "ns2", Verb: "get", Version: "v1", Resource: "secrets", Name: "gone"}},
		{"alice may not read ns1", "token-alice", "/api/v1/namespaces/ns1/secrets/s1", 403,
			&authorizationv1.ResourceAttributes{Namespace: "ns1", Verb: "get", Version: "v1", Resource: "secrets", Name: "s1"}},
		{"unknown token", "token-mallory", "/api/v1/namespaces/ns1/secrets/s1", 401, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			before := len(sars)
			mu.Unlock()
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d %q, want %d", rec.Code, rec.Body.String(), tt.want)
			}
			mu.Lock()
			sent := append([]authorizationv1.SubjectAccessReviewSpec(nil), sars[before:]...)
			mu.Unlock()
			switch {
			case tt.sar == nil && len(sent) != 0:
				t.Fatalf("%d reviews sent, want none: %+v", len(sent), sent)
			case tt.sar != nil && len(sent) != 1:
				t.Fatalf("%d reviews sent, want 1", len(sent))
			case tt.sar != nil && (sent[0].ResourceAttributes == nil || *sent[0].ResourceAttributes != *tt.sar):
				t.Fatalf("review %+v, want %+v", sent[0].ResourceAttributes, tt.sar)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if tokenReviews != 3 { // one per distinct token: results are cached
		t.Errorf("%d TokenReviews sent, want 3", tokenReviews)
	}
}
