package attributes

import (
	"errors"
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// getters returns every getter of a, so that two Attributes can be compared through the
// interface, the way authorizers read them.
func getters(a authorizer.Attributes) []any {
	fs, ferr := a.GetFieldSelector()
	ls, lerr := a.GetLabelSelector()
	return []any{a.GetUser(), a.GetVerb(), a.IsReadOnly(), a.GetNamespace(), a.GetResource(),
		a.GetSubresource(), a.GetName(), a.GetAPIGroup(), a.GetAPIVersion(), a.IsResourceRequest(),
		a.GetPath(), len(fs), ferr, len(ls), lerr}
}

func sameGetters(a, b authorizer.Attributes) bool {
	x, y := getters(a), getters(b)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// TestKubeletRecordsMatchAttributes checks that AppendRecords gives, through every getter, the
// attributes AppendAttributes gives, for every row of the table, every method and the refusals.
func TestKubeletRecordsMatchAttributes(t *testing.T) {
	k := newTestKubelet(t)
	u := &user.DefaultInfo{Name: "alice"}
	targets := []string{"/", "/stats", "/stats/summary?only_cpu_and_memory=true", "/statsfoo", "/metrics",
		"/metrics/cadvisor", "/metrics/resource", "/metrics/probes", "/logs/", "/logs/kubelet.log", "/spec/",
		"/pods", "/runningpods/", "/healthz", "/healthz/ping", "/configz", "/checkpoint/ns/pod/c",
		"/exec/ns/pod/c", "/containerLogs/ns/pod/c", "/debug/pprof/", "/stats/../pods", "/%2e%2e"}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, "PROPFIND"}
	for _, method := range methods {
		for _, target := range targets {
			r := readRequest(t, method, target)
			want, wantErr := k.AppendAttributes(nil, u, r)
			got, err := k.AppendRecords(nil, u, r)
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) || len(got) != len(want) {
				t.Fatalf("%s %s: %d records, %v; AppendAttributes gave %d, %v", method, target, len(got), err, len(want), wantErr)
			}
			for i := range want {
				if !sameGetters(&got[i], &want[i]) {
					t.Errorf("%s %s: record %d reads %v, AppendAttributes' reads %v", method, target, i, getters(&got[i]), getters(&want[i]))
				}
			}
		}
	}
}

func TestRecordOf(t *testing.T) {
	full := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "bob"}, Verb: "list", Namespace: "ns", APIGroup: "apps",
		APIVersion: "v1", Resource: "deployments", Subresource: "scale", Name: "d", Path: "/apis/apps/v1/namespaces/ns/deployments/d/scale",
		ResourceRequest: true}
	r, ok := RecordOf(&full)
	if !ok || !sameGetters(&r, &full) {
		t.Fatalf("RecordOf = %v, %v; reads %v, want %v", r, ok, getters(&r), getters(&full))
	}
	withSelectors := []authorizer.AttributesRecord{
		{FieldSelectorRequirements: fields.Requirements{{Field: "spec.nodeName", Value: "n"}}},
		{FieldSelectorParsingErr: errors.New("bad field selector")},
		{LabelSelectorRequirements: labels.Requirements{{}}},
		{LabelSelectorParsingErr: errors.New("bad label selector")},
	}
	for i := range withSelectors {
		if _, ok := RecordOf(&withSelectors[i]); ok {
			t.Errorf("RecordOf accepted attributes with selectors: %+v", withSelectors[i])
		}
	}
	var zero Record
	if zero.IsReadOnly() || zero.IsResourceRequest() || zero.GetUser() != nil {
		t.Fatalf("zero Record reads %v", getters(&zero))
	}
}

// TestKubeletRecordsShareTargets checks that AppendRecords allocates nothing when dst has room:
// its records point to the Kubelet's Targets, one per verb and subresource.
func TestKubeletRecordsShareTargets(t *testing.T) {
	k := newTestKubelet(t)
	u := &user.DefaultInfo{Name: "alice"}
	get, head := readRequest(t, http.MethodGet, "/metrics"), readRequest(t, http.MethodHead, "/metrics")
	dst := make([]Record, 0, 2)
	if n := testing.AllocsPerRun(100, func() { _, _ = k.AppendRecords(dst[:0], u, get) }); n != 0 {
		t.Errorf("AppendRecords allocates %v times per request", n)
	}
	a, errA := k.AppendRecords(nil, u, get)
	b, errB := k.AppendRecords(nil, u, head)
	if errA != nil || errB != nil || len(a) != 1 || len(b) != 1 {
		t.Fatalf("AppendRecords = %v, %v; %v, %v", a, errA, b, errB)
	}
	if a[0].Target != b[0].Target {
		t.Error("GET and HEAD of one path (both verb get) got different Targets")
	}
	post, err := k.AppendRecords(nil, u, readRequest(t, http.MethodPost, "/metrics"))
	if err != nil || len(post) != 1 || post[0].Target == a[0].Target || post[0].GetVerb() != "create" {
		t.Errorf("POST /metrics: %v, %v; want its own Target with verb create", post, err)
	}
}
