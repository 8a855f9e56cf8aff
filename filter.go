package authfilter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/authfilter/authfilter/attributes"
	"github.com/authfilter/authfilter/internal/nilcheck"
)

// Options tune a Filter. The zero value is valid.
type Options struct {
	// Logger receives why a request was refused (the client only gets a short status body).
	// Refusals are logged at V(2), authorizer errors at V(0). Default: logr.Discard().
	Logger logr.Logger

	// ErrorHandler writes the response for a refused request. It is called with the *Error that
	// Check returned. Default: a plain-text body with the Error's Message and status code (plus
	// an Allow header on 405).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err *Error)
}

// Filter authenticates a request, maps it to authorization attributes and authorizes them, in
// that order, before the wrapped handler sees it.
//
// A Filter is immutable after New and safe for concurrent use by any number of requests.
type Filter struct {
	authn        authenticator.Request
	authz        authorizer.Authorizer
	attrs        attributes.Getter
	appender     recordAppender // attrs, when it can write compact records into the filter's storage
	fullAppender fullAppender   // attrs, when it can append full records (selectors included)
	userKey      any            // the context key request.UserFrom reads; nil: use request.WithUser
	logger       logr.Logger
	errorHandler func(http.ResponseWriter, *http.Request, *Error)
}

// recordAppender is implemented by getters that can append their attributes, as compact
// records, to storage the caller provides (attributes.Kubelet does), which saves allocations on
// every request.
type recordAppender interface {
	AppendRecords(dst []attributes.Record, u user.Info, r *http.Request) ([]attributes.Record, error)
}

// fullAppender is implemented by getters that can append full records (attributes.APIServer
// does), which saves the allocation of GetAttributes' slice.
type fullAppender interface {
	AppendAttributes(dst []authorizer.AttributesRecord, u user.Info, r *http.Request) ([]authorizer.AttributesRecord, error)
}

// New returns a Filter built from an authenticator, an authorizer and an attributes getter.
// All three are required: a nil one is an error, never "allow everything".
func New(authn authenticator.Request, authz authorizer.Authorizer, attrs attributes.Getter, opts Options) (*Filter, error) {
	switch {
	case nilcheck.IsNil(authn):
		return nil, errors.New("authfilter: authenticator is nil")
	case nilcheck.IsNil(authz):
		return nil, errors.New("authfilter: authorizer is nil")
	case nilcheck.IsNil(attrs):
		return nil, errors.New("authfilter: attributes getter is nil")
	}
	f := &Filter{authn: authn, authz: authz, attrs: attrs, logger: opts.Logger, errorHandler: opts.ErrorHandler}
	f.appender, _ = attrs.(recordAppender)
	f.fullAppender, _ = attrs.(fullAppender)
	f.userKey = userContextKey()
	if f.logger.GetSink() == nil {
		f.logger = logr.Discard()
	}
	if f.errorHandler == nil {
		f.errorHandler = WriteError
	}
	return f, nil
}

// log records why r was refused; the cause never holds a credential.
func (f *Filter) log(r *http.Request, e *Error) {
	if e.Code >= http.StatusInternalServerError {
		f.logger.Error(e.cause, "request refused", "status", e.Code, "method", r.Method, "path", r.URL.Path, "response", e.Message)
		return
	}
	f.logger.V(2).Info("request refused", "status", e.Code, "method", r.Method, "path", r.URL.Path, "response", e.Message, "reason", e.Unwrap())
}

// Handler returns next wrapped by the filter: a request reaches next only when Check accepts
// it, and then carries the user in its context (request.UserFrom) and has no Authorization
// header. Refused requests get the ErrorHandler's response.
func (f *Filter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorized, err := f.Check(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Code: http.StatusInternalServerError, Message: "Internal Server Error", cause: err}
			}
			f.log(r, e)
			f.errorHandler(w, r, e)
			return
		}
		next.ServeHTTP(w, authorized)
	})
}

// Check decides whether r may proceed. On success it returns a shallow copy of r whose context
// carries the authenticated user (k8s.io/apiserver/pkg/endpoints/request.WithUser) and whose
// headers no longer hold credentials or identity claims (Authorization, Impersonate-*,
// X-Remote-*, a websocket bearer-token subprotocol). r itself is never modified. On refusal it returns an *Error:
//
//   - 401 when authentication fails (a bad or unverifiable credential, or none while anonymous
//     access is off);
//   - 400 for a path that is not canonical, 405 for an HTTP method with no Kubernetes verb;
//   - 403 when no attribute of the request is allowed;
//   - 500 when no attribute is allowed and the authorizer reported an error: a backend failure
//     is never a pass.
func (f *Filter) Check(r *http.Request) (*http.Request, error) {
	resp, ok, err := f.authn.AuthenticateRequest(r)
	if err != nil || !ok || resp == nil || resp.User == nil {
		if err == nil {
			err = errors.New("no credentials")
		}
		return nil, &Error{Code: http.StatusUnauthorized, Message: "Unauthorized", cause: err}
	}
	u := resp.User

	st := new(passState) // the one allocation for the attributes and the request passed on
	attrs, err := f.attributes(st, u, r)
	switch {
	case errors.Is(err, attributes.ErrMethodNotAllowed):
		return nil, &Error{Code: http.StatusMethodNotAllowed, Message: "Method Not Allowed", cause: err}
	case errors.Is(err, attributes.ErrNonCanonicalPath):
		return nil, &Error{Code: http.StatusBadRequest, Message: "Bad Request: path is not canonical", cause: err}
	case err != nil:
		return nil, &Error{Code: http.StatusInternalServerError, Message: "Internal Server Error", cause: fmt.Errorf("mapping request attributes: %w", err)}
	case attrs.len() == 0:
		return nil, &Error{Code: http.StatusForbidden, Message: "Forbidden", cause: errors.New("no attributes to authorize")}
	}

	ctx := r.Context()
	var errs []error
	var reasons []string
	for i := range attrs.len() {
		decision, reason, err := f.authz.Authorize(ctx, attrs.at(i))
		if decision == authorizer.DecisionAllow {
			return f.pass(r, u, st), nil
		}
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Code: http.StatusInternalServerError, Message: describe("Authorization error", u, attrs.all()), cause: errors.Join(errs...)}
	}
	return nil, &Error{Code: http.StatusForbidden, Message: describe("Forbidden", u, attrs.all()), cause: errors.New(strings.Join(reasons, "; "))}
}

// passState is the per-request storage of a Filter: the attributes (when the getter can
// append them into it), the request passed on and its context. It has room for one record,
// the common case (every monitoring path); requests with more grow it.
//
// It is 384 bytes, a size class of the allocator: a 40-byte compact record, a 40-byte context
// and the 304-byte request. A byte more and every request would allocate the next class, 416.
type passState struct {
	records [1]attributes.Record
	ctx     userContext
	req     http.Request // the request passed on
}

// attributeList is the attributes of one request: the compact records a recordAppender wrote,
// the full records a fullAppender wrote, or the Attributes another getter returned (one of the
// three).
type attributeList struct {
	records []attributes.Record
	full    []authorizer.AttributesRecord
	attrs   []authorizer.Attributes
}

func (l attributeList) len() int { return len(l.records) + len(l.full) + len(l.attrs) }

// at returns the i-th attributes.
func (l attributeList) at(i int) authorizer.Attributes {
	switch {
	case l.records != nil:
		return &l.records[i]
	case l.full != nil:
		return &l.full[i]
	}
	return l.attrs[i]
}

// all returns the attributes as a slice (allocating for records): for refusals only.
func (l attributeList) all() []authorizer.Attributes {
	if l.attrs != nil {
		return l.attrs
	}
	out := make([]authorizer.Attributes, l.len())
	for i := range out {
		out[i] = l.at(i)
	}
	return out
}

// attributes returns the attributes of r for u, kept in st when the getter allows it.
func (f *Filter) attributes(st *passState, u user.Info, r *http.Request) (attributeList, error) {
	switch {
	case f.appender != nil:
		records, err := f.appender.AppendRecords(st.records[:0], u, r)
		return attributeList{records: records}, err
	case f.fullAppender != nil:
		full, err := f.fullAppender.AppendAttributes(make([]authorizer.AttributesRecord, 0, 1), u, r)
		return attributeList{full: full}, err
	}
	attrs, err := f.attrs.GetAttributes(u, r)
	return attributeList{attrs: attrs}, err
}

// pass returns a copy of r carrying u, without credential or identity headers.
func (f *Filter) pass(r *http.Request, u user.Info, st *passState) *http.Request {
	var ctx context.Context
	if f.userKey != nil {
		st.ctx = userContext{Context: r.Context(), key: &f.userKey, user: u}
		ctx = &st.ctx
	} else {
		ctx = request.WithUser(r.Context(), u)
	}
	// r.WithContext is inlined and its copy does not escape: the request passed on lives in st,
	// which saves an allocation per request.
	out := &st.req
	*out = *r.WithContext(ctx)
	out.Header = passedHeader(r.Header)
	return out
}

// userContext is a context carrying a user for request.UserFrom, like request.WithUser's, but
// stored inside the request's passState instead of allocated on its own. key is the key
// request.UserFrom looks up (see userContextKey); lookups of any other key, cancellation and
// deadline are the parent's.
type userContext struct {
	context.Context
	key  *any // points to Filter.userKey: 8 bytes instead of 16
	user user.Info
}

func (c *userContext) Value(key any) any {
	if key == *c.key {
		return c.user
	}
	return c.Context.Value(key)
}

func (c *userContext) String() string { return fmt.Sprintf("%v.WithValue(user)", c.Context) }

// userContextKey returns the context key that request.UserFrom looks up, found by letting it
// look into a probe context, or nil if the probe fails to find a key under which a user it can
// read back is stored (the filter then uses request.WithUser).
func userContextKey() any {
	probe := &keyProbe{Context: context.Background()}
	request.UserFrom(probe)
	if probe.key == nil || !reflect.TypeOf(probe.key).Comparable() {
		return nil
	}
	want := &user.DefaultInfo{Name: "probe"}
	got, ok := request.UserFrom(&userContext{Context: context.Background(), key: &probe.key, user: want})
	if !ok || got != user.Info(want) {
		return nil
	}
	return probe.key
}

// keyProbe records the key of the last Value lookup.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// describe formats the client-facing body of a 403 or 500, in the kubelet's words.
func describe(prefix string, u user.Info, attrs []authorizer.Attributes) string {
	a := attrs[0]
	if !a.IsResourceRequest() {
		return fmt.Sprintf("%s (user=%s, verb=%s, path=%s)", prefix, u.GetName(), a.GetVerb(), a.GetPath())
	}
	subresources := make([]string, 0, len(attrs))
	for _, a := range attrs {
		subresources = append(subresources, a.GetSubresource())
	}
	return fmt.Sprintf("%s (user=%s, verb=%s, resource=%s, subresource(s)=%v)",
		prefix, u.GetName(), a.GetVerb(), a.GetResource(), subresources)
}
