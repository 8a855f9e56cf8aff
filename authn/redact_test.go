package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestRedact(t *testing.T) {
	long := "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("QUJDREVGR0hJSktMTU5PUA", 40)
	quoted := `tok"en\with` + strings.Repeat(`"quotes\`, 4)
	tests := []struct {
		name, s, secret, want string
	}{
		{"no secret", "connection refused", long, "connection refused"},
		{"whole secret replaced", "token " + long + " is unknown", long, "token [redacted] is unknown"},
		{"cut short", "echo: " + long[:300], long, redacted},
		{"a piece from the middle", "echo: " + long[100:116], long, redacted},
		{"escaped as %q writes it", fmt.Sprintf("body (%q)", quoted[:30]), quoted, redacted},
		{"short secret", "token abc is unknown", "abc", "token [redacted] is unknown"},
		{"empty secret", "anything", "", "anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.s, tt.secret); got != tt.want {
				t.Errorf("redact = %q, want %q", got, tt.want)
			}
			if tt.secret != "" && leaksPiece(redact(tt.s, tt.secret), tt.secret) {
				t.Error("the result still holds a piece of the secret")
			}
		})
	}
}

func TestRedactErrKeepsIsWithoutTheMessage(t *testing.T) {
	secret := strings.Repeat("s3cr3t-", 20)
	err := redactErr(fmt.Errorf("echo %s: %w", secret[:50], context.DeadlineExceeded), secret)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("the redacted error lost its chain for errors.Is")
	}
	if leaksPiece(err.Error(), secret) || errors.Unwrap(err) != nil {
		t.Errorf("redacted error %q leaks the secret or unwraps to the original", err)
	}
}

// TestTokenReviewEchoCutShort is a backend (a proxy or a misbehaving webhook) that answers 500
// in plain text, echoing the request body: client-go keeps its first 2 KiB and quotes them, so
// a long token arrives in the error cut short. Neither the error nor the log may hold any
// piece of it.
func TestTokenReviewEchoCutShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	logs, logger := newLogSink()
	a := newTestToken(t, cs.AuthenticationV1().TokenReviews(), TokenOptions{RetryBackoff: &wait.Backoff{Steps: 1}, Logger: logger})
	for _, token := range []string{
		"eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("QUJDREVGR0hJSktMTU5PUA", 120), // a large OIDC JWT
		`opaque"token\with"quotes` + strings.Repeat(`x"y\z`, 400),
	} {
		resp, ok, err := a.AuthenticateToken(t.Context(), token)
		if ok || resp != nil || err == nil {
			t.Fatalf("AuthenticateToken = %v, %v, %v; want a failed review", resp, ok, err)
		}
		if !strings.Contains(err.Error(), "token review failed: the server answered 500") {
			t.Errorf("error %q does not say what the server answered", err)
		}
		assertNoSecret(t, err, logs.all(), token)
	}
}
