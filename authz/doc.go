// Package authz answers "may this user do this?" for authfilter, the way the kubelet does:
// [AlwaysAllow] for --authorization-mode=AlwaysAllow, [SAR] for Webhook mode (a
// SubjectAccessReview sent to the API server through a client-go typed client, with a bounded
// cache of decisions), [AlwaysDeny] for tests and lock-downs, and [Union] to try several in order.
//
// Every authorizer implements k8s.io/apiserver's authorizer.Authorizer (Authorize,
// ConditionsAwareAuthorize and EvaluateConditions) with its usual contract: DecisionAllow and
// DecisionDeny are final, DecisionNoOpinion lets the next authorizer of a union decide, and an
// error returned with anything but DecisionAllow means the request must be refused with a
// server error rather than a plain 403. None of them evaluates authorization conditions:
// EvaluateConditions always returns DecisionDeny with
// authorizer.ErrorConditionEvaluationNotSupported.
//
// A typical Webhook-mode authorizer:
//
//	sar, err := authz.NewSAR(client.AuthorizationV1().SubjectAccessReviews(), authz.SAROptions{})
//
// # Fail closed
//
//   - A nil authorizer or client is a construction error, never "allow everything".
//   - A SubjectAccessReview that cannot be sent or answered is NoOpinion with an error, and is
//     never cached; a review answered with both allowed and denied is Deny with an error.
//   - Attributes without a user are refused with an error and no review is sent.
//   - A label or field selector that failed to parse is left out of the review, so the API
//     server checks the broader, unrestricted action.
//
// Errors and log lines name the user and the attributes but never a credential.
//
// All authorizers in this package are safe for concurrent use once constructed.
package authz
