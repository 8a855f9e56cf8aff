package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process at once, without waiting for shutdown
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logger := newLogger(stderr, s.verbosity)
	ctx = logr.NewContext(ctx, logger)
	k, err := newKubelet(ctx, s, logger)
	if err != nil {
		return err
	}
	defer func() {
		cancel() // stop the client CA file watcher before the demo's directory goes
		k.close()
	}()

	ln, err := net.Listen("tcp", net.JoinHostPort(s.config.Address, strconv.Itoa(s.port)))
	if err != nil {
		return fmt.Errorf("%w (choose another address or port with --address, --port)", err)
	}
	info := started{url: baseURL(s.config.Address, ln.Addr()), demo: k.demo}
	logger.Info("listening", "url", info.url, "node", s.nodeName, "demo", s.demo,
		"authorizationMode", s.config.Authorization.Mode, "clientCAFile", s.config.Authentication.X509.ClientCAFile)
	if k.demo != nil {
		k.demo.printCommands(stdout, info.url, s.nodeName, s.authFlags)
	}

	errc := make(chan error, 1)
	go func() { errc <- k.server.ServeTLS(ln, "", "") }()
	if ready != nil {
		select {
		case ready <- info:
		case <-ctx.Done():
		}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelShutdown()
	err = k.server.Shutdown(shutdownCtx)
	<-errc // http.ErrServerClosed
	return err
}
