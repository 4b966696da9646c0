package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store"
)

// ErrLeaderLost matches the error of an [Elector] (and a [Manager]) that
// could not renew its lease within the renew deadline. The process should
// stop its leader-only work at once; a Manager does.
var ErrLeaderLost = errors.New("reconcile: leader election lost")

// Leader election defaults, equal to controller-runtime's.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// LeaderElectionOptions configure an [Elector].
type LeaderElectionOptions struct {
	// Lock holds the lease. Required.
	Lock LeaseLock
	// Identity names this candidate; unique among the candidates.
	// Required.
	Identity string
	// LeaseDuration is how long the other candidates wait, after they last
	// saw the lease change, before they take it. Zero means 15s.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up leadership. It must be less than LeaseDuration, so that the
	// old leader has stepped down before anyone else may take over. Zero
	// means 10s.
	RenewDeadline time.Duration
	// RetryPeriod is the time between attempts to acquire or renew. Zero
	// means 2s.
	RetryPeriod time.Duration
	// KeepLeaseOnCancel leaves the lease held when the context is
	// cancelled, instead of releasing it so that another candidate takes
	// over at once.
	KeepLeaseOnCancel bool
	// Clock drives every wait. Nil means the wall clock.
	Clock clock.Clock
	// Logger gets the election's logs. Nil discards them.
	Logger *slog.Logger
}

// Elector runs leader election over a [LeaseLock]. Each candidate runs one
// Elector with its own identity; at most one of them is leader at any time,
// provided their clocks run at about the same rate.
//
// A candidate takes a lease that is free, or whose record it has seen
// unchanged for LeaseDuration. The leader renews every RetryPeriod; if it
// has not renewed for RenewDeadline it stops being leader, before any other
// candidate may take over.
type Elector struct {
	opts LeaderElectionOptions
	clk  clock.Clock
	log  *slog.Logger

	mu          sync.Mutex
	leading     bool
	renewedAt   time.Time // start of the last successful acquire or renew
	observedVer string
	observedAt  time.Time
	observed    LeaseRecord
	elected     chan struct{}
	electedOnce sync.Once
	attempts    *activity
}

// NewElector returns an Elector. It fails with an error matching
// [ErrInvalidOptions] when Lock or Identity is missing or the durations are
// inconsistent.
func NewElector(opts LeaderElectionOptions) (*Elector, error) {
	if opts.Lock == nil || opts.Identity == "" {
		return nil, fmt.Errorf("%w: leader election needs a Lock and an Identity", ErrInvalidOptions)
	}
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = DefaultLeaseDuration
	}
	if opts.RenewDeadline == 0 {
		opts.RenewDeadline = DefaultRenewDeadline
	}
	if opts.RetryPeriod == 0 {
		opts.RetryPeriod = DefaultRetryPeriod
	}
	if opts.LeaseDuration <= opts.RenewDeadline || opts.RenewDeadline <= opts.RetryPeriod || opts.RetryPeriod <= 0 {
		return nil, fmt.Errorf("%w: leader election needs LeaseDuration > RenewDeadline > RetryPeriod > 0 (got %s, %s, %s)",
			ErrInvalidOptions, opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{opts: opts, clk: clock.OrReal(opts.Clock), elected: make(chan struct{}), attempts: newActivity(),
		log: log.With("lease", opts.Lock.Describe(), "identity", opts.Identity)}, nil
}

// Identity returns the candidate's identity.
func (e *Elector) Identity() string { return e.opts.Identity }

// IsLeader reports whether this candidate leads now: it holds the lease
// and renewed it less than RenewDeadline ago by its clock.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading && e.clk.Since(e.renewedAt) < e.opts.RenewDeadline
}

// Elected returns a channel that is closed when this candidate first
// becomes leader.
func (e *Elector) Elected() <-chan struct{} { return e.elected }

// Attempted returns a channel that is closed after the next attempt to
// acquire or renew the lease, once the elector waits for the following one
// (or has stopped). Tests use it to step a fake clock in lockstep.
func (e *Elector) Attempted() <-chan struct{} { return e.attempts.wait() }

// Run campaigns until this candidate leads, then renews the lease until ctx
// is done (it returns nil, having released the lease unless
// KeepLeaseOnCancel) or until a renewal fails for RenewDeadline (it returns
// an error matching [ErrLeaderLost]). An Elector runs once.
func (e *Elector) Run(ctx context.Context) error {
	timer := e.clk.NewTimer(0)
	defer timer.Stop()
	defer e.attempts.bump()
	// Campaign.
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
		}
		if e.tryAcquireOrRenew(ctx) {
			break
		}
		timer.Reset(e.opts.RetryPeriod)
		e.attempts.bump()
	}
	e.log.Info("became leader")
	e.electedOnce.Do(func() { close(e.elected) })
	// Renew.
	for {
		timer.Reset(e.opts.RetryPeriod)
		e.attempts.bump()
		select {
		case <-ctx.Done():
			e.release()
			return nil
		case <-timer.C():
		}
		if e.tryAcquireOrRenew(ctx) {
			continue
		}
		if !e.IsLeader() {
			e.mu.Lock()
			e.leading = false
			e.mu.Unlock()
			e.log.Error("failed to renew the lease within the renew deadline; stepping down", "renewDeadline", e.opts.RenewDeadline)
			return fmt.Errorf("%w: %s: no renewal for %s", ErrLeaderLost, e.opts.Lock.Describe(), e.opts.RenewDeadline)
		}
	}
}

// tryAcquireOrRenew makes one attempt and reports whether this candidate
// holds the lease afterwards.
func (e *Elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := e.clk.Now()
	lock := e.opts.Lock
	rec, ver, err := lock.Get(ctx)
	if errors.Is(err, store.ErrNotFound) {
		rec = LeaseRecord{Holder: e.opts.Identity, Duration: e.opts.LeaseDuration, AcquireTime: now, RenewTime: now}
		ver, err = lock.Create(ctx, rec)
		if err != nil {
			e.log.Debug("could not create the lease", "err", err)
			return false
		}
		e.won(now, rec, ver)
		return true
	}
	if err != nil {
		e.log.Debug("could not read the lease", "err", err)
		return false
	}
	e.mu.Lock()
	if ver != e.observedVer {
		e.observedVer, e.observedAt, e.observed = ver, now, rec
	}
	heldByOther := rec.Holder != "" && rec.Holder != e.opts.Identity &&
		now.Before(e.observedAt.Add(rec.Duration))
	if heldByOther {
		// Someone else holds the lease: whatever our clock says, we do
		// not lead.
		e.leading = false
	}
	e.mu.Unlock()
	if heldByOther {
		return false
	}
	next := rec
	next.Duration = e.opts.LeaseDuration
	next.RenewTime = now
	if rec.Holder != e.opts.Identity {
		next.Holder = e.opts.Identity
		next.AcquireTime = now
		next.Transitions++
	}
	ver, err = lock.Update(ctx, next, ver)
	if err != nil {
		e.log.Debug("could not update the lease", "err", err)
		return false
	}
	e.won(now, next, ver)
	return true
}

func (e *Elector) won(at time.Time, rec LeaseRecord, ver string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leading, e.renewedAt = true, at
	e.observedVer, e.observedAt, e.observed = ver, at, rec
}

// release gives up leadership and, unless configured not to, frees the
// lease so that another candidate can take it without waiting for it to
// expire.
func (e *Elector) release() {
	e.mu.Lock()
	wasLeading := e.leading
	e.leading = false
	e.mu.Unlock()
	if !wasLeading || e.opts.KeepLeaseOnCancel {
		return
	}
	// The caller's context is done; releasing must still reach the store.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := e.clk.AfterFunc(e.opts.RenewDeadline, cancel)
	defer t.Stop()
	rec, ver, err := e.opts.Lock.Get(ctx)
	if err != nil || rec.Holder != e.opts.Identity {
		return
	}
	now := e.clk.Now()
	rec.Holder, rec.Duration, rec.RenewTime, rec.AcquireTime = "", time.Second, now, now
	if _, err := e.opts.Lock.Update(ctx, rec, ver); err != nil {
		e.log.Warn("could not release the lease", "err", err)
		return
	}
	e.log.Info("released the lease")
}
