package authz

import (
	"context"
	"errors"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// stub answers with a fixed decision and records that it was asked.
type stub struct {
	name     string
	decision authorizer.Decision
	reason   string
	err      error
	asked    *[]string
}

func (s stub) authorizer() authorizer.Authorizer {
	return authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		*s.asked = append(*s.asked, s.name)
		return s.decision, s.reason, s.err
	})
}

func TestNewUnionValidates(t *testing.T) {
	tests := []struct {
		name  string
		authz []authorizer.Authorizer
	}{
		{"empty", nil},
		{"nil", []authorizer.Authorizer{NewAlwaysAllow(), nil}},
		{"typed nil", []authorizer.Authorizer{(*AlwaysAllow)(nil)}},
		{"nil func", []authorizer.Authorizer{authorizer.AuthorizerFunc(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if u, err := NewUnion(tt.authz...); err == nil || u != nil {
				t.Fatalf("NewUnion = %v, %v; want an error", u, err)
			}
		})
	}
}

func TestUnionCopiesItsList(t *testing.T) {
	list := []authorizer.Authorizer{NewAlwaysDeny()}
	u, err := NewUnion(list...)
	if err != nil {
		t.Fatal(err)
	}
	list[0] = NewAlwaysAllow()
	if dec, _, _ := u.Authorize(t.Context(), authorizer.AttributesRecord{}); dec != authorizer.DecisionDeny {
		t.Fatalf("changing the caller's slice changed the union: %v", dec)
	}
}

func TestUnion(t *testing.T) {
	errA, errB, errC := errors.New("a failed"), errors.New("b failed"), errors.New("c failed")
	tests := []struct {
		name       string
		stubs      []stub
		wantDec    authorizer.Decision
		wantReason string
		wantErrs   []error // each must be in the returned error; none means a nil error
		wantAsked  []string
	}{
		{
			name:    "first allow wins",
			stubs:   []stub{{name: "a", decision: authorizer.DecisionAllow, reason: "yes"}, {name: "b", decision: authorizer.DecisionDeny}},
			wantDec: authorizer.DecisionAllow, wantReason: "yes", wantAsked: []string{"a"},
		},
		{
			name:    "first deny wins",
			stubs:   []stub{{name: "a", decision: authorizer.DecisionDeny, reason: "no"}, {name: "b", decision: authorizer.DecisionAllow}},
			wantDec: authorizer.DecisionDeny, wantReason: "no", wantAsked: []string{"a"},
		},
		{
			name: "no opinion falls through to allow",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionNoOpinion, reason: "not mine"},
				{name: "b", decision: authorizer.DecisionNoOpinion},
				{name: "c", decision: authorizer.DecisionAllow, reason: "ok"},
				{name: "d", decision: authorizer.DecisionDeny},
			},
			wantDec: authorizer.DecisionAllow, wantReason: "ok", wantAsked: []string{"a", "b", "c"},
		},
		{
			name: "no opinion falls through to deny",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionNoOpinion},
				{name: "b", decision: authorizer.DecisionDeny, reason: "forbidden"},
			},
			wantDec: authorizer.DecisionDeny, wantReason: "forbidden", wantAsked: []string{"a", "b"},
		},
		{
			name: "nobody decides: reasons joined",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionNoOpinion, reason: "r1"},
				{name: "b", decision: authorizer.DecisionNoOpinion},
				{name: "c", decision: authorizer.DecisionNoOpinion, reason: "r3"},
			},
			wantDec: authorizer.DecisionNoOpinion, wantReason: "r1; r3", wantAsked: []string{"a", "b", "c"},
		},
		{
			name: "nobody decides: errors accumulated",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionNoOpinion, err: errA},
				{name: "b", decision: authorizer.DecisionNoOpinion, reason: "r2"},
				{name: "c", decision: authorizer.DecisionNoOpinion, err: errC},
			},
			wantDec: authorizer.DecisionNoOpinion, wantReason: "r2", wantErrs: []error{errA, errC}, wantAsked: []string{"a", "b", "c"},
		},
		{
			name: "error then allow: allow wins",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionNoOpinion, err: errA},
				{name: "b", decision: authorizer.DecisionAllow, reason: "ok"},
			},
			wantDec: authorizer.DecisionAllow, wantReason: "ok", wantAsked: []string{"a", "b"},
		},
		{
			name: "allow with an error: allow wins, error passed along",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionAllow, reason: "ok", err: errB},
				{name: "b", decision: authorizer.DecisionDeny},
			},
			wantDec: authorizer.DecisionAllow, wantReason: "ok", wantErrs: []error{errB}, wantAsked: []string{"a"},
		},
		{
			name: "deny with an error",
			stubs: []stub{
				{name: "a", decision: authorizer.DecisionNoOpinion},
				{name: "b", decision: authorizer.DecisionDeny, reason: "no", err: errB},
				{name: "c", decision: authorizer.DecisionAllow},
			},
			wantDec: authorizer.DecisionDeny, wantReason: "no", wantErrs: []error{errB}, wantAsked: []string{"a", "b"},
		},
		{
			name: "unknown decision fails closed",
			stubs: []stub{
				{name: "a", decision: authorizer.Decision(42)},
				{name: "b", decision: authorizer.DecisionAllow},
			},
			wantDec: authorizer.DecisionDeny, wantErrs: []error{}, wantAsked: []string{"a"},
		},
	}
	attrs := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "alice"}, Verb: "get", Path: "/metrics"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			var list []authorizer.Authorizer
			for _, s := range tt.stubs {
				s.asked = &asked
				list = append(list, s.authorizer())
			}
			u, err := NewUnion(list...)
			if err != nil {
				t.Fatal(err)
			}
			dec, reason, err := u.Authorize(t.Context(), attrs)
			if dec != tt.wantDec || reason != tt.wantReason {
				t.Errorf("Authorize = %v, %q; want %v, %q", dec, reason, tt.wantDec, tt.wantReason)
			}
			if (tt.wantErrs == nil) != (err == nil) {
				t.Errorf("error %v; want errors %v", err, tt.wantErrs)
			}
			for _, want := range tt.wantErrs {
				if !errors.Is(err, want) {
					t.Errorf("error %v does not hold %v", err, want)
				}
			}
			if len(asked) != len(tt.wantAsked) {
				t.Fatalf("asked %v, want %v", asked, tt.wantAsked)
			}
			for i := range asked {
				if asked[i] != tt.wantAsked[i] {
					t.Fatalf("asked %v, want %v", asked, tt.wantAsked)
				}
			}
		})
	}
}

// TestUnionWithSAR chains a failing SubjectAccessReview with the other authorizers.
func TestUnionWithSAR(t *testing.T) {
	backendDown := errors.New("backend down")
	tests := []struct {
		name    string
		after   []authorizer.Authorizer
		wantDec authorizer.Decision
		wantErr error
	}{
		{"alone: the error is kept", nil, authorizer.DecisionNoOpinion, backendDown},
		{"then AlwaysAllow", []authorizer.Authorizer{NewAlwaysAllow()}, authorizer.DecisionAllow, nil},
		{"then AlwaysDeny", []authorizer.Authorizer{NewAlwaysDeny()}, authorizer.DecisionDeny, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sar, r := newTestSAR(t, SAROptions{}, func(authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
				return authorizationv1.SubjectAccessReviewStatus{}, backendDown
			})
			u, err := NewUnion(append([]authorizer.Authorizer{sar}, tt.after...)...)
			if err != nil {
				t.Fatal(err)
			}
			dec, _, err := u.Authorize(t.Context(), aliceGetsProxy)
			if dec != tt.wantDec || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Authorize = %v, %v; want %v, %v", dec, err, tt.wantDec, tt.wantErr)
			}
			if n := r.count(); n != 1 {
				t.Fatalf("%d reviews sent, want 1", n)
			}
		})
	}
}
