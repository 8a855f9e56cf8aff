# authfilter — developer commands. `make help` lists them.
GO        ?= go
PORT      ?= 10250
BENCHTIME ?= 1s
COUNT     ?= 1
E2EFLAGS  ?=

.PHONY: help run test bench e2e realk8s fmt vet upstreamdiff

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

run: ## run the example kubelet-like server with the embedded demo (no cluster needed)
	$(GO) run ./examples/kubelet --demo --port $(PORT)

test: vet ## go vet + gofmt check + unit tests with -race, allocation tests without it (a few minutes)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run 'Allocat' . ./authn   # allocation counts, without the race detector

vet: ## go vet
	$(GO) vet ./...

bench: ## authfilter vs the kubelet's k8s.io/apiserver chain, side by side, ~7 min (BENCHMARKS.md; BENCH_COUNT, BENCH_TIME, BENCH_OUT)
	@set -e; out="$(or $(BENCH_OUT),$(CURDIR)/bin/bench)"; mkdir -p "$$out"; \
	  count=$(or $(BENCH_COUNT),6); t=$(or $(BENCH_TIME),500ms); \
	  $(GO) test -c -o "$$out/bench.test" ./bench/; rm -f "$$out/time.txt" "$$out/parallel.txt"; \
	  for i in $$(seq $$count); do \
	    echo "== round $$i of $$count: request paths, then twice the token hit in parallel on 1 and 2 CPUs ($$t each)"; \
	    "$$out/bench.test" -test.run '^$$' -test.benchtime $$t -test.benchmem \
	      -test.bench '^Benchmark(Bare|AnonymousAlwaysAllow|X509RSAHit|X509ECDSAHit|TokenHit|TokenHitJWTSize|FullMiss|Herd)$$' | tee -a "$$out/time.txt"; \
	    for j in 1 2; do "$$out/bench.test" -test.run '^$$' -test.benchtime $$t -test.benchmem -test.cpu 1,2 \
	      -test.bench '^BenchmarkTokenHitParallel$$' | tee -a "$$out/parallel.txt"; done; \
	  done; \
	  echo "== memory per cached token and decision, 100k entries, once -> $$out/memory.txt"; \
	  "$$out/bench.test" -test.run '^$$' -test.bench '^BenchmarkMemory' -test.benchtime 1x -test.timeout 30m | tee "$$out/memory.txt"; \
	  echo "== API server load model -> $$out/loadmodel.txt"; \
	  "$$out/bench.test" -test.run '^TestLoadModel$$' -test.v | tee "$$out/loadmodel.txt"; \
	  bs=$$(command -v benchstat || echo "$$($(GO) env GOPATH)/bin/benchstat"); \
	  if [ -x "$$bs" ]; then \
	    echo "== medians (benchstat; 'vs base' is authfilter against upstream)"; \
	    "$$bs" -filter '.name:Bare' "$$out/time.txt" | tee "$$out/time.benchstat"; \
	    "$$bs" -col '/chain@(upstream authfilter backend)' "$$out/time.txt" | tee -a "$$out/time.benchstat"; \
	    "$$bs" -col '/chain@(upstream authfilter floor cpu)' "$$out/parallel.txt" | tee "$$out/parallel.benchstat"; \
	  else echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest"; fi; \
	  echo "== ratios per round (BENCHMARKS.md's ratio columns) -> $$out/ratios.txt"; \
	  $(GO) run ./hack/benchratios "$$out/time.txt" "$$out/parallel.txt" | tee "$$out/ratios.txt"

realk8s: ## build etcd, kube-apiserver and kubectl from Go modules into bin/realk8s (once; ~6 min cold)
	bash hack/build-realk8s.sh

e2e: realk8s ## real etcd + kube-apiserver suite, ~1 min once built (E2EFLAGS=-v to see each step)
	$(GO) vet -tags e2e ./test/e2e/...
	$(GO) test -tags e2e -race -count=1 -timeout 20m $(E2EFLAGS) ./test/e2e/...

upstreamdiff: ## Node authorizer, NodeRestriction and API attributes vs k8s.io/kubernetes v1.37.2 in process (nested module; ~1 min once compiled)
	cd test/upstreamdiff && $(GO) vet ./... && $(GO) test -race -count=1 ./...
