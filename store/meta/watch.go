package meta

import (
	"fmt"
	"strconv"
)

// EventType is the type of a [WatchEvent]. The strings are Kubernetes'.
type EventType string

// The kinds of watch event.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
	// Bookmark carries no change. Its Object has only a ResourceVersion:
	// every change up to it has been sent.
	Bookmark EventType = "BOOKMARK"
	// Error ends a watch. Its Err says why (an Expired error, say).
	Error EventType = "ERROR"
)

// InitialEventsEndAnnotation marks the bookmark that ends the initial events
// of a watch opened with SendInitialEvents, as in Kubernetes.
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

// WatchEvent is one change to one object, a bookmark, or the error that
// ends a watch.
type WatchEvent[T any] struct {
	Type EventType
	// Object is the object after the change; for Deleted, the object as it
	// was last stored, with the ResourceVersion of the delete.
	Object T
	// Err is set on Error events.
	Err error
}

// ListOptions select and shape a List or a Watch. The selectors use
// Kubernetes' string syntax.
type ListOptions struct {
	// Namespace limits the call to one namespace. "" means all.
	Namespace string
	// LabelSelector, such as "app=web,tier in (front,back),!legacy".
	LabelSelector string
	// FieldSelector, such as "metadata.name=web,spec.nodeName!=".
	FieldSelector string
	// ResourceVersion: for List, "" reads the latest state and "N" reads
	// at revision N. For Watch, "" (or "0") starts with synthetic ADDED
	// events for the current state, then changes; "N" sends every change
	// after N.
	ResourceVersion string
	// Limit caps the items of one List page; Continue resumes the list
	// from the token of the previous page.
	Limit    int64
	Continue string
	// AllowWatchBookmarks asks a Watch for BOOKMARK events.
	AllowWatchBookmarks bool
	// SendInitialEvents, for a Watch, asks for the current state as ADDED
	// events followed by a bookmark annotated with
	// InitialEventsEndAnnotation.
	SendInitialEvents bool
}

// List is one page of objects.
type List[T any] struct {
	Items []T
	// ResourceVersion is the revision the list read at.
	ResourceVersion string
	// Continue is the token for the next page, or "" on the last page.
	Continue string
}

// FormatResourceVersion renders a KV revision as a resourceVersion.
func FormatResourceVersion(rev int64) string { return strconv.FormatInt(rev, 10) }

// ParseResourceVersion parses a resourceVersion into a KV revision. ""
// parses as 0. Anything but a non-negative decimal is a BadRequest error.
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, NewBadRequest(fmt.Sprintf("invalid resourceVersion %q", rv))
	}
	return n, nil
}
