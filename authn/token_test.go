package authn

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes/fake"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	k8stesting "k8s.io/client-go/testing"
)

const testToken = "tok-3f9c2a-secret"

// reviews records the TokenReviews a fake clientset received.
type reviews struct {
	calls atomic.Int32
	mu    sync.Mutex
	specs []authenticationv1.TokenReviewSpec
}

func (r *reviews) sent() []authenticationv1.TokenReviewSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]authenticationv1.TokenReviewSpec(nil), r.specs...)
}

// fakeReviews returns a TokenReview client backed by kubernetes/fake whose reactor records each
// review and answers with respond.
func fakeReviews(t *testing.T, respond func(spec authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error)) (authenticationv1client.TokenReviewInterface, *reviews) {
	t.Helper()
	rec := &reviews{}
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		tr := action.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
		rec.mu.Lock()
		rec.specs = append(rec.specs, *tr.Spec.DeepCopy())
		rec.mu.Unlock()
		rec.calls.Add(1)
		status, err := respond(tr.Spec)
		if err != nil {
			return true, nil, err
		}
		out := tr.DeepCopy()
		out.Status = status
		return true, out, nil
	})
	return cs.AuthenticationV1().TokenReviews(), rec
}

func authenticated(name string, groups ...string) authenticationv1.TokenReviewStatus {
	return authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: name, Groups: groups}}
}

func rejected(msg string) authenticationv1.TokenReviewStatus {
	return authenticationv1.TokenReviewStatus{Error: msg}
}

func newTestToken(t *testing.T, client authenticationv1client.TokenReviewInterface, opts TokenOptions) *Token {
	t.Helper()
	a, err := NewToken(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ctxAwareReviews makes the fake's Create return when its context ends, as a real client does.
type ctxAwareReviews struct {
	authenticationv1client.TokenReviewInterface
}

func (c ctxAwareReviews) Create(ctx context.Context, tr *authenticationv1.TokenReview, opts metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	type result struct {
		tr  *authenticationv1.TokenReview
		err error
	}
	ch := make(chan result, 1)
	go func() {
		out, err := c.TokenReviewInterface.Create(ctx, tr, opts)
		ch <- result{out, err}
	}()
	select {
	case r := <-ch:
		return r.tr, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestTokenSuccessMapping(t *testing.T) {
	client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		return authenticationv1.TokenReviewStatus{
			Authenticated: true,
			User: authenticationv1.UserInfo{
				Username: "system:serviceaccount:kube-system:metrics",
				UID:      "uid-1",
				Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"},
				Extra:    map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"metrics-0"}},
			},
			Audiences: []string{"https://kubernetes.default.svc"},
		}, nil
	})
	a := newTestToken(t, client, TokenOptions{})
	for i := range 2 {
		resp, ok, err := a.AuthenticateRequest(headerRequest("Bearer " + testToken))
		if err != nil || !ok {
			t.Fatalf("request %d: ok=%v err=%v", i, ok, err)
		}
		want := &user.DefaultInfo{
			Name:   "system:serviceaccount:kube-system:metrics",
			UID:    "uid-1",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"},
			Extra:  map[string][]string{"authentication.kubernetes.io/pod-name": {"metrics-0"}},
		}
		if got := userInfo(resp.User); !reflect.DeepEqual(got, want) {
			t.Fatalf("user = %#v, want %#v", got, want)
		}
		if want := (authenticator.Audiences{"https://kubernetes.default.svc"}); !reflect.DeepEqual(resp.Audiences, want) {
			t.Fatalf("audiences = %v, want %v", resp.Audiences, want)
		}
	}
	specs := rec.sent()
	if len(specs) != 1 {
		t.Fatalf("%d TokenReviews sent for two requests with one token, want 1 (cached)", len(specs))
	}
	if want := (authenticationv1.TokenReviewSpec{Token: testToken}); !reflect.DeepEqual(specs[0], want) {
		t.Fatalf("spec sent = %#v, want %#v", specs[0], want)
	}
}

func TestTokenRejectedIsCached(t *testing.T) {
	tests := []struct {
		name    string
		status  authenticationv1.TokenReviewStatus
		wantErr string
	}{
		{name: "with reason", status: rejected("invalid bearer token"), wantErr: "token rejected by the API server: invalid bearer token"},
		{name: "without reason", status: rejected(""), wantErr: "token rejected by the API server"},
		{name: "reason echoes the token", status: rejected("token " + testToken + " is unknown"),
			wantErr: "token rejected by the API server: token [redacted] is unknown"},
		{name: "authenticated without username is a backend error", status: authenticated(""),
			wantErr: "token review failed: the API server authenticated the token but returned no username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
				return tt.status, nil
			})
			logs, logger := newLogSink()
			a := newTestToken(t, client, TokenOptions{Logger: logger})
			for i := range 2 {
				resp, ok, err := a.AuthenticateRequest(headerRequest("Bearer " + testToken))
				if ok || resp != nil || err == nil || err.Error() != tt.wantErr {
					t.Fatalf("request %d: got (%v, %v, %v), want error %q", i, resp, ok, err, tt.wantErr)
				}
				assertNoSecret(t, err, logs.all(), testToken)
			}
			wantCalls := int32(1)
			if strings.HasPrefix(tt.wantErr, "token review failed") {
				wantCalls = 2 // backend errors are not cached
			}
			if n := rec.calls.Load(); n != wantCalls {
				t.Fatalf("%d TokenReviews sent, want %d", n, wantCalls)
			}
		})
	}
}

var errUnreachable = errors.New("dial tcp 10.0.0.1:443: connect: connection refused")

func TestTokenBackendErrorNotCached(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr string
	}{
		{name: "connection refused", err: errUnreachable, wantErr: "token review failed: " + errUnreachable.Error()},
		{name: "error echoes the token", err: fmt.Errorf("bad request body {\"token\":%q}: %w", testToken, errUnreachable),
			wantErr: `token review failed: bad request body {"token":"[redacted]"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail := true
			client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
				if fail {
					return authenticationv1.TokenReviewStatus{}, tt.err
				}
				return authenticated("alice"), nil
			})
			logs, logger := newLogSink()
			a := newTestToken(t, client, TokenOptions{Logger: logger})

			_, ok, err := a.AuthenticateToken(t.Context(), testToken)
			if ok || err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("got ok=%v err=%v, want error starting %q", ok, err, tt.wantErr)
			}
			if !errors.Is(err, errUnreachable) {
				t.Fatalf("error %v does not match the backend error with errors.Is", err)
			}
			assertNoSecret(t, err, logs.all(), testToken)
			if !strings.Contains(logs.all(), "TokenReview request failed") {
				t.Fatalf("backend error not logged:\n%s", logs.all())
			}
			if n := a.cache.Len(); n != 0 {
				t.Fatalf("backend error cached: %d entries", n)
			}

			fail = false // the next review runs in a goroutine started after this write
			if _, ok, err := a.AuthenticateToken(t.Context(), testToken); !ok || err != nil {
				t.Fatalf("after the backend recovered: ok=%v err=%v", ok, err)
			}
			if n := rec.calls.Load(); n != 2 {
				t.Fatalf("%d TokenReviews sent, want 2 (the error was not cached)", n)
			}
		})
	}
}

func TestTokenTimeout(t *testing.T) {
	release := make(chan struct{})
	fake, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		<-release
		return authenticated("alice"), nil
	})
	a := newTestToken(t, ctxAwareReviews{fake}, TokenOptions{Timeout: 20 * time.Millisecond})

	_, ok, err := a.AuthenticateToken(t.Context(), testToken)
	if ok || !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "token review failed") {
		t.Fatalf("got ok=%v err=%v, want a token review failure matching DeadlineExceeded", ok, err)
	}
	assertNoSecret(t, err, "", testToken)
	close(release)
	if _, ok, err := a.AuthenticateToken(t.Context(), testToken); !ok || err != nil {
		t.Fatalf("after the timeout: ok=%v err=%v", ok, err)
	}
	if n := rec.calls.Load(); n != 2 {
		t.Fatalf("%d TokenReviews sent, want 2 (the timeout was not cached)", n)
	}
}

func TestTokenAudiences(t *testing.T) {
	tests := []struct {
		name       string
		statusAuds []string
		wantAuds   authenticator.Audiences
		wantErr    string
	}{
		{name: "intersecting", statusAuds: []string{"kubelet"}, wantAuds: authenticator.Audiences{"kubelet"}},
		{name: "superset keeps only requested", statusAuds: []string{"api", "kubelet", "other"}, wantAuds: authenticator.Audiences{"api", "kubelet"}},
		{name: "disjoint", statusAuds: []string{"other"}, wantErr: `token rejected: its audiences ["other"] do not include any of ["kubelet" "api"]`},
		{name: "none in status", statusAuds: nil, wantErr: `token rejected: its audiences [] do not include any of ["kubelet" "api"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, rec := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
				st := authenticated("alice")
				st.Audiences = tt.statusAuds
				return st, nil
			})
			auds := []string{"kubelet", "api"}
			logs, logger := newLogSink()
			a := newTestToken(t, client, TokenOptions{Audiences: auds, Logger: logger})
			auds[0] = "changed-by-caller" // the options slice is copied

			for i := range 2 {
				resp, ok, err := a.AuthenticateToken(t.Context(), testToken)
				if tt.wantErr != "" {
					if ok || err == nil || err.Error() != tt.wantErr {
						t.Fatalf("request %d: ok=%v err=%v, want %q", i, ok, err, tt.wantErr)
					}
					assertNoSecret(t, err, logs.all(), testToken)
					continue
				}
				if !ok || err != nil || !reflect.DeepEqual(resp.Audiences, tt.wantAuds) {
					t.Fatalf("request %d: ok=%v err=%v audiences=%v, want %v", i, ok, err, resp.Audiences, tt.wantAuds)
				}
			}
			specs := rec.sent()
			if len(specs) != 1 {
				t.Fatalf("%d TokenReviews sent, want 1 (result cached)", len(specs))
			}
			if want := []string{"kubelet", "api"}; !reflect.DeepEqual(specs[0].Audiences, want) || specs[0].Token != testToken {
				t.Fatalf("spec sent = %#v, want token and audiences %v", specs[0], want)
			}
		})
	}
}

func TestNewTokenErrors(t *testing.T) {
	client, _ := fakeReviews(t, func(authenticationv1.TokenReviewSpec) (authenticationv1.TokenReviewStatus, error) {
		t.Error("a constructor sent a TokenReview")
		return authenticationv1.TokenReviewStatus{}, nil
	})
	tests := []struct {
		name    string
		client  authenticationv1client.TokenReviewInterface
		opts    TokenOptions
		wantErr string
	}{
		{name: "nil client", wantErr: "needs a TokenReview client"},
		{name: "typed nil client", client: (*nilReviews)(nil), wantErr: "needs a TokenReview client"},
		{name: "negative timeout", client: client, opts: TokenOptions{Timeout: -time.Second}, wantErr: "timeout must not be negative"},
		{name: "negative max entries", client: client, opts: TokenOptions{MaxCacheEntries: -1}, wantErr: "must not be negative"},
		{name: "empty audience", client: client, opts: TokenOptions{Audiences: []string{""}}, wantErr: "empty string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewToken(tt.client, tt.opts)
			if a != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, %v; want error containing %q", a, err, tt.wantErr)
			}
		})
	}
}

type nilReviews struct {
	authenticationv1client.TokenReviewInterface
}
