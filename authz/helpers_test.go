package authz

import (
	"errors"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// responder answers one SubjectAccessReview spec.
type responder func(spec authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error)

func respondWith(st authorizationv1.SubjectAccessReviewStatus) responder {
	return func(authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
		return st, nil
	}
}

func allowed(reason string) authorizationv1.SubjectAccessReviewStatus {
	return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: reason}
}

func denied(reason string) authorizationv1.SubjectAccessReviewStatus {
	return authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: reason}
}

// reviewer is the API server side of a fake clientset: it records every SubjectAccessReview
// spec sent and answers with its responder, which tests may swap.
type reviewer struct {
	mu      sync.Mutex
	specs   []authorizationv1.SubjectAccessReviewSpec
	respond responder
}

func (r *reviewer) setResponder(f responder) {
	r.mu.Lock()
	r.respond = f
	r.mu.Unlock()
}

func (r *reviewer) sent() []authorizationv1.SubjectAccessReviewSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]authorizationv1.SubjectAccessReviewSpec(nil), r.specs...)
}

func (r *reviewer) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.specs)
}

// newReviewer returns a fake clientset whose "create subjectaccessreviews" reactor is r.
func newReviewer(t *testing.T, respond responder) (*fake.Clientset, *reviewer) {
	t.Helper()
	r := &reviewer{respond: respond}
	cs := fake.NewClientset()
	cs.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		sar, ok := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		if !ok {
			t.Errorf("reactor got %T, want *SubjectAccessReview", action.(k8stesting.CreateAction).GetObject())
			return true, nil, errors.New("not a SubjectAccessReview")
		}
		r.mu.Lock()
		r.specs = append(r.specs, *sar.Spec.DeepCopy())
		respond := r.respond
		r.mu.Unlock()
		st, err := respond(sar.Spec)
		if err != nil {
			return true, nil, err
		}
		out := sar.DeepCopy()
		out.Status = st
		return true, out, nil
	})
	return cs, r
}

// newTestSAR returns a SAR on a fresh reviewer.
func newTestSAR(t *testing.T, opts SAROptions, respond responder) (*SAR, *reviewer) {
	t.Helper()
	cs, r := newReviewer(t, respond)
	a, err := NewSAR(cs.AuthorizationV1().SubjectAccessReviews(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

// fakeClock is a settable clock for the decision cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
