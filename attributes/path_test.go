package attributes

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestCanonicalPathAccepted(t *testing.T) {
	tests := []struct {
		name   string
		target string // the request-target of the request line
		want   string
	}{
		{"root", "/", "/"},
		{"plain", "/stats", "/stats"},
		{"deeper", "/stats/summary", "/stats/summary"},
		{"trailing slash", "/logs/", "/logs/"},
		{"deep trailing slash", "/logs/pods/", "/logs/pods/"},
		{"query is not the path", "/stats/summary?x=../", "/stats/summary"},
		{"query with encoded slash", "/pods?a=%2F..%2F", "/pods"},
		{"dots inside a segment", "/logs/kubelet.log", "/logs/kubelet.log"},
		{"three dots", "/logs/...", "/logs/..."},
		{"dot dot inside a segment", "/logs/a..b", "/logs/a..b"},
		{"leading dot", "/logs/.hidden", "/logs/.hidden"},
		{"encoded space", "/logs/a%20b", "/logs/a b"},
		{"encoded letter", "/st%61ts", "/stats"},
		{"utf-8", "/logs/%C3%A9", "/logs/é"},
		{"absolute form", "http://node.example/stats/summary", "/stats/summary"},
		{"colon and semicolon", "/exec/ns/pod/c;x:y", "/exec/ns/pod/c;x:y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readRequest(t, http.MethodGet, tt.target)
			got, err := CanonicalPath(r)
			if err != nil || got != tt.want {
				t.Fatalf("CanonicalPath(%q) = %q, %v; want %q, nil", tt.target, got, err, tt.want)
			}
		})
	}
}

func TestCanonicalPathRefused(t *testing.T) {
	tests := []struct {
		name   string
		target string
	}{
		{"dot dot segment", "/stats/../pods"},
		{"dot dot at the end", "/stats/.."},
		{"dot dot at the root", "/.."},
		{"dot segment", "/./stats"},
		{"dot at the end", "/stats/."},
		{"leading empty segment", "//stats"},
		{"inner empty segment", "/stats//summary"},
		{"trailing double slash", "/logs//"},
		{"encoded dot dot", "/stats/%2e%2e/pods"},
		{"encoded dot dot upper", "/stats/%2E%2E/pods"},
		{"encoded dot", "/stats/%2E/x"},
		{"half encoded dot dot", "/stats/.%2e/pods"},
		{"encoded dot inside a segment", "/logs/a%2Eb"},
		{"encoded slash", "/stats%2Fsummary"},
		{"encoded slash lower", "/stats%2fsummary"},
		{"encoded backslash", "/a%5Cb"},
		{"encoded backslash lower", "/a%5cb"},
		{"encoded percent", "/%25"},
		{"double encoded dot dot", "/stats/%252e%252e/pods"},
		{"double encoded slash", "/stats%252Fsummary"},
		{"encoded NUL", "/stats%00"},
		{"encoded newline", "/stats%0A/x"},
		{"encoded tab", "/stats%09"},
		{"encoded DEL", "/stats%7F"},
		{"asterisk", "*"},
		{"absolute form dot dot", "http://node.example/stats/../pods"},
		{"absolute form without path", "http://node.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readRequest(t, http.MethodGet, tt.target)
			got, err := CanonicalPath(r)
			if !errors.Is(err, ErrNonCanonicalPath) {
				t.Fatalf("CanonicalPath(%q) = %q, %v; want ErrNonCanonicalPath", tt.target, got, err)
			}
			if got != "" {
				t.Errorf("CanonicalPath(%q) path = %q; want empty", tt.target, got)
			}
		})
	}
}

// TestCanonicalPathOptionsAsterisk checks the request built by httptest, the way handler tests
// usually build one.
func TestCanonicalPathOptionsAsterisk(t *testing.T) {
	r := httptest.NewRequest(http.MethodOptions, "*", nil)
	if got, err := CanonicalPath(r); !errors.Is(err, ErrNonCanonicalPath) {
		t.Fatalf("CanonicalPath(OPTIONS *) = %q, %v; want ErrNonCanonicalPath", got, err)
	}
}

// TestCanonicalPathBuiltURL covers requests built or rewritten in code rather than parsed, which
// may hold combinations a server never produces.
func TestCanonicalPathBuiltURL(t *testing.T) {
	tests := []struct {
		name    string
		req     *http.Request
		want    string
		wantErr bool
	}{
		{name: "nil request", req: nil, wantErr: true},
		{name: "nil URL", req: &http.Request{}, wantErr: true},
		{name: "empty path", req: &http.Request{URL: &url.URL{}}, wantErr: true},
		{name: "relative path", req: &http.Request{URL: &url.URL{Path: "stats"}}, wantErr: true},
		{name: "opaque", req: &http.Request{URL: &url.URL{Opaque: "/stats"}}, wantErr: true},
		{name: "raw NUL", req: &http.Request{URL: &url.URL{Path: "/stats\x00"}}, wantErr: true},
		{name: "raw newline", req: &http.Request{URL: &url.URL{Path: "/stats\n/x"}}, wantErr: true},
		{name: "raw backslash", req: &http.Request{URL: &url.URL{Path: `/stats\..\pods`}}, wantErr: true},
		{name: "raw percent", req: &http.Request{URL: &url.URL{Path: "/stats%2F"}}, wantErr: true},
		{
			name:    "raw path of another path",
			req:     &http.Request{URL: &url.URL{Path: "/stats/summary", RawPath: "/pods"}},
			wantErr: true,
		},
		{
			name:    "raw path with an encoded slash",
			req:     &http.Request{URL: &url.URL{Path: "/stats/summary", RawPath: "/stats%2Fsummary"}},
			wantErr: true,
		},
		{
			name: "raw path that encodes the path",
			req:  &http.Request{URL: &url.URL{Path: "/logs/a b", RawPath: "/logs/a%20b"}},
			want: "/logs/a b",
		},
		{name: "path only", req: &http.Request{URL: &url.URL{Path: "/healthz"}}, want: "/healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalPath(tt.req)
			if tt.wantErr {
				if !errors.Is(err, ErrNonCanonicalPath) || got != "" {
					t.Fatalf("CanonicalPath() = %q, %v; want ErrNonCanonicalPath", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CanonicalPath() = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestCanonicalPathDoesNotModifyRequest(t *testing.T) {
	r := readRequest(t, http.MethodGet, "/stats/%2e%2e/pods?x=1")
	before := *r.URL
	if _, err := CanonicalPath(r); err == nil {
		t.Fatal("CanonicalPath accepted a dot segment")
	}
	if *r.URL != before {
		t.Errorf("request URL changed from %#v to %#v", before, *r.URL)
	}
}

// TestCanonicalPathServeMuxRoutesUnchanged checks that http.ServeMux serves every accepted path
// as is: no redirect to a cleaned path, and the handler sees the path that was authorized.
func TestCanonicalPathServeMuxRoutesUnchanged(t *testing.T) {
	targets := []string{
		"/", "/stats", "/stats/", "/stats/summary", "/logs/", "/logs/kubelet.log", "/logs/...",
		"/logs/a..b", "/logs/.hidden", "/logs/a%20b", "/st%61ts/summary", "/logs/%C3%A9",
		"/pods?x=../", "/containerLogs/ns/pod/c", "/exec/ns/pod/c;x:y", "/run/ns/pod/c",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			r := readRequest(t, http.MethodGet, target)
			p, err := CanonicalPath(r)
			if err != nil {
				t.Fatalf("CanonicalPath(%q): %v", target, err)
			}
			assertServeMuxRoutes(t, r, p)
		})
	}
}

// assertServeMuxRoutes fails unless http.ServeMux serves r without a redirect, to a handler
// that sees the path p.
func assertServeMuxRoutes(t *testing.T, r *http.Request, p string) {
	t.Helper()
	var served []string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		served = append(served, r.URL.Path)
	})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("ServeMux answered %q with %d (Location %q); want 200 and no redirect",
			r.RequestURI, rec.Code, rec.Header().Get("Location"))
	}
	if len(served) != 1 || served[0] != p {
		t.Fatalf("ServeMux served paths %q; want exactly [%q]", served, p)
	}
}

// muxCleanPath is how http.ServeMux cleans a path before routing it: path.Clean, keeping a
// trailing slash. A path it changes is redirected.
func muxCleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

func FuzzCanonicalPath(f *testing.F) {
	for _, seed := range []string{
		"/", "/stats/summary", "/logs/", "/stats/../pods", "/./stats", "//stats", "/stats//summary",
		"/stats/%2e%2e/pods", "/stats%2Fsummary", "/stats/%2E/x", "/a%5Cb", "/%25", "*",
		"/stats/summary?x=../", "/logs/a..b", "/st%61ts", "http://h/stats/..", "/a%00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if target == "" || strings.ContainsAny(target, " \r\n") {
			t.Skip("not a single request-target")
		}
		r, err := parseRequest(http.MethodGet, target)
		if err != nil {
			t.Skip("not a request net/http accepts")
		}
		p, err := CanonicalPath(r)
		if err != nil {
			if !errors.Is(err, ErrNonCanonicalPath) {
				t.Fatalf("CanonicalPath(%q) error %v does not wrap ErrNonCanonicalPath", target, err)
			}
			return
		}
		if p != r.URL.Path {
			t.Fatalf("CanonicalPath(%q) = %q; want the URL path %q", target, p, r.URL.Path)
		}
		for _, s := range []string{p, r.URL.EscapedPath()} {
			if c := muxCleanPath(s); c != s {
				t.Fatalf("CanonicalPath(%q) accepted %q, which ServeMux cleans to %q", target, s, c)
			}
			for seg := range strings.SplitSeq(s, "/") {
				if seg == ".." || seg == "." {
					t.Fatalf("CanonicalPath(%q) accepted %q, which has a dot segment", target, s)
				}
			}
			if strings.Contains(s, "\\") {
				t.Fatalf("CanonicalPath(%q) accepted %q, which has a backslash", target, s)
			}
		}
		if strings.Contains(p, "%") {
			// A mux that decodes twice would read another path.
			t.Fatalf("CanonicalPath(%q) accepted %q, which a second decoding would change", target, p)
		}
		assertServeMuxRoutes(t, r, p)
	})
}
