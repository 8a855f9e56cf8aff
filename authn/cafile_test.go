package authn

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authfilter/authfilter/internal/testpki"
)

// writeAtomic replaces path in one rename, as configuration management tools do.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// kubeVolume lays out a directory the way the kubelet's AtomicWriter does for ConfigMap and
// Secret volumes: <dir>/ca.crt -> ..data/ca.crt, ..data -> ..<version>/.
type kubeVolume struct {
	dir     string
	version int
}

func newKubeVolume(t *testing.T, data []byte) (*kubeVolume, string) {
	t.Helper()
	v := &kubeVolume{dir: t.TempDir()}
	v.publish(t, data)
	if err := os.Symlink(filepath.Join("..data", "ca.crt"), filepath.Join(v.dir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	return v, filepath.Join(v.dir, "ca.crt")
}

// publish writes data into a new version directory and swaps ..data to it in one rename.
func (v *kubeVolume) publish(t *testing.T, data []byte) {
	t.Helper()
	v.version++
	name := "..v" + string(rune('0'+v.version))
	if err := os.Mkdir(filepath.Join(v.dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.dir, name, "ca.crt"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	tmpLink := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(name, tmpLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmpLink, filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

func newTestCAFile(t *testing.T, path string, opts ClientCAFileOptions) *ClientCAFile {
	t.Helper()
	f, err := NewClientCAFile(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runCAFile runs f until the test ends.
func runCAFile(t *testing.T, f *ClientCAFile) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// trusts reports whether f's current bundle verifies a client certificate issued by ca.
func trusts(t *testing.T, f *ClientCAFile, cert *x509.Certificate) bool {
	t.Helper()
	_, ok, err := newTestX509(t, f, X509Options{}).AuthenticateRequest(tlsRequest(cert))
	return ok && err == nil
}

func generation(f *ClientCAFile) uint64 { _, g := f.CurrentCA(); return g }

func TestNewClientCAFile(t *testing.T) {
	ca := testpki.NewCA(t, "root")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := write("valid.crt", ca.PEM)
	tests := []struct {
		name    string
		path    string
		opts    ClientCAFileOptions
		wantErr string
	}{
		{name: "valid", path: valid},
		{name: "valid with interval", path: valid, opts: ClientCAFileOptions{Interval: time.Minute}},
		{name: "missing", path: filepath.Join(dir, "missing.crt"), wantErr: "no such file"},
		{name: "empty", path: write("empty.crt", nil), wantErr: "no PEM CERTIFICATE block"},
		{name: "garbage", path: write("garbage.crt", []byte("SECRETMARKER")), wantErr: "no PEM CERTIFICATE block"},
		{name: "directory", path: dir, wantErr: "not a regular file"},
		{name: "empty path", path: "", wantErr: "path is empty"},
		{name: "negative interval", path: valid, opts: ClientCAFileOptions{Interval: -time.Second}, wantErr: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewClientCAFile(tt.path, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "SECRETMARKER") {
					t.Fatalf("error quotes the file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pool, gen := f.CurrentCA(); pool == nil || gen != 1 {
				t.Fatalf("CurrentCA = %v, %d; want a pool and generation 1", pool, gen)
			}
			want := tt.opts.Interval
			if want == 0 {
				want = DefaultClientCAFileInterval
			}
			if f.interval != want {
				t.Fatalf("interval = %s, want %s", f.interval, want)
			}
		})
	}
}

func TestClientCAFileRotation(t *testing.T) {
	tests := []struct {
		name string
		// setup creates the file with data and returns its path and a function that replaces it.
		setup func(t *testing.T, data []byte) (string, func(t *testing.T, data []byte))
	}{
		{name: "in-place rewrite", setup: func(t *testing.T, data []byte) (string, func(*testing.T, []byte)) {
			p := filepath.Join(t.TempDir(), "ca.crt")
			writeAtomic(t, p, data)
			return p, func(t *testing.T, data []byte) {
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "atomic rename", setup: func(t *testing.T, data []byte) (string, func(*testing.T, []byte)) {
			p := filepath.Join(t.TempDir(), "ca.crt")
			writeAtomic(t, p, data)
			return p, func(t *testing.T, data []byte) { writeAtomic(t, p, data) }
		}},
		{name: "kubernetes ..data symlink swap", setup: func(t *testing.T, data []byte) (string, func(*testing.T, []byte)) {
			v, p := newKubeVolume(t, data)
			return p, v.publish
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldCA, nextCA := testpki.NewCA(t, "old"), testpki.NewCA(t, "new")
			oldCert := oldCA.Client(t, testpki.Options{CommonName: "old-client"}).Cert
			newCert := nextCA.Client(t, testpki.Options{CommonName: "new-client"}).Cert

			path, replace := tt.setup(t, oldCA.PEM)
			f := newTestCAFile(t, path, ClientCAFileOptions{Interval: 5 * time.Millisecond})
			runCAFile(t, f)
			if !trusts(t, f, oldCert) || trusts(t, f, newCert) {
				t.Fatal("initial bundle is not the old CA")
			}

			replace(t, nextCA.PEM)
			eventually(t, "the new bundle", func() bool { return generation(f) >= 2 })
			if !trusts(t, f, newCert) {
				t.Fatal("certificate of the new CA refused after rotation")
			}
			if trusts(t, f, oldCert) {
				t.Fatal("certificate of the old CA still accepted after rotation")
			}
		})
	}
}

func TestClientCAFileBrokenReplacementKeepsBundle(t *testing.T) {
	tests := []struct {
		name      string
		breakFile func(t *testing.T, path string, good []byte)
	}{
		{name: "empty", breakFile: func(t *testing.T, p string, _ []byte) { writeAtomic(t, p, nil) }},
		{name: "garbage", breakFile: func(t *testing.T, p string, _ []byte) { writeAtomic(t, p, []byte("SECRETMARKER not pem")) }},
		{name: "truncated", breakFile: func(t *testing.T, p string, good []byte) { writeAtomic(t, p, good[:len(good)-40]) }},
		{name: "deleted", breakFile: func(t *testing.T, p string, _ []byte) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldCA, next := testpki.NewCA(t, "old"), testpki.NewCA(t, "next")
			oldCert := oldCA.Client(t, testpki.Options{CommonName: "old-client"}).Cert
			nextCert := next.Client(t, testpki.Options{CommonName: "next-client"}).Cert

			path := filepath.Join(t.TempDir(), "ca.crt")
			writeAtomic(t, path, oldCA.PEM)
			logs, logger := newLogSink()
			f := newTestCAFile(t, path, ClientCAFileOptions{Interval: 5 * time.Millisecond, Logger: logger})
			runCAFile(t, f)

			tt.breakFile(t, path, next.PEM)
			logs.waitFor(t, "client CA file is unusable")
			for range 3 { // further checks of the same broken file log nothing more
				f.check()
			}
			if n := strings.Count(logs.all(), "client CA file is unusable"); n != 1 {
				t.Errorf("the broken file was reported %d times, want once", n)
			}
			if generation(f) != 1 || !trusts(t, f, oldCert) {
				t.Fatalf("broken replacement changed the bundle: generation %d", generation(f))
			}
			if all := logs.all(); strings.Contains(all, "SECRETMARKER") || strings.Contains(all, "BEGIN CERTIFICATE") {
				t.Fatalf("logs quote the file:\n%s", all)
			}

			writeAtomic(t, path, next.PEM)
			eventually(t, "the repaired bundle", func() bool { return generation(f) == 2 })
			if !trusts(t, f, nextCert) || trusts(t, f, oldCert) {
				t.Fatal("repaired bundle not in use")
			}
		})
	}
}

// TestClientCAFileSameSizeRewrite covers a rewrite that keeps the file's inode, size and
// modification time: it is still found by the periodic full read.
func TestClientCAFileSameSizeRewrite(t *testing.T) {
	a, b := testpki.NewCA(t, "a"), testpki.NewCA(t, "b")
	path := filepath.Join(t.TempDir(), "ca.crt")
	writeAtomic(t, path, append(append([]byte{}, a.PEM...), b.PEM...))
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newTestCAFile(t, path, ClientCAFileOptions{})

	if err := os.WriteFile(path, append(append([]byte{}, b.PEM...), a.PEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	for range fullReadEvery {
		f.check()
	}
	if g := generation(f); g != 2 {
		t.Fatalf("generation = %d after %d checks, want 2", g, fullReadEvery)
	}
}

func TestClientCAFileUnchangedKeepsGeneration(t *testing.T) {
	ca := testpki.NewCA(t, "root")
	path := filepath.Join(t.TempDir(), "ca.crt")
	writeAtomic(t, path, ca.PEM)
	f := newTestCAFile(t, path, ClientCAFileOptions{})
	writeAtomic(t, path, ca.PEM) // same content, new inode
	for range fullReadEvery + 1 {
		f.check()
	}
	if g := generation(f); g != 1 {
		t.Fatalf("generation = %d after rewriting identical content, want 1", g)
	}
}

func TestClientCAFileRunStopsWithContext(t *testing.T) {
	ca := testpki.NewCA(t, "root")
	path := filepath.Join(t.TempDir(), "ca.crt")
	writeAtomic(t, path, ca.PEM)
	f := newTestCAFile(t, path, ClientCAFileOptions{Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
