package informer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/governor-io/governor/store/meta"
)

// ErrCacheMutation is matched (errors.Is) by every [MutationError].
var ErrCacheMutation = errors.New("informer: a cached object was modified")

// MutationError says that a cached object, which every reader shares, was
// modified after the informer cached it. [Options].DetectMutations finds
// them.
type MutationError struct {
	// Informer is the informer's [Options].Name.
	Informer string
	// Key is the object's cache key.
	Key string
	// Type is the object's Go type.
	Type string
	// Where is the check that found the change, such as
	// `after handler "pods" returned from OnUpdate`.
	Where string
	// Diff shows the change, as lines of the object's JSON: "-" as cached,
	// "+" as it is now.
	Diff string
}

// Error names the object, the check that found the change, and the change.
func (e *MutationError) Error() string {
	return fmt.Sprintf("informer %s: cached object %s (%s) was modified (found %s); "+
		"objects from a cache or a handler are shared: modify a copy from meta.DeepCopy instead:\n%s",
		e.Informer, e.Key, e.Type, e.Where, e.Diff)
}

// Is reports whether target is [ErrCacheMutation].
func (e *MutationError) Is(target error) bool { return target == ErrCacheMutation }

// mutationDetector keeps a private copy of every object the informer
// caches and compares the shared object with it at each check point. It
// holds every version it has seen for the informer's lifetime: a tool for
// tests, not for production.
type mutationDetector[T meta.Object] struct {
	informer string
	report   func(error)

	mu sync.Mutex
	// records holds one record per cached object, by identity.
	records map[any]*record[T]
	order   []*record[T] // in caching order, for a stable checkAll
}

type record[T any] struct {
	key      string
	obj      T
	copy     T
	reported bool
}

func newMutationDetector[T meta.Object](name string, report func(error)) *mutationDetector[T] {
	if report == nil {
		report = func(err error) { panic(err) }
	}
	return &mutationDetector[T]{informer: name, report: report, records: map[any]*record[T]{}}
}

// add records a private copy of obj, which is about to be shared. An
// object of a type that cannot be a map key (not a pointer) is not
// tracked.
func (d *mutationDetector[T]) add(key string, obj T) {
	id, ok := identity(obj)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.records[id]; ok {
		return
	}
	r := &record[T]{key: key, obj: obj, copy: meta.DeepCopy(obj)}
	d.records[id] = r
	d.order = append(d.order, r)
}

// identity returns obj as a map key, if it is a non-nil object of a
// comparable type.
func identity(obj any) (any, bool) {
	if obj == nil {
		return nil, false
	}
	v := reflect.ValueOf(obj)
	if v.Kind() == reflect.Pointer && v.IsNil() || !v.Type().Comparable() {
		return nil, false
	}
	return obj, true
}

// check compares the tracked objects among objs with their copies and
// reports the first change of each.
func (d *mutationDetector[T]) check(where string, objs ...T) {
	for _, obj := range objs {
		id, ok := identity(obj)
		if !ok {
			continue
		}
		d.mu.Lock()
		r := d.records[id]
		d.mu.Unlock()
		if err := d.compare(r, where); err != nil {
			d.report(err)
		}
	}
}

// checkAll compares every tracked object with its copy and returns the
// changes not reported before.
func (d *mutationDetector[T]) checkAll(where string) error {
	d.mu.Lock()
	all := slices.Clone(d.order)
	d.mu.Unlock()
	var errs []error
	for _, r := range all {
		if err := d.compare(r, where); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// compare returns a *MutationError if r's object changed and was not
// reported yet, and marks it reported.
func (d *mutationDetector[T]) compare(r *record[T], where string) error {
	if r == nil || reflect.DeepEqual(r.obj, r.copy) {
		return nil
	}
	d.mu.Lock()
	seen := r.reported
	r.reported = true
	d.mu.Unlock()
	if seen {
		return nil
	}
	return &MutationError{Informer: d.informer, Key: r.key, Type: fmt.Sprintf("%T", r.obj),
		Where: where, Diff: jsonDiff(r.copy, r.obj)}
}

// jsonDiff shows how now differs from was, as the lines of their indented
// JSON between the common first and last lines.
func jsonDiff(was, now any) string {
	a, errA := json.MarshalIndent(was, "", "  ")
	b, errB := json.MarshalIndent(now, "", "  ")
	if errA != nil || errB != nil {
		return fmt.Sprintf("- %+v\n+ %+v", was, now)
	}
	if bytes.Equal(a, b) {
		return "(the change is in fields that JSON does not show)"
	}
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	var sb strings.Builder
	for _, l := range la[pre : len(la)-suf] {
		sb.WriteString("- " + strings.TrimSpace(l) + "\n")
	}
	for _, l := range lb[pre : len(lb)-suf] {
		sb.WriteString("+ " + strings.TrimSpace(l) + "\n")
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
