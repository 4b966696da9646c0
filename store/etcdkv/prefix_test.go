package etcdkv_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/governor-io/governor/store/etcdkv"
	"github.com/governor-io/governor/store/kv"
)

func keys(kvs []kv.KeyValue) []string {
	var out []string
	for _, e := range kvs {
		out = append(out, e.Key)
	}
	return out
}

// TestPrefixIsolation checks that two KVs with different prefixes on one
// etcd never see each other's keys, whatever the range.
func TestPrefixIsolation(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	open := func(prefix string) *etcdkv.KV {
		k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{srv.Endpoint()}, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}
	base := prefixFor(t)
	a, b := open(base+"a"), open(base+"b")
	for _, key := range []string{"/1", "/2", "/3"} {
		write(t, a, key, 0, 1)
	}
	write(t, b, "/1", 0, 1)
	// "b" sorts right after "a" under base, so ranges of a that run to
	// its end would see b's keys if the prefix were not applied.
	for _, tc := range []struct {
		name string
		req  kv.RangeRequest
		want []string
	}{
		{"from key", kv.RangeRequest{Key: "/2", End: "\x00"}, []string{"/2", "/3"}},
		{"everything", kv.RangeRequest{Key: "", End: "\x00"}, []string{"/1", "/2", "/3"}},
		{"from the start", kv.RangeRequest{Key: "", End: "/3"}, []string{"/1", "/2"}},
		{"prefix", kv.RangeRequest{Key: "/", End: kv.PrefixEnd("/")}, []string{"/1", "/2", "/3"}},
		{"limit", kv.RangeRequest{Key: "", End: "\x00", Limit: 2}, []string{"/1", "/2"}},
		{"keys only", kv.RangeRequest{Key: "/1", KeysOnly: true}, []string{"/1"}},
	} {
		resp, err := a.Range(ctx, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := keys(resp.KVs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		if tc.req.KeysOnly && resp.KVs[0].Value != nil {
			t.Errorf("%s: value %q returned", tc.name, resp.KVs[0].Value)
		}
		if tc.req.Limit > 0 && (!resp.More || resp.Count != 3) {
			t.Errorf("%s: More=%v Count=%d, want true and 3", tc.name, resp.More, resp.Count)
		}
	}
	n, _, err := kv.Delete(ctx, a, "", "\x00")
	if err != nil || n != 3 {
		t.Fatalf("delete everything under a: %d deleted, %v", n, err)
	}
	if got, _, err := kv.Get(ctx, b, "/1"); err != nil || got == nil {
		t.Fatalf("b's key after deleting everything under a: %v, %v", got, err)
	}
	// A watch of everything under a sees nothing of b.
	f := follow(t, a, kv.WatchRequest{Key: "", End: "\x00"})
	write(t, b, "/2", 0, 1)
	want := write(t, a, "/9", 0, 1)
	if err := f.until(want); err != nil {
		t.Fatal(err)
	}
}

// TestNoPrefix uses the whole key space: a from-key range with an empty
// key starts at the first key.
func TestNoPrefix(t *testing.T) {
	srv := sharedServer(t)
	ctx := testCtx(t)
	k, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{srv.Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	key := prefixFor(t) + "k"
	write(t, k, key, 0, 1)
	resp, err := k.Range(ctx, kv.RangeRequest{Key: "", End: "\x00", CountOnly: true})
	if err != nil || resp.Count < 1 {
		t.Fatalf("count of every key: %+v, %v", resp, err)
	}
	if got, _, err := kv.Get(ctx, k, key); err != nil || got == nil || got.Key != key {
		t.Fatalf("get %q without a prefix: %v, %v", key, got, err)
	}
}

// TestNewFailsFast checks that New reports an unreachable cluster within
// its dial timeout instead of hanging.
func TestNewFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	px := newProxy(t, "127.0.0.1:1")
	px.Cut()
	_, err := etcdkv.New(ctx, etcdkv.Config{Endpoints: []string{px.Addr()}, DialTimeout: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("New on an unreachable endpoint succeeded")
	}
	if _, err := etcdkv.New(ctx, etcdkv.Config{}); !errors.Is(err, kv.ErrInvalidRequest) {
		t.Fatalf("New without endpoints: %v", err)
	}
}
