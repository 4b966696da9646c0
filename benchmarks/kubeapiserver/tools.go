//go:build tools

// Package kubeapiserver pins the anchor of the API server benchmark,
// kube-apiserver v1.37.2, in a module of its own, so that neither the core
// module, the control plane's module nor the benchmarks module depends on
// k8s.io/kubernetes. Build it with
//
//	nice -n 19 go build -o /tmp/kubebench/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
//
// from this directory (benchmarks/apiserver.sh does).
package kubeapiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
