package authz

import (
	"context"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// AlwaysDenyReason is the reason [AlwaysDeny] gives for every decision.
const AlwaysDenyReason = "every request is denied (AlwaysDeny)"

// AlwaysAllow allows every request, like the kubelet's --authorization-mode=AlwaysAllow. It has
// no state and is safe for concurrent use.
type AlwaysAllow struct{}

var _ authorizer.Authorizer = (*AlwaysAllow)(nil)

// NewAlwaysAllow returns an authorizer that allows everything.
func NewAlwaysAllow() *AlwaysAllow { return &AlwaysAllow{} }

// Authorize returns DecisionAllow with an empty reason for any attributes.
func (*AlwaysAllow) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionAllow, "", nil
}

// ConditionsAwareAuthorize returns the Authorize decision as an unconditional decision.
func (a *AlwaysAllow) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions is not supported: it returns DecisionDeny and
// authorizer.ErrorConditionEvaluationNotSupported.
func (*AlwaysAllow) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// AlwaysDeny denies every request with [AlwaysDenyReason]. It has no state and is safe for
// concurrent use.
type AlwaysDeny struct{}

var _ authorizer.Authorizer = (*AlwaysDeny)(nil)

// NewAlwaysDeny returns an authorizer that denies everything.
func NewAlwaysDeny() *AlwaysDeny { return &AlwaysDeny{} }

// Authorize returns DecisionDeny with [AlwaysDenyReason] for any attributes.
func (*AlwaysDeny) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, AlwaysDenyReason, nil
}

// ConditionsAwareAuthorize returns the Authorize decision as an unconditional decision.
func (a *AlwaysDeny) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions is not supported: it returns DecisionDeny and
// authorizer.ErrorConditionEvaluationNotSupported.
func (*AlwaysDeny) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}
