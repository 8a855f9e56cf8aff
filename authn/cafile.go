package authn

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

const (
	// DefaultClientCAFileInterval is how often a [ClientCAFile] checks its file when
	// ClientCAFileOptions.Interval is zero.
	DefaultClientCAFileInterval = 2 * time.Second

	// maxCAFileSize bounds how much of a CA file is read; no real bundle comes near it.
	maxCAFileSize = 16 << 20
	// fullReadEvery forces a content check every this many ticks even when the file's
	// identity, size and modification time look unchanged (coarse timestamps can hide a
	// same-size in-place rewrite).
	fullReadEvery = 30
)

// ClientCAFileOptions tune a [ClientCAFile]. The zero value is valid.
type ClientCAFileOptions struct {
	// Interval is how often Run checks the file; a new bundle takes effect within about one
	// Interval. Zero means DefaultClientCAFileInterval (2s); negative is an error.
	Interval time.Duration
	// Logger receives reload and error messages (never the file's contents). The zero value
	// discards them.
	Logger logr.Logger
}

// ClientCAFile is a [ClientCA] read from a PEM file that is reloaded while [ClientCAFile.Run]
// runs, so a CA rotation needs no restart. Create it with [NewClientCAFile].
//
// The path is resolved again on every check, so an atomic rename over the file and the
// symlink swap that Kubernetes uses for mounted ConfigMaps and Secrets (a "..data" symlink
// replaced in one rename) are both picked up. A replacement that is missing, empty or does
// not parse is logged and ignored: the previous bundle stays in use until a valid one appears.
//
// CurrentCA is safe for concurrent use, also while Run is running.
type ClientCAFile struct {
	path     string
	interval time.Duration
	logger   logr.Logger
	state    atomic.Pointer[caState]

	mu         sync.Mutex // guards the fields below, used by check
	lastInfo   os.FileInfo
	seenHash   [sha256.Size]byte // the last content read, valid or not
	loadedHash [sha256.Size]byte // the content of the bundle in use
	ticks      int
	lastErr    string
}

type caState struct {
	pool       *x509.CertPool
	generation uint64
}

var _ ClientCA = (*ClientCAFile)(nil)

// NewClientCAFile reads and parses path once. It returns an error if the file cannot be read
// or holds no valid certificate. Call Run to keep it up to date.
func NewClientCAFile(path string, opts ClientCAFileOptions) (*ClientCAFile, error) {
	if path == "" {
		return nil, errors.New("authn: client CA file path is empty")
	}
	if opts.Interval < 0 {
		return nil, fmt.Errorf("authn: client CA file interval must not be negative, got %s", opts.Interval)
	}
	f := &ClientCAFile{path: path, interval: opts.Interval, logger: opts.Logger}
	if f.interval == 0 {
		f.interval = DefaultClientCAFileInterval
	}
	info, data, err := readCAFile(path)
	if err != nil {
		return nil, fmt.Errorf("authn: client CA file %s: %w", path, err)
	}
	pool, n, err := parseCABundle(data)
	if err != nil {
		return nil, fmt.Errorf("authn: client CA file %s: %w", path, err)
	}
	f.lastInfo = info
	f.seenHash = sha256.Sum256(data)
	f.loadedHash = f.seenHash
	f.state.Store(&caState{pool: pool, generation: 1})
	f.logger.V(1).Info("loaded client CA bundle", "path", path, "certificates", n, "generation", 1)
	return f, nil
}

// CurrentCA returns the bundle in use and its generation, which starts at 1 and grows by one
// with every reload that changed the contents. On a nil *ClientCAFile it returns (nil, 0).
func (f *ClientCAFile) CurrentCA() (*x509.CertPool, uint64) {
	if f == nil {
		return nil, 0
	}
	s := f.state.Load()
	return s.pool, s.generation
}

// Run checks the file every Interval until ctx is done. Start it once, in its own goroutine.
func (f *ClientCAFile) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.check()
		}
	}
}

// check reloads the bundle if the file changed. A file whose identity, size and modification
// time are unchanged is only read every fullReadEvery checks; a read file is only parsed when
// its content hash differs from the last one seen.
func (f *ClientCAFile) check() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ticks++
	info, err := os.Stat(f.path)
	if err != nil {
		f.fail(err)
		return
	}
	if f.ticks%fullReadEvery != 0 && f.lastInfo != nil && sameFileVersion(f.lastInfo, info) {
		return
	}
	info, data, err := readCAFile(f.path)
	if err != nil {
		f.fail(err)
		return
	}
	f.lastInfo = info
	sum := sha256.Sum256(data)
	if sum == f.seenHash {
		return
	}
	f.seenHash = sum
	if sum == f.loadedHash {
		f.lastErr = ""
		f.logger.Info("client CA file is back to the bundle in use", "path", f.path)
		return
	}
	pool, n, err := parseCABundle(data)
	if err != nil {
		f.fail(err)
		return
	}
	f.loadedHash = sum
	f.lastErr = ""
	gen := f.state.Load().generation + 1
	f.state.Store(&caState{pool: pool, generation: gen})
	f.logger.Info("reloaded client CA bundle", "path", f.path, "certificates", n, "generation", gen)
}

// fail logs err once per distinct failure; the bundle in use is kept.
func (f *ClientCAFile) fail(err error) {
	if msg := err.Error(); msg != f.lastErr {
		f.lastErr = msg
		f.logger.Error(err, "client CA file is unusable; keeping the bundle in use",
			"path", f.path, "generation", f.state.Load().generation)
	}
	// Forget the file version so that the next check reads it again.
	f.lastInfo = nil
}

func sameFileVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// readCAFile reads path (following symlinks) and returns the FileInfo of the file it read.
func readCAFile(path string) (os.FileInfo, []byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(file, maxCAFileSize+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxCAFileSize {
		return nil, nil, fmt.Errorf("%s is larger than %d bytes", path, maxCAFileSize)
	}
	return info, data, nil
}
