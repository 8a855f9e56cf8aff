// Command benchratios prints the ratios BENCHMARKS.md reports from the raw outputs of
// `make bench`: for each scenario of time.txt, the median over rounds of authfilter/upstream
// time with its range; for each chain of parallel.txt, the median over rounds of the 1-CPU time
// divided by the 2-CPU time (the throughput scaling) with its range. Round i is the i-th result
// of a benchmark in the file, as `make bench` appends one round after the other.
//
// Usage: go run ./hack/benchratios bin/bench/time.txt bin/bench/parallel.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchratios time.txt parallel.txt")
		os.Exit(2)
	}
	times, err := load(os.Args[1])
	if err == nil {
		var par map[string][]float64
		if par, err = load(os.Args[2]); err == nil {
			report(times, par)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratios:", err)
		os.Exit(1)
	}
}

// load returns the ns/op of every result in a `go test -bench` output, by benchmark name (with
// its -cpu suffix), in file order.
func load(path string) (map[string][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || fields[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(fields[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, sc.Text(), err)
		}
		out[fields[0]] = append(out[fields[0]], ns)
	}
	return out, sc.Err()
}

func report(times, par map[string][]float64) {
	fmt.Println("authfilter / upstream time, median of the per-round ratios (range):")
	for _, name := range sortedKeys(times) {
		base, ok := strings.CutSuffix(name, "/chain=authfilter-2")
		if !ok {
			continue
		}
		if up, ok := times[base+"/chain=upstream-2"]; ok {
			fmt.Printf("  %-36s %s\n", strings.TrimPrefix(base, "Benchmark"), summary(ratios(times[name], up)))
		}
	}
	fmt.Println("2-CPU / 1-CPU throughput, median of the per-round ratios (range):")
	for _, name := range sortedKeys(par) {
		if strings.HasSuffix(name, "-2") {
			continue
		}
		if two, ok := par[name+"-2"]; ok {
			fmt.Printf("  %-36s %s\n", strings.TrimPrefix(name, "Benchmark"), summary(ratios(par[name], two)))
		}
	}
}

// ratios returns a[i]/b[i] for the rounds both have.
func ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, n)
	for i := range n {
		out[i] = a[i] / b[i]
	}
	return out
}

// summary formats the median and range of rs.
func summary(rs []float64) string {
	if len(rs) == 0 {
		return "no rounds"
	}
	s := slices.Sorted(slices.Values(rs))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("%.3fx (%.3f–%.3f, %d rounds)", med, s[0], s[len(s)-1], len(s))
}

func sortedKeys(m map[string][]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
