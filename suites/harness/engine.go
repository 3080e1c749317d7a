package harness

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/cipconform/cipconform/spec"
)

// Outcome is how a check ended.
type Outcome string

const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
	Errored Outcome = "error"
)

// Result is a check's typed outcome: what every report is built from.
type Result struct {
	Check     Info
	Outcome   Outcome
	Message   string
	Exchanges []*Exchange
	// Violations are those the check itself found in the responses it judged.
	Violations []spec.Violation
	Duration   time.Duration
	// Missing names the setting (CIP_MACHINE_IDS, CIP_TOKEN_READER) whose absence skipped the
	// check: a MUST check skipped so makes the run incomplete. Refused marks a check skipped
	// because the target is production (a skip the user chose).
	Missing string
	Refused bool
	// busyExplains: a machine busy from an earlier run would explain the failure too.
	busyExplains bool
}

// DefaultConcurrency is how many checks run at once unless told otherwise: enough to hide
// a slow round trip, few enough to stay polite to a staging tenant.
const DefaultConcurrency = 4

// ending is how a hook ends a check outside Ginkgo: a panic recovered by Execute.
type ending struct {
	outcome Outcome
	message string
}

// Execute runs one check outside Ginkgo: assertions, skips and errors end it through panics
// that are recovered here. A panic of the check's own code is a harness bug: it ends the
// check as an error that says so, never the run.
func (s *Suite) Execute(ctx context.Context, c Check) (res Result) {
	env := s.Env(ctx, c, Hooks{
		Fail:  func(m string, _ int) { panic(ending{Failed, m}) },
		Skip:  func(m string) { panic(ending{Skipped, m}) },
		Error: func(m string) { panic(ending{Errored, m}) },
	})
	start := time.Now()
	res = Result{Check: c.Info, Outcome: Passed}
	cleanup, stopCleanup := Outliving(ctx, StopGrace)
	defer stopCleanup()
	defer func() {
		// The actions the check started are cancelled (where the contract allows it) before
		// its machine serves the next check; briefly once the run is stopped.
		s.settle(cleanup, env.actions)
		res.Exchanges, res.Violations, res.Duration = env.exchanges, env.violations, time.Since(start)
		res.Missing, res.Refused, res.busyExplains = env.missing, env.refused, env.busyExplains
		if p := recover(); p != nil {
			if end, ok := p.(ending); ok {
				// A message quotes what the target sent (an id it made up, a value it echoed).
				res.Outcome, res.Message = end.outcome, s.client.Redact(end.message)
				return
			}
			res.Outcome = Errored
			res.Message = fmt.Sprintf("%s: the harness itself failed (a bug, please report it): %v\n%s", c.ID, p, firstFrames(debug.Stack(), 12))
		}
	}()
	if ctx.Err() != nil {
		env.hooks.Error(c.ID + ": not started: the run was stopped")
	}
	if why := s.Aborted(); why != "" {
		env.hooks.Error(c.ID + ": not started: " + why)
	}
	env.Prepare()
	c.Run(env.Gomega(), env)
	return res
}

// RunChecks runs the checks, at most concurrency at once, and returns their results in the
// order given. done, when not nil, sees each result as its check ends, one at a time.
//
// Checks that share a machine run one after another, in the order given, because an action
// one creates changes what the next may see; checks on machines of their own run side by
// side. Read-only checks each form a lane of their own: on a conformant target they change
// nothing, and the reference judges identity, then the body, before the machine's state, so
// that even a faulty target's wrongly accepted request cannot change which checks fail.
func (s *Suite) RunChecks(ctx context.Context, checks []Check, concurrency int, done func(Result)) []Result {
	concurrency = max(concurrency, 1)
	results := make([]Result, len(checks))
	var mu sync.Mutex
	run := func(lanes [][]int) {
		work := make(chan []int)
		var wg sync.WaitGroup
		for range min(concurrency, len(lanes)) {
			wg.Go(func() {
				for lane := range work {
					for _, i := range lane {
						r := s.Execute(ctx, checks[i])
						results[i] = r
						if done != nil {
							mu.Lock()
							done(r)
							mu.Unlock()
						}
					}
				}
			})
		}
		for _, lane := range lanes {
			work <- lane
		}
		close(work)
		wg.Wait()
	}
	// With one machine for everything, the refusals run first: a refused request that a
	// faulty target accepted could otherwise start a collection under a creating check.
	var first, later [][]int
	for _, lane := range s.lanes(checks) {
		if s.probeShared && checks[lane[0]].Machines > 0 {
			later = append(later, lane)
		} else {
			first = append(first, lane)
		}
	}
	run(first)
	run(later)
	// A failure that a busy machine explains as well is no verdict on the target when the run
	// found machines busy from an earlier run.
	if s.SawBusy() {
		for i, r := range results {
			if r.Outcome == Failed && r.busyExplains {
				results[i].Outcome = Errored
				results[i].Message = r.Check.ID + ": not judged: machines of this run were busy with an earlier run's collections, which explains this as well: " + r.Message
			}
		}
	}
	return results
}

// lanes groups the checks (by index) into sequences that must run in order: the checks that
// use any same machine of their own, in the order given; every other check alone. Lanes of
// checks that create actions come first: they send the most requests, so they must not
// start last.
func (s *Suite) lanes(checks []Check) [][]int {
	laneOf := make([]int, len(checks)) // check -> lane id; lanes merge when checks share a machine
	for i := range laneOf {
		laneOf[i] = i
	}
	find := func(i int) int {
		for laneOf[i] != i {
			i = laneOf[i]
		}
		return i
	}
	byMachine := map[string]int{}
	for i, c := range checks {
		for _, m := range s.allocation[c.ID] {
			if j, ok := byMachine[m]; ok {
				laneOf[find(i)] = find(j)
			} else {
				byMachine[m] = i
			}
		}
	}
	var lanes [][]int
	index := map[int]int{}
	for i := range checks {
		root := find(i)
		l, ok := index[root]
		if !ok {
			l = len(lanes)
			index[root] = l
			lanes = append(lanes, nil)
		}
		lanes[l] = append(lanes[l], i)
	}
	ordered := make([][]int, 0, len(lanes))
	for _, creating := range []bool{true, false} {
		for _, l := range lanes {
			if (checks[l[0]].Safety == CreatesAction) == creating {
				ordered = append(ordered, l)
			}
		}
	}
	return ordered
}

// firstFrames keeps the first n lines of a stack trace.
func firstFrames(stack []byte, n int) string {
	lines := strings.SplitN(string(stack), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
