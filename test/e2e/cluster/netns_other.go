//go:build e2e && !linux

package cluster

import (
	"context"
	"errors"
	"net"
	"syscall"
)

var errNoNetNS = errors.New("cluster: network namespaces need Linux")

// CreateNetNS is only supported on Linux.
func CreateNetNS(name, ip string) error { return errNoNetNS }

// DeleteNetNS is only supported on Linux.
func DeleteNetNS(name string) error { return errNoNetNS }

func inNetNS(string) (bool, error) { return false, errNoNetNS }

func netnsDialer(string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) { return nil, errNoNetNS }
}

func netnsListen(string, string, string) (net.Listener, error) { return nil, errNoNetNS }

func childAttrs() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
