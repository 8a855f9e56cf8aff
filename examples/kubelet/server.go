package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"

	"github.com/authfilter/authfilter"
	"github.com/authfilter/authfilter/examples/internal/serve"
)

// kubelet is the assembled example: the HTTPS server whose whole mux the filter wraps, and the
// demo when it runs one.
type kubelet struct {
	server *http.Server
	demo   *demo // nil outside demo mode
}

// newKubelet builds the client (the demo's fake API server, or one from --kubeconfig), the
// filter from s.config with authfilter.NewFromKubeletConfig, the serving certificate and the
// server. Its background work (the client CA file watcher) stops when ctx is done.
func newKubelet(ctx context.Context, s *settings, logger logr.Logger) (*kubelet, error) {
	reviews := &reviewCounter{logger: logger.WithName("reviews")}
	k := &kubelet{}
	var client kubernetes.Interface
	var err error
	switch {
	case s.demo:
		if k.demo, err = newDemo(s.nodeName, s.config.Address, reviews, logger.WithName("demo")); err != nil {
			return nil, err
		}
		s.config.Authentication.X509.ClientCAFile = k.demo.caFile
		client = k.demo.client
	case s.kubeconfig != "":
		if client, err = newClient(s.kubeconfig, reviews); err != nil {
			return nil, err
		}
	}
	if err := k.build(ctx, s, logger, client, reviews); err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

func (k *kubelet) build(ctx context.Context, s *settings, logger logr.Logger, client kubernetes.Interface, reviews *reviewCounter) error {
	f, err := authfilter.NewFromKubeletConfig(ctx, &s.config, s.nodeName, client)
	if err != nil {
		return err
	}
	var cert tls.Certificate
	if k.demo != nil {
		cert = k.demo.serving
	} else {
		// Named like the kubelet's own self-signed certificate: <node>@<unix time>.
		cn := fmt.Sprintf("%s@%d", s.nodeName, time.Now().Unix())
		hosts := servingHosts(s.nodeName, s.config.Address)
		if cert, err = serve.ServingCertificate(s.config.TLSCertFile, s.config.TLSPrivateKeyFile, cn, hosts); err != nil {
			return err
		}
	}
	mux := newMux(&node{name: s.nodeName, started: time.Now(), config: &s.config, reviews: reviews})
	k.server = serve.NewServer(f.Handler(withIdentity(logger, mux)), cert, logger)
	return nil
}

// close deletes the demo's directory, if any.
func (k *kubelet) close() {
	if k.demo != nil {
		_ = k.demo.Close()
	}
}

// servingHosts lists the names a serving certificate is valid for: the node name, localhost,
// the loopback addresses and the listen address when it is a specific one.
func servingHosts(nodeName, address string) []string {
	hosts := append([]string{nodeName}, serve.LoopbackHosts()...)
	if ip := net.ParseIP(address); address != "" && (ip == nil || !ip.IsUnspecified()) {
		hosts = append(hosts, address)
	}
	return hosts
}
