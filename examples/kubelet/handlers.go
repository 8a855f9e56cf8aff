package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apiserver/pkg/endpoints/request"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
)

// The response headers that carry the identity the filter established.
const (
	headerUser   = "X-Authfilter-User"
	headerGroups = "X-Authfilter-Groups"
)

// node is what the handlers report about the pretend node.
type node struct {
	name    string
	started time.Time
	config  *kubeletconfigv1beta1.KubeletConfiguration
	reviews *reviewCounter
}

// newMux returns the kubelet-like API: small made-up bodies, 404 for any other path.
func newMux(n *node) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats/summary", n.statsSummary)
	mux.HandleFunc("GET /metrics", n.metrics)
	mux.HandleFunc("GET /metrics/cadvisor", n.cadvisorMetrics)
	mux.HandleFunc("GET /logs/{$}", logsListing)
	mux.HandleFunc("GET /logs/kubelet.log", n.kubeletLog)
	mux.HandleFunc("GET /spec/{$}", n.spec)
	mux.HandleFunc("GET /pods", podList)
	mux.HandleFunc("GET /runningpods/{$}", podList)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /configz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"kubeletconfig": n.config})
	})
	return mux
}

// withIdentity sets the identity headers from the user the filter put in the request context
// and logs the request. A request without a user is refused: it cannot have passed the filter.
func withIdentity(logger logr.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := request.UserFrom(r.Context())
		if !ok || u == nil {
			logger.Error(nil, "request without an authenticated user", "method", r.Method, "path", r.URL.Path)
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		w.Header().Set(headerUser, u.GetName())
		w.Header().Set(headerGroups, strings.Join(u.GetGroups(), ","))
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "user", u.GetName(), "groups", u.GetGroups())
		next.ServeHTTP(w, r)
	})
}

func (n *node) statsSummary(w http.ResponseWriter, _ *http.Request) {
	start := n.started.UTC().Format(time.RFC3339)
	now := time.Now().UTC().Format(time.RFC3339)
	writeJSON(w, map[string]any{
		"node": map[string]any{
			"nodeName":  n.name,
			"startTime": start,
			"cpu":       map[string]any{"time": now, "usageNanoCores": 123456789, "usageCoreNanoSeconds": 987654321000},
			"memory":    map[string]any{"time": now, "workingSetBytes": 1 << 30, "availableBytes": 3 << 30},
		},
		"pods": []any{},
	})
}

func (n *node) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, "# HELP kubelet_node_name The node's name. The count is always 1.\n")
	fmt.Fprint(w, "# TYPE kubelet_node_name gauge\n")
	fmt.Fprintf(w, "kubelet_node_name{node=%q} 1\n", n.name)
	fmt.Fprint(w, "# HELP kubelet_running_pods Number of pods that have a running pod sandbox.\n")
	fmt.Fprint(w, "# TYPE kubelet_running_pods gauge\n")
	fmt.Fprint(w, "kubelet_running_pods 0\n")
	n.reviews.writeMetrics(w)
}

func (n *node) cadvisorMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, "# HELP machine_cpu_cores Number of logical CPU cores.\n")
	fmt.Fprint(w, "# TYPE machine_cpu_cores gauge\n")
	fmt.Fprintf(w, "machine_cpu_cores{machine_id=%q} %d\n", n.name, runtime.NumCPU())
	fmt.Fprint(w, "# HELP container_start_time_seconds Start time of the container since unix epoch in seconds.\n")
	fmt.Fprint(w, "# TYPE container_start_time_seconds gauge\n")
	fmt.Fprintf(w, "container_start_time_seconds{id=\"/\"} %d\n", n.started.Unix())
}

func logsListing(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n<a href=\"kubelet.log\">kubelet.log</a>\n</pre>\n")
}

func (n *node) kubeletLog(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s kubelet started on node %s\n", n.started.UTC().Format(time.RFC3339), n.name)
}

func (n *node) spec(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"num_cores":       runtime.NumCPU(),
		"memory_capacity": 4 << 30,
		"machine_id":      n.name,
		"system_uuid":     "00000000-0000-0000-0000-000000000000",
		"boot_id":         "00000000-0000-0000-0000-000000000001",
	})
}

func podList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"kind": "PodList", "apiVersion": "v1", "metadata": map[string]any{}, "items": []any{}})
}

// writeJSON writes v as indented JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client may be gone; nothing useful to do
}
