package attributes

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Record is a compact authorizer.Attributes for requests without field or label selectors,
// such as every request the kubelet's table maps: the fields of an authorizer.AttributesRecord
// without its four selector fields, 152 bytes instead of 232, with pointer-receiver methods
// (AttributesRecord's value receivers copy the whole record on every call through a pointer).
// The zero value is a non-resource request with no user, verb or path. A Record is not
// modified by its methods; it is safe for concurrent reads.
type Record struct {
	User            user.Info
	Verb            string
	Namespace       string
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Name            string
	Path            string
	ResourceRequest bool
}

var _ authorizer.Attributes = (*Record)(nil)

// RecordOf returns a's fields as a Record, and false when a has field or label selector
// requirements or parse errors, which a Record cannot hold.
func RecordOf(a *authorizer.AttributesRecord) (Record, bool) {
	if len(a.FieldSelectorRequirements) > 0 || a.FieldSelectorParsingErr != nil ||
		len(a.LabelSelectorRequirements) > 0 || a.LabelSelectorParsingErr != nil {
		return Record{}, false
	}
	return Record{
		User: a.User, Verb: a.Verb, Namespace: a.Namespace, APIGroup: a.APIGroup, APIVersion: a.APIVersion,
		Resource: a.Resource, Subresource: a.Subresource, Name: a.Name, Path: a.Path, ResourceRequest: a.ResourceRequest,
	}, true
}

// GetUser returns the user.
func (r *Record) GetUser() user.Info { return r.User }

// GetVerb returns the verb.
func (r *Record) GetVerb() string { return r.Verb }

// IsReadOnly reports whether the verb is get, list or watch, as AttributesRecord does.
func (r *Record) IsReadOnly() bool { return r.Verb == "get" || r.Verb == "list" || r.Verb == "watch" }

// GetNamespace returns the namespace.
func (r *Record) GetNamespace() string { return r.Namespace }

// GetResource returns the resource.
func (r *Record) GetResource() string { return r.Resource }

// GetSubresource returns the subresource.
func (r *Record) GetSubresource() string { return r.Subresource }

// GetName returns the name.
func (r *Record) GetName() string { return r.Name }

// GetAPIGroup returns the API group.
func (r *Record) GetAPIGroup() string { return r.APIGroup }

// GetAPIVersion returns the API version.
func (r *Record) GetAPIVersion() string { return r.APIVersion }

// IsResourceRequest reports whether this is a resource request.
func (r *Record) IsResourceRequest() bool { return r.ResourceRequest }

// GetPath returns the request path.
func (r *Record) GetPath() string { return r.Path }

// GetFieldSelector returns no requirements: a Record has no field selector.
func (r *Record) GetFieldSelector() (fields.Requirements, error) { return nil, nil }

// GetLabelSelector returns no requirements: a Record has no label selector.
func (r *Record) GetLabelSelector() (labels.Requirements, error) { return nil, nil }
