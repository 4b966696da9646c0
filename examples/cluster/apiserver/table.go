package apiserver

import (
	"net/http"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/store/meta"
)

// table is a meta.k8s.io Table, what `kubectl get` asks for.
type table struct {
	Kind              string            `json:"kind"`
	APIVersion        string            `json:"apiVersion"`
	Metadata          listMeta          `json:"metadata"`
	ColumnDefinitions []api.TableColumn `json:"columnDefinitions"`
	Rows              []tableRow        `json:"rows"`
}

type tableRow struct {
	Cells  []any `json:"cells"`
	Object any   `json:"object,omitempty"`
}

// partialObjectMetadata is an object's metadata alone, as meta.k8s.io/v1
// PartialObjectMetadata.
type partialObjectMetadata struct {
	Kind       string          `json:"kind"`
	APIVersion string          `json:"apiVersion"`
	Metadata   meta.ObjectMeta `json:"metadata"`
}

func partialMetadata[T meta.Object](obj T) partialObjectMetadata {
	return partialObjectMetadata{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1", Metadata: *obj.GetObjectMeta()}
}

// defaultColumns are the columns of a Type without its own: NAME and AGE.
var defaultColumns = []api.TableColumn{
	{Name: "Name", Type: "string", Format: "name", Description: "Name must be unique within a namespace."},
	{Name: "Age", Type: "string", Description: "Time since the object was created."},
}

// table renders objs as a Table. Rows carry the object as
// PartialObjectMetadata, or whole with includeObject=Object, or not at all
// with includeObject=None.
func (r *resource[T]) table(objs []T, rv, cont string, neg negotiation, req *http.Request) table {
	cols := r.t.Columns
	if len(cols) == 0 || r.t.Cells == nil {
		cols = defaultColumns
	}
	now := r.s.clock.Now()
	include := req.URL.Query().Get("includeObject")
	t := table{Kind: "Table", APIVersion: "meta.k8s.io/" + neg.tableVersion,
		Metadata: listMeta{ResourceVersion: rv, Continue: cont}, ColumnDefinitions: cols, Rows: []tableRow{}}
	if neg.tableVersion == "" {
		t.APIVersion = "meta.k8s.io/v1"
	}
	for _, o := range objs {
		var cells []any
		if len(r.t.Columns) > 0 && r.t.Cells != nil {
			cells = r.t.Cells(o, now)
		} else {
			m := o.GetObjectMeta()
			cells = []any{m.Name, api.Age(m.CreationTimestamp, now)}
		}
		row := tableRow{Cells: cells}
		switch include {
		case "None":
		case "Object":
			row.Object = o
		default:
			row.Object = partialMetadata(o)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
