//go:build e2e

package kubelet_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authfilter/authfilter/test/e2e/cluster"
)

// stopGrace is how long an example server gets between SIGTERM and SIGKILL.
const stopGrace = 15 * time.Second

// server is one running example server (examples/kubelet) started by startServer.
type server struct {
	owner   *testing.T // the test whose cleanup stops the process
	e       *env
	node    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	// url is https://host:port, from the server's "listening" log line.
	url string
}

// listeningURL finds the URL in the example's "listening" log line (funcr key/value format).
var listeningURL = regexp.MustCompile(`"msg"="listening" "url"="(https://[^"]+)"`)

// serverFlags are the listening, TLS and client-CA flags for an example serving node on e.host:
// a serving certificate from the cluster CA, and the cluster CA as --client-ca-file, so that the
// API server's kubelet client certificate authenticates as cluster.KubeletClientCN.
func (e *env) serverFlags(t *testing.T, node string) []string {
	serving := e.servingCert(t, node)
	return []string{
		"--address=" + e.host, "--port=0",
		"--tls-cert-file=" + serving.CertPath, "--tls-private-key-file=" + serving.KeyPath,
		"--client-ca-file=" + e.c.CACertPath(),
	}
}

// startServer runs the example for node with args plus --kubeconfig (exampleUser),
// --hostname-override and -v=2, where the cluster runs (inside its namespace if it has one).
// It waits for the "listening" log line and registers a cleanup on t that stops the process by
// PID and fails t if the process did not exit cleanly or the race detector reported anything.
func (e *env) startServer(t *testing.T, node string, args ...string) *server {
	t.Helper()
	bin := exampleBinary(t)
	logPath := filepath.Join(t.TempDir(), "example-"+node+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"--kubeconfig=" + e.kubeconfig, "--hostname-override=" + node, "-v=2"}, args...)
	// The context is never cancelled: the cleanup below stops the process by PID.
	cmd := e.c.Command(context.WithoutCancel(t.Context()), bin, argv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting example: %v", err)
	}
	s := &server{owner: t, e: e, node: node, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	t.Cleanup(s.stop)
	eventually(t, "example "+node+" listening", func() (bool, string) {
		select {
		case <-s.exited:
			t.Fatalf("example %s exited: %v\n%s", node, cmd.ProcessState, s.log())
		default:
		}
		m := listeningURL.FindStringSubmatch(s.log())
		if m == nil {
			return false, "no listening line yet"
		}
		s.url = m[1]
		return true, ""
	})
	t.Logf("example %s (pid %d) serving on %s", node, cmd.Process.Pid, s.url)
	return s
}

// stop sends SIGTERM to the example's PID, then SIGKILL after stopGrace, and checks its exit
// status and its log for race reports. It is the cleanup startServer registers.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopGrace):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	log := s.log()
	// SIGTERM is a graceful shutdown: anything but exit status 0 is a failure.
	if st := s.cmd.ProcessState; st.ExitCode() != 0 {
		s.owner.Errorf("example %s exited with %v after SIGTERM", s.node, st)
	}
	if strings.Contains(log, "WARNING: DATA RACE") {
		s.owner.Errorf("example %s: the race detector reported a data race:\n%s", s.node, log)
	} else if s.owner.Failed() {
		s.owner.Logf("----- example %s log -----\n%s", s.node, tail(log, 60))
	}
}

// pid returns the example's process ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// running reports whether the process is still running.
func (s *server) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// log returns everything the example wrote so far.
func (s *server) log() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(reading log: %v)", err)
	}
	return string(b)
}

// reviewLines counts the example's "review sent" log lines of kind.
func (s *server) reviewLines(kind string) int {
	return strings.Count(s.log(), `"msg"="review sent" "kind"="`+kind+`"`)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// caller is one client of an example server: a client certificate, a bearer token, or nothing.
type caller struct {
	name   string
	client *http.Client
	token  string
}

// as returns a caller that presents kp as its client certificate (nil: none) and sends token as
// a bearer token ("": none). It trusts the cluster CA and dials where the cluster runs.
func (s *server) as(t *testing.T, name string, kp *cluster.KeyPair, token string) *caller {
	t.Helper()
	tlsConfig := &tls.Config{RootCAs: s.e.c.CAPool(), MinVersion: tls.VersionTLS12}
	if kp != nil {
		pair, err := kp.TLSCertificate()
		if err != nil {
			t.Fatal(err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	tr := &http.Transport{TLSClientConfig: tlsConfig, DialContext: s.e.c.DialContext, Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &caller{name: name, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, token: token}
}

// withToken is a caller that sends token and no certificate.
func (s *server) withToken(t *testing.T, name, token string) *caller {
	return s.as(t, name, nil, token)
}

// anonymous is a caller with no credentials.
func (s *server) anonymous(t *testing.T) *caller { return s.as(t, "anonymous", nil, "") }

// response is what a request got.
type response struct {
	code   int
	header http.Header
	body   string
}

func (r response) String() string {
	return fmt.Sprintf("%d %q", r.code, strings.TrimSpace(r.body))
}

// user and groups are the identity the example reports on a served response.
func (r response) user() string     { return r.header.Get("X-Authfilter-User") }
func (r response) groups() []string { return splitGroups(r.header.Get("X-Authfilter-Groups")) }

func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// get sends GET s.url+path as c. A transport error fails the test.
func (s *server) get(t *testing.T, c *caller, path string) response {
	t.Helper()
	r, err := s.tryGet(t, c, path)
	if err != nil {
		t.Fatalf("GET %s as %s: %v", path, c.name, err)
	}
	return r
}

func (s *server) tryGet(t *testing.T, c *caller, path string) (response, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+path, nil)
	if err != nil {
		return response{}, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return response{}, err
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// expect fails the test unless GET path as c answers code, and returns the response.
func (s *server) expect(t *testing.T, c *caller, path string, code int) response {
	t.Helper()
	r := s.get(t, c, path)
	if r.code != code {
		t.Fatalf("GET %s as %s = %v, want %d", path, c.name, r, code)
	}
	return r
}

// waitFor polls GET path as c until it answers code.
func (s *server) waitFor(t *testing.T, c *caller, path string, code int) response {
	t.Helper()
	var last response
	eventually(t, fmt.Sprintf("GET %s as %s answers %d", path, c.name, code), func() (bool, string) {
		r, err := s.tryGet(t, c, path)
		if err != nil {
			return false, err.Error()
		}
		last = r
		return r.code == code, r.String()
	})
	return last
}

// reviewCounts are the example's authfilter_example_reviews_total counters.
type reviewCounts struct{ sar, tokenReview int }

var reviewMetric = regexp.MustCompile(`(?m)^authfilter_example_reviews_total\{kind="(\w+)"\} (\d+)$`)

// reviews reads the review counters from GET /metrics as c. The body is written after the
// filter let the request through, so it already counts the reviews this very request caused.
func (s *server) reviews(t *testing.T, c *caller) reviewCounts {
	t.Helper()
	r := s.expect(t, c, "/metrics", http.StatusOK)
	var n reviewCounts
	found := 0
	for _, m := range reviewMetric.FindAllStringSubmatch(r.body, -1) {
		v, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatal(err)
		}
		switch m[1] {
		case "SubjectAccessReview":
			n.sar, found = v, found+1
		case "TokenReview":
			n.tokenReview, found = v, found+1
		}
	}
	if found != 2 {
		t.Fatalf("/metrics lacks the review counters:\n%s", r.body)
	}
	return n
}
