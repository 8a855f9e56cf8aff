//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
)

// netnsDir is where `ip netns add` bind-mounts named namespaces.
const netnsDir = "/run/netns"

var netnsName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$`)

// CreateNetNS creates the named network namespace with `ip netns add`, brings
// its lo up and adds ip/32 to lo. Use a TEST-NET address such as 192.0.2.10:
// unlike 127.0.0.0/8 it is a global unicast address, which the apiserver's
// node proxy accepts, and it is only reachable inside the namespace. The
// namespace has no other interface, so no traffic can leave it. Needs root.
func CreateNetNS(name, ip string) error {
	if !netnsName.MatchString(name) {
		return fmt.Errorf("cluster: invalid netns name %q", name)
	}
	addr := net.ParseIP(ip)
	if addr == nil || addr.To4() == nil {
		return fmt.Errorf("cluster: netns address %q is not an IPv4 address", ip)
	}
	steps := [][]string{
		{"netns", "add", name},
		{"netns", "exec", name, "ip", "link", "set", "lo", "up"},
		{"netns", "exec", name, "ip", "addr", "add", addr.String() + "/32", "dev", "lo"},
	}
	for i, args := range steps {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			if i > 0 {
				_ = DeleteNetNS(name)
			}
			return fmt.Errorf("cluster: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// DeleteNetNS deletes a namespace made by CreateNetNS. Deleting a namespace
// that does not exist is not an error.
func DeleteNetNS(name string) error {
	if !netnsName.MatchString(name) {
		return fmt.Errorf("cluster: invalid netns name %q", name)
	}
	if _, err := os.Stat(filepath.Join(netnsDir, name)); os.IsNotExist(err) {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
		return fmt.Errorf("cluster: ip netns delete %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNetNS reports whether this process already runs in the named namespace
// (for example because the test binary was started with `ip netns exec`).
func inNetNS(name string) (bool, error) {
	var self, target syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &self); err != nil {
		return false, err
	}
	if err := syscall.Stat(filepath.Join(netnsDir, name), &target); err != nil {
		return false, fmt.Errorf("cluster: netns %q: %w", name, err)
	}
	return self.Dev == target.Dev && self.Ino == target.Ino, nil
}

// setnsTrap is the setns(2) system call number, which package syscall does
// not export.
func setnsTrap() (uintptr, error) {
	switch runtime.GOARCH {
	case "amd64":
		return 308, nil
	case "arm64", "riscv64", "loong64":
		return 268, nil
	case "386":
		return 346, nil
	case "arm":
		return 375, nil
	case "ppc64le", "ppc64":
		return 350, nil
	case "s390x":
		return 339, nil
	}
	return 0, fmt.Errorf("cluster: setns not supported on %s", runtime.GOARCH)
}

func setns(fd uintptr) error {
	trap, err := setnsTrap()
	if err != nil {
		return err
	}
	if _, _, errno := syscall.RawSyscall(trap, fd, syscall.CLONE_NEWNET, 0); errno != 0 {
		return errno
	}
	return nil
}

// doInNetNS runs fn on an OS thread switched into the named namespace.
// Sockets created by fn stay in that namespace for their whole life. If the
// thread cannot be switched back it is left locked, so the runtime discards
// it when the goroutine ends.
func doInNetNS(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join(netnsDir, name))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("cluster: netns %q: %w", name, err)
			return
		}
		defer target.Close()
		if err := setns(target.Fd()); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("cluster: setns %q: %w", name, err)
			return
		}
		fnErr := fn()
		if err := setns(orig.Fd()); err != nil {
			errc <- fmt.Errorf("cluster: restoring netns: %w", err)
			return // thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- fnErr
	}()
	return <-errc
}

// netnsDialer returns a dial function whose sockets live in the named
// namespace. Only literal IP addresses are accepted, so no name resolution
// (which could run on another thread) takes place inside the namespace.
func netnsDialer(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if host == "localhost" {
			addr = strings.Replace(addr, "localhost", "127.0.0.1", 1)
		} else if net.ParseIP(host) == nil {
			return nil, fmt.Errorf("cluster: netns dial to %q: only IP addresses are supported", addr)
		}
		var conn net.Conn
		err = doInNetNS(name, func() error {
			var d net.Dialer
			var dialErr error
			conn, dialErr = d.DialContext(ctx, network, addr)
			return dialErr
		})
		return conn, err
	}
}

// netnsListen listens on addr (a literal IP and port) inside the namespace.
func netnsListen(name, network, addr string) (net.Listener, error) {
	var l net.Listener
	err := doInNetNS(name, func() error {
		var err error
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// childAttrs makes children die with the test process and puts them in their
// own process group, so a terminal ^C reaches them only through Stop.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
