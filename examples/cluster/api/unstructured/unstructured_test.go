package unstructured_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api/unstructured"
	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

const doc = `{"apiVersion":"example.com/v1","kind":"App","metadata":{"name":"web","namespace":"ns","labels":{"a":"b"}},"spec":{"big":9007199254740993,"list":[1,"x",null]},"status":{"ready":true}}`

func TestRoundTrip(t *testing.T) {
	for _, o := range []*unstructured.Object{unstructured.New(), unstructured.NewWithStatus()} {
		if err := json.Unmarshal([]byte(doc), o); err != nil {
			t.Fatal(err)
		}
		if o.Name != "web" || o.Namespace != "ns" || o.Kind != "App" || o.APIVersion != "example.com/v1" {
			t.Fatalf("metadata not decoded: %+v", o)
		}
		if (o.Status != nil) != o.SplitsStatus() {
			t.Fatalf("status placement: split %v, Status %v", o.SplitsStatus(), o.Status)
		}
		out, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != doc {
			t.Fatalf("round trip:\n got %s\nwant %s", out, doc)
		}
		c := o.DeepCopy()
		c.Content["spec"].(map[string]any)["list"].([]any)[0] = "changed"
		c.Labels["a"] = "changed"
		if again, _ := json.Marshal(o); string(again) != doc || c.SplitsStatus() != o.SplitsStatus() {
			t.Fatalf("DeepCopy shares memory: %s", again)
		}
	}
	if err := json.Unmarshal([]byte(`[1]`), unstructured.New()); err == nil {
		t.Fatal("an array decoded as an object")
	}
}

func TestFieldsAndPaths(t *testing.T) {
	o := unstructured.NewWithStatus()
	if err := json.Unmarshal([]byte(doc), o); err != nil {
		t.Fatal(err)
	}
	f := o.Fields()
	if v, ok := unstructured.Lookup(f, "status", "ready"); !ok || v != true {
		t.Fatalf("Lookup status.ready = %v %v", v, ok)
	}
	if err := unstructured.Set(f, json.Number("3"), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.Set(f, 1, "spec", "big", "x"); err == nil {
		t.Fatal("Set through a number succeeded")
	}
	delete(f, "status")
	o.SetFields(f)
	if o.Status != nil || o.Content["spec"].(map[string]any)["replicas"] != json.Number("3") {
		t.Fatalf("SetFields: %+v", o)
	}
	if m := o.Map(); m["metadata"].(map[string]any)["name"] != "web" {
		t.Fatalf("Map: %v", m)
	}
}

// TestStore keeps Objects in a store: spec changes bump the generation,
// and with a split status, Update keeps the stored status while
// UpdateStatus changes only it.
func TestStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv := mvcc.New(mvcc.Options{})
	defer kv.Close()
	st := store.New(kv, store.Resource[*unstructured.Object]{Name: "apps.example.com", Kind: "App",
		APIVersion: "example.com/v1", Namespaced: true, New: unstructured.NewWithStatus})
	o := unstructured.NewWithStatus()
	if err := json.Unmarshal([]byte(doc), o); err != nil {
		t.Fatal(err)
	}
	created, err := st.Create(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	upd := created.DeepCopy()
	upd.Content["spec"].(map[string]any)["big"] = json.Number("1")
	upd.Status = map[string]any{"ready": false}
	got, err := st.Update(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation != created.Generation+1 || got.Status.(map[string]any)["ready"] != true {
		t.Fatalf("Update: generation %d (was %d), status %v", got.Generation, created.Generation, got.Status)
	}
	st2 := got.DeepCopy()
	st2.Status = map[string]any{"ready": false}
	st2.Content = nil
	got2, err := st.UpdateStatus(ctx, st2)
	if err != nil {
		t.Fatal(err)
	}
	if got2.Generation != got.Generation || got2.Status.(map[string]any)["ready"] != false || got2.Content["spec"] == nil {
		t.Fatalf("UpdateStatus: %+v", got2)
	}
	if _, err := st.Create(ctx, o); !errors.Is(err, meta.ErrAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
}
