# The test command of README.md. CI (.ci/run) calls `make test`.
# Every module in the repository is tested; modules that do not exist yet
# are skipped.

GO ?= go
RACE ?= -race

.PHONY: test test-core test-etcd test-benchmarks demo bench

test: test-core test-etcd test-benchmarks

test-core:
	$(GO) test $(RACE) -count=1 -timeout 20m ./...

test-etcd:
	@if [ -f store/etcdkv/go.mod ]; then cd store/etcdkv && $(GO) test $(RACE) -count=1 -timeout 15m ./...; fi

# The benchmarks module is compiled and its correctness tests run; the
# benchmarks themselves run only when asked (see benchmarks/README.md).
test-benchmarks:
	@if [ -f benchmarks/go.mod ]; then cd benchmarks && $(GO) test -count=1 -run . -bench '^$$' -timeout 15m ./...; fi

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
