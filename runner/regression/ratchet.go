package regression

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/suites/harness"
)

// NotTriaged is the reason --update-baseline gives a failure it adds.
const NotTriaged = "not yet triaged"

// KnownFailure is an accepted failure of a check, with why it is accepted.
type KnownFailure struct {
	ID     string `yaml:"id"`
	Reason string `yaml:"reason"`
}

// Ratchet is the file of known failures: a known failure does not fail a run, and the list can
// only shrink: an entry whose check now passes, or no longer exists, fails the run until it is
// removed (in the style of pact-go's compatibility-suite baseline).
type Ratchet struct {
	KnownFailures []KnownFailure `yaml:"known_failures"`
}

// LoadRatchet reads a known-failures file. A missing file is an empty ratchet only when
// mayCreate (the run will write it).
func LoadRatchet(path string, mayCreate bool) (*Ratchet, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && mayCreate {
		return &Ratchet{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("known failures: %w", err)
	}
	var r Ratchet
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("known failures %s: %w", path, err)
	}
	seen := map[string]bool{}
	for i, k := range r.KnownFailures {
		switch {
		case k.ID == "":
			return nil, fmt.Errorf("known failures %s: entry %d has no id", path, i+1)
		case strings.TrimSpace(k.Reason) == "":
			return nil, fmt.Errorf("known failures %s: %s has no reason; say why the failure is accepted", path, k.ID)
		case seen[k.ID]:
			return nil, fmt.Errorf("known failures %s: %s is listed twice", path, k.ID)
		}
		seen[k.ID] = true
	}
	return &r, nil
}

// Reason returns why a check's failure is accepted, if it is.
func (r *Ratchet) Reason(id string) (string, bool) {
	for _, k := range r.KnownFailures {
		if k.ID == id {
			return k.Reason, true
		}
	}
	return "", false
}

// RatchetReport is what the ratchet made of a run.
type RatchetReport = results.RatchetReport

// Apply compares the ratchet with a run. catalogue lists the IDs of every check that exists:
// an entry for a check that exists but did not run (a label filter) is left alone.
func (r *Ratchet) Apply(current *results.Results, catalogue []string) *RatchetReport {
	rep := &RatchetReport{}
	outcomes := map[string]harness.Outcome{}
	for _, c := range current.Checks {
		outcomes[c.ID] = c.Outcome
	}
	for _, k := range r.KnownFailures {
		outcome, ran := outcomes[k.ID]
		switch {
		case !slices.Contains(catalogue, k.ID) && !ran:
			rep.Stale = append(rep.Stale, k.ID)
		case !ran:
		case failing(outcome):
			rep.Known = append(rep.Known, k.ID)
		case outcome == results.Passed:
			rep.Fixed = append(rep.Fixed, k.ID)
		}
		if k.Reason == NotTriaged {
			rep.Untriaged = append(rep.Untriaged, k.ID)
		}
	}
	return rep
}

// Updated is the ratchet rewritten for a run: every failing check, keeping the reasons the
// file gave, new entries marked "not yet triaged"; fixed and stale entries dropped, and entries
// for checks that exist but did not run kept.
func (r *Ratchet) Updated(current *results.Results, catalogue []string) *Ratchet {
	next := &Ratchet{}
	ran := map[string]bool{}
	for _, c := range current.Checks {
		ran[c.ID] = true
	}
	for _, k := range r.KnownFailures {
		if !ran[k.ID] && slices.Contains(catalogue, k.ID) {
			next.KnownFailures = append(next.KnownFailures, k)
		}
	}
	for _, c := range current.Checks {
		if !failing(c.Outcome) {
			continue
		}
		reason, ok := r.Reason(c.ID)
		if !ok {
			reason = NotTriaged
		}
		next.KnownFailures = append(next.KnownFailures, KnownFailure{ID: c.ID, Reason: reason})
	}
	slices.SortFunc(next.KnownFailures, func(a, b KnownFailure) int { return strings.Compare(a.ID, b.ID) })
	return next
}

// Save writes the ratchet, with a header that says what it is.
func (r *Ratchet) Save(path string) error {
	var b bytes.Buffer
	b.WriteString("# cipconform known failures: a listed check's failure does not fail the run.\n")
	b.WriteString("# Each entry needs a reason. A listed check that passes, or no longer exists, fails the run\n")
	b.WriteString("# until its entry is removed (or `cipconform run --update-baseline` rewrites this file).\n")
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("known failures: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("known failures: %w", err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// Policy says what fails a run.
type Policy string

const (
	FailOnRegression Policy = "regression" // only checks that passed in the baseline and fail now
	FailOnFailure    Policy = "failure"    // any failing check
	FailOnNone       Policy = "none"       // nothing: report only
)

// ParsePolicy reads --fail-on; empty means regression with a baseline, failure without.
func ParsePolicy(s string, haveBaseline bool) (Policy, error) {
	switch Policy(s) {
	case "":
		if haveBaseline {
			return FailOnRegression, nil
		}
		return FailOnFailure, nil
	case FailOnRegression, FailOnFailure, FailOnNone:
		if Policy(s) == FailOnRegression && !haveBaseline {
			return "", fmt.Errorf("--fail-on regression needs --baseline: regressions are changes since a baseline")
		}
		return Policy(s), nil
	}
	return "", fmt.Errorf("--fail-on %q: want regression, failure or none", s)
}

// Gate decides a run's verdict under a policy, after the baseline comparison (cmp may be nil)
// and the ratchet (rat may be nil). A run that could not be done stays an error.
func Gate(res *results.Results, cmp *Report, rat *RatchetReport, policy Policy, strict bool) {
	if res.Verdict == results.VerdictError {
		return
	}
	var blocking []string
	var known int
	for _, c := range res.Checks {
		if !failing(c.Outcome) || (c.Level != harness.Must && !strict) {
			continue
		}
		if rat != nil && slices.Contains(rat.Known, c.ID) {
			known++
			continue
		}
		switch policy {
		case FailOnFailure:
			blocking = append(blocking, c.ID)
		case FailOnRegression:
			if d, ok := cmp.Of(c.ID); ok && d.Class == Regression {
				blocking = append(blocking, c.ID)
			}
		}
	}
	var reasons []string
	if len(blocking) > 0 {
		// The count names what it counts: the baseline's summary counts every regression,
		// SHOULD checks and known failures included, and the two must not seem to disagree.
		levels := "MUST"
		if strict {
			levels = "MUST or SHOULD"
		}
		what := "failed"
		if policy == FailOnRegression {
			what = "regressed since the baseline"
		}
		reason := fmt.Sprintf("%d %s check(s) %s: %s", len(blocking), levels, what, strings.Join(blocking, ", "))
		if policy == FailOnRegression && cmp != nil && cmp.Counts[Regression] > len(blocking) {
			all := cmp.Counts[Regression]
			reason += fmt.Sprintf(" (of %d regressions in all: the other %d do not fail the run, being SHOULD checks without --strict or known failures)", all, all-len(blocking))
		}
		reasons = append(reasons, reason)
	}
	if rat != nil && len(rat.Fixed) > 0 {
		reasons = append(reasons, fmt.Sprintf("known failures now pass, remove them from the file: %s", strings.Join(rat.Fixed, ", ")))
	}
	if rat != nil && len(rat.Stale) > 0 {
		reasons = append(reasons, fmt.Sprintf("known failures name checks that no longer exist: %s", strings.Join(rat.Stale, ", ")))
	}
	if len(reasons) > 0 {
		res.Verdict, res.Reason = results.VerdictFailed, strings.Join(reasons, "; ")
		return
	}
	if res.Verdict == results.VerdictIncomplete {
		return // nothing blocks, but what did not run stays said
	}
	res.Verdict = results.VerdictPassed
	res.Reason = fmt.Sprintf("no check fails the run under --fail-on %s (%d passed, %d failed, %d accepted as known failures)", policy, res.Counts.Passed, res.Counts.Failed+res.Counts.Error, known)
	if cmp != nil {
		res.Reason += "; since the baseline: " + cmp.Summary()
	}
}
