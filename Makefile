# The test command of README.md: `make test` runs the core module's tests
# and the etcd adapter's, with -race (a few minutes on a warm build cache).
# The benchmarks module compiles client-go, controller-runtime and etcd
# (about half an hour on a cold 2-core machine), so it has its own target,
# `make test-benchmarks`; CI (.ci/run) runs both. Modules that do not exist
# yet are skipped.

GO ?= go
RACE ?= -race

.PHONY: test test-core test-etcd test-benchmarks demo bench

test: test-core test-etcd

test-core:
	@echo "== make test: core module (.) with $(RACE)"
	$(GO) test $(RACE) -count=1 -timeout 20m ./...

test-etcd:
	@if [ -f store/etcdkv/go.mod ]; then \
		echo "== make test: etcd adapter (store/etcdkv) with $(RACE), against an embedded etcd"; \
		cd store/etcdkv && $(GO) test $(RACE) -count=1 -timeout 15m ./...; \
	else echo "== make test: no store/etcdkv module, skipped"; fi

# The benchmarks module is compiled and its correctness tests run; the
# benchmarks themselves run only when asked (see benchmarks/README.md).
test-benchmarks:
	@if [ -f benchmarks/go.mod ]; then \
		echo "== make test-benchmarks: benchmarks module (compiles client-go, controller-runtime, etcd; slow when cold)"; \
		cd benchmarks && $(GO) test -count=1 -run . -bench '^$$' -timeout 15m ./...; \
	else echo "== make test-benchmarks: no benchmarks module, skipped"; fi

demo:
	$(GO) run ./examples/quickstart

# The comparisons of benchmarks/README.md, on a quiet machine: raw output
# in benchmarks/results/AREA.txt, benchstat in AREA-benchstat.txt, each
# with the load average it saw. `make bench` runs every area (about 35
# minutes on 2 cores); `make bench-mvcc` one of them (see
# benchmarks/bench.sh for the list).
bench:
	cd benchmarks && GO=$(GO) ./bench.sh all

bench-%:
	cd benchmarks && GO=$(GO) ./bench.sh $*
