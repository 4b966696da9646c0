package api_test

import (
	"fmt"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// Widget is a resource of the example group "example.dev".
type Widget struct {
	meta.TypeMeta
	meta.ObjectMeta `json:"metadata"`
	Spec            struct {
		Size int32 `json:"size"`
	} `json:"spec"`
}

// Describing a resource: the Type gives discovery's names, kubectl's
// columns and the store's view of it.
func ExampleType() {
	widgets := api.Type[*Widget]{
		Group: "example.dev", Version: "v1", Kind: "Widget",
		Resource: "widgets", Singular: "widget", Namespaced: true,
		ShortNames: []string{"wd"}, Categories: []string{"all"},
		Columns: []api.TableColumn{
			{Name: "Name", Type: "string", Format: "name"},
			{Name: "Size", Type: "integer"},
		},
		Cells: func(w *Widget, now time.Time) []any { return []any{w.Name, int64(w.Spec.Size)} },
		New:   func() *Widget { return new(Widget) },
	}
	w := &Widget{ObjectMeta: meta.ObjectMeta{Name: "big"}}
	w.Spec.Size = 3
	fmt.Println(widgets.APIVersion(), widgets.ListKind(), widgets.GroupResource())
	fmt.Println(widgets.StoreResource().Name, widgets.Cells(w, time.Now()))
	// Output:
	// example.dev/v1 WidgetList widgets.example.dev
	// widgets.example.dev [big 3]
}
