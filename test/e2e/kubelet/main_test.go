//go:build e2e

package kubelet_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// examplePkg is the example server every test runs as a subprocess.
const examplePkg = "github.com/authfilter/authfilter/examples/kubelet"

// build holds the example binary, built at most once per test binary run into binDir.
var build struct {
	binDir string
	once   sync.Once
	path   string
	err    error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authfilter-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build.binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// exampleBinary returns the path of the example server, built with -race on first use so that
// real traffic through the library also runs under the race detector.
func exampleBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out := filepath.Join(build.binDir, "kubelet")
		start := time.Now()
		cmd := exec.Command(goBin, "build", "-race", "-o", out, examplePkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build %s: %v\n%s", examplePkg, err, b)
			return
		}
		build.path = out
		t.Logf("built %s with -race in %v", examplePkg, time.Since(start).Round(time.Millisecond))
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}
