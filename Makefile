# The README's two commands are `make run` and `make test`; the rest are helpers.
.PHONY: run test bench generate build fmt lint clean

ARGS ?=

run: ## Start PostgreSQL (if needed), the sandbox and the shop on :8080
	@scripts/run.sh

test: ## Start PostgreSQL (if needed) and run every test with -race
	@scripts/test.sh $(ARGS)

bench: ## Start PostgreSQL (if needed) and run the benchmark suite; writes docs/BENCHMARKS.md (BENCH_ONLY=B3,B1, BENCH_QUICK=1)
	@scripts/bench.sh $(ARGS)

generate: ## Regenerate the *_templ.go files with the templ version pinned in go.mod
	go tool templ generate

build: generate
	go build -o bin/checkout .

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '_templ.go$$')
	go tool templ fmt views

lint: ## gofmt, go vet and templ generate must leave nothing to change
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'); echo 'gofmt: run make fmt'; exit 1; }
	go vet ./...
	go tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo 'templ: generated files were stale; commit them'; exit 1; }

clean:
	rm -rf bin test-artifacts
