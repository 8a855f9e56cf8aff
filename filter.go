package authfilter

import (
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
	logger       logr.Logger
	errorHandler func(http.ResponseWriter, *http.Request, *Error)
}

// New returns a Filter built from an authenticator, an authorizer and an attributes getter.
// All three are required: a nil one is an error, never "allow everything".
func New(authn authenticator.Request, authz authorizer.Authorizer, attrs attributes.Getter, opts Options) (*Filter, error) {
	switch {
	case isNil(authn):
		return nil, errors.New("authfilter: authenticator is nil")
	case isNil(authz):
		return nil, errors.New("authfilter: authorizer is nil")
	case isNil(attrs):
		return nil, errors.New("authfilter: attributes getter is nil")
	}
	f := &Filter{authn: authn, authz: authz, attrs: attrs, logger: opts.Logger, errorHandler: opts.ErrorHandler}
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

// isNil reports whether v is nil or an interface holding a nil pointer, func, map or chan.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Interface, reflect.Slice:
		return rv.IsNil()
	}
	return false
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
// X-Remote-*). r itself is never modified. On refusal it returns an *Error:
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

	attrs, err := f.attrs.GetAttributes(u, r)
	switch {
	case errors.Is(err, attributes.ErrMethodNotAllowed):
		return nil, &Error{Code: http.StatusMethodNotAllowed, Message: "Method Not Allowed", cause: err}
	case errors.Is(err, attributes.ErrNonCanonicalPath):
		return nil, &Error{Code: http.StatusBadRequest, Message: "Bad Request: path is not canonical", cause: err}
	case err != nil:
		return nil, &Error{Code: http.StatusInternalServerError, Message: "Internal Server Error", cause: fmt.Errorf("mapping request attributes: %w", err)}
	case len(attrs) == 0:
		return nil, &Error{Code: http.StatusForbidden, Message: "Forbidden", cause: errors.New("no attributes to authorize")}
	}

	ctx := r.Context()
	var errs []error
	var reasons []string
	for _, a := range attrs {
		decision, reason, err := f.authz.Authorize(ctx, a)
		if decision == authorizer.DecisionAllow {
			return f.pass(r, u), nil
		}
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{Code: http.StatusInternalServerError, Message: describe("Authorization error", u, attrs), cause: errors.Join(errs...)}
	}
	return nil, &Error{Code: http.StatusForbidden, Message: describe("Forbidden", u, attrs), cause: errors.New(strings.Join(reasons, "; "))}
}

// strippedHeaders are removed from a passed request: the credential, and identity claims that
// a handler behind the filter might otherwise trust.
var strippedHeaders = []string{"Authorization"}

// strippedPrefixes are header prefixes removed like strippedHeaders.
var strippedPrefixes = []string{"Impersonate-", "X-Remote-"}

// pass returns a copy of r carrying u, without credential or identity headers.
func (f *Filter) pass(r *http.Request, u user.Info) *http.Request {
	out := r.WithContext(request.WithUser(r.Context(), u))
	if hasIdentityHeaders(r.Header) {
		h := make(http.Header, len(r.Header))
		for k, v := range r.Header {
			if !isIdentityHeader(k) {
				h[k] = v
			}
		}
		out.Header = h
	}
	return out
}

func hasIdentityHeaders(h http.Header) bool {
	for k := range h {
		if isIdentityHeader(k) {
			return true
		}
	}
	return false
}

// isIdentityHeader matches canonical header keys and, case-insensitively, keys set directly.
func isIdentityHeader(key string) bool {
	for _, s := range strippedHeaders {
		if strings.EqualFold(key, s) {
			return true
		}
	}
	for _, p := range strippedPrefixes {
		if len(key) >= len(p) && strings.EqualFold(key[:len(p)], p) {
			return true
		}
	}
	return false
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
