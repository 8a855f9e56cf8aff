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
