package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// newLogger returns a funcr logger writing lines with timestamps to w, safe for concurrent use.
func newLogger(w io.Writer, verbosity int) logr.Logger {
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

// logWriter turns the http.Server's error log lines into logr lines.
type logWriter struct{ logger logr.Logger }

func (l logWriter) Write(p []byte) (int, error) {
	l.logger.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}

// userOf returns the name of the user the filter authenticated, or "".
func userOf(r *http.Request) string {
	if u, ok := request.UserFrom(r.Context()); ok {
		return u.GetName()
	}
	return ""
}
