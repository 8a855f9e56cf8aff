package authz

import (
	"errors"
	"slices"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/authfilter/authfilter/internal/identity"
	"github.com/authfilter/authfilter/internal/nilcheck"
)

// errNoUser refuses attributes that carry no user: a review for "nobody" must not be sent.
var errNoUser = errors.New("authz: attributes carry no user; refusing without a SubjectAccessReview")

// reviewSpec turns attrs into the spec of an authorization.k8s.io/v1 SubjectAccessReview, the
// way kube-apiserver's webhook authorizer does. Slices and maps are copied, so the spec shares
// no memory with attrs.
func reviewSpec(attrs authorizer.Attributes) (authorizationv1.SubjectAccessReviewSpec, error) {
	u := attrs.GetUser()
	if nilcheck.IsNil(u) {
		return authorizationv1.SubjectAccessReviewSpec{}, errNoUser
	}
	spec := authorizationv1.SubjectAccessReviewSpec{User: u.GetName(), UID: u.GetUID()}
	if iu, ok := u.(*identity.User); ok { // read without the copies GetGroups and GetExtra make
		spec.Groups = slices.Clone(iu.Groups())
		spec.Extra = immutableExtra(iu)
	} else {
		spec.Groups = slices.Clone(u.GetGroups())
		spec.Extra = extraFrom(u.GetExtra())
	}
	if attrs.IsResourceRequest() {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Namespace:     attrs.GetNamespace(),
			Verb:          attrs.GetVerb(),
			Group:         attrs.GetAPIGroup(),
			Version:       attrs.GetAPIVersion(),
			Resource:      attrs.GetResource(),
			Subresource:   attrs.GetSubresource(),
			Name:          attrs.GetName(),
			FieldSelector: fieldSelectorFrom(attrs),
			LabelSelector: labelSelectorFrom(attrs),
		}
	} else {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{
			Path: attrs.GetPath(),
			Verb: attrs.GetVerb(),
		}
	}
	return spec, nil
}

func extraFrom(extra map[string][]string) map[string]authorizationv1.ExtraValue {
	if len(extra) == 0 {
		return nil
	}
	out := make(map[string]authorizationv1.ExtraValue, len(extra))
	for k, v := range extra {
		out[k] = authorizationv1.ExtraValue(slices.Clone(v))
	}
	return out
}

// immutableExtra copies u's extra into a review's form: one map and one slice for all values.
func immutableExtra(u *identity.User) map[string]authorizationv1.ExtraValue {
	n := u.ExtraLen()
	if n == 0 {
		return nil
	}
	total := 0
	for i := range n {
		_, v := u.Extra(i)
		total += len(v)
	}
	values := make([]string, 0, total)
	out := make(map[string]authorizationv1.ExtraValue, n)
	for i := range n {
		k, v := u.Extra(i)
		start := len(values)
		values = append(values, v...)
		out[k] = values[start:len(values):len(values)]
	}
	return out
}

// fieldSelectorFrom converts the parsed field selector. A parse error drops the whole selector
// (upstream would keep whatever requirements came with the error), and so do requirements with
// an operator the API cannot express: requirements are ANDed, so leaving some out only makes
// the reviewed action broader, never narrower than the request.
func fieldSelectorFrom(attrs authorizer.Attributes) *authorizationv1.FieldSelectorAttributes {
	reqs, err := attrs.GetFieldSelector()
	if err != nil || len(reqs) == 0 {
		return nil
	}
	out := make([]metav1.FieldSelectorRequirement, 0, len(reqs))
	for _, r := range reqs {
		var op metav1.FieldSelectorOperator
		switch r.Operator {
		case selection.Equals, selection.DoubleEquals, selection.In:
			op = metav1.FieldSelectorOpIn
		case selection.NotEquals, selection.NotIn:
			op = metav1.FieldSelectorOpNotIn
		default:
			continue
		}
		out = append(out, metav1.FieldSelectorRequirement{Key: r.Field, Operator: op, Values: []string{r.Value}})
	}
	if len(out) == 0 {
		return nil
	}
	return &authorizationv1.FieldSelectorAttributes{Requirements: out}
}

// labelSelectorFrom converts the parsed label selector with the same rules as
// fieldSelectorFrom. Exists and DoesNotExist are kept; Gt and Lt have no API form and are left
// out.
func labelSelectorFrom(attrs authorizer.Attributes) *authorizationv1.LabelSelectorAttributes {
	reqs, err := attrs.GetLabelSelector()
	if err != nil || len(reqs) == 0 {
		return nil
	}
	out := make([]metav1.LabelSelectorRequirement, 0, len(reqs))
	for _, r := range reqs {
		var op metav1.LabelSelectorOperator
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			op = metav1.LabelSelectorOpIn
		case selection.NotEquals, selection.NotIn:
			op = metav1.LabelSelectorOpNotIn
		case selection.Exists:
			op = metav1.LabelSelectorOpExists
		case selection.DoesNotExist:
			op = metav1.LabelSelectorOpDoesNotExist
		default:
			continue
		}
		req := metav1.LabelSelectorRequirement{Key: r.Key(), Operator: op}
		if values := r.ValuesUnsorted(); len(values) > 0 {
			req.Values = values
		}
		out = append(out, req)
	}
	if len(out) == 0 {
		return nil
	}
	return &authorizationv1.LabelSelectorAttributes{Requirements: out}
}
