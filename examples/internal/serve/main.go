package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is a command's main function: it calls run with the command-line arguments (without the
// program name), os.Stdout, os.Stderr and a nil ready channel (only tests wait for a server to
// be ready), under a context that SIGINT or SIGTERM cancels so that run can shut down
// gracefully. A second signal kills the process at once, without waiting for the shutdown.
// When run fails, Main prints "error: " and the error to stderr and exits with status 1;
// flag.ErrHelp (after -h) is not a failure.
func Main[T any](run func(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- T) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore the default action: the next signal kills the process
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	if code := exitCode(err, os.Stderr); code != 0 {
		os.Exit(code)
	}
}

// exitCode reports err on stderr and returns the process's exit status for it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "error:", err)
	return 1
}
