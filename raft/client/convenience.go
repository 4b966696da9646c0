package client

import (
	"net/http"
	"strconv"

	"github.com/governor-io/governor/store/kv"
)

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

// handlePut serves POST /v1/put: one put of a text value.
func (h *Handler) handlePut(w http.ResponseWriter, r *http.Request) {
	var req putRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if err := needLeader(h.kv); err != nil {
		writeError(w, err)
		return
	}
	rev, err := kv.Put(r.Context(), h.kv, req.Key, []byte(req.Value))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, writeResponse{Revision: rev})
}

// handleDeleteRange serves POST /v1/deleterange: one delete of a key, a
// range or a prefix.
func (h *Handler) handleDeleteRange(w http.ResponseWriter, r *http.Request) {
	var req deleteRequest
	if !decodeBody(w, r, &req) {
		return
	}
	end := req.End
	if req.Prefix {
		end = kv.PrefixEnd(req.Key)
	}
	if err := needLeader(h.kv); err != nil {
		writeError(w, err)
		return
	}
	n, rev, err := kv.Delete(r.Context(), h.kv, req.Key, end)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, writeResponse{Revision: rev, Deleted: n})
}

// wantText reports whether the request asks, with ?text=1 (or any true
// value of strconv.ParseBool), for values shown as text.
func wantText(r *http.Request) bool {
	text, _ := strconv.ParseBool(r.URL.Query().Get("text"))
	return text
}

// The text forms below are the kv response types with each value shown
// as text rather than base64. Bytes that are not UTF-8 show as U+FFFD,
// so clients that need exact values ask without ?text=1.
type (
	textKeyValue struct {
		Key            string
		Value          string
		CreateRevision int64
		ModRevision    int64
		Version        int64
	}
	textRangeResponse struct {
		KVs      []textKeyValue
		Count    int64
		More     bool
		Revision int64
	}
	textTxnResponse struct {
		Succeeded bool
		Revision  int64
		Responses []textOpResponse
	}
	textOpResponse struct {
		Range  *textRangeResponse
		Put    *textPutResponse
		Delete *textDeleteResponse
	}
	textPutResponse struct {
		PrevKV *textKeyValue
	}
	textDeleteResponse struct {
		Deleted int64
		PrevKVs []textKeyValue
	}
)

func textKV(e kv.KeyValue) textKeyValue {
	return textKeyValue{Key: e.Key, Value: string(e.Value), CreateRevision: e.CreateRevision, ModRevision: e.ModRevision, Version: e.Version}
}

func textKVs(es []kv.KeyValue) []textKeyValue {
	if es == nil {
		return nil
	}
	out := make([]textKeyValue, len(es))
	for i, e := range es {
		out[i] = textKV(e)
	}
	return out
}

func textRange(r *kv.RangeResponse) *textRangeResponse {
	return &textRangeResponse{KVs: textKVs(r.KVs), Count: r.Count, More: r.More, Revision: r.Revision}
}

func textTxn(r *kv.TxnResponse) *textTxnResponse {
	out := &textTxnResponse{Succeeded: r.Succeeded, Revision: r.Revision}
	if r.Responses != nil {
		out.Responses = make([]textOpResponse, len(r.Responses))
	}
	for i, op := range r.Responses {
		switch {
		case op.Range != nil:
			out.Responses[i].Range = textRange(op.Range)
		case op.Put != nil:
			out.Responses[i].Put = &textPutResponse{}
			if op.Put.PrevKV != nil {
				prev := textKV(*op.Put.PrevKV)
				out.Responses[i].Put.PrevKV = &prev
			}
		case op.Delete != nil:
			out.Responses[i].Delete = &textDeleteResponse{Deleted: op.Delete.Deleted, PrevKVs: textKVs(op.Delete.PrevKVs)}
		}
	}
	return out
}
