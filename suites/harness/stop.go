package harness

import (
	"context"
	"time"
)

// StopGrace is how long the cleanup of a stopped run (a signal, --timeout) may go on: it
// cancels the actions the run started, but must not hold the run's end for long.
const StopGrace = time.Second

// Outliving returns a context for cleanup: it is not cancelled with ctx, but ends grace after
// ctx is done, counted from the moment it is (at once when ctx is already done). Call it before
// the work that ctx may stop, and the returned cancel when the cleanup is over.
func Outliving(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// A timer left running after the cleanup ends only cancels what already is.
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return out, func() {
		stop()
		cancel()
	}
}
