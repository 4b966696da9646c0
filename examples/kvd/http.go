package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/governor-io/governor/raft"
	"github.com/governor-io/governor/store/kv"
)

// requestTimeout bounds each write of the convenience endpoints.
const requestTimeout = 5 * time.Second

// maxBody bounds the body of a convenience request.
const maxBody = 1 << 20

// member is what the HTTP layer needs of a *raft.Node: the KV, and
// whether it knows a leader.
type member interface {
	kv.KV
	Leader() uint64
	Err() error
}

// putRequest is the body of POST /v1/put. Value is text, stored as its
// UTF-8 bytes; binary values go through /v1/txn, base64-encoded.
type putRequest struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// deleteRequest is the body of POST /v1/deleterange: Key alone, the keys
// in [Key, End), or with Prefix every key that starts with Key.
type deleteRequest struct {
	Key    string `json:"key"`
	End    string `json:"end"`
	Prefix bool   `json:"prefix"`
}

// writeResponse answers /v1/put and /v1/deleterange.
type writeResponse struct {
	// Revision is the store's revision after the write.
	Revision int64
	// Deleted counts the keys a delete removed.
	Deleted int64 `json:",omitempty"`
}

// textKeyValue is a [kv.KeyValue] with its value as text, for
// /v1/range?text=1.
type textKeyValue struct {
	Key            string
	Value          string
	CreateRevision int64
	ModRevision    int64
	Version        int64
}

// textRangeResponse is a [kv.RangeResponse] with its values as text.
type textRangeResponse struct {
	KVs      []textKeyValue
	Count    int64
	More     bool
	Revision int64
}

// convenience wraps the KV API of api (client.NewHandler) with the
// endpoints a person types with curl: /v1/put, /v1/deleterange,
// /v1/range?text=1, and /healthz.
func convenience(m member, api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.HandleFunc("POST /v1/put", func(w http.ResponseWriter, r *http.Request) {
		var req putRequest
		if !decode(w, r, &req) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := leaderKnown(m); err != nil {
			writeErr(w, err)
			return
		}
		rev, err := kv.Put(ctx, m, req.Key, []byte(req.Value))
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, writeResponse{Revision: rev})
	})
	mux.HandleFunc("POST /v1/deleterange", func(w http.ResponseWriter, r *http.Request) {
		var req deleteRequest
		if !decode(w, r, &req) {
			return
		}
		end := req.End
		if req.Prefix {
			end = kv.PrefixEnd(req.Key)
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := leaderKnown(m); err != nil {
			writeErr(w, err)
			return
		}
		n, rev, err := kv.Delete(ctx, m, req.Key, end)
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, writeResponse{Revision: rev, Deleted: n})
	})
	mux.HandleFunc("POST /v1/range", func(w http.ResponseWriter, r *http.Request) {
		if text, _ := strconv.ParseBool(r.URL.Query().Get("text")); !text {
			api.ServeHTTP(w, r)
			return
		}
		rangeText(w, r, api)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := leaderKnown(m); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// leaderKnown fails with the member's error when it has stopped, and
// with [raft.ErrNoLeader] when it knows of no leader.
func leaderKnown(m member) error {
	if err := m.Err(); err != nil {
		return err
	}
	if m.Leader() == 0 {
		return raft.ErrNoLeader
	}
	return nil
}

// rangeText serves a range through api and rewrites a successful
// answer's base64 values as text. Bytes that are not UTF-8 show as
// U+FFFD, so clients that need exact values read without ?text=1.
func rangeText(w http.ResponseWriter, r *http.Request, api http.Handler) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	api.ServeHTTP(rec, r)
	if rec.status != http.StatusOK {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
		return
	}
	var resp kv.RangeResponse
	if err := json.Unmarshal(rec.body.Bytes(), &resp); err != nil {
		writeErr(w, fmt.Errorf("decode range response: %w", err))
		return
	}
	out := textRangeResponse{KVs: make([]textKeyValue, len(resp.KVs)), Count: resp.Count, More: resp.More, Revision: resp.Revision}
	for i, e := range resp.KVs {
		out.KVs[i] = textKeyValue{Key: e.Key, Value: string(e.Value), CreateRevision: e.CreateRevision, ModRevision: e.ModRevision, Version: e.Version}
	}
	writeJSON(w, out)
}

// recorder is an [http.ResponseWriter] that keeps the response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("body over %d bytes", maxBody)
	}
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeErr(w, fmt.Errorf("%w: %v", kv.ErrInvalidRequest, err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// writeErr answers {"error": "..."} with a status that says whose fault
// it is.
func writeErr(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, kv.ErrInvalidRequest), errors.Is(err, kv.ErrEmptyKey):
		status = http.StatusBadRequest
	case errors.Is(err, raft.ErrNoLeader), errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrStopped),
		errors.Is(err, raft.ErrLeaderChanged), errors.Is(err, kv.ErrClosed):
		status = http.StatusServiceUnavailable
	case errors.Is(err, raft.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	}
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{err.Error()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
