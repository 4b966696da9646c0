package api

import (
	"fmt"
	"time"

	"github.com/governor-io/governor/store/meta"
)

// NameColumn is the NAME column every table starts with.
var NameColumn = TableColumn{Name: "Name", Type: "string", Format: "name",
	Description: "Name must be unique within a namespace. It is required when creating resources."}

// AgeColumn is the AGE column: the time since the object was created.
var AgeColumn = TableColumn{Name: "Age", Type: "string",
	Description: "CreationTimestamp is a timestamp representing the server time when this object was created."}

// CreatedAtColumn is the CREATED AT column of the types kubectl prints
// with a creation date rather than an age (roles, CRDs).
var CreatedAtColumn = TableColumn{Name: "Created At", Type: "date",
	Description: "CreationTimestamp is a timestamp representing the server time when this object was created."}

// Age returns the time since t in kubectl's short form ("45s", "3m20s",
// "5h", "12d"), or "<unknown>" when t is zero.
func Age(t meta.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(t.Time))
}

// HumanDuration prints d as kubectl does in AGE columns: exact for short
// durations, then with two units, then one, coarser as it grows ("90s",
// "5m3s", "45m", "2h15m", "30h", "3d4h", "200d", "2y30d", "9y"). A
// negative d of more than a second is "<invalid>" (clock skew of up to a
// second reads as "0s").
func HumanDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs < -1 {
		return "<invalid>"
	}
	if secs < 0 {
		return "0s"
	}
	if secs < 120 {
		return fmt.Sprintf("%ds", secs)
	}
	mins := secs / 60
	switch {
	case mins < 10:
		return twoUnits(mins, "m", secs%60, "s")
	case mins < 180:
		return fmt.Sprintf("%dm", mins)
	}
	hours := mins / 60
	switch {
	case hours < 8:
		return twoUnits(hours, "h", mins%60, "m")
	case hours < 48:
		return fmt.Sprintf("%dh", hours)
	}
	days := hours / 24
	switch {
	case days < 8:
		return twoUnits(days, "d", hours%24, "h")
	case days < 2*365:
		return fmt.Sprintf("%dd", days)
	case days < 8*365:
		return twoUnits(days/365, "y", days%365, "d")
	}
	return fmt.Sprintf("%dy", days/365)
}

// twoUnits prints "3m20s", or "3m" when the smaller unit is zero.
func twoUnits(big int64, bigUnit string, small int64, smallUnit string) string {
	if small == 0 {
		return fmt.Sprintf("%d%s", big, bigUnit)
	}
	return fmt.Sprintf("%d%s%d%s", big, bigUnit, small, smallUnit)
}

// Columns returns the NAME column followed by cols: the usual way to
// write a Type's Columns.
func Columns(cols ...TableColumn) []TableColumn {
	return append([]TableColumn{NameColumn}, cols...)
}

// Column returns a string column named name (Priority 0) with a
// description.
func Column(name, description string) TableColumn {
	return TableColumn{Name: name, Type: "string", Description: description}
}

// WideColumn returns a string column named name that kubectl prints only
// with -o wide (Priority 1).
func WideColumn(name, description string) TableColumn {
	return TableColumn{Name: name, Type: "string", Description: description, Priority: 1}
}
