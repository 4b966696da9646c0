package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/governor-io/governor/examples/cluster/apiserver"
	"github.com/governor-io/governor/store/mvcc"
)

// Serving a custom resource: create its CRD, then its objects, which are
// pruned, defaulted and validated against the CRD's schema.
func ExampleInstallCustomResources() {
	engine := mvcc.New(mvcc.Options{})
	defer engine.Close()
	srv, _ := apiserver.New(apiserver.Config{KV: engine})
	defer srv.Close()
	_ = apiserver.InstallCustomResources(srv)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.WaitReady(ctx)

	call := func(method, path, body string) string {
		req, _ := http.NewRequestWithContext(ctx, method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return fmt.Sprint(resp.StatusCode, " ", strings.TrimSpace(string(data)))
	}
	crd := call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", `{
	  "metadata":{"name":"apps.example.com"},
	  "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"apps","kind":"App"},
	    "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
	      "spec":{"type":"object","properties":{"replicas":{"type":"integer","minimum":0,"default":1}}}}}}}]}}`)
	fmt.Println(crd[:3])
	_ = srv.WaitCustomResource(ctx, "apps.example.com", 1)

	out := call("POST", "/apis/example.com/v1/namespaces/default/apps", `{"apiVersion":"example.com/v1","kind":"App","metadata":{"name":"web"},"spec":{"colour":"blue"}}`)
	fmt.Println(out[:3], out[strings.Index(out, `"spec"`):])
	out = call("POST", "/apis/example.com/v1/namespaces/default/apps", `{"apiVersion":"example.com/v1","kind":"App","metadata":{"name":"bad"},"spec":{"replicas":-1}}`)
	var status struct {
		Reason  string
		Details struct {
			Causes []struct{ Field, Message string }
		}
	}
	_ = json.Unmarshal([]byte(out[4:]), &status)
	fmt.Println(out[:3], status.Reason, status.Details.Causes)
	// Output:
	// 201
	// 201 "spec":{"replicas":1}}
	// 422 Invalid [{spec.replicas Invalid value: -1: spec.replicas in body should be greater than or equal to 0}]
}
