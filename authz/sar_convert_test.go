package authz

import (
	"reflect"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func mustFields(t *testing.T, s string) fields.Requirements {
	t.Helper()
	sel, err := fields.ParseSelector(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel.Requirements()
}

func mustLabels(t *testing.T, s string) labels.Requirements {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	reqs, _ := sel.Requirements()
	return reqs
}

func TestReviewSpecSent(t *testing.T) {
	alice := &user.DefaultInfo{
		Name:   "alice",
		UID:    "uid-42",
		Groups: []string{"devs", "system:authenticated"},
		Extra:  map[string][]string{"scopes": {"a", "b"}, "authentication.kubernetes.io/credential-id": {"JTI=1"}},
	}
	wantUser := authorizationv1.SubjectAccessReviewSpec{
		User:   "alice",
		UID:    "uid-42",
		Groups: []string{"devs", "system:authenticated"},
		Extra: map[string]authorizationv1.ExtraValue{
			"scopes": {"a", "b"},
			"authentication.kubernetes.io/credential-id": {"JTI=1"},
		},
	}
	withAttrs := func(ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewSpec {
		s := *wantUser.DeepCopy()
		s.ResourceAttributes, s.NonResourceAttributes = ra, nra
		return s
	}
	resource := authorizer.AttributesRecord{
		User: alice, Verb: "list", Namespace: "ns", APIGroup: "apps", APIVersion: "v1",
		Resource: "deployments", Subresource: "status", Name: "web", ResourceRequest: true,
		Path: "/apis/apps/v1/namespaces/ns/deployments/web/status",
	}
	resourceWant := authorizationv1.ResourceAttributes{
		Namespace: "ns", Verb: "list", Group: "apps", Version: "v1",
		Resource: "deployments", Subresource: "status", Name: "web",
	}
	withSelectors := func(f fields.Requirements, fErr error, l labels.Requirements, lErr error) authorizer.AttributesRecord {
		r := resource
		r.FieldSelectorRequirements, r.FieldSelectorParsingErr = f, fErr
		r.LabelSelectorRequirements, r.LabelSelectorParsingErr = l, lErr
		return r
	}
	withSelectorsWant := func(f *authorizationv1.FieldSelectorAttributes, l *authorizationv1.LabelSelectorAttributes) *authorizationv1.ResourceAttributes {
		r := resourceWant
		r.FieldSelector, r.LabelSelector = f, l
		return &r
	}
	parseErr := fields.ParseSelectorOrDie("a=b").Requirements() // a requirement sent alongside an error

	tests := []struct {
		name  string
		attrs authorizer.Attributes
		want  authorizationv1.SubjectAccessReviewSpec
	}{
		{
			name:  "resource",
			attrs: resource,
			want:  withAttrs(&resourceWant, nil),
		},
		{
			name: "non-resource ignores resource fields",
			attrs: authorizer.AttributesRecord{
				User: alice, Verb: "get", Path: "/metrics/cadvisor", Resource: "nodes", Namespace: "ns",
			},
			want: withAttrs(nil, &authorizationv1.NonResourceAttributes{Path: "/metrics/cadvisor", Verb: "get"}),
		},
		{
			name: "user without uid, groups or extra",
			attrs: authorizer.AttributesRecord{
				User: &user.DefaultInfo{Name: "system:anonymous"}, Verb: "get", Path: "/healthz",
			},
			want: authorizationv1.SubjectAccessReviewSpec{
				User:                  "system:anonymous",
				NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/healthz", Verb: "get"},
			},
		},
		{
			name: "field and label selectors",
			attrs: withSelectors(
				mustFields(t, "spec.nodeName=node-1,metadata.name!=skip"), nil,
				mustLabels(t, "app in (web,api),!legacy,tier,env!=prod"), nil),
			want: withAttrs(withSelectorsWant(
				&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{
					// The parsers sort requirements (and label values); the review keeps their order.
					{Key: "metadata.name", Operator: metav1.FieldSelectorOpNotIn, Values: []string{"skip"}},
					{Key: "spec.nodeName", Operator: metav1.FieldSelectorOpIn, Values: []string{"node-1"}},
				}},
				&authorizationv1.LabelSelectorAttributes{Requirements: []metav1.LabelSelectorRequirement{
					{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"api", "web"}},
					{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"}},
					{Key: "legacy", Operator: metav1.LabelSelectorOpDoesNotExist},
					{Key: "tier", Operator: metav1.LabelSelectorOpExists},
				}},
			), nil),
		},
		{
			name: "selector operators without an API form are left out",
			attrs: withSelectors(
				fields.Requirements{{Field: "a", Operator: selection.Exists, Value: "x"}, {Field: "b", Operator: selection.DoubleEquals, Value: "y"}}, nil,
				mustLabels(t, "replicas>3"), nil),
			want: withAttrs(withSelectorsWant(
				&authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{
					{Key: "b", Operator: metav1.FieldSelectorOpIn, Values: []string{"y"}},
				}},
				nil,
			), nil),
		},
		{
			name: "selectors with parse errors are not sent",
			attrs: withSelectors(
				parseErr, errParse,
				mustLabels(t, "app=web"), errParse),
			want: withAttrs(withSelectorsWant(nil, nil), nil),
		},
		{
			name:  "empty selectors are not sent",
			attrs: withSelectors(fields.Requirements{}, nil, labels.Requirements{}, nil),
			want:  withAttrs(withSelectorsWant(nil, nil), nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := newTestSAR(t, SAROptions{}, respondWith(allowed("")))
			if dec, _, err := a.Authorize(t.Context(), tt.attrs); dec != authorizer.DecisionAllow || err != nil {
				t.Fatalf("Authorize = %v, %v; want Allow", dec, err)
			}
			sent := r.sent()
			if len(sent) != 1 {
				t.Fatalf("%d reviews sent, want 1", len(sent))
			}
			if !reflect.DeepEqual(sent[0], tt.want) {
				t.Errorf("review spec sent:\n%+v\nwant:\n%+v", sent[0], tt.want)
			}
		})
	}
}

var errParse = &parseError{}

type parseError struct{}

func (*parseError) Error() string { return "cannot parse selector" }

// TestReviewSpecCopies checks that the spec shares no slices or maps with the user.
func TestReviewSpecCopies(t *testing.T) {
	u := &user.DefaultInfo{Name: "alice", Groups: []string{"g"}, Extra: map[string][]string{"k": {"v"}}}
	spec, err := reviewSpec(authorizer.AttributesRecord{User: u, Verb: "get", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	spec.Groups[0] = "changed"
	spec.Extra["k"][0] = "changed"
	if u.Groups[0] != "g" || u.Extra["k"][0] != "v" {
		t.Fatalf("changing the spec changed the user: %+v", u)
	}
}
