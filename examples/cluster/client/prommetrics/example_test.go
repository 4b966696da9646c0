package prommetrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/client"
	"github.com/governor-io/governor/examples/cluster/client/prommetrics"
	"github.com/governor-io/governor/store/meta"
)

type Gadget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
}

var gadgets = api.Type[*Gadget]{Group: "example.dev", Version: "v1", Kind: "Gadget", Resource: "gadgets", Namespaced: true}

// A client's requests are counted by code, method and host, as client-go's
// are.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	provider, err := prommetrics.New(reg)
	if err != nil {
		panic(err)
	}
	c, err := client.New(client.Config{Host: srv.URL, Metrics: provider, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_, err = client.For(c, gadgets).Get(context.Background(), "default", "x")
	fmt.Println(err)

	u, _ := url.Parse(srv.URL)
	want := fmt.Sprintf(`
# HELP rest_client_requests_total Number of HTTP requests, partitioned by status code, method, and host.
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="404",host=%q,method="GET"} 1
`, u.Host)
	fmt.Println(testutil.GatherAndCompare(reg, strings.NewReader(want), prommetrics.RequestsName))
	n, _ := testutil.GatherAndCount(reg, prommetrics.RequestDurationName)
	fmt.Println("duration series:", n)
	// Output:
	// client: get gadgets.example.dev default/x: store: NotFound
	// <nil>
	// duration series: 1
}
