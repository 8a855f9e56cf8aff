# authfilter — developer commands. `make help` lists them.
GO        ?= go
PORT      ?= 10250
BENCHTIME ?= 1s
COUNT     ?= 1
E2EFLAGS  ?=

.PHONY: help run test bench e2e realk8s fmt vet

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

run: ## run the example kubelet-like server with the embedded demo (no cluster needed)
	$(GO) run ./examples/kubelet --demo --port $(PORT)

test: vet ## go vet + gofmt check + unit tests with -race (a few minutes at most)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -count=1 ./...

vet: ## go vet
	$(GO) vet ./...

bench: ## authfilter vs the kubelet's k8s.io/apiserver chain, side by side, ~6 min (BENCHMARKS.md; BENCH_COUNT, BENCH_TIME, BENCH_OUT)
	@set -e; out="$(or $(BENCH_OUT),$(CURDIR)/bin/bench)"; mkdir -p "$$out"; \
	  count=$(or $(BENCH_COUNT),5); t=$(or $(BENCH_TIME),300ms); \
	  echo "== request paths, $$count runs of $$t each -> $$out/time.txt"; \
	  $(GO) test -run '^$$' -bench '^Benchmark(Bare|AnonymousAlwaysAllow|X509RSAHit|X509ECDSAHit|TokenHit|TokenHitJWTSize|FullMiss|Herd)$$' \
	    -benchtime $$t -count $$count ./bench/ | tee "$$out/time.txt"; \
	  echo "== the token hit from parallel goroutines on 1 and 2 CPUs -> $$out/parallel.txt"; \
	  $(GO) test -run '^$$' -bench '^BenchmarkTokenHitParallel$$' -cpu 1,2 -benchtime $$t -count $$count ./bench/ | tee "$$out/parallel.txt"; \
	  echo "== memory per cached token and decision, 100k entries, once -> $$out/memory.txt"; \
	  $(GO) test -run '^$$' -bench '^BenchmarkMemory' -benchtime 1x -count 1 -timeout 30m ./bench/ | tee "$$out/memory.txt"; \
	  echo "== API server load model -> $$out/loadmodel.txt"; \
	  $(GO) test -run '^TestLoadModel$$' -count 1 -v ./bench/ | tee "$$out/loadmodel.txt"; \
	  bs=$$(command -v benchstat || echo "$$($(GO) env GOPATH)/bin/benchstat"); \
	  if [ -x "$$bs" ]; then \
	    "$$bs" -col /chain "$$out/time.txt" | tee "$$out/time.benchstat"; \
	    "$$bs" -col /chain "$$out/parallel.txt" | tee "$$out/parallel.benchstat"; \
	  else echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest"; fi

realk8s: ## build etcd, kube-apiserver and kubectl from Go modules into bin/realk8s (once; ~6 min cold)
	bash hack/build-realk8s.sh

e2e: realk8s ## real etcd + kube-apiserver suite, ~1 min once built (E2EFLAGS=-v to see each step)
	$(GO) vet -tags e2e ./test/e2e/...
	$(GO) test -tags e2e -race -count=1 -timeout 20m $(E2EFLAGS) ./test/e2e/...
