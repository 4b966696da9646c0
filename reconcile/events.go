package reconcile

import (
	"github.com/governor-io/governor/store/event"
)

// EventRecorder returns the manager's recorder of Kubernetes Events for
// component, such as a controller's name: the same one for every call with
// the same component, so that repeats aggregate into one event's count. It
// writes into ManagerOptions.Events, on the manager's clock, naming
// component as the source and the leader election identity (if any) as
// the host; without an Events store it only logs the events through the
// manager's logger. A reconciler records with the reconcile's context:
//
//	rec := mgr.EventRecorder("backup")
//	// in Reconcile, after creating job for the Backup b:
//	rec.Eventf(ctx, b, event.TypeNormal, "Created", "created job %s", job.Name)
func (m *Manager) EventRecorder(component string) *event.Recorder {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.recorders[component]; ok {
		return r
	}
	opts := event.Options{Component: component, Clock: m.clk}
	if le := m.opts.LeaderElection; le != nil {
		opts.Host = le.Identity
	}
	if m.opts.Events == nil {
		opts.Logger = m.log
	}
	r := event.NewRecorder(m.opts.Events, opts)
	if m.recorders == nil {
		m.recorders = map[string]*event.Recorder{}
	}
	m.recorders[component] = r
	return r
}
