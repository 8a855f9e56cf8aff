package authz

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestSARRetriesTransientFailures(t *testing.T) {
	fast := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}
	internal := func() error { return apierrors.NewInternalError(errors.New("etcd")) }
	tests := []struct {
		name         string
		backoff      *wait.Backoff
		failures     []error
		wantDecision authorizer.Decision
		wantErr      bool
		wantCalls    int32
	}{
		{"a 500 then an answer", &fast, []error{internal()}, authorizer.DecisionAllow, false, 2},
		{"transient every time: an error, never a pass", &fast, []error{internal(), internal(), internal()}, authorizer.DecisionNoOpinion, true, 3},
		{"not transient: one try", &fast, []error{apierrors.NewUnauthorized("bad credentials")}, authorizer.DecisionNoOpinion, true, 1},
		{"retries off", &wait.Backoff{Steps: 1}, []error{internal()}, authorizer.DecisionNoOpinion, true, 1},
	}
	attrs := authorizer.AttributesRecord{
		User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Resource: "nodes", Subresource: "stats",
		Name: "node-a", APIVersion: "v1", ResourceRequest: true,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			client := fake.NewClientset()
			client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				n := calls.Add(1)
				sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
				if sar.Spec.User != "alice" || sar.Spec.ResourceAttributes.Subresource != "stats" {
					t.Errorf("review %d has spec %+v", n, sar.Spec)
				}
				if int(n) <= len(tt.failures) {
					return true, nil, tt.failures[n-1]
				}
				sar.Status.Allowed = true
				return true, sar, nil
			})
			a, err := NewSAR(client.AuthorizationV1().SubjectAccessReviews(), SAROptions{RetryBackoff: tt.backoff})
			if err != nil {
				t.Fatal(err)
			}
			decision, _, err := a.Authorize(t.Context(), attrs)
			if decision != tt.wantDecision || (err != nil) != tt.wantErr {
				t.Fatalf("Authorize = %v, %v; want %v, error %v", decision, err, tt.wantDecision, tt.wantErr)
			}
			if calls.Load() != tt.wantCalls {
				t.Fatalf("%d SubjectAccessReviews sent, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
	if _, err := NewSAR(fake.NewClientset().AuthorizationV1().SubjectAccessReviews(), SAROptions{RetryBackoff: &wait.Backoff{Steps: 0}}); err == nil {
		t.Error("NewSAR accepted a backoff with no steps")
	}
}
