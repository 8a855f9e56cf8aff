package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	clienttesting "k8s.io/client-go/testing"
)

// testNode is the node name the tests give with --hostname-override.
const testNode = "test-node"

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a run() started by a test.
type server struct {
	started
	stdout, stderr *syncBuffer
	stop           func() error // cancels run and returns its error; safe to call twice
}

// startServer runs the example in process with args (plus --port 0 and --hostname-override
// test-node) and waits until it serves. The server is stopped when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	ready := make(chan started, 1)
	errc := make(chan error, 1)
	args = append([]string{"--port", "0", "--hostname-override", testNode}, args...)
	go func() { errc <- run(ctx, args, s.stdout, s.stderr, ready) }()
	select {
	case s.started = <-ready:
	case err := <-errc:
		cancel()
		t.Fatalf("run(%q) = %v before serving; stderr:\n%s", args, err, s.stderr)
	}
	var once sync.Once
	var err error
	s.stop = func() error {
		once.Do(func() { cancel(); err = <-errc })
		return err
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	})
	return s
}

// credential is how a test client identifies itself.
type credential struct {
	certFile, keyFile string // client certificate, if any
	token             string // bearer token, if any
}

// httpsClient returns an HTTPS client that trusts caFile and presents c's certificate.
func httpsClient(t *testing.T, caFile string, c credential) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if c.certFile != "" {
		cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// get sends GET url with c's token and returns the response with its body read.
func get(t *testing.T, client *http.Client, url string, c credential) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return do(t, client, req)
}

func do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// reviewLine matches one review counter line of /metrics.
var reviewLine = regexp.MustCompile(`^authfilter_example_reviews_total\{kind="(\w+)"\} (\d+)$`)

// reviewCounts parses the review counters out of a /metrics body.
func reviewCounts(t *testing.T, body string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewBufferString(body))
	for sc.Scan() {
		if m := reviewLine.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[2])
			counts[m[1]] = n
		}
	}
	if _, ok := counts[kindTokenReview]; !ok {
		t.Fatalf("no %s counter in /metrics:\n%s", kindTokenReview, body)
	}
	if _, ok := counts[kindSubjectAccessReview]; !ok {
		t.Fatalf("no %s counter in /metrics:\n%s", kindSubjectAccessReview, body)
	}
	return counts
}

// sentReviews returns the specs of the reviews the demo's fake API server received.
func sentReviews(d *demo) (tokens []authenticationv1.TokenReviewSpec, sars []authorizationv1.SubjectAccessReviewSpec) {
	for _, a := range d.client.Actions() {
		create, ok := a.(clienttesting.CreateAction)
		if !ok {
			continue
		}
		switch o := create.GetObject().(type) {
		case *authenticationv1.TokenReview:
			tokens = append(tokens, o.Spec)
		case *authorizationv1.SubjectAccessReview:
			sars = append(sars, o.Spec)
		}
	}
	return tokens, sars
}
