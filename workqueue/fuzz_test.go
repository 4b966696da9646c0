package workqueue

import "testing"

// FuzzQueueModel drives a queue with a byte-coded sequence of Add,
// AddWithPriority, Get and Done over eight keys, and checks every Get and
// Len against a plain model of the rules: dedup while queued, requeue after
// Done when added during processing, and the lowest (rank, enqueue order)
// first, where rank = enqueue number - priority*step.
func FuzzQueueModel(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{0x10, 0x31, 0x02, 0x80, 0x41, 0xc0, 0x80, 0x80})
	f.Add([]byte{0x45, 0x85, 0x05, 0xc5, 0x80, 0x65, 0x25, 0x80})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const step = 2
		q := New(Options[int]{PriorityStep: step})
		defer q.ShutDown()
		type slot struct {
			seq  int
			prio int
		}
		var (
			seq        int
			queued     = map[int]slot{}
			processing = map[int]bool{}
			dirty      = map[int]int{}
		)
		rank := func(s slot) int { return s.seq - s.prio*step }
		enqueue := func(k, p int) {
			seq++
			queued[k] = slot{seq, p}
		}
		for _, op := range ops {
			k := int(op & 7)
			switch op >> 6 {
			case 0, 1: // Add with priority 0, or -3..3 when bit 5 is set
				p := 0
				if op&0x20 != 0 {
					p = int(op>>3&3) - int(op>>4&1)*3
				}
				q.AddWithPriority(k, p)
				switch old, isQueued := queued[k]; {
				case processing[k]:
					if d, ok := dirty[k]; !ok || p > d {
						dirty[k] = p
					}
				case !isQueued:
					enqueue(k, p)
				case p > old.prio && rank(slot{seq + 1, p}) < rank(old):
					enqueue(k, p)
				}
			case 2: // Get, when something is queued
				if len(queued) == 0 {
					continue
				}
				best, found := 0, false
				for key, s := range queued {
					b := queued[best]
					if !found || rank(s) < rank(b) || (rank(s) == rank(b) && s.seq < b.seq) {
						best, found = key, true
					}
				}
				got, shutdown := q.Get()
				if shutdown || got != best {
					t.Fatalf("Get = %d (shutdown %v), model wants %d", got, shutdown, best)
				}
				delete(queued, best)
				processing[best] = true
			case 3: // Done
				q.Done(k)
				if !processing[k] {
					continue
				}
				delete(processing, k)
				if p, ok := dirty[k]; ok {
					delete(dirty, k)
					enqueue(k, p)
				}
			}
			if q.Len() != len(queued) {
				t.Fatalf("Len = %d, model has %d queued", q.Len(), len(queued))
			}
		}
	})
}
