package authn

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestTokenRetriesTransientFailures(t *testing.T) {
	fast := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 3}
	tests := []struct {
		name      string
		backoff   *wait.Backoff
		failures  []error // returned by the first reviews, in order
		wantOK    bool
		wantCalls int32
	}{
		{"a 500 then an answer", &fast, []error{apierrors.NewInternalError(errors.New("etcd"))}, true, 2},
		{"429 twice then an answer", &fast, []error{apierrors.NewTooManyRequests("busy", 0), apierrors.NewTooManyRequests("busy", 0)}, true, 3},
		{"transient every time: fails closed after the last step", &fast, []error{
			apierrors.NewInternalError(errors.New("a")), apierrors.NewInternalError(errors.New("b")), apierrors.NewInternalError(errors.New("c")),
		}, false, 3},
		{"not transient: one try", &fast, []error{apierrors.NewForbidden(authenticationv1.Resource("tokenreviews"), "", errors.New("no RBAC"))}, false, 1},
		{"retries off", &wait.Backoff{Steps: 1}, []error{apierrors.NewInternalError(errors.New("etcd"))}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			client := fake.NewClientset()
			client.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				n := calls.Add(1)
				tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
				if tr.Spec.Token != "good-token" {
					t.Errorf("review %d for the wrong token", n)
				}
				if int(n) <= len(tt.failures) {
					return true, nil, tt.failures[n-1]
				}
				tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "alice"}}
				return true, tr, nil
			})
			a, err := NewToken(client.AuthenticationV1().TokenReviews(), TokenOptions{RetryBackoff: tt.backoff})
			if err != nil {
				t.Fatal(err)
			}
			resp, ok, err := a.AuthenticateToken(t.Context(), "good-token")
			if ok != tt.wantOK || (ok && resp.User.GetName() != "alice") || (!ok && err == nil) {
				t.Fatalf("AuthenticateToken = %v, %v, %v; want ok=%v", resp, ok, err, tt.wantOK)
			}
			if calls.Load() != tt.wantCalls {
				t.Fatalf("%d TokenReviews sent, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
	if _, err := NewToken(fake.NewClientset().AuthenticationV1().TokenReviews(), TokenOptions{RetryBackoff: &wait.Backoff{}}); err == nil {
		t.Error("NewToken accepted a backoff with no steps")
	}
}
