package builtin_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/governor-io/governor/examples/cluster/api"
	"github.com/governor-io/governor/examples/cluster/api/builtin"
	"github.com/governor-io/governor/store/meta"
)

func Example() {
	var names []string
	_ = builtin.Install(builtin.RegistrarFunc(func(t api.Type[meta.Object]) error {
		if t.Group == "" {
			names = append(names, t.Resource)
		}
		return nil
	}))
	fmt.Println(strings.Join(names, " "))
	// Output: namespaces pods nodes services configmaps secrets serviceaccounts events
}

func TestEveryBuiltinIsComplete(t *testing.T) {
	seen := map[string]bool{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, typ := range builtin.All() {
		gr := typ.GroupResource()
		if seen[gr] {
			t.Errorf("%s listed twice", gr)
		}
		seen[gr] = true
		if typ.Version == "" || typ.Kind == "" || typ.Resource == "" || typ.Singular == "" || typ.New == nil {
			t.Errorf("%s: incomplete descriptor %+v", gr, typ)
			continue
		}
		if typ.Singular != strings.ToLower(typ.Kind) {
			t.Errorf("%s: singular %q, kind %q", gr, typ.Singular, typ.Kind)
		}
		obj := typ.New()
		if reflect.TypeOf(obj).Kind() != reflect.Pointer {
			t.Errorf("%s: New returns %T", gr, obj)
		}
		if typ.Default != nil {
			typ.Default(obj)
		}
		if typ.Cells == nil || len(typ.Columns) == 0 {
			t.Errorf("%s: no table", gr)
		} else if cells := typ.Cells(obj, now); len(cells) != len(typ.Columns) {
			t.Errorf("%s: %d cells for %d columns", gr, len(cells), len(typ.Columns))
		}
		hasName := false
		for _, c := range typ.Columns {
			if c.Format == "name" {
				hasName = true
			}
		}
		if !hasName {
			t.Errorf("%s: no name column", gr)
		}
		if typ.Validate == nil {
			t.Errorf("%s: no validation", gr)
		} else if causes := typ.Validate(obj); len(causes) == 0 {
			t.Errorf("%s: an object without a name passed validation", gr)
		}
		if typ.HasSubresource("scale") != (typ.Scale != nil) {
			t.Errorf("%s: scale subresource %v but ScaleAccess %v", gr, typ.HasSubresource("scale"), typ.Scale != nil)
		}
		for f, get := range typ.Fields {
			_ = get(obj) // every field getter reads a zero object without panicking
			if f == "" {
				t.Errorf("%s: empty field name", gr)
			}
		}
		// The JSON of a new object decodes into another.
		b, err := json.Marshal(obj)
		if err != nil {
			t.Errorf("%s: %v", gr, err)
		}
		if err := json.Unmarshal(b, typ.New()); err != nil {
			t.Errorf("%s: %v", gr, err)
		}
		// Deep copies share nothing with the original and equal it.
		cp := meta.DeepCopy(obj)
		if !reflect.DeepEqual(cp, obj) {
			t.Errorf("%s: DeepCopy differs", gr)
		}
	}
	if len(seen) != 21 {
		t.Errorf("%d built-ins, want 21", len(seen))
	}
}

func TestInstallStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	err := builtin.Install(builtin.RegistrarFunc(func(t api.Type[meta.Object]) error {
		n++
		if t.Resource == "pods" {
			return boom
		}
		return nil
	}))
	if !errors.Is(err, boom) || n != 2 || !strings.Contains(err.Error(), "pods") {
		t.Fatalf("err %v after %d calls", err, n)
	}
}
