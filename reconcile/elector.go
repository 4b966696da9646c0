package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/governor-io/governor/clock"
	"github.com/governor-io/governor/store/meta"
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
	// gives up leadership: it stops leading RenewDeadline after the start
	// of its last successful renewal, even while a renewal still hangs. It
	// must be less than LeaseDuration, so that the old leader has stepped
	// down before anyone else may take over. Zero means 10s.
	RenewDeadline time.Duration
	// RetryPeriod is the time between attempts to acquire or renew, and
	// bounds each attempt: its context ends after RetryPeriod (a renewal's
	// also at the renew deadline), and the next attempt follows. Zero
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
	// Name names the lease in the leader_election_master_status metric
	// (label "name"), as controller-runtime's LeaderElectionID does. Empty
	// means the lock's Describe().
	Name string
	// Metrics, when set, reports whether this candidate leads
	// (leader_election_master_status: 1 while [Elector.IsLeader], 0
	// otherwise). Nil means the manager's ([Manager.Metrics]) for the
	// elector of a [Manager], and no metrics for one on its own.
	Metrics MetricsProvider
}

// Elector runs leader election over a [LeaseLock]. Each candidate runs one
// Elector with its own identity; at most one of them is leader at any time,
// provided their clocks run at about the same rate.
//
// A candidate takes a lease that is free, or whose record it has seen
// unchanged for LeaseDuration. The leader renews every RetryPeriod. Every
// attempt, to acquire or to renew, runs on a context that ends after
// RetryPeriod, and a renewal's context also ends when the leadership
// it would extend runs out: RenewDeadline after the start of the last
// successful renewal. At that instant, whether or not a call to the lock
// is still hanging, the leader stops leading ([Elector.Lost] is closed),
// which is before any other candidate may take over (LeaseDuration after
// it last saw the lease change, no earlier than that renewal).
type Elector struct {
	opts LeaderElectionOptions
	clk  clock.Clock
	log  *slog.Logger

	mu          sync.Mutex
	leading     bool
	lost        bool // leadership ended; it never comes back in this run
	lostReason  string
	renewedAt   time.Time // start of the last successful acquire or renew
	observedVer string
	observedAt  time.Time
	observed    LeaseRecord
	watchdog    clock.Timer // fires when renewedAt+RenewDeadline passes
	elected     chan struct{}
	electedOnce sync.Once
	lostC       chan struct{}
	attempts    *activity
}

// errAttemptTimeout is the cause of an attempt's context that ran out of
// its retry period; errLeaseExpired of a renewal that ran out of the renew
// deadline.
var (
	errAttemptTimeout = errors.New("reconcile: lease attempt took longer than the retry period")
	errLeaseExpired   = errors.New("reconcile: renew deadline passed")
)

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
	e := &Elector{opts: opts, clk: clock.OrReal(opts.Clock), elected: make(chan struct{}), lostC: make(chan struct{}),
		attempts: newActivity(), log: log.With("lease", opts.Lock.Describe(), "identity", opts.Identity)}
	if opts.Metrics != nil {
		name := opts.Name
		if name == "" {
			name = opts.Lock.Describe()
		}
		opts.Metrics.NewLeaderElectionMetric(name, e.IsLeader)
	}
	return e, nil
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

// Lost returns a channel that is closed when this candidate, having been
// elected, stops leading: its renew deadline passed without a renewal
// (even while a call to the lock still hangs), another candidate holds
// the lease, or Run returned. Leader-only work must stop when it closes;
// a [Manager] stops its leader-only runnables then.
func (e *Elector) Lost() <-chan struct{} { return e.lostC }

// Attempted returns a channel that is closed after the next attempt to
// acquire or renew the lease, once the elector waits for the following one
// (or has stopped). Tests use it to step a fake clock in lockstep.
func (e *Elector) Attempted() <-chan struct{} { return e.attempts.wait() }

// Run campaigns until this candidate leads, then renews the lease until ctx
// is done (it returns nil, having released the lease unless
// KeepLeaseOnCancel) or until leadership is lost (it returns an error
// matching [ErrLeaderLost]). An Elector runs once.
func (e *Elector) Run(ctx context.Context) error {
	// next paces the attempts: one every RetryPeriod, counted from the
	// start of the previous one, so that an attempt cut off by its
	// deadline is followed at once by the next.
	next := e.clk.NewTimer(0)
	defer next.Stop()
	defer e.attempts.bump()
	// Campaign.
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-next.C():
		}
		next.Reset(e.opts.RetryPeriod)
		actx, cancel := withClockTimeout(ctx, e.clk, e.opts.RetryPeriod, errAttemptTimeout)
		ok := e.tryAcquireOrRenew(actx)
		cancel()
		if ok {
			break
		}
		e.attempts.bump()
	}
	e.log.Info("became leader")
	e.electedOnce.Do(func() { close(e.elected) })
	defer e.stopLeading(reasonStopped)
	// Renew.
	for {
		e.attempts.bump()
		select {
		case <-ctx.Done():
			e.release()
			return nil
		case <-e.lostC:
			return e.lostErr()
		case <-next.C():
		}
		next.Reset(e.opts.RetryPeriod)
		e.mu.Lock()
		left := e.opts.RenewDeadline - e.clk.Since(e.renewedAt)
		e.mu.Unlock()
		// The renewal may not outlive the leadership it extends.
		rctx, cancelR := withClockTimeout(ctx, e.clk, left, errLeaseExpired)
		actx, cancelA := withClockTimeout(rctx, e.clk, e.opts.RetryPeriod, errAttemptTimeout)
		// The attempt runs aside, so that a lock call that ignores its
		// context cannot hold Run past the loss of leadership.
		res := make(chan bool, 1)
		go func() { res <- e.tryAcquireOrRenew(actx) }()
		var ok bool
		select {
		case ok = <-res:
		case <-e.lostC:
		}
		cancelA()
		cancelR()
		if ok {
			continue
		}
		e.mu.Lock()
		expired := e.clk.Since(e.renewedAt) >= e.opts.RenewDeadline
		e.mu.Unlock()
		if expired {
			e.stopLeading(fmt.Sprintf("no renewal within the renew deadline %s", e.opts.RenewDeadline))
		}
	}
}

// lostErr is the error of a Run whose leadership was lost.
func (e *Elector) lostErr() error {
	e.mu.Lock()
	reason := e.lostReason
	e.mu.Unlock()
	return fmt.Errorf("%w: %s: %s", ErrLeaderLost, e.opts.Lock.Describe(), reason)
}

// reasonStopped is the reason of a leadership that ended because Run
// returned, not because it was lost.
const reasonStopped = "the elector stopped"

// stopLeading ends the leadership, once: from then on IsLeader is false,
// Lost is closed and no late renewal brings it back.
func (e *Elector) stopLeading(reason string) {
	e.mu.Lock()
	if e.lost {
		e.mu.Unlock()
		return
	}
	e.lost, e.leading, e.lostReason = true, false, reason
	if e.watchdog != nil {
		e.watchdog.Stop()
	}
	e.mu.Unlock()
	close(e.lostC)
	if reason != reasonStopped {
		e.log.Error("stopped leading", "reason", reason)
	}
}

// checkDeadline runs when the renew deadline of the last renewal passes:
// unless a renewal has moved it since, leadership ends now, whatever the
// renewal in flight is doing.
func (e *Elector) checkDeadline() {
	e.mu.Lock()
	left := e.opts.RenewDeadline - e.clk.Since(e.renewedAt)
	if e.lost || !e.leading {
		e.mu.Unlock()
		return
	}
	if left > 0 {
		e.watchdog.Reset(left)
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	e.stopLeading(fmt.Sprintf("no renewal within the renew deadline %s", e.opts.RenewDeadline))
}

// tryAcquireOrRenew makes one attempt and reports whether this candidate
// holds the lease afterwards.
func (e *Elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := e.clk.Now()
	lock := e.opts.Lock
	rec, ver, err := lock.Get(ctx)
	if errors.Is(err, meta.ErrNotFound) {
		rec = LeaseRecord{Holder: e.opts.Identity, Duration: e.opts.LeaseDuration, AcquireTime: now, RenewTime: now}
		ver, err = lock.Create(ctx, rec)
		if err != nil {
			e.log.Debug("could not create the lease", "err", err)
			return false
		}
		return e.won(now, rec, ver)
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
	wasLeading := e.leading
	e.mu.Unlock()
	if heldByOther {
		// Someone else holds the lease: whatever our clock says, we do
		// not lead.
		if wasLeading {
			e.stopLeading("the lease is held by " + rec.Holder)
		}
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
	return e.won(now, next, ver)
}

// won records a successful acquire or renew that started at at. It
// reports false when leadership was lost meanwhile: a renewal that lands
// after the deadline does not bring it back.
func (e *Elector) won(at time.Time, rec LeaseRecord, ver string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.observedVer, e.observedAt, e.observed = ver, at, rec
	left := e.opts.RenewDeadline - e.clk.Since(at)
	if e.lost || left <= 0 {
		// Lost meanwhile, or the write took so long (a lock that ignores
		// its context) that the leadership it proves is already over.
		return false
	}
	e.leading, e.renewedAt = true, at
	if e.watchdog == nil {
		e.watchdog = e.clk.AfterFunc(left, e.checkDeadline)
	} else {
		e.watchdog.Reset(left)
	}
	return true
}

// release gives up leadership and, unless configured not to, frees the
// lease so that another candidate can take it without waiting for it to
// expire.
func (e *Elector) release() {
	e.mu.Lock()
	wasLeading := e.leading && !e.lost
	e.mu.Unlock()
	e.stopLeading(reasonStopped)
	if !wasLeading || e.opts.KeepLeaseOnCancel {
		return
	}
	// The caller's context is done; releasing must still reach the store.
	ctx, cancel := withClockTimeout(context.Background(), e.clk, e.opts.RenewDeadline, errAttemptTimeout)
	defer cancel()
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

// withClockTimeout returns a context that is cancelled with cause once d
// has passed on clk. On the wall clock it carries the deadline, so that
// the store sees it.
func withClockTimeout(parent context.Context, clk clock.Clock, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	if _, ok := clk.(clock.Real); ok {
		return context.WithTimeoutCause(parent, d, cause)
	}
	ctx, cancel := context.WithCancelCause(parent)
	t := clk.AfterFunc(d, func() { cancel(cause) })
	return ctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}
