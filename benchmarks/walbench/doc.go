// Package walbench compares Governor's write-ahead log (raft/wal) with
// etcd's (server/storage/wal) on the same disk in the same run:
//
//	go test -run '^$' -bench 'BenchmarkWALSave' -count 6 -benchtime 2000x ./walbench
//	go test -run '^$' -bench 'BenchmarkWALOpen' -count 6 -benchtime 20x ./walbench
package walbench
