package reconciletest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/governor-io/governor/reconcile"
	"github.com/governor-io/governor/reconcile/reconciletest"
)

// A controller test steps a fake clock and settles, with no sleeps.
func Example() {
	t := &testing.T{} // in a real test, the *testing.T of the test
	env := reconciletest.New(t)
	runs := 0
	r := reconcile.Func[string](func(context.Context, string) (reconcile.Result, error) {
		runs++
		return reconcile.RequeueAfter(time.Hour), nil
	})
	c, _ := reconcile.New[string](r, reconciletest.ControllerOptions[string](env, "hourly"))
	env.AddController(c)
	env.Start()
	defer env.Stop()

	c.Enqueue("report")
	env.Settle()
	fmt.Println("runs:", runs)
	env.Step(time.Hour)
	fmt.Println("runs after an hour:", runs)
	// Output:
	// runs: 1
	// runs after an hour: 2
}
