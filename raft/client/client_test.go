package client

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/governor-io/governor/clock/clocktest"
	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/kvtest"
	"github.com/governor-io/governor/store/mvcc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts a Handler for k and returns a Client of it; both close
// with the test.
func serve(t *testing.T, k kv.KV) *Client {
	t.Helper()
	srv := httptest.NewServer(NewHandler(k))
	c, err := New(Config{Endpoints: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		srv.CloseClientConnections()
		srv.Close()
		k.Close()
	})
	return c
}

func TestConformanceOverEngine(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		return serve(t, mvcc.New(mvcc.Options{}))
	})
}

func TestConformanceOverRaft(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.KV {
		n, err := raft.Open(context.Background(), raft.Config{
			ID: 1, Dir: t.TempDir(),
			InitialCluster: []raft.Member{{ID: 1, PeerAddr: "127.0.0.1:0"}},
			Clock:          clocktest.New(time.Unix(0, 0)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return serve(t, n)
	})
}

func TestErrorsKeepTheirIdentity(t *testing.T) {
	for _, err := range []error{
		&kv.CompactedError{CompactRevision: 7},
		&kv.LaggingError{ResumeRevision: 9},
		&raft.NotLeaderError{LeaderID: 2, LeaderAddr: "10.0.0.2:2379"},
		kv.ErrFutureRevision, kv.ErrTooManyOps, kv.ErrDuplicateKey, kv.ErrEmptyKey,
		kv.ErrInvalidRequest, kv.ErrClosed, raft.ErrNoLeader, raft.ErrTimeout, raft.ErrStopped,
	} {
		we, _ := encodeError(err)
		got := decodeError(we)
		for _, target := range []error{kv.ErrCompacted, kv.ErrWatcherLagging, raft.ErrNotLeader, kv.ErrFutureRevision, kv.ErrTooManyOps, kv.ErrClosed, raft.ErrNoLeader} {
			if errors.Is(err, target) != errors.Is(got, target) {
				t.Errorf("%v: errors.Is(%v) differs after the wire: %v", err, target, got)
			}
		}
	}
	var nl *raft.NotLeaderError
	we, _ := encodeError(&raft.NotLeaderError{LeaderID: 2, LeaderAddr: "a:1"})
	if !errors.As(decodeError(we), &nl) || nl.LeaderID != 2 || nl.LeaderAddr != "a:1" {
		t.Errorf("NotLeaderError lost its leader: %+v", nl)
	}
	var ce *kv.CompactedError
	we, _ = encodeError(&kv.CompactedError{CompactRevision: 7})
	if !errors.As(decodeError(we), &ce) || ce.CompactRevision != 7 {
		t.Errorf("CompactedError lost its revision: %+v", ce)
	}
}

func TestClientTriesNextEndpoint(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	srv := httptest.NewServer(NewHandler(e))
	defer srv.Close()
	defer e.Close()
	// The first endpoint refuses connections.
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	c, err := New(Config{Endpoints: []string{deadURL, srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kv.Put(ctx, c, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
}

func TestNewWithoutEndpoints(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrNoEndpoints) {
		t.Fatalf("got %v, want ErrNoEndpoints", err)
	}
}

func FuzzDecodeWatchLine(f *testing.F) {
	f.Add([]byte(`{"events":[{"Type":0,"KV":{"Key":"/a","Value":"MQ==","ModRevision":3}}],"revision":3}`))
	f.Add([]byte(`{"revision":9,"progressNotify":true}`))
	f.Add([]byte(`{"revision":0,"error":{"code":"compacted","message":"x","compactRevision":4}}`))
	f.Add([]byte(`{"error":{"code":"???"}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, line []byte) {
		resp, err := decodeWatchLine(line)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("decode error %v does not match ErrProtocol", err)
			}
			return
		}
		if resp.Err != nil && resp.Err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

func FuzzDecodeErrorBody(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"not_leader","leaderId":2,"leaderAddr":"h:1"}}`))
	f.Add([]byte(`{"error":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if err := decodeErrorBody(body); err == nil {
			t.Fatal("an error body decoded to no error")
		}
	})
}
