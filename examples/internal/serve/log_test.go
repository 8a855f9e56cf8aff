package serve

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer that fails the test when written to concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	if !b.mu.TryLock() {
		panic("concurrent write")
	}
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name      string
		verbosity int
		log       func(*lockedBuffer, int)
		want      []string // substrings of the one line logged; nil for no line
	}{
		{"info", 0, func(b *lockedBuffer, v int) { NewLogger(b, v).Info("hello", "k", "v") },
			[]string{`"ts"=`, `"level"=0`, `"msg"="hello"`, `"k"="v"`}},
		{"named", 0, func(b *lockedBuffer, v int) { NewLogger(b, v).WithName("http").Info("x") },
			[]string{`http: "ts"=`, `"msg"="x"`}},
		{"above the verbosity", 1, func(b *lockedBuffer, v int) { NewLogger(b, v).V(2).Info("hidden") }, nil},
		{"at the verbosity", 2, func(b *lockedBuffer, v int) { NewLogger(b, v).V(2).Info("shown") },
			[]string{`"level"=2`, `"msg"="shown"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b lockedBuffer
			tt.log(&b, tt.verbosity)
			out := b.buf.String()
			if tt.want == nil {
				if out != "" {
					t.Fatalf("logged %q, want nothing", out)
				}
				return
			}
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("logged %q, want one line", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("line %q lacks %q", out, w)
				}
			}
		})
	}
}

// TestNewLoggerConcurrent logs from many goroutines: lockedBuffer panics on overlapping writes,
// and every line arrives whole.
func TestNewLoggerConcurrent(t *testing.T) {
	var b lockedBuffer
	logger := NewLogger(&b, 0)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				logger.WithName("worker").Info("tick")
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.buf.String(), "\n"), "\n")
	if len(lines) != 16*50 {
		t.Fatalf("%d lines, want %d", len(lines), 16*50)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `worker: "ts"=`) || !strings.HasSuffix(l, `"msg"="tick"`) {
			t.Fatalf("torn line %q", l)
		}
	}
}

func TestLogWriter(t *testing.T) {
	var b lockedBuffer
	w := logWriter{NewLogger(&b, 0)}
	p := []byte("http: TLS handshake error from 127.0.0.1:1234: EOF\n")
	if n, err := w.Write(p); n != len(p) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
	}
	if out := b.buf.String(); !strings.Contains(out, `"msg"="http: TLS handshake error from 127.0.0.1:1234: EOF"`) {
		t.Errorf("logged %q, want the trimmed line as the message", out)
	}
}
