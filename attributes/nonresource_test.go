package attributes

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestNonResource(t *testing.T) {
	bob := &user.DefaultInfo{Name: "bob", Groups: []string{"system:authenticated"}}
	verbs := map[string]string{
		http.MethodGet: "get", http.MethodHead: "head", http.MethodPost: "post",
		http.MethodPut: "put", http.MethodPatch: "patch", http.MethodDelete: "delete",
	}
	tests := []struct {
		target string
		path   string
	}{
		{"/", "/"},
		{"/healthz", "/healthz"},
		{"/healthz/ready?verbose=1", "/healthz/ready"},
		{"/metrics", "/metrics"},
		{"/logs/", "/logs/"},
		{"/stats/summary", "/stats/summary"},
	}
	n := NewNonResource()
	for _, tt := range tests {
		for _, method := range allMethods {
			t.Run(method+" "+tt.target, func(t *testing.T) {
				got, err := n.GetAttributes(bob, readRequest(t, method, tt.target))
				if err != nil {
					t.Fatalf("GetAttributes: %v", err)
				}
				want := []authorizer.Attributes{authorizer.AttributesRecord{
					User: bob, Verb: verbs[method], Path: tt.path, ResourceRequest: false,
				}}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("GetAttributes =\n%#v\nwant\n%#v", got, want)
				}
			})
		}
	}
}

func TestNonResourceRefused(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		target  string
		wantErr error
	}{
		{"dot dot", http.MethodGet, "/healthz/../metrics", ErrNonCanonicalPath},
		{"encoded slash", http.MethodGet, "/healthz%2Fready", ErrNonCanonicalPath},
		{"empty segment", http.MethodGet, "//metrics", ErrNonCanonicalPath},
		{"options asterisk", http.MethodOptions, "*", ErrMethodNotAllowed},
		{"lowercase method", "get", "/healthz", ErrMethodNotAllowed},
		{"trace", http.MethodTrace, "/healthz", ErrMethodNotAllowed},
		{"empty method", "", "/healthz", ErrMethodNotAllowed},
	}
	n := NewNonResource()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readRequest(t, http.MethodGet, tt.target)
			r.Method = tt.method
			got, err := n.GetAttributes(&user.DefaultInfo{Name: "bob"}, r)
			if !errors.Is(err, tt.wantErr) || got != nil {
				t.Fatalf("GetAttributes(%q %q) = %v, %v; want %v", tt.method, tt.target, got, err, tt.wantErr)
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		if got, err := n.GetAttributes(nil, nil); !errors.Is(err, ErrNonCanonicalPath) || got != nil {
			t.Fatalf("GetAttributes(nil, nil) = %v, %v; want ErrNonCanonicalPath", got, err)
		}
	})
}

func TestNonResourceNilUserAndZeroValue(t *testing.T) {
	var n NonResource // the zero value is ready to use
	got, err := n.GetAttributes(nil, readRequest(t, http.MethodGet, "/metrics"))
	if err != nil {
		t.Fatalf("GetAttributes: %v", err)
	}
	want := []authorizer.Attributes{authorizer.AttributesRecord{Verb: "get", Path: "/metrics"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetAttributes =\n%#v\nwant\n%#v", got, want)
	}
}
