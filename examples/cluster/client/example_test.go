package client_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/client"
	"github.com/governor-io/governor/store/meta"
)

// Gadget is an example resource, served by the example servers below.
type Gadget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            struct {
		Size int `json:"size"`
	} `json:"spec"`
}

var gadgets = api.Type[*Gadget]{
	Group: "example.dev", Version: "v1", Kind: "Gadget", Resource: "gadgets",
	Namespaced: true, New: func() *Gadget { return new(Gadget) },
}

// An API server's answers, as Kubernetes' wire has them: an object, or a
// Status for an error.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/example.dev/v1/namespaces/default/gadgets/big":
			fmt.Fprint(w, `{"kind":"Gadget","apiVersion":"example.dev/v1","metadata":{"name":"big","namespace":"default","resourceVersion":"7"},"spec":{"size":3}}`)
		case "/apis/example.dev/v1/namespaces/default/gadgets":
			// A watch: one JSON event per line.
			fmt.Fprintln(w, `{"type":"ADDED","object":{"metadata":{"name":"big","namespace":"default","resourceVersion":"7"},"spec":{"size":3}}}`)
			fmt.Fprintln(w, `{"type":"MODIFIED","object":{"metadata":{"name":"big","namespace":"default","resourceVersion":"8"},"spec":{"size":4}}}`)
			fmt.Fprintln(w, `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"gadgets.example.dev \"small\" not found","reason":"NotFound","details":{"name":"small","group":"example.dev","kind":"gadgets"},"code":404}`)
		}
	}))
}

// Get an object, and tell a missing one by the store error its Status
// names.
func Example() {
	srv := exampleServer()
	defer srv.Close()
	c, err := client.New(client.Config{Host: srv.URL})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	g := client.For(c, gadgets)
	ctx := context.Background()

	big, err := g.Get(ctx, "default", "big")
	fmt.Println(big.Kind, big.Name, big.Spec.Size, big.ResourceVersion, err)

	_, err = g.Get(ctx, "default", "small")
	fmt.Println(errors.Is(err, meta.ErrNotFound))
	fmt.Println(err)
	// Output:
	// Gadget big 3 7 <nil>
	// true
	// client: get gadgets.example.dev default/small: store: gadgets.example.dev "small" not found
}

// A watch delivers typed events; an ERROR with a 410 Status is Expired.
func ExampleResource_Watch() {
	srv := exampleServer()
	defer srv.Close()
	c, err := client.New(client.Config{Host: srv.URL})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	events, err := client.For(c, gadgets).Watch(ctx, meta.ListOptions{Namespace: "default", ResourceVersion: "6"})
	if err != nil {
		panic(err)
	}
	for ev := range events {
		if ev.Type == meta.Error {
			fmt.Println(ev.Type, "expired:", errors.Is(ev.Err, meta.ErrExpired))
			continue
		}
		fmt.Println(ev.Type, ev.Object.Name, ev.Object.Spec.Size, ev.Object.ResourceVersion)
	}
	// Output:
	// ADDED big 3 7
	// MODIFIED big 4 8
	// ERROR expired: true
}

// A kubeconfig names the server, its CA and the user's credentials; the
// context picks one pair of them.
func ExampleParseKubeconfig() {
	kubeconfig := []byte(`
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: pki/ca.crt
users:
- name: scheduler
  user:
    client-certificate: pki/scheduler.crt
    client-key: pki/scheduler.key
- name: admin
  user:
    token: s3cret
contexts:
- name: scheduler
  context: {cluster: local, user: scheduler}
- name: admin
  context: {cluster: local, user: admin, namespace: team-a}
current-context: admin
`)
	cfg, err := client.ParseKubeconfig(kubeconfig, "/etc/governor", "scheduler")
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Host, cfg.TLS.CAFile, cfg.TLS.CertFile)
	cfg, _ = client.ParseKubeconfig(kubeconfig, "/etc/governor", "")
	fmt.Println(cfg.BearerToken, cfg.Namespace)
	// Output:
	// https://127.0.0.1:6443 /etc/governor/pki/ca.crt /etc/governor/pki/scheduler.crt
	// s3cret team-a
}

// A component's main binds kubectl's connection flags and the client's
// limits; flags given on the command line override the kubeconfig.
func ExampleConfig_BindFlags() {
	var cfg client.Config
	fs := flag.NewFlagSet("scheduler", flag.ContinueOnError)
	flags := cfg.BindFlags(fs)
	_ = fs.Parse([]string{"-server", "http://127.0.0.1:8080", "-kube-api-qps", "100", "-kube-api-burst", "200"})
	if err := flags.Complete(fs); err != nil { // -server alone: no kubeconfig needed
		panic(err)
	}
	fmt.Println(cfg.Host, cfg.QPS, cfg.Burst)
	// Output:
	// http://127.0.0.1:8080 100 200
}
