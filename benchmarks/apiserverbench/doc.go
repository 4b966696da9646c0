// Package apiserverbench compares Governor's API server
// (examples/cluster/apiserver, run as "governor apiserver") with
// kube-apiserver v1.37.2 on etcd v3.7.3, both driven by the same client-go
// program over HTTPS with JSON bodies.
//
// [Run] measures one server: pod creates per second with 64 clients, the
// 99th percentile of gets, the median time of a list of 10k pods with
// resourceVersion "0" and consistent (unset), the 99th percentile from the
// start of a write to its delivery to each of 1000 watchers, and the RSS
// of the server (and of its store, when that is a process of its own)
// holding 50k pods. [Config] holds those sizes; Full().Scale(10) is the
// quick mode.
//
// [StartGovernor] and [StartKube] start the two sides with comparable
// durability (an embedded single-member Raft KV that fsyncs each commit;
// a single etcd member, which fsyncs too) and the same credentials
// ([PKI]): the command cmd/apiserverbench runs them in turn, and
// bench.sh's apiserver area (make bench-apiserver) builds the binaries
// and writes results/apiserver*.txt.
package apiserverbench
