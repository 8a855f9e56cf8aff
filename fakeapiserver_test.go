package authfilter

import (
	"errors"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeAPIServer is a fake clientset whose reactors answer TokenReviews from a token table and
// SubjectAccessReviews from a policy function, and record every review sent.
type fakeAPIServer struct {
	*fake.Clientset

	mu     sync.Mutex
	tokens map[string]authenticationv1.UserInfo
	policy func(authorizationv1.SubjectAccessReviewSpec) bool
	down   bool // every review fails with a backend error

	tokenReviews []authenticationv1.TokenReviewSpec
	sars         []authorizationv1.SubjectAccessReviewSpec
}

func newFakeAPIServer(tokens map[string]authenticationv1.UserInfo, policy func(authorizationv1.SubjectAccessReviewSpec) bool) *fakeAPIServer {
	s := &fakeAPIServer{Clientset: fake.NewClientset(), tokens: tokens, policy: policy}
	s.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.tokenReviews = append(s.tokenReviews, tr.Spec)
		if s.down {
			return true, nil, errors.New("connection refused")
		}
		if u, ok := s.tokens[tr.Spec.Token]; ok {
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: u}
		} else {
			tr.Status = authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
		}
		return true, tr, nil
	})
	s.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sars = append(s.sars, sar.Spec)
		if s.down {
			return true, nil, errors.New("connection refused")
		}
		sar.Status.Allowed = s.policy(sar.Spec)
		if !sar.Status.Allowed {
			sar.Status.Reason = "no RBAC rule"
		}
		return true, sar, nil
	})
	return s
}

func (s *fakeAPIServer) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// sent returns copies of the reviews sent so far.
func (s *fakeAPIServer) sent() ([]authenticationv1.TokenReviewSpec, []authorizationv1.SubjectAccessReviewSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]authenticationv1.TokenReviewSpec(nil), s.tokenReviews...),
		append([]authorizationv1.SubjectAccessReviewSpec(nil), s.sars...)
}
