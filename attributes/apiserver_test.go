package attributes

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// rec is shorthand for the resource attributes a test expects, without user and path.
type rec struct {
	verb, group, version, resource, sub, ns, name string
}

func labelReq(t *testing.T, key string, op selection.Operator, vals ...string) labels.Requirement {
	t.Helper()
	r, err := labels.NewRequirement(key, op, vals)
	if err != nil {
		t.Fatal(err)
	}
	return *r
}

func TestAPIServerResources(t *testing.T) {
	node := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	nodeSel := fields.Requirements{{Field: "spec.nodeName", Operator: selection.Equals, Value: "n1"}}
	tests := []struct {
		name   string
		method string
		target string
		want   rec
		fields fields.Requirements
		labels func(t *testing.T) labels.Requirements
	}{
		{"get secret", http.MethodGet, "/api/v1/namespaces/ns/secrets/s1",
			rec{"get", "", "v1", "secrets", "", "ns", "s1"}, nil, nil},
		{"head secret is get", http.MethodHead, "/api/v1/namespaces/ns/secrets/s1",
			rec{"get", "", "v1", "secrets", "", "ns", "s1"}, nil, nil},
		{"get secret ignores selectors", http.MethodGet, "/api/v1/namespaces/ns/secrets/s1?fieldSelector=spec.nodeName%3Dn1",
			rec{"get", "", "v1", "secrets", "", "ns", "s1"}, nil, nil},
		{"trailing slash", http.MethodGet, "/api/v1/namespaces/ns/secrets/s1/",
			rec{"get", "", "v1", "secrets", "", "ns", "s1"}, nil, nil},
		{"list secrets", http.MethodGet, "/api/v1/namespaces/ns/secrets",
			rec{"list", "", "v1", "secrets", "", "ns", ""}, nil, nil},
		{"list secret by metadata.name", http.MethodGet, "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ds1",
			rec{"list", "", "v1", "secrets", "", "ns", "s1"},
			fields.Requirements{{Field: "metadata.name", Operator: selection.Equals, Value: "s1"}}, nil},
		{"watch secret by metadata.name", http.MethodGet, "/api/v1/namespaces/ns/secrets?watch=true&fieldSelector=metadata.name%3D%3Ds1",
			rec{"watch", "", "v1", "secrets", "", "ns", "s1"},
			fields.Requirements{{Field: "metadata.name", Operator: selection.Equals, Value: "s1"}}, nil},
		{"metadata.name that is no path segment name", http.MethodGet, "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3D..",
			rec{"list", "", "v1", "secrets", "", "ns", ""},
			fields.Requirements{{Field: "metadata.name", Operator: selection.Equals, Value: ".."}}, nil},
		{"metadata.name not equal gives no name", http.MethodGet, "/api/v1/nodes?fieldSelector=metadata.name!%3Dn1",
			rec{"list", "", "v1", "nodes", "", "", ""},
			fields.Requirements{{Field: "metadata.name", Operator: selection.NotEquals, Value: "n1"}}, nil},
		{"list own node", http.MethodGet, "/api/v1/nodes?fieldSelector=metadata.name%3Dn1",
			rec{"list", "", "v1", "nodes", "", "", "n1"},
			fields.Requirements{{Field: "metadata.name", Operator: selection.Equals, Value: "n1"}}, nil},
		{"list pods on node, all namespaces", http.MethodGet, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
			rec{"list", "", "v1", "pods", "", "", ""}, nodeSel, nil},
		{"watch pods on node", http.MethodGet, "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1&resourceVersion=7",
			rec{"watch", "", "v1", "pods", "", "", ""}, nodeSel, nil},
		{"watch=false is list", http.MethodGet, "/api/v1/pods?watch=false&fieldSelector=spec.nodeName%3Dn1",
			rec{"list", "", "v1", "pods", "", "", ""}, nodeSel, nil},
		{"first field selector wins", http.MethodGet, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&fieldSelector=spec.nodeName%3Dn2",
			rec{"list", "", "v1", "pods", "", "", ""}, nodeSel, nil},
		{"field and label selectors", http.MethodGet, "/api/v1/namespaces/ns/pods?fieldSelector=spec.nodeName%3Dn1,status.phase!%3DFailed&labelSelector=app%3Dweb,tier+in+(a,b),!canary",
			rec{"list", "", "v1", "pods", "", "ns", ""},
			fields.Requirements{
				{Field: "spec.nodeName", Operator: selection.Equals, Value: "n1"},
				{Field: "status.phase", Operator: selection.NotEquals, Value: "Failed"},
			},
			func(t *testing.T) labels.Requirements {
				return labels.Requirements{
					labelReq(t, "app", selection.Equals, "web"),
					labelReq(t, "canary", selection.DoesNotExist),
					labelReq(t, "tier", selection.In, "a", "b"),
				}
			}},
		{"empty selectors are absent", http.MethodGet, "/api/v1/pods?fieldSelector=&labelSelector=",
			rec{"list", "", "v1", "pods", "", "", ""}, nil, nil},
		{"undecodable list options keep the selectors", http.MethodGet, "/api/v1/pods?limit=x&watch=yes&fieldSelector=spec.nodeName%3Dn1",
			rec{"watch", "", "v1", "pods", "", "", ""}, nodeSel, nil},
		{"watch path prefix has no selectors", http.MethodGet, "/api/v1/watch/namespaces/ns/pods?fieldSelector=spec.nodeName%3Dn1",
			rec{"watch", "", "v1", "pods", "", "ns", ""}, nil, nil},
		{"watch path prefix with a name", http.MethodGet, "/api/v1/watch/namespaces/ns/pods/p1",
			rec{"watch", "", "v1", "pods", "", "ns", "p1"}, nil, nil},
		{"proxy path prefix has no subresource", http.MethodPost, "/api/v1/proxy/namespaces/ns/services/svc/a/b",
			rec{"proxy", "", "v1", "services", "", "ns", "svc"}, nil, nil},
		{"deletecollection with selectors", http.MethodDelete, "/apis/resource.k8s.io/v1/resourceslices?fieldSelector=spec.nodeName%3Dn1&labelSelector=x",
			rec{"deletecollection", "resource.k8s.io", "v1", "resourceslices", "", "", ""}, nodeSel,
			func(t *testing.T) labels.Requirements { return labels.Requirements{labelReq(t, "x", selection.Exists)} }},
		{"delete one", http.MethodDelete, "/api/v1/namespaces/ns/pods/p1?fieldSelector=spec.nodeName%3Dn1",
			rec{"delete", "", "v1", "pods", "", "ns", "p1"}, nil, nil},
		{"update status", http.MethodPut, "/api/v1/namespaces/ns/pods/p1/status",
			rec{"update", "", "v1", "pods", "status", "ns", "p1"}, nil, nil},
		{"patch node status", http.MethodPatch, "/api/v1/nodes/n1/status",
			rec{"patch", "", "v1", "nodes", "status", "", "n1"}, nil, nil},
		{"create eviction", http.MethodPost, "/api/v1/namespaces/ns/pods/p1/eviction",
			rec{"create", "", "v1", "pods", "eviction", "ns", "p1"}, nil, nil},
		{"create token", http.MethodPost, "/api/v1/namespaces/ns/serviceaccounts/sa/token",
			rec{"create", "", "v1", "serviceaccounts", "token", "ns", "sa"}, nil, nil},
		{"pod log with extra parts", http.MethodGet, "/api/v1/namespaces/ns/pods/p1/log/extra/parts",
			rec{"get", "", "v1", "pods", "log", "ns", "p1"}, nil, nil},
		{"create in collection", http.MethodPost, "/api/v1/namespaces/ns/pods",
			rec{"create", "", "v1", "pods", "", "ns", ""}, nil, nil},
		{"namespace object", http.MethodGet, "/api/v1/namespaces/ns",
			rec{"get", "", "v1", "namespaces", "", "ns", "ns"}, nil, nil},
		{"namespace status", http.MethodPut, "/api/v1/namespaces/ns/status",
			rec{"update", "", "v1", "namespaces", "status", "ns", "ns"}, nil, nil},
		{"namespace finalize", http.MethodPut, "/api/v1/namespaces/ns/finalize",
			rec{"update", "", "v1", "namespaces", "finalize", "ns", "ns"}, nil, nil},
		{"list namespaces", http.MethodGet, "/api/v1/namespaces",
			rec{"list", "", "v1", "namespaces", "", "", ""}, nil, nil},
		{"group resource", http.MethodGet, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
			rec{"get", "coordination.k8s.io", "v1", "leases", "", "kube-node-lease", "n1"}, nil, nil},
		{"cluster-scoped group resource", http.MethodPut, "/apis/storage.k8s.io/v1/csinodes/n1",
			rec{"update", "storage.k8s.io", "v1", "csinodes", "", "", "n1"}, nil, nil},
		{"create review", http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
			rec{"create", "authorization.k8s.io", "v1", "subjectaccessreviews", "", "", ""}, nil, nil},
	}
	a := NewAPIServer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readRequest(t, tt.method, tt.target)
			got, err := a.GetAttributes(node, r)
			if err != nil {
				t.Fatalf("GetAttributes: %v", err)
			}
			want := authorizer.AttributesRecord{
				User: node, Verb: tt.want.verb, APIGroup: tt.want.group, APIVersion: tt.want.version,
				Resource: tt.want.resource, Subresource: tt.want.sub, Namespace: tt.want.ns, Name: tt.want.name,
				ResourceRequest: true, Path: r.URL.Path, FieldSelectorRequirements: tt.fields,
			}
			var wantLabels labels.Requirements
			if tt.labels != nil {
				wantLabels = tt.labels(t)
			}
			if len(got) != 1 {
				t.Fatalf("GetAttributes returned %d records, want 1", len(got))
			}
			// Label requirements are compared by their string form: an empty value list may be
			// nil or empty.
			gotRec := got[0].(authorizer.AttributesRecord)
			gotLabels := gotRec.LabelSelectorRequirements
			gotRec.LabelSelectorRequirements = nil
			if !reflect.DeepEqual(gotRec, want) || gotLabels.String() != wantLabels.String() || (gotLabels == nil) != (wantLabels == nil) {
				t.Fatalf("GetAttributes =\n%#v (labels %q)\nwant\n%#v (labels %q)", gotRec, gotLabels, want, wantLabels)
			}
		})
	}
}

func TestAPIServerSelectorParsingErrors(t *testing.T) {
	tests := []struct {
		name              string
		target            string
		fieldErr, infoErr bool
	}{
		{"bad field selector", "/api/v1/pods?fieldSelector=spec.nodeName", true, false},
		{"bad label selector", "/api/v1/pods?labelSelector=a+in+(", false, true},
		{"both bad", "/api/v1/pods?fieldSelector=%3D%3D%3D&labelSelector=!!", true, true},
	}
	a := NewAPIServer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.GetAttributes(nil, readRequest(t, http.MethodGet, tt.target))
			if err != nil {
				t.Fatalf("GetAttributes: %v", err)
			}
			r := got[0].(authorizer.AttributesRecord)
			if r.Verb != "list" || r.Resource != "pods" {
				t.Errorf("got %s %s, want list pods", r.Verb, r.Resource)
			}
			if (r.FieldSelectorParsingErr != nil) != tt.fieldErr || r.FieldSelectorRequirements != nil {
				t.Errorf("field selector: requirements %v, error %v; want error: %v", r.FieldSelectorRequirements, r.FieldSelectorParsingErr, tt.fieldErr)
			}
			if (r.LabelSelectorParsingErr != nil) != tt.infoErr || r.LabelSelectorRequirements != nil {
				t.Errorf("label selector: requirements %v, error %v; want error: %v", r.LabelSelectorRequirements, r.LabelSelectorParsingErr, tt.infoErr)
			}
			reqs, err := got[0].GetFieldSelector()
			if (err != nil) != tt.fieldErr || reqs != nil {
				t.Errorf("GetFieldSelector = %v, %v", reqs, err)
			}
		})
	}
}

func TestAPIServerNonResource(t *testing.T) {
	bob := &user.DefaultInfo{Name: "bob"}
	tests := []struct {
		method, target, verb string
	}{
		{http.MethodGet, "/", "get"},
		{http.MethodGet, "/healthz", "get"},
		{http.MethodHead, "/healthz", "head"},
		{http.MethodGet, "/readyz/etcd?verbose=1", "get"},
		{http.MethodGet, "/api", "get"},
		{http.MethodGet, "/api/v1", "get"},
		{http.MethodGet, "/apis", "get"},
		{http.MethodGet, "/apis/apps", "get"},
		{http.MethodGet, "/apis/apps/v1", "get"},
		{http.MethodPost, "/apis/apps/", "post"},
		{http.MethodGet, "/version/", "get"},
		{http.MethodDelete, "/metrics", "delete"},
		{http.MethodPut, "/other/v1/namespaces/ns/secrets/s", "put"},
		{http.MethodPatch, "/apiz/v1/pods", "patch"},
	}
	a := NewAPIServer()
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := readRequest(t, tt.method, tt.target)
			got, err := a.GetAttributes(bob, r)
			if err != nil {
				t.Fatalf("GetAttributes: %v", err)
			}
			want := []authorizer.Attributes{authorizer.AttributesRecord{User: bob, Verb: tt.verb, Path: r.URL.Path}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("GetAttributes =\n%#v\nwant\n%#v", got, want)
			}
		})
	}
}

func TestAPIServerRefused(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		target  string
		wantErr error // nil: an error matching neither sentinel
	}{
		{"options", http.MethodOptions, "/api/v1/pods", ErrMethodNotAllowed},
		{"options asterisk", http.MethodOptions, "*", ErrMethodNotAllowed},
		{"lowercase method", "get", "/api/v1/pods", ErrMethodNotAllowed},
		{"method checked first", "PROPFIND", "/api/../v1", ErrMethodNotAllowed},
		{"dot dot", http.MethodGet, "/api/v1/namespaces/ns/secrets/../configmaps/c", ErrNonCanonicalPath},
		{"dot segment", http.MethodGet, "/api/v1/./pods", ErrNonCanonicalPath},
		{"empty segment", http.MethodGet, "/api/v1//pods", ErrNonCanonicalPath},
		{"encoded slash in name", http.MethodGet, "/api/v1/namespaces/ns/secrets/a%2Fb", ErrNonCanonicalPath},
		{"percent", http.MethodGet, "/api/v1/namespaces/ns/secrets/a%25b", ErrNonCanonicalPath},
		{"watch without resource", http.MethodGet, "/api/v1/watch", nil},
		{"proxy without resource", http.MethodGet, "/apis/g/v1/proxy", nil},
	}
	a := NewAPIServer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]authorizer.AttributesRecord, 1, 4)
			got, err := a.AppendAttributes(dst, nil, readRequest(t, tt.method, tt.target))
			if err == nil {
				t.Fatalf("AppendAttributes = %v, want an error", got)
			}
			if len(got) != 1 {
				t.Errorf("AppendAttributes appended on error: %d records", len(got))
			}
			isMethod, isPath := errors.Is(err, ErrMethodNotAllowed), errors.Is(err, ErrNonCanonicalPath)
			switch tt.wantErr {
			case nil:
				if isMethod || isPath {
					t.Errorf("error %v matches a sentinel", err)
				}
			default:
				if !errors.Is(err, tt.wantErr) || isMethod == isPath {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
			}
			if attrs, err2 := a.GetAttributes(nil, readRequest(t, tt.method, tt.target)); attrs != nil || err2 == nil {
				t.Errorf("GetAttributes = %v, %v; want nil and an error", attrs, err2)
			}
		})
	}
	if _, err := a.GetAttributes(nil, nil); !errors.Is(err, ErrNonCanonicalPath) {
		t.Errorf("nil request: %v", err)
	}
}

func TestAPIServerZeroValue(t *testing.T) {
	var zero APIServer
	got, err := zero.GetAttributes(nil, readRequest(t, http.MethodGet, "/api/v1/namespaces/ns/secrets/s1"))
	if err != nil {
		t.Fatal(err)
	}
	if r := got[0]; !r.IsResourceRequest() || r.GetResource() != "secrets" || r.GetName() != "s1" {
		t.Fatalf("zero value GetAttributes = %#v, want get secrets s1", r)
	}
}

func TestAPIServerAppend(t *testing.T) {
	a := NewAPIServer()
	u := &user.DefaultInfo{Name: "alice"}
	dst := []authorizer.AttributesRecord{{Verb: "keep"}}
	got, err := a.AppendAttributes(dst, u, readRequest(t, http.MethodGet, "/api/v1/namespaces/ns/configmaps/c"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Verb != "keep" || got[1].Verb != "get" || got[1].Name != "c" || got[1].User != u {
		t.Fatalf("AppendAttributes = %#v", got)
	}
}

func BenchmarkAPIServer(b *testing.B) {
	a := NewAPIServer()
	u := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{"system:nodes"}}
	for _, bm := range []struct{ name, target string }{
		{"get", "/api/v1/namespaces/ns/secrets/s1"},
		{"watch-selector", "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dn1"},
	} {
		r := readRequest(b, http.MethodGet, bm.target)
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]authorizer.AttributesRecord, 0, 1)
			for b.Loop() {
				if _, err := a.AppendAttributes(dst[:0], u, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
