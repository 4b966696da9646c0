package client

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/governor-io/governor/store/meta"
)

// FuzzWatchDecode feeds arbitrary bytes to the watch stream decoder: it
// must end with events or an ERROR, never panic or hang.
func FuzzWatchDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}` + "\n",
		`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}`,
		`{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}}`,
		`{"type":"ERROR","object":{"kind":"Status","code":"x"}}`,
		`{"type":"DELETED","object":null}`,
		`{"type":"MODIFIED"}{"type":`,
		"<html>", "", "[]", `{"type":"ADDED","object":{"spec":{"replicas":"many"}}}`,
	} {
		f.Add([]byte(seed))
	}
	r := For(&Client{}, widgets)
	f.Fuzz(func(t *testing.T, data []byte) {
		ch := make(chan meta.WatchEvent[*Widget])
		go r.decodeWatch(context.Background(), io.NopCloser(bytes.NewReader(data)), ch)
		for ev := range ch {
			switch ev.Type {
			case meta.Error:
				if ev.Err == nil {
					t.Fatal("ERROR event without an error")
				}
			case meta.Added, meta.Modified, meta.Deleted, meta.Bookmark:
				if ev.Object == nil {
					t.Fatalf("%s event without an object", ev.Type)
				}
			default:
				t.Fatalf("event of type %q", ev.Type)
			}
		}
	})
}

// FuzzParseKubeconfig feeds arbitrary bytes to the kubeconfig parser: an
// error or a Config with a host, never a panic.
func FuzzParseKubeconfig(f *testing.F) {
	f.Add([]byte("clusters: [{name: c, cluster: {server: \"https://x\"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\ncurrent-context: x\n"))
	f.Add([]byte("clusters: [{name: c, cluster: {server: \"https://x\", certificate-authority-data: \"QUJD\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Add([]byte("clusters: 3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseKubeconfig(data, "/tmp", "")
		if err == nil && cfg.Host == "" {
			t.Fatal("a Config without a host and no error")
		}
	})
}
