// Package benchmarks measures Governor against the projects it is compared
// with (client-go, controller-runtime and etcd) in the same run, so that every
// figure can be quoted as a ratio. See README.md for how to run it.
package benchmarks
