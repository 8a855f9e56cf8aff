package authfilter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/authfilter/authfilter/attributes"
	"github.com/authfilter/authfilter/authz"
)

var alice = &user.DefaultInfo{Name: "alice", Groups: []string{"dev", user.AllAuthenticated}}

func authenticateAs(u user.Info) authenticator.Request {
	return authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
		return &authenticator.Response{User: u}, true, nil
	})
}

func resourceAttrs(subresources ...string) attributes.Getter {
	return attributes.GetterFunc(func(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
		var out []authorizer.Attributes
		for _, s := range subresources {
			out = append(out, authorizer.AttributesRecord{
				User: u, Verb: "get", Resource: "nodes", Subresource: s, Name: "node-a",
				APIVersion: "v1", ResourceRequest: true, Path: r.URL.Path,
			})
		}
		return out, nil
	})
}

// decide answers per subresource; a missing entry is NoOpinion.
type decide map[string]struct {
	decision authorizer.Decision
	err      error
}

// recordingAuthorizer answers from a table and records what it was asked.
func recordingAuthorizer(answers decide, asked *[]string) authorizer.Authorizer {
	return authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		*asked = append(*asked, a.GetSubresource())
		ans, ok := answers[a.GetSubresource()]
		if !ok {
			return authorizer.DecisionNoOpinion, "no rule", nil
		}
		return ans.decision, "rule for " + a.GetSubresource(), ans.err
	})
}

func TestNewRejectsNilCollaborators(t *testing.T) {
	var nilToken *struct{ authenticator.Request }
	tests := []struct {
		name  string
		authn authenticator.Request
		authz authorizer.Authorizer
		attrs attributes.Getter
	}{
		{"nil authenticator", nil, authz.NewAlwaysAllow(), resourceAttrs("proxy")},
		{"typed nil authenticator", nilToken, authz.NewAlwaysAllow(), resourceAttrs("proxy")},
		{"nil authorizer", authenticateAs(alice), nil, resourceAttrs("proxy")},
		{"nil attributes", authenticateAs(alice), authz.NewAlwaysAllow(), nil},
		{"nil getter func", authenticateAs(alice), authz.NewAlwaysAllow(), attributes.GetterFunc(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := New(tt.authn, tt.authz, tt.attrs, Options{}); err == nil || f != nil {
				t.Fatalf("New = %v, %v; want an error", f, err)
			}
		})
	}
}

func TestHandlerStatuses(t *testing.T) {
	backendDown := errors.New("backend down")
	tests := []struct {
		name     string
		authn    authenticator.Request
		attrs    attributes.Getter
		answers  decide
		wantCode int
		wantBody string
		wantAsk  []string // subresources the authorizer was asked about, in order
	}{
		{
			name:     "allowed",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("stats"),
			answers:  decide{"stats": {decision: authorizer.DecisionAllow}},
			wantCode: http.StatusOK, wantBody: "served alice", wantAsk: []string{"stats"},
		},
		{
			name: "authentication error is 401",
			authn: authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
				return nil, false, errors.New("x509: certificate has expired")
			}),
			attrs:    resourceAttrs("stats"),
			wantCode: http.StatusUnauthorized, wantBody: "Unauthorized",
		},
		{
			name: "no credentials is 401",
			authn: authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
				return nil, false, nil
			}),
			attrs:    resourceAttrs("stats"),
			wantCode: http.StatusUnauthorized, wantBody: "Unauthorized",
		},
		{
			name: "ok without a user is 401",
			authn: authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
				return &authenticator.Response{}, true, nil
			}),
			attrs:    resourceAttrs("stats"),
			wantCode: http.StatusUnauthorized, wantBody: "Unauthorized",
		},
		{
			name:  "unknown method is 405",
			authn: authenticateAs(alice),
			attrs: attributes.GetterFunc(func(user.Info, *http.Request) ([]authorizer.Attributes, error) {
				return nil, fmt.Errorf("%w: OPTIONS", attributes.ErrMethodNotAllowed)
			}),
			wantCode: http.StatusMethodNotAllowed, wantBody: "Method Not Allowed",
		},
		{
			name:  "non-canonical path is 400",
			authn: authenticateAs(alice),
			attrs: attributes.GetterFunc(func(user.Info, *http.Request) ([]authorizer.Attributes, error) {
				return nil, fmt.Errorf("%w: /a/../b", attributes.ErrNonCanonicalPath)
			}),
			wantCode: http.StatusBadRequest, wantBody: "Bad Request: path is not canonical",
		},
		{
			name:  "other getter error is 500",
			authn: authenticateAs(alice),
			attrs: attributes.GetterFunc(func(user.Info, *http.Request) ([]authorizer.Attributes, error) {
				return nil, errors.New("broken table")
			}),
			wantCode: http.StatusInternalServerError, wantBody: "Internal Server Error",
		},
		{
			name:     "no attributes is 403",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs(),
			wantCode: http.StatusForbidden, wantBody: "Forbidden",
		},
		{
			name:     "denied is 403 with the kubelet's message",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("log"),
			answers:  decide{"log": {decision: authorizer.DecisionDeny}},
			wantCode: http.StatusForbidden,
			wantBody: "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[log])",
			wantAsk:  []string{"log"},
		},
		{
			name:     "no opinion is 403",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("log"),
			wantCode: http.StatusForbidden,
			wantBody: "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[log])",
			wantAsk:  []string{"log"},
		},
		{
			name:     "fine-grained falls back to proxy",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("pods", "proxy"),
			answers:  decide{"pods": {decision: authorizer.DecisionDeny}, "proxy": {decision: authorizer.DecisionAllow}},
			wantCode: http.StatusOK, wantBody: "served alice", wantAsk: []string{"pods", "proxy"},
		},
		{
			name:     "first allowed attribute stops the search",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("pods", "proxy"),
			answers:  decide{"pods": {decision: authorizer.DecisionAllow}},
			wantCode: http.StatusOK, wantBody: "served alice", wantAsk: []string{"pods"},
		},
		{
			name:     "both denied lists both subresources",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("healthz", "proxy"),
			wantCode: http.StatusForbidden,
			wantBody: "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[healthz proxy])",
			wantAsk:  []string{"healthz", "proxy"},
		},
		{
			name:     "authorizer error is 500, never a pass",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("stats"),
			answers:  decide{"stats": {decision: authorizer.DecisionNoOpinion, err: backendDown}},
			wantCode: http.StatusInternalServerError,
			wantBody: "Authorization error (user=alice, verb=get, resource=nodes, subresource(s)=[stats])",
			wantAsk:  []string{"stats"},
		},
		{
			name:     "error on the first attribute, allowed on the fallback",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("configz", "proxy"),
			answers:  decide{"configz": {decision: authorizer.DecisionNoOpinion, err: backendDown}, "proxy": {decision: authorizer.DecisionAllow}},
			wantCode: http.StatusOK, wantBody: "served alice", wantAsk: []string{"configz", "proxy"},
		},
		{
			name:     "deny with an error is 500",
			authn:    authenticateAs(alice),
			attrs:    resourceAttrs("stats"),
			answers:  decide{"stats": {decision: authorizer.DecisionDeny, err: backendDown}},
			wantCode: http.StatusInternalServerError,
			wantBody: "Authorization error", wantAsk: []string{"stats"},
		},
		{
			name:  "non-resource denial names the path",
			authn: authenticateAs(alice),
			attrs: attributes.GetterFunc(func(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
				return []authorizer.Attributes{authorizer.AttributesRecord{User: u, Verb: "get", Path: r.URL.Path}}, nil
			}),
			wantCode: http.StatusForbidden,
			wantBody: "Forbidden (user=alice, verb=get, path=/stats/summary)",
			wantAsk:  []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			f, err := New(tt.authn, recordingAuthorizer(tt.answers, &asked), tt.attrs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			nextCalled := false
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nextCalled = true
				u, _ := request.UserFrom(r.Context())
				fmt.Fprintf(w, "served %s", u.GetName())
			})
			rec := httptest.NewRecorder()
			f.Handler(next).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stats/summary", nil))

			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tt.wantCode, rec.Body.String())
			}
			if got := strings.TrimSpace(rec.Body.String()); !strings.HasPrefix(got, tt.wantBody) {
				t.Errorf("body = %q, want prefix %q", got, tt.wantBody)
			}
			if want := tt.wantCode == http.StatusOK; nextCalled != want {
				t.Errorf("next called = %v, want %v", nextCalled, want)
			}
			if fmt.Sprint(asked) != fmt.Sprint(tt.wantAsk) {
				t.Errorf("authorizer asked about %q, want %q", asked, tt.wantAsk)
			}
			if rec.Code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

func TestHandlerStripsCredentialsWithoutMutatingTheRequest(t *testing.T) {
	var seenAuthn *http.Request
	authn := authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		seenAuthn = r
		return &authenticator.Response{User: alice}, true, nil
	})
	f, err := New(authn, authz.NewAlwaysAllow(), resourceAttrs("proxy"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got *http.Request
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r })

	r := httptest.NewRequest(http.MethodGet, "/pods", nil)
	r.Header.Set("Authorization", "Bearer secret-token")
	r.Header.Set("Impersonate-User", "system:admin")
	r.Header.Add("Impersonate-Group", "system:masters")
	r.Header.Set("X-Remote-User", "system:admin")
	r.Header["x-remote-group"] = []string{"system:masters"} // set without canonicalisation
	r.Header.Set("Accept", "application/json")
	f.Handler(next).ServeHTTP(httptest.NewRecorder(), r)

	if seenAuthn != r {
		t.Error("the authenticator did not see the original request")
	}
	if got == nil {
		t.Fatal("next was not called")
	}
	for _, h := range []string{"Authorization", "Impersonate-User", "Impersonate-Group", "X-Remote-User", "x-remote-group"} {
		if _, ok := got.Header[h]; ok {
			t.Errorf("next saw header %s", h)
		}
	}
	if got.Header.Get("Accept") != "application/json" {
		t.Error("an unrelated header was dropped")
	}
	u, ok := request.UserFrom(got.Context())
	if !ok || u.GetName() != "alice" {
		t.Errorf("context user = %v, %v; want alice (impersonation headers must not matter)", u, ok)
	}
	if r.Header.Get("Authorization") != "Bearer secret-token" || r.Header.Get("Impersonate-User") == "" {
		t.Error("the caller's request was mutated")
	}
	if _, ok := request.UserFrom(r.Context()); ok {
		t.Error("the caller's request context gained a user")
	}
}

func TestCheckReturnsTypedErrors(t *testing.T) {
	f, err := New(authenticateAs(alice), authz.NewAlwaysDeny(), resourceAttrs("stats"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/stats", nil)
	out, err := f.Check(r)
	var e *Error
	if out != nil || !errors.As(err, &e) || e.Code != http.StatusForbidden {
		t.Fatalf("Check = %v, %v; want a 403 *Error", out, err)
	}
	if e.Unwrap() == nil || !strings.Contains(e.Error(), e.Message) {
		t.Errorf("Error() = %q, Unwrap() = %v; want the message and a cause", e.Error(), e.Unwrap())
	}
}

func TestCustomErrorHandler(t *testing.T) {
	var got *Error
	f, err := New(authenticateAs(alice), authz.NewAlwaysDeny(), resourceAttrs("stats"), Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, e *Error) {
			got = e
			w.WriteHeader(http.StatusTeapot)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	f.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stats", nil))
	if rec.Code != http.StatusTeapot || got == nil || got.Code != http.StatusForbidden {
		t.Fatalf("custom handler: status %d, error %v", rec.Code, got)
	}
}

// TestCheckUsesAppenderLikeGetter runs the same requests through a filter whose getter can
// append into the filter's storage (attributes.Kubelet) and one that only has GetAttributes,
// and checks the authorizer is asked exactly the same attributes, one or two per request.
func TestCheckUsesAppenderLikeGetter(t *testing.T) {
	k, err := attributes.NewKubelet("node-a")
	if err != nil {
		t.Fatal(err)
	}
	plain := attributes.GetterFunc(k.GetAttributes) // hides AppendRecords
	for _, path := range []string{"/metrics", "/stats/summary", "/pods", "/healthz/ping", "/exec/ns/pod/c"} {
		t.Run(path, func(t *testing.T) {
			var asked [2][]string
			for i, getter := range []attributes.Getter{k, plain} {
				authz := authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
					asked[i] = append(asked[i], fmt.Sprintf("%s %s %s/%s %s %s %v", a.GetUser().GetName(), a.GetVerb(),
						a.GetResource(), a.GetSubresource(), a.GetName(), a.GetPath(), a.IsResourceRequest()))
					if a.GetSubresource() == "proxy" || a.GetSubresource() == "metrics" || a.GetSubresource() == "stats" {
						return authorizer.DecisionAllow, "", nil
					}
					return authorizer.DecisionNoOpinion, "", nil
				})
				f, err := New(authenticateAs(alice), authz, getter, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Check(httptest.NewRequest(http.MethodGet, path, nil)); err != nil {
					t.Fatalf("getter %d: Check: %v", i, err)
				}
			}
			if fmt.Sprint(asked[0]) != fmt.Sprint(asked[1]) || len(asked[0]) == 0 {
				t.Fatalf("with AppendRecords the authorizer was asked\n%v\nwith GetAttributes\n%v", asked[0], asked[1])
			}
		})
	}
}

// TestPassedContext checks the context of a passed request: it carries the user for
// request.UserFrom (shadowing one already there), and everything else, values, deadline and
// cancellation, is the caller's.
func TestPassedContext(t *testing.T) {
	if userContextKey() == nil {
		t.Fatal("the user context key of request.UserFrom was not found: passed requests pay an extra allocation")
	}
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "value"))
	parent = request.WithUser(parent, &user.DefaultInfo{Name: "outer"})
	f, err := New(authenticateAs(alice), authz.NewAlwaysAllow(), resourceAttrs("proxy"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Check(httptest.NewRequestWithContext(parent, http.MethodGet, "/pods", nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := got.Context()
	if u, ok := request.UserFrom(ctx); !ok || u != user.Info(alice) {
		t.Fatalf("UserFrom = %v, %v; want alice", u, ok)
	}
	if v := ctx.Value(key{}); v != "value" {
		t.Fatalf("a value of the caller's context was lost: %v", v)
	}
	if _, ok := ctx.Deadline(); ok {
		t.Fatal("the passed context has a deadline its parent has not")
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-ctx.Done()
	<-child.Done()
	if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("cancellation: %v, %v", ctx.Err(), child.Err())
	}
	if !strings.Contains(fmt.Sprint(ctx), "WithValue(user)") {
		t.Errorf("String() = %q", fmt.Sprint(ctx))
	}
}

// TestPassedContextFallback checks the passed request's user when the filter could not find
// request.UserFrom's key and falls back to request.WithUser.
func TestPassedContextFallback(t *testing.T) {
	f, err := New(authenticateAs(alice), authz.NewAlwaysAllow(), resourceAttrs("proxy"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.userKey = nil
	got, err := f.Check(httptest.NewRequest(http.MethodGet, "/pods", nil))
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := request.UserFrom(got.Context()); !ok || u != user.Info(alice) {
		t.Fatalf("UserFrom = %v, %v; want alice", u, ok)
	}
}

// TestCheckUsesFullAppenderLikeGetter is TestCheckUsesAppenderLikeGetter for a getter that
// appends full records (attributes.APIServer, whose records may carry selectors).
func TestCheckUsesFullAppenderLikeGetter(t *testing.T) {
	a := attributes.NewAPIServer()
	plain := attributes.GetterFunc(a.GetAttributes) // hides AppendAttributes
	for _, target := range []string{"/api/v1/namespaces/ns/secrets/s1", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&labelSelector=app%3Dx", "/healthz"} {
		t.Run(target, func(t *testing.T) {
			var asked [2]string
			for i, getter := range []attributes.Getter{a, plain} {
				authz := authorizer.AuthorizerFunc(func(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
					fs, _ := attrs.GetFieldSelector()
					ls, _ := attrs.GetLabelSelector()
					asked[i] += fmt.Sprintf("%s %s %s %s/%s %s %s %s %v %v %v;", attrs.GetUser().GetName(), attrs.GetVerb(), attrs.GetNamespace(),
						attrs.GetResource(), attrs.GetSubresource(), attrs.GetName(), attrs.GetAPIVersion(), attrs.GetPath(), attrs.IsResourceRequest(), fs, ls)
					return authorizer.DecisionAllow, "", nil
				})
				f, err := New(authenticateAs(alice), authz, getter, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Check(httptest.NewRequest(http.MethodGet, target, nil)); err != nil {
					t.Fatalf("getter %d: Check: %v", i, err)
				}
			}
			if asked[0] != asked[1] || asked[0] == "" {
				t.Fatalf("with AppendAttributes the authorizer was asked\n%v\nwith GetAttributes\n%v", asked[0], asked[1])
			}
		})
	}
}

// TestPassStateSize guards the per-request allocation: 384 bytes is a size class of the
// allocator; a byte more and every request would allocate 416 (see passState).
func TestPassStateSize(t *testing.T) {
	if size := unsafe.Sizeof(passState{}); size > 384 {
		t.Fatalf("passState is %d bytes, more than 384", size)
	}
}
