package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadAndSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "time.txt")
	out := `goos: linux
BenchmarkTokenHit/chain=upstream-2     	 100	      3000 ns/op	    2873 B/op	      25 allocs/op
BenchmarkTokenHit/chain=authfilter-2   	 100	      900.5 ns/op	     912 B/op	       3 allocs/op
BenchmarkHerd/chain=upstream-2         	       4	 135188984 ns/op	      1000 SARs/op
PASS
BenchmarkTokenHit/chain=upstream-2     	 100	      4000 ns/op	    2873 B/op	      25 allocs/op
BenchmarkTokenHit/chain=authfilter-2   	 100	      1000 ns/op	     912 B/op	       3 allocs/op
`
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{
		"BenchmarkTokenHit/chain=upstream-2":   {3000, 4000},
		"BenchmarkTokenHit/chain=authfilter-2": {900.5, 1000},
		"BenchmarkHerd/chain=upstream-2":       {135188984},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("load = %v, want %v", got, want)
	}
	r := ratios(got["BenchmarkTokenHit/chain=authfilter-2"], got["BenchmarkTokenHit/chain=upstream-2"])
	if s := summary(r); s != "0.275x (0.250–0.300, 2 rounds)" {
		t.Fatalf("summary = %q", s)
	}
	if s := summary([]float64{3, 1, 2}); s != "2.000x (1.000–3.000, 3 rounds)" {
		t.Fatalf("summary of an odd count = %q", s)
	}
	if s := summary(nil); s != "no rounds" {
		t.Fatalf("summary(nil) = %q", s)
	}
}
