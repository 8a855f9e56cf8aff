package authn

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apiserver/pkg/authentication/user"
)

// tlsRequest returns a request that presents certs as its TLS peer certificates.
func tlsRequest(certs ...*x509.Certificate) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://node.example/pods", nil)
	r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: certs}
	return r
}

// bearerRequest returns a request with the given Authorization header values.
func headerRequest(authorization ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://node.example/pods", nil)
	for _, v := range authorization {
		r.Header.Add("Authorization", v)
	}
	return r
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Step(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// logSink collects every log line (all verbosities) of a logr.Logger.
type logSink struct {
	mu    sync.Mutex
	lines []string
	ch    chan string
}

func newLogSink() (*logSink, logr.Logger) {
	s := &logSink{ch: make(chan string, 1000)}
	l := funcr.New(func(prefix, args string) {
		line := prefix + " " + args
		s.mu.Lock()
		s.lines = append(s.lines, line)
		s.mu.Unlock()
		select {
		case s.ch <- line:
		default:
		}
	}, funcr.Options{Verbosity: 10})
	return s, l
}

func (s *logSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// waitFor returns the first line containing substr, failing the test after a deadline.
func (s *logSink) waitFor(t *testing.T, substr string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line := <-s.ch:
			if strings.Contains(line, substr) {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line containing %q; got:\n%s", substr, s.all())
			return ""
		}
	}
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// assertNoSecret fails if err's message or the logs mention secret.
func assertNoSecret(t *testing.T, err error, logs, secret string) {
	t.Helper()
	if err != nil && leaksPiece(err.Error(), secret) {
		t.Errorf("error leaks the credential: %v", err)
	}
	if leaksPiece(logs, secret) {
		t.Errorf("logs leak the credential:\n%s", logs)
	}
}

// leaksPiece reports whether s holds any 16 consecutive bytes of secret (all of it, when it is
// shorter), by trying every position: a check independent of the redaction code.
func leaksPiece(s, secret string) bool {
	n := min(16, len(secret))
	for i := 0; i+n <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+n]) {
			return true
		}
	}
	return false
}

func uidNames(uids []any) []pkix.AttributeTypeAndValue {
	var out []pkix.AttributeTypeAndValue
	for _, v := range uids {
		out = append(out, pkix.AttributeTypeAndValue{Type: uidOID, Value: v})
	}
	return out
}

// userInfo copies u's contents into a *user.DefaultInfo, for comparing users of any type.
func userInfo(u user.Info) *user.DefaultInfo {
	return &user.DefaultInfo{Name: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups(), Extra: u.GetExtra()}
}

// contents is what a user.Info reads, for comparing users of any type.
type contents struct {
	Name, UID string
	Groups    []string
	Extra     map[string][]string
}

func contentsOf(u user.Info) contents {
	return contents{Name: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups(), Extra: u.GetExtra()}
}

// sameContents reports whether a and b read the same; nil and empty lists and maps are equal.
func sameContents(a, b user.Info) bool {
	x, y := contentsOf(a), contentsOf(b)
	return x.Name == y.Name && x.UID == y.UID && slices.Equal(x.Groups, y.Groups) &&
		maps.EqualFunc(x.Extra, y.Extra, slices.Equal)
}
