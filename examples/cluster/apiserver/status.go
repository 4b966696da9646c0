package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// Reasons the server answers with that have no store sentinel: they are
// about the HTTP request, not the object.
const (
	reasonMethodNotAllowed      meta.Reason = "MethodNotAllowed"
	reasonNotAcceptable         meta.Reason = "NotAcceptable"
	reasonUnsupportedMediaType  meta.Reason = "UnsupportedMediaType"
	reasonRequestEntityTooLarge meta.Reason = "RequestEntityTooLarge"
)

// httpError is an error whose wire form is fixed: a Status with a reason
// and code that meta.Reason does not know.
type httpError struct {
	status meta.Status
}

func (e *httpError) Error() string { return "apiserver: " + e.status.Message }

func newHTTPError(code int, reason meta.Reason, msg string) *httpError {
	return &httpError{status: meta.Status{
		TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   meta.StatusFailure,
		Message:  msg,
		Reason:   reason,
		Code:     int32(code),
	}}
}

func errMethodNotAllowed(method string) error {
	return newHTTPError(http.StatusMethodNotAllowed, reasonMethodNotAllowed,
		fmt.Sprintf("the server does not allow this method on the requested resource (%s)", method))
}

func errNotFoundPath() error {
	return &meta.StatusError{Reason: meta.ReasonNotFound, Message: "the server could not find the requested resource"}
}

// statusOf returns the wire Status of err.
func statusOf(err error) meta.Status {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	var we *wireStatusError
	if errors.As(err, &we) {
		return we.status()
	}
	return meta.ToStatus(err)
}

// writeStatus answers err as a Kubernetes Status with its code.
func writeStatus(w http.ResponseWriter, err error) {
	st := statusOf(err)
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if d := st.Details; d != nil && d.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(d.RetryAfterSeconds))
	}
	writeJSON(w, int(st.Code), st)
}

// writeJSON answers v as JSON with code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		data, _ = json.Marshal(meta.ToStatus(meta.NewInternalError(fmt.Errorf("encoding the response: %w", err))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

// wireError rewrites a store error about the named object the way
// kube-apiserver words it: the bare name rather than namespace/name
// (`pods "web" not found`), "Operation cannot be fulfilled" with a
// capital, and an Invalid error named by kind (`Pod "web" is invalid`).
func wireError(err error, groupResource, group, kind, namespace, name string) error {
	var se *meta.StatusError
	if !errors.As(err, &se) {
		return err
	}
	out := *se
	display := name
	if namespace != "" {
		display = namespace + "/" + name
	}
	if out.Name == display || out.Name == "" && name != "" && out.Reason != meta.ReasonBadRequest {
		out.Message = strings.Replace(out.Message, fmt.Sprintf("%q", display), fmt.Sprintf("%q", name), 1)
		if out.Name != "" {
			out.Name = name
		}
	}
	if strings.HasPrefix(out.Message, "operation cannot be fulfilled") {
		out.Message = "O" + out.Message[1:]
	}
	if out.Reason == meta.ReasonInvalid && kind != "" {
		if rest, ok := strings.CutPrefix(out.Message, groupResource+" "); ok {
			out.Message = kind + " " + rest
		}
		out.Resource = kind
	}
	return &wireStatusError{StatusError: &out, group: group}
}

// wireStatusError carries the API group into the Status details.
type wireStatusError struct {
	*meta.StatusError
	group string
}

func (e *wireStatusError) Unwrap() error { return e.StatusError }

func (e *wireStatusError) status() meta.Status {
	st := e.StatusError.Status()
	if st.Details != nil {
		st.Details.Group = e.group
		if e.StatusError.Reason != meta.ReasonInvalid {
			// Kubernetes names the plain resource ("deployments") and the
			// group apart.
			st.Details.Kind = strings.TrimSuffix(st.Details.Kind, "."+e.group)
		}
	}
	return st
}
