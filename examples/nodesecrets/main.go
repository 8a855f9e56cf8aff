package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/authfilter/authfilter/authn"
	"github.com/authfilter/authfilter/examples/internal/serve"
)

func main() { serve.Main(run) }

type settings struct {
	address, kubeconfig, clientCAFile, tlsCertFile, tlsKeyFile string
	port, verbosity                                            int
	demo                                                       bool
}

func parseSettings(args []string, stderr io.Writer) (*settings, error) {
	s := &settings{}
	fs := flag.NewFlagSet("nodesecrets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.address, "address", "127.0.0.1", "address to listen on")
	fs.IntVar(&s.port, "port", 8443, "port to listen on (0: any free port)")
	fs.StringVar(&s.kubeconfig, "kubeconfig", "", "kubeconfig of the API server (empty: demo mode)")
	fs.StringVar(&s.clientCAFile, "client-ca-file", "", "CA bundle that signs client (kubelet) certificates")
	fs.StringVar(&s.tlsCertFile, "tls-cert-file", "", "serving certificate (empty: self-signed in memory)")
	fs.StringVar(&s.tlsKeyFile, "tls-private-key-file", "", "serving key")
	fs.BoolVar(&s.demo, "demo", false, "run the no-cluster demo (the default without --kubeconfig)")
	fs.IntVar(&s.verbosity, "v", 0, "log verbosity (2: why requests were refused)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	s.demo = s.demo || s.kubeconfig == ""
	if s.demo && s.kubeconfig != "" {
		return nil, errors.New("--demo and --kubeconfig are exclusive")
	}
	if !s.demo && s.clientCAFile == "" {
		return nil, errors.New("--client-ca-file is required with --kubeconfig")
	}
	if (s.tlsCertFile == "") != (s.tlsKeyFile == "") {
		return nil, errors.New("--tls-cert-file and --tls-private-key-file go together")
	}
	return s, nil
}

// started describes a running server; run sends it on its ready channel.
type started struct {
	url  string
	demo *demo // nil outside demo mode
}

// run parses args and serves until ctx is done, then shuts down gracefully. When ready is not
// nil it receives the server's description once the server accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- started) error {
	s, err := parseSettings(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logger := serve.NewLogger(stderr, s.verbosity)

	var client kubernetes.Interface
	var ca authn.ClientCA
	var cert tls.Certificate
	var d *demo
	if s.demo {
		if d, err = newDemo(); err != nil {
			return err
		}
		defer d.Close()
		client, cert = d.client, d.serving
		if ca, err = authn.NewStaticClientCA(d.caPEM); err != nil {
			return err
		}
	} else {
		if client, ca, err = clusterClient(ctx, s, logger); err != nil {
			return err
		}
		if cert, err = serve.ServingCertificate(s.tlsCertFile, s.tlsKeyFile, "nodesecrets", serve.LoopbackHosts()); err != nil {
			return err
		}
	}
	handler, err := newHandler(ctx, client, ca, logger)
	if err != nil {
		return err
	}
	return serve.Serve(ctx, serve.NewServer(handler, cert, logger), s.address, s.port, logger, func(url string) {
		logger.Info("listening", "url", url, "demo", s.demo)
		if d != nil {
			d.printCommands(stdout, url)
		}
		if ready != nil {
			ready <- started{url: url, demo: d}
		}
	})
}

// clusterClient returns a client from --kubeconfig and the client CA from --client-ca-file,
// reloaded until ctx is done.
func clusterClient(ctx context.Context, s *settings, logger logr.Logger) (kubernetes.Interface, authn.ClientCA, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig: %w", err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	caFile, err := authn.NewClientCAFile(s.clientCAFile, authn.ClientCAFileOptions{Logger: logger.WithName("client-ca")})
	if err != nil {
		return nil, nil, err
	}
	go caFile.Run(ctx)
	return client, caFile, nil
}
