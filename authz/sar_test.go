package authz

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
)

var aliceGetsProxy = authorizer.AttributesRecord{
	User: &user.DefaultInfo{Name: "alice", Groups: []string{"system:authenticated"}},
	Verb: "get", Resource: "nodes", Subresource: "proxy", Name: "node-1", ResourceRequest: true,
}

// logSink collects formatted log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) add(prefix, args string) {
	s.mu.Lock()
	s.lines = append(s.lines, prefix+" "+args)
	s.mu.Unlock()
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

func TestNewSARValidates(t *testing.T) {
	cs, _ := newReviewer(t, respondWith(allowed("")))
	client := cs.AuthorizationV1().SubjectAccessReviews()
	type nilClient struct {
		authorizationv1client.SubjectAccessReviewInterface
	}
	tests := []struct {
		name   string
		client authorizationv1client.SubjectAccessReviewInterface
		opts   SAROptions
	}{
		{"nil client", nil, SAROptions{}},
		{"typed nil client", (*nilClient)(nil), SAROptions{}},
		{"negative timeout", client, SAROptions{Timeout: -time.Second}},
		{"negative cache bound", client, SAROptions{MaxCacheEntries: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, err := NewSAR(tt.client, tt.opts); err == nil || a != nil {
				t.Fatalf("NewSAR = %v, %v; want an error", a, err)
			}
		})
	}
	t.Run("zero options", func(t *testing.T) {
		a, err := NewSAR(client, SAROptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.allowTTL != DefaultAllowCacheTTL || a.denyTTL != DefaultDenyCacheTTL || a.timeout != DefaultSARTimeout {
			t.Fatalf("defaults: allow %s, deny %s, timeout %s", a.allowTTL, a.denyTTL, a.timeout)
		}
	})
}

func TestSARDecisions(t *testing.T) {
	tests := []struct {
		name       string
		status     authorizationv1.SubjectAccessReviewStatus
		wantDec    authorizer.Decision
		wantReason string
		wantErr    bool
		wantLog    string
	}{
		{"allowed", allowed("RBAC: allowed by ClusterRoleBinding"), authorizer.DecisionAllow, "RBAC: allowed by ClusterRoleBinding", false, ""},
		{"denied", denied("denied by policy"), authorizer.DecisionDeny, "denied by policy", false, ""},
		{"no opinion", authorizationv1.SubjectAccessReviewStatus{Reason: "no RBAC rule"}, authorizer.DecisionNoOpinion, "no RBAC rule", false, ""},
		{"both allowed and denied", authorizationv1.SubjectAccessReviewStatus{Allowed: true, Denied: true, Reason: "confused"}, authorizer.DecisionDeny, "confused", true, ""},
		{
			"evaluation error with reason",
			authorizationv1.SubjectAccessReviewStatus{Reason: "no rule", EvaluationError: "role \"x\" not found"},
			authorizer.DecisionNoOpinion, `no rule; evaluation error: role "x" not found`, false, "evaluationError",
		},
		{
			"evaluation error alone",
			authorizationv1.SubjectAccessReviewStatus{Allowed: true, EvaluationError: "partial"},
			authorizer.DecisionAllow, "evaluation error: partial", false, "evaluationError",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logSink
			a, r := newTestSAR(t, SAROptions{Logger: funcr.New(logs.add, funcr.Options{})}, respondWith(tt.status))
			for i := range 2 { // the second answer comes from the cache
				dec, reason, err := a.Authorize(t.Context(), aliceGetsProxy)
				if dec != tt.wantDec || reason != tt.wantReason || (err != nil) != tt.wantErr {
					t.Fatalf("call %d: Authorize = %v, %q, %v; want %v, %q, error %v", i, dec, reason, err, tt.wantDec, tt.wantReason, tt.wantErr)
				}
			}
			if n := r.count(); n != 1 {
				t.Fatalf("%d reviews sent, want 1", n)
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q does not mention %q", logs.String(), tt.wantLog)
			}
		})
	}
}

func TestSARRefusesWithoutUser(t *testing.T) {
	tests := []struct {
		name  string
		attrs authorizer.Attributes
	}{
		{"nil attributes", nil},
		{"nil user", authorizer.AttributesRecord{Verb: "get", Path: "/metrics"}},
		{"typed nil user", authorizer.AttributesRecord{User: (*user.DefaultInfo)(nil), Verb: "get", Path: "/metrics"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := newTestSAR(t, SAROptions{}, respondWith(allowed("")))
			dec, _, err := a.Authorize(t.Context(), tt.attrs)
			if dec == authorizer.DecisionAllow || err == nil {
				t.Fatalf("Authorize = %v, %v; want a refusal with an error", dec, err)
			}
			if n := r.count(); n != 0 {
				t.Fatalf("%d reviews sent for attributes without a user", n)
			}
		})
	}
}

func TestSARBackendErrorIsNotCached(t *testing.T) {
	backendDown := errors.New("connection refused")
	var logs logSink
	a, r := newTestSAR(t, SAROptions{Logger: funcr.New(logs.add, funcr.Options{})},
		func(authorizationv1.SubjectAccessReviewSpec) (authorizationv1.SubjectAccessReviewStatus, error) {
			return authorizationv1.SubjectAccessReviewStatus{}, backendDown
		})
	for i := range 2 {
		dec, reason, err := a.Authorize(t.Context(), aliceGetsProxy)
		if dec != authorizer.DecisionNoOpinion || reason != "" || !errors.Is(err, backendDown) {
			t.Fatalf("call %d: Authorize = %v, %q, %v; want NoOpinion, \"\", %v", i, dec, reason, err, backendDown)
		}
		if !strings.HasPrefix(err.Error(), "subjectaccessreview failed: ") {
			t.Errorf("error %q does not say the review failed", err)
		}
	}
	if n := r.count(); n != 2 {
		t.Fatalf("%d reviews sent for 2 failing calls, want 2 (errors must not be cached)", n)
	}
	if !strings.Contains(logs.String(), "SubjectAccessReview failed") || !strings.Contains(logs.String(), "alice") {
		t.Errorf("failure not logged with the user: %q", logs.String())
	}

	r.setResponder(respondWith(allowed("")))
	if dec, _, err := a.Authorize(t.Context(), aliceGetsProxy); dec != authorizer.DecisionAllow || err != nil {
		t.Fatalf("after recovery Authorize = %v, %v; want Allow", dec, err)
	}
	if n := r.count(); n != 3 {
		t.Fatalf("%d reviews sent, want 3", n)
	}
}

func TestSARDoneContext(t *testing.T) {
	a, r := newTestSAR(t, SAROptions{}, respondWith(allowed("")))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dec, _, err := a.Authorize(ctx, aliceGetsProxy)
	if dec != authorizer.DecisionNoOpinion || !errors.Is(err, context.Canceled) {
		t.Fatalf("Authorize = %v, %v; want NoOpinion, context.Canceled", dec, err)
	}
	if n := r.count(); n != 0 {
		t.Fatalf("%d reviews sent for a cancelled request", n)
	}
}

// deadlineRecorder passes reviews on to a fake client and records each call's deadline.
type deadlineRecorder struct {
	authorizationv1client.SubjectAccessReviewInterface
	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineRecorder) Create(ctx context.Context, sar *authorizationv1.SubjectAccessReview, opts metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error) {
	dl, ok := ctx.Deadline()
	d.mu.Lock()
	if ok {
		d.deadlines = append(d.deadlines, dl)
	}
	d.mu.Unlock()
	return d.SubjectAccessReviewInterface.Create(ctx, sar, opts)
}

func TestSARTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"default", 0, DefaultSARTimeout},
		{"custom", 3 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, r := newReviewer(t, respondWith(allowed("")))
			rec := &deadlineRecorder{SubjectAccessReviewInterface: cs.AuthorizationV1().SubjectAccessReviews()}
			a, err := NewSAR(rec, SAROptions{Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			if dec, _, err := a.Authorize(t.Context(), aliceGetsProxy); dec != authorizer.DecisionAllow || err != nil {
				t.Fatalf("Authorize = %v, %v", dec, err)
			}
			after := time.Now()
			if r.count() != 1 || len(rec.deadlines) != 1 {
				t.Fatalf("%d reviews, %d deadlines; want 1, 1", r.count(), len(rec.deadlines))
			}
			if dl := rec.deadlines[0]; dl.Before(before.Add(tt.want)) || dl.After(after.Add(tt.want)) {
				t.Fatalf("review deadline %s is not %s after the call", dl.Sub(before), tt.want)
			}
		})
	}
}
