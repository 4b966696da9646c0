package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/governor-io/governor/store/kv"
)

// maxBody bounds a request body.
const maxBody = 16 << 20

// Handler serves the KV API of any [kv.KV] (normally a [*raft.Node]) to
// [Client]s over HTTP. Mount it on an http.Server.
//
// For people with curl it also serves POST /v1/put, one put of a text
// value ({"key": k, "value": text}), and POST /v1/deleterange, one delete
// of a key ({"key": k}), a range ({"key": k, "end": e}) or a prefix
// ({"key": k, "prefix": true}); both answer {"Revision": n} (with
// "Deleted" for a delete). With ?text=1, /v1/range and /v1/txn show
// values as text rather than base64 (bytes that are not UTF-8 show as
// U+FFFD). Errors have the API's one shape: a non-2xx status and
// {"error": {"code": ..., "message": ...}}.
type Handler struct {
	kv  kv.KV
	mux *http.ServeMux
}

// NewHandler returns a Handler serving k.
func NewHandler(k kv.KV) *Handler {
	h := &Handler{kv: k, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST "+pathRange, h.handleRange)
	h.mux.HandleFunc("POST "+pathTxn, h.handleTxn)
	h.mux.HandleFunc("POST "+pathCompact, h.handleCompact)
	h.mux.HandleFunc("POST "+pathProgress, h.handleProgress)
	h.mux.HandleFunc("POST "+pathWatch, h.handleWatch)
	h.mux.HandleFunc("POST "+pathPut, h.handlePut)
	h.mux.HandleFunc("POST "+pathDeleteRange, h.handleDeleteRange)
	return h
}

// ServeHTTP implements [http.Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("body over %d bytes", maxBody)
	}
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, fmt.Errorf("%w: %v", kv.ErrInvalidRequest, err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n')) // so that curl's output ends its line
}

func writeError(w http.ResponseWriter, err error) {
	we, status := encodeError(err)
	b, _ := json.Marshal(errorBody{Error: we})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (h *Handler) handleRange(w http.ResponseWriter, r *http.Request) {
	var req rangeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	ctx := r.Context()
	if err := needLeader(h.kv); err != nil && !req.Serializable {
		writeError(w, err)
		return
	}
	resp, err := h.kv.Range(ctx, req.RangeRequest)
	if err != nil {
		writeError(w, err)
		return
	}
	if wantText(r) {
		writeJSON(w, textRange(resp))
		return
	}
	writeJSON(w, resp)
}

func (h *Handler) handleTxn(w http.ResponseWriter, r *http.Request) {
	var req kv.TxnRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if err := needLeader(h.kv); err != nil {
		writeError(w, err)
		return
	}
	resp, err := h.kv.Txn(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	if wantText(r) {
		writeJSON(w, textTxn(resp))
		return
	}
	writeJSON(w, resp)
}

func (h *Handler) handleCompact(w http.ResponseWriter, r *http.Request) {
	var req compactRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if err := needLeader(h.kv); err != nil {
		writeError(w, err)
		return
	}
	if err := h.kv.Compact(r.Context(), req.Revision); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, struct{}{})
}

func (h *Handler) handleProgress(w http.ResponseWriter, r *http.Request) {
	if err := h.kv.RequestProgress(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, struct{}{})
}

// handleWatch streams a watch as newline-separated JSON responses, flushed
// one by one. The stream ends after a response with an error, or when the
// client goes away.
func (h *Handler) handleWatch(w http.ResponseWriter, r *http.Request) {
	var req kv.WatchRequest
	if !decodeBody(w, r, &req) {
		return
	}
	lw := newLeaderWatch(h.kv) // before the check, so as to miss no change
	if err := needLeader(h.kv); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ch, err := h.kv.Watch(ctx, req)
	if err != nil {
		writeError(w, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for {
		wr, ok := nextWireWatchResponse(ctx, ch, lw)
		if !ok {
			return
		}
		if enc.Encode(&wr) != nil {
			return
		}
		// Send now unless more responses are already waiting.
		if len(ch) == 0 || wr.Error != nil {
			if bw.Flush() != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if wr.Error != nil {
			return
		}
	}
}
