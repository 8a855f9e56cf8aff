package authz

import (
	"context"
	"errors"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestAlways(t *testing.T) {
	alice := &user.DefaultInfo{Name: "alice"}
	attrs := []authorizer.Attributes{
		authorizer.AttributesRecord{User: alice, Verb: "get", Resource: "nodes", Subresource: "proxy", ResourceRequest: true},
		authorizer.AttributesRecord{User: alice, Verb: "get", Path: "/healthz"},
		authorizer.AttributesRecord{},
	}
	tests := []struct {
		name       string
		authz      authorizer.Authorizer
		wantDec    authorizer.Decision
		wantReason string
	}{
		{"allow", NewAlwaysAllow(), authorizer.DecisionAllow, ""},
		{"deny", NewAlwaysDeny(), authorizer.DecisionDeny, AlwaysDenyReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, a := range attrs {
				dec, reason, err := tt.authz.Authorize(t.Context(), a)
				if dec != tt.wantDec || reason != tt.wantReason || err != nil {
					t.Errorf("Authorize(%+v) = %v, %q, %v; want %v, %q, nil", a, dec, reason, err, tt.wantDec, tt.wantReason)
				}
			}
		})
	}
}

// TestThreeMethods checks, for every authorizer of the package, that ConditionsAwareAuthorize
// gives the Authorize answer and that EvaluateConditions fails closed.
func TestThreeMethods(t *testing.T) {
	backendDown := errors.New("backend down")
	failing := authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "no idea", backendDown
	})
	unionAllow, err := NewUnion(NewAlwaysAllow())
	if err != nil {
		t.Fatal(err)
	}
	unionFailing, err := NewUnion(failing)
	if err != nil {
		t.Fatal(err)
	}
	sar, _ := newTestSAR(t, SAROptions{}, respondWith(allowed("by rbac")))

	tests := []struct {
		name       string
		authz      authorizer.Authorizer
		check      func(authorizer.ConditionsAwareDecision) bool
		wantReason string
		wantErr    error
	}{
		{"AlwaysAllow", NewAlwaysAllow(), authorizer.ConditionsAwareDecision.IsAllow, "", nil},
		{"AlwaysDeny", NewAlwaysDeny(), authorizer.ConditionsAwareDecision.IsDeny, AlwaysDenyReason, nil},
		{"Union allow", unionAllow, authorizer.ConditionsAwareDecision.IsAllow, "", nil},
		{"Union error", unionFailing, authorizer.ConditionsAwareDecision.IsNoOpinion, "no idea", backendDown},
		{"SAR", sar, authorizer.ConditionsAwareDecision.IsAllow, "by rbac", nil},
	}
	attrs := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/metrics"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.authz.ConditionsAwareAuthorize(t.Context(), attrs)
			if !tt.check(d) || !d.IsUnconditional() {
				t.Errorf("ConditionsAwareAuthorize = %v", d)
			}
			if d.Reason() != tt.wantReason || !errors.Is(d.Error(), tt.wantErr) || (tt.wantErr == nil) != (d.Error() == nil) {
				t.Errorf("ConditionsAwareAuthorize reason %q, error %v; want %q, %v", d.Reason(), d.Error(), tt.wantReason, tt.wantErr)
			}
			dec, reason, err := tt.authz.EvaluateConditions(t.Context(), d, nil)
			if dec != authorizer.DecisionDeny || reason != "" || !errors.Is(err, authorizer.ErrorConditionEvaluationNotSupported) {
				t.Errorf("EvaluateConditions = %v, %q, %v; want Deny, \"\", ErrorConditionEvaluationNotSupported", dec, reason, err)
			}
		})
	}
}
