package mvcc_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/governor-io/governor/store/mvcc"
)

// TestViewStaysPointInTime checks that a View writes the state it was
// taken at, though the engine goes on writing and compacting (in place,
// the compaction would rewrite the history the view holds), and that it
// can be written while the engine is written concurrently.
func TestViewStaysPointInTime(t *testing.T) {
	ctx := ctxFor(t)
	a, b := newEngine(t, mvcc.Options{}), newEngine(t, mvcc.Options{})
	buildHistory(t, a, 3, 600)
	buildHistory(t, b, 3, 600)
	v, err := a.View()
	if err != nil {
		t.Fatal(err)
	}
	if v.Revision() != a.Revision() {
		t.Fatalf("view at %d, engine at %d", v.Revision(), a.Revision())
	}
	want := snapshot(t, b)

	rng := rand.New(rand.NewPCG(9, 9))
	for i := range 300 {
		if _, err := a.Txn(ctx, randomTxn(rng)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			if err := a.Compact(ctx, a.Revision()-2); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got bytes.Buffer
	if _, err := v.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("the view changed after writes and compactions")
	}

	// Once more with the engine written while the view is.
	v, err = a.View()
	if err != nil {
		t.Fatal(err)
	}
	want = snapshot(t, a)
	done := make(chan error, 1)
	go func() {
		for i := range 300 {
			if _, err := a.Txn(ctx, randomTxn(rng)); err != nil {
				done <- err
				return
			}
			if i%50 == 49 {
				if err := a.Compact(ctx, a.Revision()-1); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	got.Reset()
	_, werr := v.WriteTo(&got)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatal(werr)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("the view changed while the engine was written")
	}
	c := newEngine(t, mvcc.Options{})
	if err := c.Restore(bytes.NewReader(got.Bytes())); err != nil {
		t.Fatal(err)
	}
}
