package attributes

import (
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

const testNode = "node-1"

func newTestKubelet(t testing.TB) *Kubelet {
	t.Helper()
	k, err := NewKubelet(testNode)
	if err != nil {
		t.Fatalf("NewKubelet(%q): %v", testNode, err)
	}
	return k
}

// wantNodeAttrs returns the records the kubelet preset must produce, one per subresource.
func wantNodeAttrs(u user.Info, verb, path string, subresources ...string) []authorizer.Attributes {
	out := make([]authorizer.Attributes, 0, len(subresources))
	for _, sub := range subresources {
		out = append(out, authorizer.AttributesRecord{
			User:            u,
			Verb:            verb,
			Namespace:       "",
			APIGroup:        "",
			APIVersion:      "v1",
			Resource:        "nodes",
			Subresource:     sub,
			Name:            testNode,
			ResourceRequest: true,
			Path:            path,
		})
	}
	return out
}

func TestNewKubelet(t *testing.T) {
	if k, err := NewKubelet(""); err == nil || k != nil {
		t.Fatalf("NewKubelet(\"\") = %v, %v; want nil and an error", k, err)
	}
	if k, err := NewKubelet("n"); err != nil || k == nil {
		t.Fatalf("NewKubelet(\"n\") = %v, %v; want a getter", k, err)
	}
}

func TestKubeletTable(t *testing.T) {
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{"system:authenticated"}}
	tests := []struct {
		target       string
		path         string // want Path; the target when empty
		subresources []string
	}{
		{target: "/stats", subresources: []string{"stats"}},
		{target: "/stats/", subresources: []string{"stats"}},
		{target: "/stats/summary", subresources: []string{"stats"}},
		{target: "/stats/summary?only_cpu_and_memory=true", path: "/stats/summary", subresources: []string{"stats"}},
		{target: "/stats/container/ns/pod/uid/c", subresources: []string{"stats"}},
		{target: "/statsfoo", subresources: []string{"proxy"}},
		{target: "/Stats", subresources: []string{"proxy"}},
		{target: "/metrics", subresources: []string{"metrics"}},
		{target: "/metrics/", subresources: []string{"metrics"}},
		{target: "/metrics/cadvisor", subresources: []string{"metrics"}},
		{target: "/metrics/resource/v1alpha1", subresources: []string{"metrics"}},
		{target: "/metricsx", subresources: []string{"proxy"}},
		{target: "/logs", subresources: []string{"log"}},
		{target: "/logs/", subresources: []string{"log"}},
		{target: "/logs/pods/ns_pod_uid/c/0.log", subresources: []string{"log"}},
		{target: "/logsx", subresources: []string{"proxy"}},
		{target: "/spec", subresources: []string{"spec"}},
		{target: "/spec/", subresources: []string{"spec"}},
		{target: "/specs", subresources: []string{"proxy"}},
		{target: "/checkpoint", subresources: []string{"checkpoint"}},
		{target: "/checkpoint/ns/pod/c", subresources: []string{"checkpoint"}},
		{target: "/checkpointx", subresources: []string{"proxy"}},
		{target: "/pods", subresources: []string{"pods", "proxy"}},
		{target: "/pods/", subresources: []string{"pods", "proxy"}},
		{target: "/pods/ns/pod", subresources: []string{"pods", "proxy"}},
		{target: "/podsx", subresources: []string{"proxy"}},
		{target: "/runningpods", subresources: []string{"pods", "proxy"}},
		{target: "/runningpods/", subresources: []string{"pods", "proxy"}},
		{target: "/runningPods/", subresources: []string{"proxy"}},
		{target: "/healthz", subresources: []string{"healthz", "proxy"}},
		{target: "/healthz/", subresources: []string{"healthz", "proxy"}},
		{target: "/healthz/syncloop", subresources: []string{"healthz", "proxy"}},
		{target: "/healthzx", subresources: []string{"proxy"}},
		{target: "/configz", subresources: []string{"configz", "proxy"}},
		{target: "/configz/", subresources: []string{"configz", "proxy"}},
		{target: "/configz/x", subresources: []string{"configz", "proxy"}},
		{target: "/configzx", subresources: []string{"proxy"}},
		{target: "/", subresources: []string{"proxy"}},
		{target: "/exec/ns/pod/c?command=sh", path: "/exec/ns/pod/c", subresources: []string{"proxy"}},
		{target: "/run/ns/pod/c", subresources: []string{"proxy"}},
		{target: "/attach/ns/pod/c", subresources: []string{"proxy"}},
		{target: "/attach", subresources: []string{"proxy"}},
		{target: "/portForward/ns/pod", subresources: []string{"proxy"}},
		{target: "/portForward", subresources: []string{"proxy"}},
		{target: "/containerLogs/ns/pod/c", subresources: []string{"proxy"}},
		{target: "/containerLogs", subresources: []string{"proxy"}},
		{target: "/debug/pprof/", subresources: []string{"proxy"}},
		{target: "/debug/flags/v", subresources: []string{"proxy"}},
		{target: "/cri/exec/abc", subresources: []string{"proxy"}},
		{target: "/statusz", subresources: []string{"proxy"}},
		{target: "/api/v1/nodes/node-1/stats", subresources: []string{"proxy"}},
	}
	verbs := map[string]string{
		http.MethodGet: "get", http.MethodHead: "get", http.MethodPost: "create",
		http.MethodPut: "update", http.MethodPatch: "patch", http.MethodDelete: "delete",
	}
	k := newTestKubelet(t)
	for _, tt := range tests {
		for _, method := range allMethods {
			t.Run(method+" "+tt.target, func(t *testing.T) {
				path := tt.path
				if path == "" {
					path = tt.target
				}
				got, err := k.GetAttributes(alice, readRequest(t, method, tt.target))
				if err != nil {
					t.Fatalf("GetAttributes: %v", err)
				}
				want := wantNodeAttrs(alice, verbs[method], path, tt.subresources...)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("GetAttributes =\n%#v\nwant\n%#v", got, want)
				}
			})
		}
	}
}

func TestKubeletRefused(t *testing.T) {
	k := newTestKubelet(t)
	tests := []struct {
		name    string
		method  string
		target  string
		wantErr error
	}{
		{"dot dot", http.MethodGet, "/stats/../pods", ErrNonCanonicalPath},
		{"encoded dot dot", http.MethodGet, "/stats/%2e%2e/pods", ErrNonCanonicalPath},
		{"encoded slash", http.MethodGet, "/stats%2Fsummary", ErrNonCanonicalPath},
		{"empty segment", http.MethodPost, "//exec/ns/pod/c", ErrNonCanonicalPath},
		{"options asterisk", http.MethodOptions, "*", ErrMethodNotAllowed},
		{"method before path", "PROPFIND", "/stats/../pods", ErrMethodNotAllowed},
	}
	for _, method := range refusedMethods {
		tests = append(tests, struct {
			name    string
			method  string
			target  string
			wantErr error
		}{"method " + method, method, "/stats/summary", ErrMethodNotAllowed})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readRequest(t, http.MethodGet, tt.target)
			r.Method = tt.method // "" cannot be written on a request line
			got, err := k.GetAttributes(&user.DefaultInfo{Name: "alice"}, r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("GetAttributes(%q %q) error = %v; want %v", tt.method, tt.target, err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("GetAttributes(%q %q) = %v; want no attributes", tt.method, tt.target, got)
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		if got, err := k.GetAttributes(nil, nil); !errors.Is(err, ErrNonCanonicalPath) || got != nil {
			t.Fatalf("GetAttributes(nil, nil) = %v, %v; want ErrNonCanonicalPath", got, err)
		}
	})
}

func TestKubeletNilUser(t *testing.T) {
	k := newTestKubelet(t)
	got, err := k.GetAttributes(nil, readRequest(t, http.MethodGet, "/healthz"))
	if err != nil {
		t.Fatalf("GetAttributes: %v", err)
	}
	if want := wantNodeAttrs(nil, "get", "/healthz", "healthz", "proxy"); !reflect.DeepEqual(got, want) {
		t.Fatalf("GetAttributes =\n%#v\nwant\n%#v", got, want)
	}
}

// TestKubeletResultsAreIndependent checks that a caller that changes what it got back cannot
// change what the next request gets.
func TestKubeletResultsAreIndependent(t *testing.T) {
	k := newTestKubelet(t)
	alice := &user.DefaultInfo{Name: "alice"}
	first, err := k.GetAttributes(alice, readRequest(t, http.MethodGet, "/pods"))
	if err != nil {
		t.Fatalf("GetAttributes: %v", err)
	}
	first[0] = authorizer.AttributesRecord{Verb: "*", Resource: "*"}
	rec := first[1].(authorizer.AttributesRecord)
	rec.Subresource = "stats"
	first[1] = rec
	_ = append(first[:1], authorizer.AttributesRecord{})

	second, err := k.GetAttributes(alice, readRequest(t, http.MethodGet, "/pods"))
	if err != nil {
		t.Fatalf("GetAttributes: %v", err)
	}
	if want := wantNodeAttrs(alice, "get", "/pods", "pods", "proxy"); !reflect.DeepEqual(second, want) {
		t.Fatalf("after changing a result, GetAttributes =\n%#v\nwant\n%#v", second, want)
	}
}

// TestKubeletConcurrent runs many requests at once; with -race it checks that GetAttributes
// shares nothing writable.
func TestKubeletConcurrent(t *testing.T) {
	k := newTestKubelet(t)
	targets := map[string][]string{
		"/stats/summary": {"stats"}, "/pods": {"pods", "proxy"}, "/exec/ns/p/c": {"proxy"},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(targets))
	for i := range 8 {
		for target, subs := range targets {
			u := &user.DefaultInfo{Name: "user", UID: string(rune('a' + i))}
			r := readRequest(t, http.MethodGet, target)
			wg.Go(func() {
				for range 50 {
					got, err := k.GetAttributes(u, r)
					if err != nil {
						errs <- err
						return
					}
					if want := wantNodeAttrs(u, "get", target, subs...); !reflect.DeepEqual(got, want) {
						errs <- errors.New("unexpected attributes for " + target)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkKubeletGetAttributes(b *testing.B) {
	k := newTestKubelet(b)
	u := &user.DefaultInfo{Name: "alice"}
	for _, target := range []string{"/stats/summary", "/pods", "/containerLogs/ns/pod/c"} {
		r := readRequest(b, http.MethodGet, target)
		b.Run(target, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.GetAttributes(u, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestKubeletAppendAttributes checks that AppendAttributes appends exactly the records
// GetAttributes returns, keeps what dst held, and appends nothing on error.
func TestKubeletAppendAttributes(t *testing.T) {
	k := newTestKubelet(t)
	alice := &user.DefaultInfo{Name: "alice"}
	marker := authorizer.AttributesRecord{Verb: "marker"}
	for _, tt := range []struct{ method, target string }{
		{http.MethodGet, "/stats/summary"}, {http.MethodGet, "/pods"}, {http.MethodPost, "/exec/ns/p/c"},
		{http.MethodGet, "/healthz"}, {http.MethodOptions, "/pods"}, {http.MethodGet, "/a/../b"},
	} {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := readRequest(t, tt.method, tt.target)
			want, wantErr := k.GetAttributes(alice, r)
			got, err := k.AppendAttributes([]authorizer.AttributesRecord{marker}, alice, r)
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("AppendAttributes error %v, GetAttributes error %v", err, wantErr)
			}
			if len(got) == 0 || !reflect.DeepEqual(got[0], marker) {
				t.Fatalf("dst's first record was lost: %#v", got)
			}
			if len(got)-1 != len(want) {
				t.Fatalf("appended %d records, GetAttributes returned %d", len(got)-1, len(want))
			}
			for i, w := range want {
				if !reflect.DeepEqual(w, got[i+1]) {
					t.Fatalf("record %d: appended %#v, GetAttributes %#v", i, got[i+1], w)
				}
			}
		})
	}
}
