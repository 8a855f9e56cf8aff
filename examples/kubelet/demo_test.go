package main

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestDemoServer drives the demo over real HTTPS with its generated certificates and token,
// and checks statuses, the identity headers, the reviews the fake API server received and the
// review counters served on /metrics. The cases run in order: caches carry over between them.
func TestDemoServer(t *testing.T) {
	s := startServer(t, "--demo")
	d := s.demo
	creds := map[string]credential{
		"admin":     {certFile: d.admin.certFile, keyFile: d.admin.keyFile},
		"viewer":    {certFile: d.viewer.certFile, keyFile: d.viewer.keyFile},
		"token":     {token: d.token},
		"bad token": {token: "not-the-demo-token"},
		"none":      {},
	}
	clients := map[string]*http.Client{}
	for name, c := range creds {
		clients[name] = httpsClient(t, d.caFile, c)
	}
	counters := func(t *testing.T) map[string]int {
		t.Helper()
		resp, body := get(t, clients["admin"], s.url+"/metrics", creds["admin"])
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("admin GET /metrics = %d %q", resp.StatusCode, body)
		}
		return reviewCounts(t, body)
	}
	// Reading the counters costs one review now; from then on the admin's access to
	// nodes/metrics is cached (5m), so reading them again sends nothing.
	if got := counters(t); got[kindTokenReview] != 0 || got[kindSubjectAccessReview] != 1 {
		t.Fatalf("counters after the first read = %v, want 0 TokenReviews and 1 SubjectAccessReview", got)
	}

	tests := []struct {
		name, cred, path string
		wantStatus       int
		wantUser         string // X-Authfilter-User; "" when the filter refused the request
		wantGroup        string // one of X-Authfilter-Groups
		wantBody         string // a substring of the body
		wantTokenReviews int    // TokenReviews this request sent
		wantSubs         []string
	}{
		{name: "admin cert reads stats", cred: "admin", path: "/stats/summary", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `"nodeName": "test-node"`, wantSubs: []string{"stats"}},
		{name: "admin again: decision cached", cred: "admin", path: "/stats/summary", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `"nodeName"`},
		{name: "token reads metrics", cred: "token", path: "/metrics", wantStatus: 200,
			wantUser: demoTokenUser, wantGroup: groupViewers, wantBody: "kubelet_node_name", wantTokenReviews: 1, wantSubs: []string{"metrics"}},
		{name: "token again: token and decision cached", cred: "token", path: "/metrics", wantStatus: 200,
			wantUser: demoTokenUser, wantGroup: groupViewers, wantBody: "authfilter_example_reviews_total"},
		{name: "token reads stats: token cached, new decision", cred: "token", path: "/stats/summary", wantStatus: 200,
			wantUser: demoTokenUser, wantGroup: groupViewers, wantSubs: []string{"stats"}},
		{name: "viewer cert reads healthz", cred: "viewer", path: "/healthz", wantStatus: 200,
			wantUser: demoViewer, wantGroup: groupViewers, wantBody: "ok", wantSubs: []string{"healthz"}},
		{name: "viewer cert may not read logs", cred: "viewer", path: "/logs/", wantStatus: 403,
			wantBody: "Forbidden (user=demo-viewer, verb=get, resource=nodes, subresource(s)=[log])", wantSubs: []string{"log"}},
		{name: "viewer cert may not read pods, nor through proxy", cred: "viewer", path: "/pods", wantStatus: 403,
			wantBody: "Forbidden (user=demo-viewer", wantSubs: []string{"pods", "proxy"}},
		{name: "token may not read spec", cred: "token", path: "/spec/", wantStatus: 403,
			wantBody: "Forbidden (user=demo-token-user", wantSubs: []string{"spec"}},
		{name: "no credentials", cred: "none", path: "/stats/summary", wantStatus: 401, wantBody: "Unauthorized"},
		{name: "unknown token", cred: "bad token", path: "/stats/summary", wantStatus: 401, wantBody: "Unauthorized", wantTokenReviews: 1},
		{name: "admin gets 404 for an unknown path, authorized as nodes/proxy", cred: "admin", path: "/no/such/path", wantStatus: 404,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: "404 page not found", wantSubs: []string{"proxy"}},
		{name: "admin reads the logs listing", cred: "admin", path: "/logs/", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `<a href="kubelet.log">`, wantSubs: []string{"log"}},
		{name: "admin reads cadvisor metrics: nodes/metrics cached", cred: "admin", path: "/metrics/cadvisor", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: "machine_cpu_cores"},
		{name: "admin reads spec", cred: "admin", path: "/spec/", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `"num_cores"`, wantSubs: []string{"spec"}},
		{name: "admin reads pods", cred: "admin", path: "/pods", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `"kind": "PodList"`, wantSubs: []string{"pods"}},
		{name: "admin reads running pods: nodes/pods cached", cred: "admin", path: "/runningpods/", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `"items": []`},
		{name: "admin reads configz", cred: "admin", path: "/configz", wantStatus: 200,
			wantUser: demoAdmin, wantGroup: groupAdmins, wantBody: `"kubeletconfig"`, wantSubs: []string{"configz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counters(t)
			tokensBefore, sarsBefore := sentReviews(d)

			resp, body := get(t, clients[tt.cred], s.url+tt.path, creds[tt.cred])

			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %q", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", body, tt.wantBody)
			}
			if got := resp.Header.Get(headerUser); got != tt.wantUser {
				t.Errorf("%s = %q, want %q", headerUser, got, tt.wantUser)
			}
			groups := strings.Split(resp.Header.Get(headerGroups), ",")
			if tt.wantUser != "" && (!slices.Contains(groups, tt.wantGroup) || !slices.Contains(groups, "system:authenticated")) {
				t.Errorf("%s = %q, want %s and system:authenticated", headerGroups, groups, tt.wantGroup)
			}

			after := counters(t)
			if got := after[kindTokenReview] - before[kindTokenReview]; got != tt.wantTokenReviews {
				t.Errorf("TokenReview counter moved by %d, want %d", got, tt.wantTokenReviews)
			}
			if got := after[kindSubjectAccessReview] - before[kindSubjectAccessReview]; got != len(tt.wantSubs) {
				t.Errorf("SubjectAccessReview counter moved by %d, want %d", got, len(tt.wantSubs))
			}

			tokens, sars := sentReviews(d)
			newTokens, newSARs := tokens[len(tokensBefore):], sars[len(sarsBefore):]
			if len(newTokens) != tt.wantTokenReviews {
				t.Errorf("fake API server got %d TokenReviews, want %d", len(newTokens), tt.wantTokenReviews)
			}
			for _, tr := range newTokens {
				if tr.Token != creds[tt.cred].token {
					t.Errorf("TokenReview reviewed another token than the request's")
				}
			}
			var subs []string
			for _, sar := range newSARs {
				ra := sar.ResourceAttributes
				if ra == nil {
					t.Fatalf("SubjectAccessReview without resource attributes: %+v", sar)
				}
				subs = append(subs, ra.Subresource)
				wantUser := map[string]string{"admin": demoAdmin, "viewer": demoViewer, "token": demoTokenUser}[tt.cred]
				if sar.User != wantUser || ra.Verb != "get" || ra.Resource != "nodes" || ra.Group != "" || ra.Name != testNode {
					t.Errorf("SubjectAccessReview = user %q verb %q resource %q group %q name %q, want %q get nodes \"\" %q",
						sar.User, ra.Verb, ra.Resource, ra.Group, ra.Name, wantUser, testNode)
				}
			}
			if !slices.Equal(subs, tt.wantSubs) {
				t.Errorf("SubjectAccessReviews sent for subresources %q, want %q", subs, tt.wantSubs)
			}
		})
	}

	t.Run("the token never reaches the logs or stdout", func(t *testing.T) {
		for name, out := range map[string]string{"stdout": s.stdout.String(), "stderr": s.stderr.String()} {
			if strings.Contains(out, d.token) {
				t.Errorf("%s holds the demo token", name)
			}
		}
	})
	t.Run("every served request is logged with its user and groups", func(t *testing.T) {
		logs := s.stderr.String()
		for _, want := range []string{
			`"msg"="request" "method"="GET" "path"="/logs/" "user"="demo-admin" "groups"=["demo:admins" "system:authenticated"]`,
			`"msg"="review sent" "kind"="TokenReview"`,
			`"msg"="review sent" "kind"="SubjectAccessReview"`,
		} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %s:\n%s", want, logs)
			}
		}
	})
}

// TestDemoRemovesItsDirectory checks that the demo's credentials are deleted on shutdown.
func TestDemoRemovesItsDirectory(t *testing.T) {
	s := startServer(t)
	if s.demo == nil {
		t.Fatal("no --kubeconfig and no --config did not start the demo")
	}
	if _, err := os.Stat(s.demo.caFile); err != nil {
		t.Fatalf("while serving: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("run = %v after shutdown", err)
	}
	if _, err := os.Stat(s.demo.dir); !os.IsNotExist(err) {
		t.Errorf("after shutdown, stat %s = %v, want not exist", s.demo.dir, err)
	}
}
