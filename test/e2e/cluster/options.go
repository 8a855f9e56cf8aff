//go:build e2e

// Package cluster starts a real etcd and kube-apiserver (built by
// hack/build-realk8s.sh) for end-to-end tests, on loopback ports or inside a
// private network namespace, with a freshly generated PKI in a temp dir.
//
// Nothing started here ever listens on, or connects to, anything but a
// loopback address or an address inside a test network namespace.
package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ErrBinariesMissing is wrapped by the error Start returns when the etcd,
// kube-apiserver or kubectl binary cannot be found. Tests should skip on it:
//
//	if errors.Is(err, cluster.ErrBinariesMissing) { t.Skip(err) }
var ErrBinariesMissing = errors.New("realk8s binaries missing (run hack/build-realk8s.sh or set REALK8S_BIN)")

// BinDirEnv names the environment variable that overrides the directory
// holding etcd, kube-apiserver and kubectl.
const BinDirEnv = "REALK8S_BIN"

// KeepDirEnv, when set to "1", keeps the work directory (certs, logs, etcd
// data) after Stop for debugging.
const KeepDirEnv = "REALK8S_KEEP"

// ServiceAccountIssuer is the --service-account-issuer, which is also the
// default audience of tokens minted through the TokenRequest API.
const ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// KubeletClientCN is the common name of the client certificate that the
// kube-apiserver presents to kubelets (node proxy, logs, exec). It carries no
// organization, so RBAC must be granted to this user explicitly.
const KubeletClientCN = "kube-apiserver-kubelet-client"

// AdminCN and AdminGroup identify the admin client certificate used by
// RESTConfig, Clientset and the kubeconfig.
const (
	AdminCN    = "realk8s-admin"
	AdminGroup = "system:masters"
)

// StaticToken is one line of the apiserver's --token-auth-file.
type StaticToken struct {
	Token  string
	User   string
	UID    string
	Groups []string
}

// Options configure Start. The zero value starts a cluster on 127.0.0.1.
type Options struct {
	// BinDir holds etcd, kube-apiserver and kubectl. Default: $REALK8S_BIN,
	// else <repo root>/bin/realk8s.
	BinDir string
	// WorkDir receives certs, logs, the kubeconfig and etcd data. Default: a
	// new temp dir, removed by Stop unless REALK8S_KEEP=1.
	WorkDir string
	// NetNS, if set, runs etcd and kube-apiserver inside the named network
	// namespace (see CreateNetNS) via `ip netns exec`. Clients in this
	// process reach it through a dialer that enters the namespace.
	NetNS string
	// BindIP is the apiserver's --bind-address and --advertise-address.
	// Default 127.0.0.1. With NetNS, use the namespace's lo address
	// (e.g. 192.0.2.10).
	BindIP string
	// ExtraSANs are added to the apiserver serving certificate, beside
	// 127.0.0.1, ::1, localhost and BindIP.
	ExtraSANs []net.IP
	// StaticTokens, if any, are written to tokens.csv (--token-auth-file).
	StaticTokens []StaticToken
	// ExtraAPIServerArgs are appended to the kube-apiserver command line.
	ExtraAPIServerArgs []string
	// StartTimeout bounds each wait for etcd and apiserver readiness.
	// Default 60s.
	StartTimeout time.Duration
	// Logf receives progress messages. Default: discard.
	Logf func(format string, args ...any)
}

func (o *Options) setDefaults() error {
	if o.BindIP == "" {
		o.BindIP = "127.0.0.1"
	}
	ip := net.ParseIP(o.BindIP)
	if ip == nil {
		return fmt.Errorf("cluster: BindIP %q is not an IP address", o.BindIP)
	}
	if o.NetNS == "" && !ip.IsLoopback() {
		return fmt.Errorf("cluster: BindIP %s outside a NetNS must be a loopback address", o.BindIP)
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.BinDir == "" {
		o.BinDir = DefaultBinDir()
	}
	return nil
}

// DefaultBinDir returns $REALK8S_BIN if set, else <repo root>/bin/realk8s,
// where the repo root is the nearest parent of the working directory whose
// go.mod declares module github.com/authfilter/authfilter.
func DefaultBinDir() string {
	if d := os.Getenv(BinDirEnv); d != "" {
		return d
	}
	return filepath.Join(repoRoot(), "bin", "realk8s")
}

const rootModule = "github.com/authfilter/authfilter"

func repoRoot() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if modulePath(filepath.Join(d, "go.mod")) == rootModule {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "."
}

func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// binaries resolves the three binaries or returns an error wrapping
// ErrBinariesMissing.
func binaries(dir string) (etcd, apiserver, kubectl string, err error) {
	paths := make([]string, 3)
	var missing []string
	for i, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		p := filepath.Join(dir, name)
		st, statErr := os.Stat(p)
		if statErr != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, name)
		}
		paths[i] = p
	}
	if len(missing) > 0 {
		return "", "", "", fmt.Errorf("%w: %s not found in %s", ErrBinariesMissing, strings.Join(missing, ", "), dir)
	}
	return paths[0], paths[1], paths[2], nil
}

// freePorts returns n distinct TCP ports that are currently free on
// 127.0.0.1. All listeners stay open until every port is picked.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
