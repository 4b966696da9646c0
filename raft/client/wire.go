package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/governor-io/governor/raft/rafterr"
	"github.com/governor-io/governor/store/kv"
)

// The HTTP protocol is JSON over HTTP/1.1 (keep-alive):
//
//	POST /v1/range     RangeRequest (Serializable too)  -> RangeResponse
//	POST /v1/txn       TxnRequest                       -> TxnResponse
//	POST /v1/compact   {"revision": n}                  -> {}
//	POST /v1/progress  {}                               -> {}
//	POST /v1/watch     WatchRequest                     -> a stream of
//	                   newline-separated watch responses
//
// and, for people with curl (see [Handler]):
//
//	POST /v1/put          {"key", "value" (text)}            -> {"Revision"}
//	POST /v1/deleterange  {"key", "end" | "prefix": true}    -> {"Revision", "Deleted"}
//	?text=1 on /v1/range and /v1/txn: values as text, not base64
//
// A failed call answers with a non-2xx status and an error body; a watch
// ends its stream with a response whose "error" is set. Errors carry a
// code that maps back to the kv and raft sentinels, so that errors.Is
// works on the client as on an embedded engine.
const (
	pathRange    = "/v1/range"
	pathTxn      = "/v1/txn"
	pathCompact  = "/v1/compact"
	pathProgress = "/v1/progress"
	pathWatch    = "/v1/watch"

	pathPut         = "/v1/put"
	pathDeleteRange = "/v1/deleterange"
)

// rangeRequest is a Range on the wire. Its Serializable (the
// [kv.RangeRequest] field) travels as "Serializable" in JSON, which
// decodes "serializable" too.
type rangeRequest struct {
	kv.RangeRequest
}

type compactRequest struct {
	Revision int64 `json:"revision"`
}

// request is a call's request. It travels as JSON over HTTP and in the
// binary encoding (appendBinary appends its payload) over the framed
// protocol.
type request interface {
	appendBinary(b []byte) []byte
}

// result receives a call's answer: JSON over HTTP, the binary encoding
// (decodeBinary) over the framed protocol.
type result interface {
	decodeBinary(p []byte) error
}

// The JSON forms of these types are those of the kv types they convert
// from.
type (
	txnRequest      kv.TxnRequest
	progressRequest struct{}
	rangeResult     kv.RangeResponse
	txnResult       kv.TxnResponse
	emptyResult     struct{}
)

func (r *rangeRequest) appendBinary(b []byte) []byte   { return appendRangeRequest(b, r) }
func (r *txnRequest) appendBinary(b []byte) []byte     { return appendTxnRequest(b, (*kv.TxnRequest)(r)) }
func (r *compactRequest) appendBinary(b []byte) []byte { return appendCompactRequest(b, r) }
func (progressRequest) appendBinary(b []byte) []byte   { return b }
func (r *rangeResult) decodeBinary(p []byte) error {
	return decodeRangeResponse(p, (*kv.RangeResponse)(r))
}
func (r *txnResult) decodeBinary(p []byte) error { return decodeTxnResponse(p, (*kv.TxnResponse)(r)) }
func (*emptyResult) decodeBinary(p []byte) error { return decodeEmpty(p) }

// wireError is an error as it travels.
type wireError struct {
	Code            string `json:"code"`
	Message         string `json:"message"`
	CompactRevision int64  `json:"compactRevision,omitempty"`
	ResumeRevision  int64  `json:"resumeRevision,omitempty"`
	LeaderID        uint64 `json:"leaderId,omitempty"`
	LeaderAddr      string `json:"leaderAddr,omitempty"`
}

type errorBody struct {
	Error *wireError `json:"error"`
}

// wireWatchResponse is a kv.WatchResponse as it travels.
type wireWatchResponse struct {
	Events         []kv.Event `json:"events,omitempty"`
	Revision       int64      `json:"revision"`
	ProgressNotify bool       `json:"progressNotify,omitempty"`
	Error          *wireError `json:"error,omitempty"`
}

// Error codes.
var codes = []struct {
	code   string
	err    error
	status int
}{
	{"compacted", kv.ErrCompacted, http.StatusGone},
	{"future_revision", kv.ErrFutureRevision, http.StatusBadRequest},
	{"watcher_lagging", kv.ErrWatcherLagging, http.StatusGone},
	{"closed", kv.ErrClosed, http.StatusServiceUnavailable},
	{"too_many_ops", kv.ErrTooManyOps, http.StatusBadRequest},
	{"duplicate_key", kv.ErrDuplicateKey, http.StatusBadRequest},
	{"empty_key", kv.ErrEmptyKey, http.StatusBadRequest},
	{"invalid_request", kv.ErrInvalidRequest, http.StatusBadRequest},
	{"not_leader", rafterr.ErrNotLeader, http.StatusMisdirectedRequest},
	{"no_leader", rafterr.ErrNoLeader, http.StatusServiceUnavailable},
	{"timeout", rafterr.ErrTimeout, http.StatusGatewayTimeout},
	{"leader_changed", rafterr.ErrLeaderChanged, http.StatusServiceUnavailable},
	{"stopped", rafterr.ErrStopped, http.StatusServiceUnavailable},
	{"canceled", context.Canceled, 499},
	{"deadline_exceeded", context.DeadlineExceeded, http.StatusGatewayTimeout},
}

// encodeError turns an engine error into its wire form and HTTP status.
func encodeError(err error) (*wireError, int) {
	we := &wireError{Code: "internal", Message: err.Error()}
	status := http.StatusInternalServerError
	for _, c := range codes {
		if errors.Is(err, c.err) {
			we.Code, status = c.code, c.status
			break
		}
	}
	var ce *kv.CompactedError
	if errors.As(err, &ce) {
		we.CompactRevision = ce.CompactRevision
	}
	var le *kv.LaggingError
	if errors.As(err, &le) {
		we.ResumeRevision = le.ResumeRevision
	}
	var nl *rafterr.NotLeaderError
	if errors.As(err, &nl) {
		we.LeaderID, we.LeaderAddr = nl.LeaderID, nl.LeaderAddr
	}
	return we, status
}

// ErrProtocol reports a response the client could not understand: a
// malformed payload, or a server that speaks another version of the
// framed protocol. Decoding errors of the framed protocol's binary
// payloads wrap it.
var ErrProtocol = errors.New("client: protocol error")

// ServerError is an error the server reported that matches no sentinel.
type ServerError struct {
	Code    string
	Message string
}

// Error returns the server's code and message.
func (e *ServerError) Error() string {
	return fmt.Sprintf("client: server error %s: %s", e.Code, e.Message)
}

// decodeError turns a wire error back into a typed error.
func decodeError(we *wireError) error {
	if we == nil {
		return fmt.Errorf("%w: missing error", ErrProtocol)
	}
	switch we.Code {
	case "compacted":
		return &kv.CompactedError{CompactRevision: we.CompactRevision}
	case "watcher_lagging":
		return &kv.LaggingError{ResumeRevision: we.ResumeRevision}
	case "not_leader":
		return &rafterr.NotLeaderError{LeaderID: we.LeaderID, LeaderAddr: we.LeaderAddr}
	}
	for _, c := range codes {
		if c.code == we.Code {
			return fmt.Errorf("%w (server: %s)", c.err, we.Message)
		}
	}
	return &ServerError{Code: we.Code, Message: we.Message}
}

// decodeErrorBody decodes an error response body.
func decodeErrorBody(body []byte) error {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		return fmt.Errorf("%w: bad error body: %v", ErrProtocol, err)
	}
	return decodeError(eb.Error)
}

// decodeWatchLine decodes one line of a watch stream.
func decodeWatchLine(line []byte) (kv.WatchResponse, error) {
	var w wireWatchResponse
	if err := json.Unmarshal(line, &w); err != nil {
		return kv.WatchResponse{}, fmt.Errorf("%w: bad watch response: %v", ErrProtocol, err)
	}
	resp := kv.WatchResponse{Events: w.Events, Revision: w.Revision, ProgressNotify: w.ProgressNotify}
	if w.Error != nil {
		resp.Err = decodeError(w.Error)
	}
	return resp, nil
}

// nextWireWatchResponse waits for a watch's next response and converts it for
// the wire. It reports false when ctx is done first. A channel that the
// engine closed without an error becomes ErrClosed: the watch was cancelled
// under the client, which must hear about it. A member that loses its
// leader (lw) ends the watch with rafterr.ErrNoLeader.
func nextWireWatchResponse(ctx context.Context, ch <-chan kv.WatchResponse, lw *leaderWatch) (wireWatchResponse, bool) {
	var resp kv.WatchResponse
	for got := false; !got; {
		select {
		case r, ok := <-ch:
			resp, got = r, true
			if !ok {
				resp = kv.WatchResponse{Err: kv.ErrClosed}
			}
		case <-lw.changed():
			if lw.lost() {
				resp, got = kv.WatchResponse{Err: rafterr.ErrNoLeader}, true
			}
		case <-ctx.Done():
			return wireWatchResponse{}, false
		}
	}
	wr := wireWatchResponse{Events: resp.Events, Revision: resp.Revision, ProgressNotify: resp.ProgressNotify}
	if resp.Err != nil {
		wr.Error, _ = encodeError(resp.Err)
	}
	return wr, true
}
