package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/mvcc"
)

// do sends one request to h and returns the status and body.
func do(t *testing.T, h http.Handler, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

// decodeOK fails the test unless the call answered 200 with a body that
// decodes into v.
func decodeOK(t *testing.T, h http.Handler, path, body string, v any) {
	t.Helper()
	code, out := do(t, h, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", path, body, code, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%s %s: %v in %s", path, body, err, out)
	}
}

// TestHandlerPutAndDeleteRange drives /v1/put and /v1/deleterange (a
// key, a range, a prefix) and reads the result back with
// /v1/range?text=1 and plain /v1/range.
func TestHandlerPutAndDeleteRange(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	h := NewHandler(e)

	var put writeResponse
	for i, kvp := range []string{`"/a","value":"1"`, `"/b/1","value":"x"`, `"/b/2","value":"y"`, `"/c","value":"z"`, `"/d","value":"w"`} {
		decodeOK(t, h, "/v1/put", `{"key":`+kvp+`}`, &put)
		if put.Revision != int64(i+1) {
			t.Fatalf("put %d: revision %d, want %d", i, put.Revision, i+1)
		}
	}
	var text textRangeResponse
	decodeOK(t, h, "/v1/range?text=1", `{"Key":"/a"}`, &text)
	if len(text.KVs) != 1 || text.KVs[0].Key != "/a" || text.KVs[0].Value != "1" || text.KVs[0].ModRevision != 1 || text.Revision != 5 {
		t.Fatalf("/v1/range?text=1: %+v", text)
	}
	// Without ?text=1 the value stays base64.
	if code, body := do(t, h, "/v1/range", `{"Key":"/a"}`); code != http.StatusOK || !strings.Contains(body, `"Value":"MQ=="`) {
		t.Fatalf("/v1/range: %d %s", code, body)
	}

	var del writeResponse
	decodeOK(t, h, "/v1/deleterange", `{"key":"/b/","prefix":true}`, &del)
	if del.Deleted != 2 || del.Revision != 6 {
		t.Fatalf("prefix delete: %+v", del)
	}
	decodeOK(t, h, "/v1/deleterange", `{"key":"/c","end":"/e"}`, &del)
	if del.Deleted != 2 || del.Revision != 7 {
		t.Fatalf("range delete: %+v", del)
	}
	decodeOK(t, h, "/v1/deleterange", `{"key":"/a"}`, &del)
	if del.Deleted != 1 || del.Revision != 8 {
		t.Fatalf("key delete: %+v", del)
	}
	decodeOK(t, h, "/v1/range?text=1", `{"Key":"/","End":"\u0000"}`, &text)
	if len(text.KVs) != 0 || text.Count != 0 {
		t.Fatalf("keys left: %+v", text)
	}
}

// TestHandlerTxnText checks that /v1/txn?text=1 shows the values of
// every kind of op response as text.
func TestHandlerTxnText(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	h := NewHandler(e)
	for _, body := range []string{`{"key":"/a","value":"old"}`, `{"key":"/b","value":"gone"}`} {
		if code, out := do(t, h, "/v1/put", body); code != http.StatusOK {
			t.Fatalf("/v1/put %s: %d %s", body, code, out)
		}
	}
	req, err := json.Marshal(kv.TxnRequest{Success: []kv.Op{
		{Type: kv.OpPut, Key: "/a", Value: []byte("new"), PrevKV: true},
		kv.OpGet("/a"),
		{Type: kv.OpDelete, Key: "/b", PrevKV: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var resp textTxnResponse
	decodeOK(t, h, "/v1/txn?text=1", string(req), &resp)
	if !resp.Succeeded || len(resp.Responses) != 3 {
		t.Fatalf("/v1/txn?text=1: %+v", resp)
	}
	if p := resp.Responses[0].Put; p == nil || p.PrevKV == nil || p.PrevKV.Value != "old" {
		t.Errorf("put response: %+v", p)
	}
	if r := resp.Responses[1].Range; r == nil || len(r.KVs) != 1 || r.KVs[0].Value != "new" {
		t.Errorf("range response: %+v", r)
	}
	if d := resp.Responses[2].Delete; d == nil || d.Deleted != 1 || len(d.PrevKVs) != 1 || d.PrevKVs[0].Value != "gone" {
		t.Errorf("delete response: %+v", d)
	}
}

// TestHandlerConvenienceErrors checks that the convenience endpoints
// answer errors in the API's one shape, which the client decodes back to
// the sentinels: a bad body is 400 invalid_request, an empty key 400
// empty_key, and a member without a leader refuses writes with 503
// no_leader before they reach its KV.
func TestHandlerConvenienceErrors(t *testing.T) {
	e := mvcc.New(mvcc.Options{})
	defer e.Close()
	m := &leaderless{KV: e}
	h := NewHandler(m)
	for _, tc := range []struct {
		path, body string
		status     int
		err        error
	}{
		{"/v1/put", `{"key":`, http.StatusBadRequest, kv.ErrInvalidRequest},
		{"/v1/put", `{"key":"/a","value":1}`, http.StatusBadRequest, kv.ErrInvalidRequest},
		{"/v1/deleterange", `{"key":"/a","prefix":"yes"}`, http.StatusBadRequest, kv.ErrInvalidRequest},
		{"/v1/put", `{"key":"/a","value":"1"}`, http.StatusServiceUnavailable, raft.ErrNoLeader},
		{"/v1/deleterange", `{"key":"/a"}`, http.StatusServiceUnavailable, raft.ErrNoLeader},
	} {
		code, body := do(t, h, tc.path, tc.body)
		if code != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.path, tc.body, code, tc.status, body)
		}
		var eb errorBody
		if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Errorf("%s %s: body %q is not the API's error shape (%v)", tc.path, tc.body, body, err)
			continue
		}
		if err := decodeErrorBody([]byte(body)); !errors.Is(err, tc.err) {
			t.Errorf("%s %s: error %v, want %v", tc.path, tc.body, err, tc.err)
		}
	}
	if n := m.calls.Load(); n != 0 {
		t.Errorf("%d calls reached the KV", n)
	}
	m.setLeader(1)
	code, body := do(t, h, "/v1/put", `{"key":"","value":"1"}`)
	if err := decodeErrorBody([]byte(body)); code != http.StatusBadRequest || !errors.Is(err, kv.ErrEmptyKey) {
		t.Errorf("empty key: %d %s", code, body)
	}
}
