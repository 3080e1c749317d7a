package regression

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/suites/harness"
)

// Class is how a check changed since the baseline.
type Class string

const (
	Regression     Class = "regression"              // passed before, fails now
	ExpectedBySpec Class = "expected-by-spec-change" // fails now, and the spec changed what it verifies
	Fixed          Class = "fixed"                   // failed before, passes now
	StillFailing   Class = "still-failing"
	NewCheck       Class = "new-check"
	RemovedCheck   Class = "removed-check"
	NewlySkipped   Class = "newly-skipped"
	Unchanged      Class = "unchanged"
	NotRun         Class = "not-run" // in the baseline and the catalogue, but not selected this time
	// NotJudged: the check ended in an error this time (the target could not be used, a machine
	// was busy): an environment problem to fix, never a regression.
	NotJudged         Class = "not-judged"
	classOrderUnknown       = 99
)

// order puts what a release manager must act on first.
var order = []Class{Regression, NotJudged, NewlySkipped, ExpectedBySpec, NewCheck, StillFailing, Fixed, RemovedCheck, NotRun, Unchanged}

// Classes lists every class, in the order a release manager reads them.
func Classes() []Class { return slices.Clone(order) }

// Delta is one check's change. Checks are matched by ID; the spec element is shown beside it.
type Delta struct {
	ID         string          `json:"id"`
	Element    string          `json:"element"`
	Class      Class           `json:"class"`
	Before     harness.Outcome `json:"before,omitempty"` // outcome in the baseline
	After      harness.Outcome `json:"after,omitempty"`  // outcome now
	SpecChange *SpecChange     `json:"specChange,omitempty"`
	// Known is the reason the ratchet gives for accepting this check's failure.
	Known string `json:"knownFailure,omitempty"`
}

// Report is the comparison of a run with its baseline.
type Report struct {
	BaselineStart string         `json:"baselineStart"`
	BaselineSpec  string         `json:"baselineSpec"`
	CurrentSpec   string         `json:"currentSpec"`
	SpecChanged   bool           `json:"specChanged"`
	SpecNote      string         `json:"specNote,omitempty"`
	SpecChanges   []SpecChange   `json:"specChanges,omitempty"`
	Counts        map[Class]int  `json:"counts"`
	Deltas        []Delta        `json:"deltas"`
	Ratchet       *RatchetReport `json:"ratchet,omitempty"`
}

func failing(outcome harness.Outcome) bool {
	return outcome == results.Failed || outcome == results.Errored
}

// Compare classifies every check of the baseline and the current run. catalogue lists the
// checks that exist now: a baseline check missing from the run is removed only when it is not
// there (else a label filter left it out).
func Compare(baseline, current *results.Results, catalogue []string) *Report {
	r := &Report{BaselineStart: baseline.Start.UTC().Format("2006-01-02T15:04:05Z"), BaselineSpec: baseline.Spec.Digest, CurrentSpec: current.Spec.Digest, Counts: map[Class]int{}}
	if r.BaselineSpec != r.CurrentSpec {
		r.SpecChanged = true
		switch {
		case baseline.Spec.Document == "" || current.Spec.Document == "":
			r.SpecNote = "the spec changed, but a run lacks its document, so no delta can be put down to the spec change"
		default:
			changes, err := SpecDiff([]byte(baseline.Spec.Document), []byte(current.Spec.Document))
			if err != nil {
				r.SpecNote = "the spec changed, but the difference could not be computed: " + err.Error()
			}
			r.SpecChanges = changes
		}
	}
	before := map[string]results.CheckResult{}
	for _, c := range baseline.Checks {
		before[c.ID] = c
	}
	seen := map[string]bool{}
	for _, c := range current.Checks {
		seen[c.ID] = true
		d := Delta{ID: c.ID, Element: c.Element.String(), After: c.Outcome}
		b, existed := before[c.ID]
		if existed {
			d.Before = b.Outcome
		}
		switch {
		case !existed:
			d.Class = NewCheck
		case c.Outcome == results.Errored:
			d.Class = NotJudged
		case failing(c.Outcome) && !failing(b.Outcome):
			d.Class = Regression
			if change := r.explain(c.Element.String()); change != nil {
				d.Class, d.SpecChange = ExpectedBySpec, change
			}
		case failing(c.Outcome):
			d.Class = StillFailing
		case failing(b.Outcome) && c.Outcome == results.Passed:
			d.Class = Fixed
		case c.Outcome == results.Skipped && b.Outcome != results.Skipped:
			d.Class = NewlySkipped
		default:
			d.Class = Unchanged
		}
		r.Deltas = append(r.Deltas, d)
	}
	for _, b := range baseline.Checks {
		if seen[b.ID] {
			continue
		}
		class := RemovedCheck
		if slices.Contains(catalogue, b.ID) {
			class = NotRun
		}
		r.Deltas = append(r.Deltas, Delta{ID: b.ID, Element: b.Element.String(), Class: class, Before: b.Outcome})
	}
	r.sort()
	return r
}

func (r *Report) explain(element string) *SpecChange {
	for _, c := range r.SpecChanges {
		if explains(c, element) {
			return &c
		}
	}
	return nil
}

func (r *Report) sort() {
	rank := func(c Class) int {
		if i := slices.Index(order, c); i >= 0 {
			return i
		}
		return classOrderUnknown
	}
	slices.SortStableFunc(r.Deltas, func(a, b Delta) int {
		if d := rank(a.Class) - rank(b.Class); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	r.Counts = map[Class]int{}
	for _, d := range r.Deltas {
		r.Counts[d.Class]++
	}
}

// Of returns the delta of a check, if any.
func (r *Report) Of(id string) (Delta, bool) {
	if r == nil {
		return Delta{}, false
	}
	for _, d := range r.Deltas {
		if d.ID == id {
			return d, true
		}
	}
	return Delta{}, false
}

// Summary is one line: the counts of the classes that matter, in order.
func (r *Report) Summary() string {
	var parts []string
	for _, c := range order {
		if n := r.Counts[c]; n > 0 && c != Unchanged && c != NotRun {
			parts = append(parts, fmt.Sprintf("%d %s", n, c))
		}
	}
	if len(parts) == 0 {
		return "no change since the baseline"
	}
	return strings.Join(parts, ", ")
}
