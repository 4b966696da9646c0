// Package kvtest is the conformance suite of the [kv.KV] contract. Every
// Governor engine runs it: the in-memory MVCC engine, the Raft KV and the
// etcd adapter.
//
// Call [Run] from a test with a function that returns a fresh engine:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.KV {
//			e := mvcc.New(mvcc.Options{})
//			t.Cleanup(func() { e.Close() })
//			return e
//		})
//	}
//
// The suite uses only the [kv.KV] interface. It does not assume that
// revisions start at 1, so several subtests may share one engine with a
// global revision (an etcd server) as long as each gets an empty-looking
// key space; every key the suite writes lies under "/kvtest/". Subtests run
// one after another. Asynchronous delivery is awaited with channel
// receives and a generous timeout ([DefaultTimeout], or [Options].Timeout),
// never with sleeps. What cannot be forced through the interface, such as
// a watcher falling behind, is left to each engine's own tests; where the
// suite provokes such a case (a compaction while a watch from the past is
// being delivered), it accepts every outcome the contract allows.
package kvtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/store/kv"
)

// DefaultTimeout is the timeout of [Run], and of [RunWithOptions] when
// [Options].Timeout is zero.
const DefaultTimeout = 20 * time.Second

// Prefix is the key prefix under which the suite writes.
const Prefix = "/kvtest/"

// Options configure [RunWithOptions]. The zero value gives the defaults.
type Options struct {
	// Timeout bounds every wait of the suite for an asynchronous delivery,
	// and four times Timeout bounds every call to the engine (zero:
	// [DefaultTimeout]).
	// It is a failure guard, not a synchronisation: a passing run never
	// waits it out, so a short one only makes a broken engine fail sooner.
	Timeout time.Duration
}

// caseT is the *testing.T of one case of the suite, with the suite's settings.
type caseT struct {
	*testing.T
	timeout time.Duration
}

type testCase struct {
	name string
	run  func(t *caseT, k kv.KV)
}

// Run runs the whole suite against engines made by newKV, one fresh engine
// per subtest. newKV registers the engine's cleanup with t.Cleanup; that
// cleanup must tolerate an engine the suite has already closed (Close then
// returns kv.ErrClosed).
func Run(t *testing.T, newKV func(t *testing.T) kv.KV) {
	t.Helper()
	RunWithOptions(t, newKV, Options{})
}

// RunWithOptions runs the suite as [Run] does, configured by opts.
func RunWithOptions(t *testing.T, newKV func(t *testing.T) kv.KV, opts Options) {
	t.Helper()
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	var cases []testCase
	cases = append(cases, rangeCases()...)
	cases = append(cases, txnCases()...)
	cases = append(cases, compactCases()...)
	cases = append(cases, watchCases()...)
	cases = append(cases, concurrencyCases()...)
	cases = append(cases, contextCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(&caseT{T: t, timeout: opts.Timeout}, newKV(t))
		})
	}
}

// key returns a key of the calling subtest's key space.
func key(t *caseT, name string) string {
	sub := t.Name()
	if i := strings.LastIndexByte(sub, '/'); i >= 0 {
		sub = sub[i+1:]
	}
	return Prefix + sub + "/" + name
}

// space returns the prefix of the calling subtest's key space.
func space(t *caseT) string { return key(t, "") }

func testContext(t *caseT) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 4*t.timeout)
	t.Cleanup(cancel)
	return ctx
}

func put(t *caseT, k kv.KV, key, value string) int64 {
	t.Helper()
	rev, err := kv.Put(testContext(t), k, key, []byte(value))
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return rev
}

func del(t *caseT, k kv.KV, key, end string) (deleted, rev int64) {
	t.Helper()
	n, rev, err := kv.Delete(testContext(t), k, key, end)
	if err != nil {
		t.Fatalf("delete %q..%q: %v", key, end, err)
	}
	return n, rev
}

func get(t *caseT, k kv.KV, key string) *kv.KeyValue {
	t.Helper()
	got, _, err := kv.Get(testContext(t), k, key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return got
}

func rangeReq(t *caseT, k kv.KV, req kv.RangeRequest) *kv.RangeResponse {
	t.Helper()
	resp, err := k.Range(testContext(t), req)
	if err != nil {
		t.Fatalf("range %+v: %v", req, err)
	}
	return resp
}

func txn(t *caseT, k kv.KV, req kv.TxnRequest) *kv.TxnResponse {
	t.Helper()
	resp, err := k.Txn(testContext(t), req)
	if err != nil {
		t.Fatalf("txn: %v", err)
	}
	return resp
}

// currentRevision reads the engine's revision through an empty Range.
func currentRevision(t *caseT, k kv.KV) int64 {
	t.Helper()
	return rangeReq(t, k, kv.RangeRequest{Key: key(t, "\x00none")}).Revision
}

func wantErr(t *caseT, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func wantKV(t *caseT, what string, got *kv.KeyValue, value string, create, mod, version int64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: key missing, want value %q", what, value)
	}
	if string(got.Value) != value || got.CreateRevision != create || got.ModRevision != mod || got.Version != version {
		t.Fatalf("%s: got %s, want value=%q create=%d mod=%d version=%d", what, fmtKV(got), value, create, mod, version)
	}
}

func fmtKV(kv *kv.KeyValue) string {
	if kv == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{%s=%q create=%d mod=%d version=%d}", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
}

func keysOf(kvs []kv.KeyValue) []string {
	out := make([]string, len(kvs))
	for i := range kvs {
		out[i] = kvs[i].Key
	}
	return out
}

func wantKeys(t *caseT, what string, got []kv.KeyValue, want ...string) {
	t.Helper()
	if g := keysOf(got); !slices.Equal(g, want) {
		t.Fatalf("%s: got keys %q, want %q", what, g, want)
	}
}
