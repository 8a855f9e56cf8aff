# authfilter — developer commands. `make help` lists them.
GO        ?= go
PORT      ?= 10250
BENCHTIME ?= 1s
COUNT     ?= 1

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

bench: ## go test benchmarks (BENCHTIME=1s COUNT=1)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

realk8s: ## build etcd, kube-apiserver and kubectl from Go modules into bin/realk8s (once; ~6 min cold)
	bash hack/build-realk8s.sh

e2e: realk8s ## end-to-end suite against a real etcd + kube-apiserver
	$(GO) test -tags e2e -race -count=1 -timeout 30m ./test/e2e/...
