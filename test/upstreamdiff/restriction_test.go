package upstreamdiff

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/authentication/install"
	_ "k8s.io/kubernetes/pkg/apis/certificates/install"
	_ "k8s.io/kubernetes/pkg/apis/coordination/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	_ "k8s.io/kubernetes/pkg/apis/resource/install"
	_ "k8s.io/kubernetes/pkg/apis/storage/install"
	"k8s.io/kubernetes/pkg/auth/nodeidentifier"
	"k8s.io/kubernetes/plugin/pkg/admission/noderestriction"

	ours "github.com/authfilter/authfilter/authz/node"
)

// fixedAuthorizer answers the audience and signer checks of both implementations alike: it
// allows the audience "rbac-ok" and the signer "example.com/ok", and counts its calls.
type fixedAuthorizer struct{ calls int }

func (f *fixedAuthorizer) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	f.calls++
	switch {
	case a.GetVerb() == ours.VerbTokenAudience && a.GetResource() == "rbac-ok",
		a.GetVerb() == ours.VerbPodCertificateSigner && a.GetResource() == "example.com:ok":
		return authorizer.DecisionAllow, "", nil
	case a.GetResource() == "rbac-error":
		return authorizer.DecisionNoOpinion, "", errors.New("authorizer failed")
	}
	return authorizer.DecisionNoOpinion, "", nil
}

func (f *fixedAuthorizer) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(f.Authorize(ctx, a))
}

func (*fixedAuthorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// admitters are both implementations over one fake clientset.
type admitters struct {
	upstream         *noderestriction.Plugin
	ours             *ours.Restriction
	upAuthz, ourAuth *fixedAuthorizer
}

func newAdmitters(t *testing.T) *admitters {
	t.Helper()
	client := fake.NewClientset(restrictionFixture()...)
	factory := informers.NewSharedInformerFactory(client, 0)
	a := &admitters{upAuthz: &fixedAuthorizer{}, ourAuth: &fixedAuthorizer{}}
	a.upstream = noderestriction.NewPlugin(nodeidentifier.NewDefaultNodeIdentifier())
	a.upstream.InspectFeatureGates(utilfeature.DefaultFeatureGate)
	a.upstream.SetExternalKubeInformerFactory(factory)
	a.upstream.SetUnconditionalAuthorizer(a.upAuthz)
	if err := a.upstream.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	var err error
	if a.ours, err = ours.NewRestriction(factory, a.ourAuth, ours.RestrictionOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	if !a.ours.WaitForSync(ctx) {
		t.Fatal("not synced")
	}
	return a
}

// toInternal converts a typed object to the API server's internal type, as admission sees it.
func toInternal(t *testing.T, obj runtime.Object) runtime.Object {
	t.Helper()
	if obj == nil {
		return nil
	}
	out, err := legacyscheme.Scheme.ConvertToVersion(obj.DeepCopyObject(), runtime.InternalGroupVersioner)
	if err != nil {
		t.Fatalf("converting %T: %v", obj, err)
	}
	return out
}

// verdict classifies an admission error.
func verdict(err error) string {
	switch {
	case err == nil:
		return "admitted"
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsNotFound(err):
		return "not found"
	}
	return "other error"
}

// TestNodeRestriction runs random writes of nodes (and of a few users that are not nodes)
// through the NodeRestriction admission plugin and through Restriction, over the same objects:
// each write must get the same verdict (admitted, forbidden, not found, other error), and the
// authorizer must be asked the same number of times.
func TestNodeRestriction(t *testing.T) {
	a := newAdmitters(t)
	g := &writeGen{rng: rand.New(rand.NewPCG(11, 3))}
	const n = 20000
	verdicts := map[string]int{}
	perResource := map[string]map[string]int{}
	mismatches := 0
	ctx := context.Background()
	for range n {
		w := g.write()
		attrs := admission.NewAttributesRecord(toInternal(t, w.Object), toInternal(t, w.OldObject), schema.GroupVersionKind{},
			w.Namespace, w.Name, schema.GroupVersionResource{Group: w.APIGroup, Version: w.APIVersion, Resource: w.Resource},
			w.Subresource, admission.Operation(w.Operation), nil, false, w.User)
		upErr := a.upstream.Admit(ctx, attrs, nil)
		ourErr := a.ours.Admit(ctx, w)
		uv, ov := verdict(upErr), verdict(ourErr)
		key := w.Resource
		if w.Subresource != "" {
			key += "/" + w.Subresource
		}
		if perResource[key] == nil {
			perResource[key] = map[string]int{}
		}
		perResource[key][uv]++
		verdicts[uv]++
		if uv != ov || a.upAuthz.calls != a.ourAuth.calls {
			mismatches++
			if mismatches <= 30 {
				t.Errorf("%s %s %s/%s as %s: upstream %s (%v), authfilter %s (%v); authorizer calls %d vs %d",
					w.Operation, key, w.Namespace, w.Name, w.User.GetName(), uv, upErr, ov, ourErr, a.upAuthz.calls, a.ourAuth.calls)
			}
			a.ourAuth.calls = a.upAuthz.calls
		}
	}
	for k, v := range perResource {
		t.Logf("%-32s %v", k, v)
	}
	t.Logf("%d writes: %v; %d verdict mismatches; %d authorizer calls", n, verdicts, mismatches, a.upAuthz.calls)
	if verdicts["admitted"] < n/10 || verdicts["forbidden"] < n/10 {
		t.Errorf("too few of each verdict to prove anything: %v", verdicts)
	}
}
