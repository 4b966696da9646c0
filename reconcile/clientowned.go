package reconcile

import (
	"cmp"
	"slices"
	"strings"

	"github.com/governor-io/governor/store/meta"
)

// ControlledBy returns the cached objects in owner's namespace whose
// controller reference names owner (by uid, as [meta.IsControlledBy]
// checks): the children of owner that an [Owns] watch maps back to it.
// They are sorted oldest first (by creationTimestamp, then name), so the
// newest is the last. Like [Client.List], it returns shared, read-only
// objects.
func (c *Client[T]) ControlledBy(owner meta.Object) []T {
	all, _ := c.inf.Lister().ByNamespace(owner.GetObjectMeta().Namespace).List("") // an empty selector never fails
	var out []T
	for _, obj := range all {
		if meta.IsControlledBy(obj, owner) {
			out = append(out, obj)
		}
	}
	slices.SortFunc(out, func(a, b T) int {
		am, bm := a.GetObjectMeta(), b.GetObjectMeta()
		return cmp.Or(am.CreationTimestamp.Compare(bm.CreationTimestamp.Time), strings.Compare(am.Name, bm.Name))
	})
	return out
}
