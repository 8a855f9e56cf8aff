package main

import (
	"context"
	"io"

	"github.com/go-logr/logr"

	"github.com/authfilter/authfilter/examples/internal/serve"
)

func main() { serve.Main(run) }

// started describes a running server; run sends it on its ready channel.
type started struct {
	url  string // https://host:port of the listener
	demo *demo  // the demo's credentials and fake API server; nil outside demo mode
}

// run parses args, serves until ctx is done, then shuts down gracefully. When ready is not
// nil, it receives the server's description once the server accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- started) error {
	s, err := parseSettings(args, stderr)
	if err != nil {
		return err
	}
	logger := serve.NewLogger(stderr, s.verbosity)
	ctx, cancel := context.WithCancel(logr.NewContext(ctx, logger))
	defer cancel()
	k, err := newKubelet(ctx, s, logger)
	if err != nil {
		return err
	}
	defer func() {
		cancel() // stop the client CA file watcher before the demo's directory goes
		k.close()
	}()

	return serve.Serve(ctx, k.server, s.config.Address, s.port, logger, func(url string) {
		logger.Info("listening", "url", url, "node", s.nodeName, "demo", s.demo,
			"authorizationMode", s.config.Authorization.Mode, "clientCAFile", s.config.Authentication.X509.ClientCAFile)
		if k.demo != nil {
			k.demo.printCommands(stdout, url, s.nodeName, s.authFlags)
		}
		if ready != nil {
			select {
			case ready <- started{url: url, demo: k.demo}:
			case <-ctx.Done():
			}
		}
	})
}
