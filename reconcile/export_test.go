package reconcile

import "io"

// SetDefaultLogOutput makes managers created without a Logger write to w
// until restore is called.
func SetDefaultLogOutput(w io.Writer) (restore func()) {
	old := defaultLogOutput
	defaultLogOutput = w
	return func() { defaultLogOutput = old }
}
