//go:build e2e

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Cluster is a running etcd plus kube-apiserver. All methods are safe for
// concurrent use.
type Cluster struct {
	opts   Options
	dir    string
	ownDir bool

	ca                *authority
	apiserverCert     *KeyPair
	adminCert         *KeyPair
	kubeletClientCert *KeyPair
	kubeconfig        string
	kubectlBin        string

	etcdPort, etcdPeerPort, apiPort int
	// prefix runs a command in the namespace ("ip netns exec <ns>"); empty
	// when there is no namespace or this process already runs in it.
	prefix []string
	// dial reaches the namespace from this process; nil when not needed.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	etcd, apiserver *process

	mu        sync.Mutex
	clientset *kubernetes.Clientset
	stopped   bool
}

// Start generates a PKI in a work dir, then starts etcd and kube-apiserver
// and waits until both are ready. ctx bounds only the start-up; the cluster
// runs until Stop. If a binary is missing the error wraps ErrBinariesMissing.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	etcdBin, apiserverBin, kubectlBin, err := binaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, dir: opts.WorkDir, kubectlBin: kubectlBin}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "realk8s-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	if err := c.setupNetNS(); err != nil {
		c.removeDir()
		return nil, err
	}
	start := time.Now()
	if err := c.writeConfig(); err != nil {
		c.removeDir()
		return nil, err
	}
	c.etcd = &process{name: "etcd", logPath: filepath.Join(c.dir, "etcd.log"), argv: c.etcdArgs(etcdBin)}
	c.apiserver = &process{name: "kube-apiserver", logPath: filepath.Join(c.dir, "kube-apiserver.log"),
		argv: c.apiserverArgs(apiserverBin)}

	fail := func(err error) (*Cluster, error) {
		var b strings.Builder
		c.DumpLogs(&b)
		_ = c.Stop()
		return nil, fmt.Errorf("%w\n%s", err, b.String())
	}
	if err := c.etcd.start(); err != nil {
		return fail(err)
	}
	if err := c.waitEtcd(ctx); err != nil {
		return fail(err)
	}
	etcdReady := time.Since(start)
	if err := c.StartAPIServer(ctx); err != nil {
		return fail(err)
	}
	opts.Logf("realk8s: cluster ready in %v (etcd %v) at %s, netns=%q, dir %s",
		time.Since(start).Round(time.Millisecond), etcdReady.Round(time.Millisecond), c.Host(), opts.NetNS, c.dir)
	return c, nil
}

// StartT is Start for a test: it skips the test when the binaries are
// missing, fails it on any other error, and registers a cleanup that prints
// the logs if the test failed and then stops the cluster.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	if opts.WorkDir == "" && os.Getenv(KeepDirEnv) != "1" {
		// t.TempDir outlives the cleanup below, so logs can still be
		// dumped after the test called Stop itself.
		opts.WorkDir = t.TempDir()
	}
	c, err := Start(t.Context(), opts)
	if errors.Is(err, ErrBinariesMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var b strings.Builder
			c.DumpLogs(&b)
			t.Log("\n" + b.String())
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stopping cluster: %v", err)
		}
	})
	return c
}

func (c *Cluster) setupNetNS() error {
	if c.opts.NetNS == "" {
		return nil
	}
	inside, err := inNetNS(c.opts.NetNS)
	if err != nil {
		return err
	}
	if inside {
		return nil
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return fmt.Errorf("cluster: NetNS needs the ip command: %w", err)
	}
	c.prefix = []string{ip, "netns", "exec", c.opts.NetNS}
	c.dial = netnsDialer(c.opts.NetNS)
	return nil
}

func (c *Cluster) etcdArgs(bin string) []string {
	client := "http://127.0.0.1:" + strconv.Itoa(c.etcdPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(c.etcdPeerPort)
	return append(append([]string{}, c.prefix...), bin,
		"--name=realk8s",
		"--data-dir="+filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=realk8s="+peer,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
}

func (c *Cluster) apiserverArgs(bin string) []string {
	args := append(append([]string{}, c.prefix...), bin,
		"--etcd-servers="+c.EtcdURL(),
		"--bind-address="+c.opts.BindIP,
		"--advertise-address="+c.opts.BindIP,
		"--secure-port="+strconv.Itoa(c.apiPort),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+c.apiserverCert.CertPath,
		"--tls-private-key-file="+c.apiserverCert.KeyPath,
		"--client-ca-file="+c.ca.certPath(),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer="+ServiceAccountIssuer,
		"--service-account-key-file="+filepath.Join(c.dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(c.dir, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--kubelet-client-certificate="+c.kubeletClientCert.CertPath,
		"--kubelet-client-key="+c.kubeletClientCert.KeyPath,
		"--kubelet-certificate-authority="+c.ca.certPath(),
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	)
	if len(c.opts.StaticTokens) > 0 {
		args = append(args, "--token-auth-file="+filepath.Join(c.dir, "tokens.csv"))
	}
	return append(args, c.opts.ExtraAPIServerArgs...)
}

// StopAPIServer stops only the kube-apiserver (SIGTERM, then SIGKILL), keeping
// etcd, ports and certificates, so a test can observe the API being down.
func (c *Cluster) StopAPIServer() error {
	return c.apiserver.stop()
}

// StartAPIServer (re)starts the kube-apiserver with the same flags, etcd,
// port and certificates, and waits for /readyz.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return errors.New("cluster: already stopped")
	}
	if err := c.apiserver.start(); err != nil {
		return err
	}
	if err := c.WaitReady(ctx); err != nil {
		return err
	}
	c.opts.Logf("realk8s: kube-apiserver pid %d ready", c.apiserver.pid())
	return nil
}

// Stop stops the kube-apiserver and etcd and, if Start created the work
// dir, removes it (unless REALK8S_KEEP=1). It is idempotent.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.mu.Unlock()
	var errs []error
	if c.apiserver != nil {
		errs = append(errs, c.apiserver.stop())
	}
	if c.etcd != nil {
		errs = append(errs, c.etcd.stop())
	}
	c.removeDir()
	return errors.Join(errs...)
}

func (c *Cluster) removeDir() {
	if !c.ownDir {
		return
	}
	if os.Getenv(KeepDirEnv) == "1" {
		c.opts.Logf("realk8s: keeping %s", c.dir)
		return
	}
	if err := os.RemoveAll(c.dir); err != nil {
		c.opts.Logf("realk8s: removing %s: %v", c.dir, err)
	}
}

// DumpLogs writes the last lines of the etcd and kube-apiserver logs to w.
// The logs hold no keys or tokens.
func (c *Cluster) DumpLogs(w io.Writer) {
	for _, p := range []*process{c.etcd, c.apiserver} {
		if p != nil {
			dumpLog(w, p.name, p.logPath, 80)
		}
	}
}

// LogPaths returns the log files of etcd and kube-apiserver. Each (re)start
// appends to the same file.
func (c *Cluster) LogPaths() (etcd, apiserver string) {
	return c.etcd.logPath, c.apiserver.logPath
}

// Dir returns the work directory.
func (c *Cluster) Dir() string { return c.dir }

// NetNS returns the namespace the cluster runs in, or "".
func (c *Cluster) NetNS() string { return c.opts.NetNS }

// BindIP returns the apiserver's bind and advertise address.
func (c *Cluster) BindIP() string { return c.opts.BindIP }

// Host returns the apiserver URL, https://<BindIP>:<port>.
func (c *Cluster) Host() string {
	return "https://" + net.JoinHostPort(c.opts.BindIP, strconv.Itoa(c.apiPort))
}

// EtcdURL returns etcd's client URL (inside the namespace if there is one).
func (c *Cluster) EtcdURL() string { return "http://127.0.0.1:" + strconv.Itoa(c.etcdPort) }

// APIServerPID returns the PID of the running kube-apiserver, or 0.
func (c *Cluster) APIServerPID() int { return c.apiserver.pid() }

// DialContext connects to addr (IP:port) from where the cluster runs: inside
// its namespace if it has one, else from this process directly.
func (c *Cluster) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.dial != nil {
		return c.dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Listen listens on addr (IP:port) where the cluster runs, e.g. a test
// kubelet on BindIP inside the namespace that the apiserver's node proxy can
// reach.
func (c *Cluster) Listen(network, addr string) (net.Listener, error) {
	if c.dial != nil {
		return netnsListen(c.opts.NetNS, network, addr)
	}
	return net.Listen(network, addr)
}

// Command returns a command that runs where the cluster runs (prefixed with
// `ip netns exec <ns>` when needed), with proxy variables removed.
func (c *Cluster) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, c.prefix...), name), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv()
	return cmd
}

// Kubectl returns a kubectl command using the admin kubeconfig.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	return c.Command(ctx, c.kubectlBin, append([]string{"--kubeconfig=" + c.kubeconfig}, args...)...)
}
