package serve

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// NewLogger returns a funcr logger that writes one line with a timestamp per entry to w,
// "name: {...}" for a named logger, and drops entries above verbosity (0 keeps V(0) only).
// It is safe for concurrent use: writes to w are serialized.
func NewLogger(w io.Writer, verbosity int) logr.Logger {
	var mu sync.Mutex
	return funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		if prefix != "" {
			fmt.Fprintf(w, "%s: %s\n", prefix, args)
			return
		}
		fmt.Fprintln(w, args)
	}, funcr.Options{LogTimestamp: true, Verbosity: verbosity})
}

// logWriter turns an http.Server's error log lines into logr lines.
type logWriter struct{ logger logr.Logger }

func (l logWriter) Write(p []byte) (int, error) {
	l.logger.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}
