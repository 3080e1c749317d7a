package regression

import (
	"slices"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/suites/harness"
)

// The comparison's types are results' (results.json carries them); these names keep
// package regression's API.
type (
	Class  = results.Class
	Delta  = results.Delta
	Report = results.Comparison
)

const (
	Regression     = results.Regression
	ExpectedBySpec = results.ExpectedBySpec
	Fixed          = results.Fixed
	StillFailing   = results.StillFailing
	NewCheck       = results.NewCheck
	RemovedCheck   = results.RemovedCheck
	NewlySkipped   = results.NewlySkipped
	Unchanged      = results.Unchanged
	NotRun         = results.NotRun
	NotJudged      = results.NotJudged
)

// Classes lists every class, in the order a release manager reads them.
func Classes() []Class { return results.Classes() }

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
			if change := explain(r, c.Element.String()); change != nil {
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
	r.Sort()
	return r
}

func explain(r *Report, element string) *SpecChange {
	for _, c := range r.SpecChanges {
		if explains(c, element) {
			return &c
		}
	}
	return nil
}
