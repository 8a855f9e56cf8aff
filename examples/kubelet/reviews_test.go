package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

// recordingTransport answers every request with 200 and records the bodies it was sent.
type recordingTransport struct{ bodies []string }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := ""
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = string(b)
	}
	r.bodies = append(r.bodies, body)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

func TestCountingTransport(t *testing.T) {
	var logs syncBuffer
	counter := &reviewCounter{logger: serve.NewLogger(&logs, 0)}
	next := &recordingTransport{}
	rt := counter.wrap(next)

	tests := []struct {
		name, method, url    string
		wantTokens, wantSARs int64 // totals after the request
	}{
		{"TokenReview", "POST", "https://api:6443/apis/authentication.k8s.io/v1/tokenreviews", 1, 0},
		{"SubjectAccessReview", "POST", "https://api:6443/apis/authorization.k8s.io/v1/subjectaccessreviews", 1, 1},
		{"behind a path prefix", "POST", "https://lb/cluster-a/apis/authorization.k8s.io/v1/subjectaccessreviews", 1, 2},
		{"LocalSubjectAccessReview is not counted", "POST", "https://api:6443/apis/authorization.k8s.io/v1/namespaces/ns/localsubjectaccessreviews", 1, 2},
		{"a GET is not a review", "GET", "https://api:6443/apis/authentication.k8s.io/v1/tokenreviews", 1, 2},
		{"another resource", "POST", "https://api:6443/api/v1/namespaces/ns/pods", 1, 2},
		{"second TokenReview", "POST", "https://api:6443/apis/authentication.k8s.io/v1/tokenreviews", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const body = `{"spec":{"token":"secret-token-value"}}`
			req, err := http.NewRequestWithContext(t.Context(), tt.method, tt.url, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := next.bodies[len(next.bodies)-1]; got != body {
				t.Errorf("the wrapped transport got body %q, want it untouched", got)
			}
			if got, want := counter.tokenReviews.Load(), tt.wantTokens; got != want {
				t.Errorf("TokenReviews = %d, want %d", got, want)
			}
			if got, want := counter.accessReviews.Load(), tt.wantSARs; got != want {
				t.Errorf("SubjectAccessReviews = %d, want %d", got, want)
			}
		})
	}

	out := logs.String()
	if strings.Contains(out, "secret-token-value") {
		t.Errorf("logs hold a review body:\n%s", out)
	}
	for _, want := range []string{
		`"msg"="review sent" "kind"="TokenReview" "total"=1`,
		`"msg"="review sent" "kind"="SubjectAccessReview" "total"=2`,
		`"msg"="review sent" "kind"="TokenReview" "total"=2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "review sent"); n != 4 {
		t.Errorf("%d review lines logged, want 4:\n%s", n, out)
	}

	var metrics strings.Builder
	counter.writeMetrics(&metrics)
	want := "authfilter_example_reviews_total{kind=\"SubjectAccessReview\"} 2\nauthfilter_example_reviews_total{kind=\"TokenReview\"} 2\n"
	if !strings.HasSuffix(metrics.String(), want) {
		t.Errorf("metrics =\n%s\nwant them to end with\n%s", metrics.String(), want)
	}
}
