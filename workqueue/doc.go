// Package workqueue is the queue that controllers pull work from: a FIFO of
// comparable keys that deduplicates, never hands one key to two workers at
// once, delays and rate-limits retries, and optionally orders by priority
// and shares workers fairly across tenants.
//
// # The rules
//
//   - An item added while it is queued is queued once.
//   - An item added while a worker processes it is queued again only after
//     that worker calls [Queue.Done].
//   - No item is ever handed to two workers at once.
//   - Otherwise items come out first in, first out.
//
// These are the rules of client-go's workqueue; a controller written for
// one works with the other.
//
// # Usage
//
// A worker loop gets an item, processes it, and marks it done. Failures go
// back through the rate limiter; successes are forgotten so that the next
// failure starts a fresh backoff:
//
//	for {
//		key, shutdown := q.Get()
//		if shutdown {
//			return
//		}
//		if err := sync(key); err != nil {
//			q.AddRateLimited(key)
//		} else {
//			q.Forget(key)
//		}
//		q.Done(key)
//	}
//
// [Queue.ShutDown] stops new adds and lets the workers drain what is
// queued; [Queue.ShutDownWithDrain] also waits for the items in processing.
//
// # Delays and rate limits
//
// [Queue.AddAfter] keeps delayed items in one heap served by one timer and
// one goroutine, which starts with the first delay and ends at shutdown; a
// queue that never delays starts no goroutine. Adding an item that is
// already waiting keeps the earlier time. [Queue.AddRateLimited] asks the
// queue's [RateLimiter]: per-item exponential backoff, fast-slow, a token
// bucket, or the max of several, optionally capped. One
// [github.com/governor-io/governor/clock.Clock] drives
// delays, limiters and metrics, so tests step a fake clock instead of
// sleeping.
//
// # Priority and aging
//
// [Queue.AddWithPriority] lets an item jump the line: each level of
// priority is worth [Options.PriorityStep] places. Because the jump is
// bounded, waiting items age: an item added with priority p is handed out
// before every item that is added more than (q-p)*PriorityStep enqueues
// after it with priority q. So with priorities between pmin and pmax, an item
// of priority p waits at most for the items queued ahead of it when it was
// added plus (pmax-p)*PriorityStep newer ones, whatever the load. (A fixed
// low priority for an informer's initial list cannot starve, which is
// controller-runtime issue 3496.) Priority-0 items are kept in a plain ring
// buffer, so a queue that uses no priorities pays nothing for them.
//
// # Fair sharing
//
// With [Options.Tenant] set, every tenant gets its own line, and Get serves
// the tenant with the fewest items in processing, then the one served
// longest ago. A tenant that floods the queue then gets its turn like every
// other tenant, and one slow tenant cannot hold every worker while others
// wait. Priorities order the items within a tenant.
//
// # Metrics
//
// Pass a [MetricsProvider] in [Options.Metrics]; the prommetrics subpackage
// provides Prometheus metrics under client-go's names. A queue without one
// keeps no timestamps and reads no clock for metrics.
package workqueue
