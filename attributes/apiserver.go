package attributes

import (
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// APIServer is the [Getter] of a Kubernetes-like API: it maps a request to the one
// authorizer.AttributesRecord kube-apiserver would authorize, by running k8s.io/apiserver's own
// request parsing (request.RequestInfoFactory with the API prefixes "api" and "apis", "api"
// being groupless) and converting its result the way kube-apiserver's authorization filter
// does:
//
//	GET    /api/v1/namespaces/ns/secrets/s              get secrets "s" in ns
//	GET    /api/v1/namespaces/ns/pods?fieldSelector=... list pods in ns, with the selector
//	GET    /api/v1/pods?watch=true&labelSelector=...    watch pods (all namespaces)
//	GET    /api/v1/watch/namespaces/ns/pods             watch pods in ns (no selectors)
//	GET    /api/v1/nodes?fieldSelector=metadata.name=n  list nodes, Name "n"
//	PUT    /api/v1/namespaces/ns/pods/p/status          update pods/status "p"
//	POST   /api/v1/namespaces/ns/serviceaccounts/a/token create serviceaccounts/token "a"
//	DELETE /api/v1/namespaces/ns/configmaps             deletecollection configmaps in ns
//	GET    /apis/apps/v1/namespaces/ns/deployments/d    get deployments.apps "d" (APIVersion v1)
//	GET    /healthz, /api, /apis/apps, /version         non-resource, verb "get"
//
// In particular: GET without a name is list, or watch with ?watch=true (or 1); a list or watch
// whose field selector requires metadata.name to equal a valid name carries that name, which is
// how the Node authorizer lets a node list its own Node object; DELETE without a name is
// deletecollection; the first fieldSelector and labelSelector query parameters of list, watch
// and deletecollection requests become FieldSelectorRequirements and
// LabelSelectorRequirements, or FieldSelectorParsingErr and LabelSelectorParsingErr when they do
// not parse (an authorizer then treats the selector as absent); requests whose verb comes from
// the deprecated /watch/ and /proxy/ path prefixes carry no selectors. Paths that are not under
// /api/<version>/ or /apis/<group>/<version>/ are non-resource requests with the lowercase
// method as verb ("get", "head", "post", ...), as [NonResource] returns them.
//
// Unlike kube-apiserver, and consistently with the rest of this package, methods without a
// Kubernetes verb are refused with an error wrapping [ErrMethodNotAllowed] (kube-apiserver would
// authorize them with an empty or lowercase verb), and paths that are not canonical with an
// error wrapping [ErrNonCanonicalPath] (see [CanonicalPath]); the method is checked first. A
// resource path kube-apiserver cannot parse either ("/api/v1/watch" without a resource) returns
// another error, which authfilter answers with 500 as kube-apiserver does.
//
// When the list options of a GET without a name do not decode (for example ?limit=x),
// k8s.io/apiserver's parser logs the query at error level through klog's global logger (not the
// logger of authfilter) and treats the request as a list, or a watch when ?watch says so, as
// kube-apiserver does. The query is the client's; it holds no credential of authfilter's.
//
// Its zero value behaves like [NewAPIServer]'s (it builds its parser on every call, so prefer
// NewAPIServer). An APIServer is immutable and safe for concurrent use.
type APIServer struct {
	parser *request.RequestInfoFactory // nil in the zero value
}

var _ Getter = (*APIServer)(nil)

// NewAPIServer returns the [Getter] of a Kubernetes-like API, parsing paths the way
// kube-apiserver does (API prefixes "api" and "apis", "api" without a group).
func NewAPIServer() *APIServer {
	return &APIServer{parser: newAPIParser()}
}

// newAPIParser returns kube-apiserver's request parser configuration.
func newAPIParser() *request.RequestInfoFactory {
	return &request.RequestInfoFactory{
		APIPrefixes:          sets.NewString("api", "apis"),
		GrouplessAPIPrefixes: sets.NewString("api"),
	}
}

// GetAttributes returns the single attributes record kube-apiserver would authorize for r and
// u. A method with no verb returns an error wrapping [ErrMethodNotAllowed], a path that is not
// canonical one wrapping [ErrNonCanonicalPath]. A nil u is carried as is. The returned slice
// and record are new on every call; the selector requirements are freshly parsed too.
func (a *APIServer) GetAttributes(u user.Info, r *http.Request) ([]authorizer.Attributes, error) {
	var buf [1]authorizer.AttributesRecord
	records, err := a.AppendAttributes(buf[:0], u, r)
	if err != nil {
		return nil, err
	}
	return []authorizer.Attributes{records[0]}, nil
}

// AppendAttributes appends the record that GetAttributes returns to dst and returns the
// extended slice, with the same errors (and nothing appended on error), so that a caller
// keeping records in storage of its own need not allocate them (authfilter's Filter does, for
// the one record of a request).
func (a *APIServer) AppendAttributes(dst []authorizer.AttributesRecord, u user.Info, r *http.Request) ([]authorizer.AttributesRecord, error) {
	if r == nil {
		return dst, nonCanonical("", "request is nil")
	}
	if _, err := ResourceVerb(r.Method); err != nil {
		return dst, err
	}
	p, err := CanonicalPath(r)
	if err != nil {
		return dst, err
	}
	parser := a.parser
	if parser == nil { // the zero value: never parse without the API prefixes
		parser = newAPIParser()
	}
	info, err := parser.NewRequestInfo(r)
	if err != nil {
		// The parser's error quotes the whole URL, query included; quote only the path.
		return dst, fmt.Errorf("attributes: cannot determine the resource of API path %q", truncate(p))
	}
	return append(dst, fromRequestInfo(u, info)), nil
}

// fromRequestInfo converts the parsed request as kube-apiserver's authorization filter does
// (k8s.io/apiserver/pkg/endpoints/filters.GetAuthorizerAttributes): every field is copied, and
// the raw selectors are parsed; a selector that parses to no requirement is left unset.
func fromRequestInfo(u user.Info, info *request.RequestInfo) authorizer.AttributesRecord {
	rec := authorizer.AttributesRecord{
		User:            u,
		Verb:            info.Verb,
		Namespace:       info.Namespace,
		APIGroup:        info.APIGroup,
		APIVersion:      info.APIVersion,
		Resource:        info.Resource,
		Subresource:     info.Subresource,
		Name:            info.Name,
		ResourceRequest: info.IsResourceRequest,
		Path:            info.Path,
	}
	if info.FieldSelector != "" {
		if sel, err := fields.ParseSelector(info.FieldSelector); err != nil {
			rec.FieldSelectorParsingErr = err
		} else if reqs := sel.Requirements(); len(reqs) > 0 {
			rec.FieldSelectorRequirements = reqs
		}
	}
	if info.LabelSelector != "" {
		if sel, err := labels.Parse(info.LabelSelector); err != nil {
			rec.LabelSelectorParsingErr = err
		} else if reqs, _ := sel.Requirements(); len(reqs) > 0 {
			rec.LabelSelectorRequirements = reqs
		}
	}
	return rec
}
