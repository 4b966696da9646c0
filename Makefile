# The test command of README.md: `make test` runs the core module's tests,
# the etcd adapter's and the example control plane's (examples/cluster),
# with -race (a few minutes on a warm build cache).
# The benchmarks module compiles client-go, controller-runtime and etcd
# (about half an hour on a cold 2-core machine), so it has its own target,
# `make test-benchmarks`; so does the control plane's interop module
# (examples/cluster/interop, which compiles k8s.io/api), `make test-interop`.
# CI (.ci/run) runs all three. Modules that do not exist yet are skipped.

GO ?= go
RACE ?= -race

.PHONY: test test-core test-etcd test-cluster test-benchmarks test-interop demo bench

test: test-core test-etcd test-cluster

test-core:
	@echo "== make test: core module (.) with $(RACE)"
	$(GO) test $(RACE) -count=1 -timeout 20m ./...

test-etcd:
	@if [ -f store/etcdkv/go.mod ]; then \
		echo "== make test: etcd adapter (store/etcdkv) with $(RACE), against an embedded etcd"; \
		cd store/etcdkv && $(GO) test $(RACE) -count=1 -timeout 15m ./...; \
	else echo "== make test: no store/etcdkv module, skipped"; fi

test-cluster:
	@if [ -f examples/cluster/go.mod ]; then \
		echo "== make test: example control plane (examples/cluster) with $(RACE)"; \
		cd examples/cluster && $(GO) test $(RACE) -count=1 -timeout 15m ./...; \
	else echo "== make test: no examples/cluster module, skipped"; fi

# The interop module checks the control plane's types against k8s.io/api
# and runs client-go against the API server; it compiles k8s.io/api,
# apimachinery and client-go, so it is not part of `make test`.
test-interop:
	@if [ -f examples/cluster/interop/go.mod ]; then \
		echo "== make test-interop: interop module (examples/cluster/interop; compiles k8s.io/api)"; \
		cd examples/cluster/interop && $(GO) test $(RACE) -count=1 -timeout 15m ./...; \
	else echo "== make test-interop: no examples/cluster/interop module, skipped"; fi

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
# benchmarks/bench.sh for the list). `make bench-apiserver` (not in
# `make bench`) compares the API server with kube-apiserver on etcd; its
# first build compiles kube-apiserver (benchmarks/kubeapiserver).
bench:
	cd benchmarks && GO=$(GO) ./bench.sh all

bench-%:
	cd benchmarks && GO=$(GO) ./bench.sh $*
