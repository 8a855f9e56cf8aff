package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/authfilter/authfilter/internal/nilcheck"
)

// Union asks a list of authorizers in order, like kube-apiserver's authorizer union. Create it
// with [NewUnion]; it is immutable and safe for concurrent use if its authorizers are.
//
// The first DecisionAllow or DecisionDeny is returned at once, with that authorizer's reason
// and error:
//
//   - Allow wins even when it comes with an error; the error is passed along and callers
//     ignore it, as kube-apiserver's WithAuthorization filter does.
//   - Deny with an error is returned as is, so the caller answers with a server error.
//
// DecisionNoOpinion goes on to the next authorizer; an error that comes with it is remembered.
// When no authorizer decides, Authorize returns DecisionNoOpinion, the non-empty reasons joined
// with "; ", and the remembered errors joined with errors.Join (nil if there were none), so a
// caller can tell "nobody allowed it" (403) from "an authorizer failed and nobody allowed it"
// (500).
type Union struct {
	authorizers []authorizer.Authorizer
}

var _ authorizer.Authorizer = (*Union)(nil)

// NewUnion returns a Union of authorizers, asked in the order given. The slice is copied. An
// empty list or a nil authorizer (typed or untyped) is an error.
func NewUnion(authorizers ...authorizer.Authorizer) (*Union, error) {
	if len(authorizers) == 0 {
		return nil, errors.New("authz: union needs at least one authorizer")
	}
	for i, a := range authorizers {
		if nilcheck.IsNil(a) {
			return nil, fmt.Errorf("authz: union authorizer %d is nil", i)
		}
	}
	return &Union{authorizers: slices.Clone(authorizers)}, nil
}

// Authorize asks each authorizer in turn; see [Union] for how their answers combine.
func (u *Union) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	var (
		reasons []string
		errs    []error
	)
	for _, a := range u.authorizers {
		decision, reason, err := a.Authorize(ctx, attrs)
		switch decision {
		case authorizer.DecisionAllow, authorizer.DecisionDeny:
			return decision, reason, err
		case authorizer.DecisionNoOpinion:
		default:
			// An unknown decision is treated as a failure, never as a pass.
			return authorizer.DecisionDeny, reason, errors.Join(err, fmt.Errorf("authz: authorizer returned unknown decision %v", decision))
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return authorizer.DecisionNoOpinion, strings.Join(reasons, "; "), errors.Join(errs...)
}

// ConditionsAwareAuthorize returns the Authorize decision as an unconditional decision.
func (u *Union) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(u.Authorize(ctx, attrs))
}

// EvaluateConditions is not supported: it returns DecisionDeny and
// authorizer.ErrorConditionEvaluationNotSupported.
func (*Union) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}
