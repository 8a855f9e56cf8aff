package attributes

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

// readRequest parses the raw request line "method target HTTP/1.1" the way an http.Server does,
// so that URL.Path is decoded and URL.RawPath is set exactly as a handler would see them.
func readRequest(t testing.TB, method, target string) *http.Request {
	t.Helper()
	r, err := parseRequest(method, target)
	if err != nil {
		t.Fatalf("reading request %q %q: %v", method, target, err)
	}
	return r
}

// parseRequest is readRequest without a test, for the fuzz target.
func parseRequest(method, target string) (*http.Request, error) {
	raw := method + " " + target + " HTTP/1.1\r\nHost: node.example\r\n\r\n"
	return http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
}

// allMethods are the methods that have a Kubernetes verb.
var allMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
}

// refusedMethods have no Kubernetes verb.
var refusedMethods = []string{
	http.MethodOptions, http.MethodConnect, http.MethodTrace, "get", "Get", "PROPFIND", "MKCOL", "",
}
