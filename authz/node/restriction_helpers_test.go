package node

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/authfilter/authfilter/authz"
)

// sarRecorder answers SubjectAccessReviews with answer and records every spec it was sent.
type sarRecorder struct {
	mu     sync.Mutex
	specs  []authorizationv1.SubjectAccessReviewSpec
	answer func(authorizationv1.SubjectAccessReviewSpec) (allowed bool, err error)
}

func (s *sarRecorder) react(action k8stesting.Action) (bool, runtime.Object, error) {
	review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
	s.mu.Lock()
	s.specs = append(s.specs, review.Spec)
	s.mu.Unlock()
	allowed, err := s.answer(review.Spec)
	if err != nil {
		return true, nil, err
	}
	out := review.DeepCopy()
	out.Status.Allowed = allowed
	return true, out, nil
}

func (s *sarRecorder) sent() []authorizationv1.SubjectAccessReviewSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]authorizationv1.SubjectAccessReviewSpec(nil), s.specs...)
}

// allowAudience is a SAR answer that allows only the audience checks of the given audience.
func allowAudience(audience string) func(authorizationv1.SubjectAccessReviewSpec) (bool, error) {
	return func(s authorizationv1.SubjectAccessReviewSpec) (bool, error) {
		ra := s.ResourceAttributes
		return ra != nil && ra.Verb == VerbTokenAudience && ra.Resource == audience, nil
	}
}

// restrictionEnv is a synced Restriction over a fake clientset, whose audience and signer
// checks go through authz.SAR to a reactor that records them.
type restrictionEnv struct {
	r    *Restriction
	sars *sarRecorder
}

func newRestrictionEnv(t *testing.T, opts RestrictionOptions, answer func(authorizationv1.SubjectAccessReviewSpec) (bool, error), objs ...runtime.Object) *restrictionEnv {
	t.Helper()
	client := fake.NewClientset(objs...)
	rec := &sarRecorder{answer: answer}
	if rec.answer == nil {
		rec.answer = func(authorizationv1.SubjectAccessReviewSpec) (bool, error) { return false, nil }
	}
	client.PrependReactor("create", "subjectaccessreviews", rec.react)
	sar, err := authz.NewSAR(client.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{AllowCacheTTL: -1, DenyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	r, err := NewRestriction(factory, sar, opts)
	if err != nil {
		t.Fatalf("NewRestriction: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	if !r.WaitForSync(ctx) {
		t.Fatal("WaitForSync returned false")
	}
	return &restrictionEnv{r: r, sars: rec}
}

// outcome is what a test expects of Admit.
type outcome int

const (
	admitted outcome = iota
	refused          // a Forbidden status error
	missing          // the lister's NotFound error
	failed           // an error that is neither
)

func (o outcome) String() string {
	return [...]string{"admitted", "refused (Forbidden)", "missing (NotFound)", "failed (other error)"}[o]
}

func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return admitted
	case apierrors.IsForbidden(err):
		return refused
	case apierrors.IsNotFound(err):
		return missing
	}
	return failed
}

// checkAdmit fails unless Admit's outcome is want and, when wantMsg is set, its error contains
// wantMsg.
func checkAdmit(t *testing.T, err error, want outcome, wantMsg string) {
	t.Helper()
	if got := outcomeOf(err); got != want {
		t.Fatalf("Admit = %v (%v), want %v", got, err, want)
	}
	if wantMsg != "" && (err == nil || !strings.Contains(err.Error(), wantMsg)) {
		t.Fatalf("Admit error %v, want it to contain %q", err, wantMsg)
	}
	var status apierrors.APIStatus
	if err != nil && want == refused && !errors.As(err, &status) {
		t.Fatalf("Admit error %T is not an API status", err)
	}
}

func nodeObj(name, uid string, mutate ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uid)}}
	for _, m := range mutate {
		m(n)
	}
	return n
}

func ptrTo[T any](v T) *T { return &v }

// write returns a Write of the node user.
func write(node string, op Operation, group, resource, sub, ns, name string, obj, old runtime.Object) Write {
	version := "v1"
	return Write{
		User: nodeUser(node), Operation: op, APIGroup: group, APIVersion: version, Resource: resource,
		Subresource: sub, Namespace: ns, Name: name, Object: obj, OldObject: old,
	}
}
