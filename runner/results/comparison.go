package results

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cipconform/cipconform/suites/harness"
)

// The comparison of a run with a baseline lives here, beside the results that carry it
// (results.json's "regression"); package regression computes it.

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

// Comparison is the comparison of a run with its baseline.
type Comparison struct {
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

// Sort orders the deltas, what a release manager must act on first, and counts them.
func (r *Comparison) Sort() {
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
func (r *Comparison) Of(id string) (Delta, bool) {
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
func (r *Comparison) Summary() string {
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

// SpecChange is one change between two versions of the spec, as oasdiff names it.
type SpecChange struct {
	Rule        string `json:"rule"` // oasdiff's rule id, e.g. response-property-enum-value-removed
	Level       string `json:"level"`
	Breaking    bool   `json:"breaking"`
	OperationID string `json:"operationId,omitempty"`
	Text        string `json:"text"`
}

// RatchetReport is what the ratchet made of a run.
type RatchetReport struct {
	Known     []string `json:"known"`     // failing, and accepted
	Fixed     []string `json:"fixed"`     // listed, but passing now: remove them
	Stale     []string `json:"stale"`     // listed, but no such check: remove them
	Untriaged []string `json:"untriaged"` // listed without a real reason yet
}
