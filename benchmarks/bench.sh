#!/bin/sh
# bench.sh runs the benchmark comparisons of README.md and writes, for each
# area, the raw output to results/AREA.txt and the benchstat comparison to
# results/AREA-benchstat.txt. Run it from this directory (or through
# `make bench` / `make bench-AREA` at the repository root) on a quiet
# machine: every file records the load average at the start and the end
# of its run, and a run that saw load is not a measurement.
#
#	./bench.sh all            # every area, about 35 minutes on 2 cores
#	./bench.sh mvcc raft      # some areas
#
# Areas: workqueue mvcc mvcc-watch store informer reconcile raft raft-rss
# etcdkv wal wal-open raft-client-codec, and apiserver (Governor's API
# server vs kube-apiserver on etcd; not in "all": its first build compiles
# kube-apiserver, most of an hour on a cold 2-core machine).
set -eu

GO=${GO:-go}
BENCHSTAT=${BENCHSTAT:-"$GO run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"}
RESULTS=${RESULTS:-results}
mkdir -p "$RESULTS"
out_dir=$(cd "$RESULTS" && pwd)

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }

# run AREA DIR ARGS...: go test -run '^$' ARGS in DIR (relative to this
# directory), output to $RESULTS/AREA.txt, then benchstat -col $COL
# (/impl unless the area sets COL).
run() {
	area=$1 dir=$2
	shift 2
	txt=$out_dir/$area.txt
	echo "== $area: go test -run '^\$' $* ($dir)" >&2
	{
		# benchstat shows these configuration lines above its tables.
		echo "loadavg-start: $(loadavg)"
		echo "date-start: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "command: go test -run '^\$' $*"
	} >"$txt"
	(cd "$dir" && $GO test -run '^$' -timeout 90m "$@") >>"$txt"
	end="# loadavg-end: $(loadavg) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "$end" >>"$txt"
	{
		$BENCHSTAT -col "${COL:-/impl}" "$txt"
		echo "$end"
	} >"$out_dir/$area-benchstat.txt"
	echo "   $end" >&2
}

# run_apiserver: builds governor, etcdmember, apiserverbench and
# kube-apiserver (module kubeapiserver; KUBE_APISERVER=path uses a binary
# already built) into a temporary directory, then runs apiserverbench:
# APISERVER_RUNS runs (default 6) of each server, each started afresh,
# alternating. Raw lines in $RESULTS/apiserver.txt, benchstat in
# apiserver-benchstat.txt, median and range in apiserver-summary.txt.
# APISERVER_FLAGS adds flags (-quick: a tenth of the sizes, a smoke test).
run_apiserver() {
	bin=$(mktemp -d)
	echo "== apiserver: building into $bin" >&2
	(cd ../examples/cluster && nice -n 19 $GO build -o "$bin/governor" ./cmd/governor)
	nice -n 19 $GO build -o "$bin/etcdmember" ./cmd/etcdmember
	nice -n 19 $GO build -o "$bin/apiserverbench" ./cmd/apiserverbench
	kube=${KUBE_APISERVER:-}
	if [ -z "$kube" ]; then
		# -X sets what /version reports (a link-time flag: the compiled
		# packages stay cached).
		(cd kubeapiserver && nice -n 19 $GO build -o "$bin/kube-apiserver" \
			-ldflags "-X k8s.io/component-base/version.gitVersion=v1.37.2 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37" \
			k8s.io/kubernetes/cmd/kube-apiserver)
		kube=$bin/kube-apiserver
	fi
	txt=$out_dir/apiserver.txt
	echo "== apiserver: apiserverbench -runs ${APISERVER_RUNS:-6} ${APISERVER_FLAGS:-}" >&2
	{
		echo "loadavg-start: $(loadavg)"
		echo "date-start: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "command: apiserverbench -runs ${APISERVER_RUNS:-6} ${APISERVER_FLAGS:-}"
	} >"$txt"
	# shellcheck disable=SC2086 # APISERVER_FLAGS is a list of flags.
	"$bin/apiserverbench" -governor "$bin/governor" -etcd "$bin/etcdmember" -kube-apiserver "$kube" \
		-runs "${APISERVER_RUNS:-6}" -summary "$out_dir/apiserver-summary.txt" ${APISERVER_FLAGS:-} >>"$txt"
	end="# loadavg-end: $(loadavg) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "$end" >>"$txt"
	echo "$end" >>"$out_dir/apiserver-summary.txt"
	{
		$BENCHSTAT -col /impl "$txt"
		echo "$end"
	} >"$out_dir/apiserver-benchstat.txt"
	rm -rf "$bin"
	echo "   $end" >&2
}

area() {
	case $1 in
	workqueue)
		run workqueue . -bench 'BenchmarkWorkqueue' -count 6 -benchtime 200000x ;;
	mvcc)
		# Each sub-benchmark runs in its own process (inOwnProcess).
		run mvcc . -bench 'BenchmarkMVCC(Put|Txn)$' -count 6 -benchtime 300000x
		run mvcc-range . -bench 'BenchmarkMVCCRange100k$' -count 6 -benchtime 20x
		run mvcc-memory . -bench 'BenchmarkMVCCMemoryPerKey$' -count 6 -benchtime 100000x ;;
	mvcc-watch)
		run mvcc-watch . -bench 'BenchmarkWatchFanout|BenchmarkChannelFanoutFloor' -count 6 -benchtime 10000x ;;
	store)
		run store . -bench '^BenchmarkStore(Codec|DeepCopy)?$' -count 6 -benchtime 5000x ;;
	informer)
		run informer . -bench 'BenchmarkInformer' -count 6 ;;
	reconcile)
		# Queue metrics on on both sides, as in a manager; metrics=off is
		# there too: -bench 'BenchmarkReconcile/metrics=off'.
		run reconcile . -bench 'BenchmarkReconcile/metrics=on' -count 6 -benchtime 20x ;;
	raft)
		run raft . -bench 'BenchmarkRaft(Put|RangeLinearizable)$' -count 6 -benchtime 2000x
		run raft-watch . -bench 'BenchmarkRaftWatch$' -count 6 -benchtime 300x ;;
	raft-rss)
		run raft-rss . -bench 'BenchmarkRaftRSS' -count 6 -benchtime 1x ;;
	etcdkv)
		run etcdkv . -bench 'BenchmarkStoreOnKV' -count 6 -benchtime 300x ;;
	wal)
		run wal ./walbench -bench 'BenchmarkWALSave' -count 6 -benchtime 1000x ;;
	wal-open)
		run wal-open ./walbench -bench 'BenchmarkWALOpen' -count 6 -benchtime 20x ;;
	raft-client-codec)
		COL=/codec; run raft-client-codec ../raft/client -bench 'BenchmarkCodec' -count 6; COL= ;;
	apiserver)
		run_apiserver ;;
	*)
		echo "bench.sh: unknown area $1" >&2
		exit 2 ;;
	esac
}

if [ $# -eq 0 ]; then
	set -- all
fi
for a in "$@"; do
	if [ "$a" = all ]; then
		for x in workqueue mvcc mvcc-watch store informer reconcile raft raft-rss etcdkv wal wal-open raft-client-codec; do
			area "$x"
		done
	else
		area "$a"
	fi
done
