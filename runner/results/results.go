// Package results is the harness's own record of a run (results.json): a documented,
// versioned schema built from the checks' typed outcomes, from which every other report is
// rendered.
package results

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// SchemaVersion names the schema of results.json; a change that breaks readers changes it.
const SchemaVersion = "cipconform.results/v1"

// Outcomes of a check.
const (
	Passed  = harness.Passed
	Failed  = harness.Failed
	Skipped = harness.Skipped
	Errored = harness.Errored
)

// Verdicts of a run.
const (
	VerdictPassed = "passed" // every MUST check passed (and every SHOULD check, with --strict)
	VerdictFailed = "failed" // a check failed
	VerdictError  = "error"  // the run could not be done, or proved nothing
	// VerdictIncomplete: nothing failed, but MUST checks did not run for want of what they
	// need (machines, an identity); exit 3 unless --allow-incomplete.
	VerdictIncomplete = "incomplete"
)

// Results is results.json.
type Results struct {
	SchemaVersion string  `json:"schemaVersion"`
	Harness       Harness `json:"harness"`
	Spec          Spec    `json:"spec"`
	Profile       Profile `json:"profile"`
	Target        string  `json:"target"`
	Embedded      bool    `json:"embeddedReference"`
	LabelFilter   string  `json:"labelFilter,omitempty"`
	Strict        bool    `json:"strict"`
	// CatalogueSize is how many checks the profile's catalogue has (a label filter may select
	// fewer); AllowIncomplete is --allow-incomplete.
	CatalogueSize   int       `json:"catalogueSize,omitempty"`
	AllowIncomplete bool      `json:"allowIncomplete,omitempty"`
	Config          any       `json:"config"` // the configuration, secrets redacted; shown, never read back (its durations are text)
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	// Warnings come first in every report: TLS verification off, production refusals.
	Warnings []string `json:"warnings,omitempty"`
	// SetupFailure says why no check could run (the target could not be used, a bad config).
	SetupFailure string `json:"setupFailure,omitempty"`
	// Stopped says why the run ended before every check had run (--timeout, a signal); the
	// checks that finished keep their outcomes, the others are errors.
	Stopped string        `json:"stopped,omitempty"`
	Counts  Counts        `json:"counts"`
	Verdict string        `json:"verdict"`
	Reason  string        `json:"reason"`
	Checks  []CheckResult `json:"checks"` // never null: [] when no check ran
	// Actions are the actions the run started on the target, and what became of them.
	Actions []harness.Action `json:"actions"`
	// Coverage maps each part of the contract to the checks that exercised it.
	Coverage []CoverageItem `json:"coverage,omitempty"`
	// Regression is the comparison with a baseline (package regression's Report), when one
	// was given.
	Regression *Comparison `json:"regression,omitempty"`
}

// Harness identifies the harness that ran.
type Harness struct {
	Version string `json:"version"`
}

// Spec identifies the contract the run checked against, and carries it, so that a later run
// can tell a change of the spec from a regression with this file alone.
type Spec struct {
	Version  string `json:"version"`
	Digest   string `json:"digest"`
	Document string `json:"document,omitempty"` // the OpenAPI document, as embedded
}

// Profile names the contract the run judged the target against.
type Profile struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Source string `json:"source"` // "embedded", or the --spec file
}

// Counts are the checks per outcome.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Error   int `json:"error"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	harness.Info
	Outcome    harness.Outcome     `json:"outcome"`
	Message    string              `json:"message,omitempty"`
	Violations []spec.Violation    `json:"violations,omitempty"`
	DurationMS int64               `json:"durationMs"`
	Exchanges  []*harness.Exchange `json:"exchanges,omitempty"`
	Curl       []string            `json:"curl,omitempty"`
	// Change is the check's class against the baseline (regression, fixed...), when one was given.
	Change string `json:"change,omitempty"`
	// KnownFailure is the reason the known-failures file gives for accepting this failure.
	KnownFailure string `json:"knownFailure,omitempty"`
	// Missing names the setting whose absence skipped the check (CIP_TOKEN_READER,
	// CIP_MACHINE_IDS); Refused marks a check skipped because the target is production.
	Missing string `json:"missing,omitempty"`
	Refused bool   `json:"refused,omitempty"`
}

// FromRun builds the results of a run from the checks' typed outcomes, in ID order.
func FromRun(start, end time.Time, labelFilter string, outcomes []harness.Result) *Results {
	res := &Results{SchemaVersion: SchemaVersion, Start: start, End: end, LabelFilter: labelFilter, Checks: []CheckResult{}, Actions: []harness.Action{}}
	for _, o := range outcomes {
		res.Checks = append(res.Checks, FromResult(o))
	}
	slices.SortStableFunc(res.Checks, func(a, b CheckResult) int { return strings.Compare(a.ID, b.ID) })
	return res
}

// FromResult is the record of one check's outcome: the violations it found, and the curl
// commands of its exchanges, in order.
func FromResult(o harness.Result) CheckResult {
	c := CheckResult{Info: o.Check, Outcome: o.Outcome, Message: o.Message, DurationMS: o.Duration.Milliseconds(), Exchanges: o.Exchanges,
		Violations: o.Violations, Missing: o.Missing, Refused: o.Refused}
	for _, ex := range o.Exchanges {
		c.Curl = append(c.Curl, ex.Curl)
	}
	return c
}

// Judge counts the outcomes and sets the verdict and its reason.
func (r *Results) Judge() {
	r.Counts = Counts{}
	var mustFailed, shouldFailed []string
	missing := map[string][]string{} // setting -> the MUST checks it would have run
	refused := 0
	for _, c := range r.Checks {
		if c.Outcome == Skipped && c.Missing != "" && c.Level == harness.Must {
			missing[c.Missing] = append(missing[c.Missing], c.ID)
		}
		if c.Outcome == Skipped && c.Refused {
			refused++
		}
		switch c.Outcome {
		case Passed:
			r.Counts.Passed++
		case Failed:
			r.Counts.Failed++
			if c.Level == harness.Must {
				mustFailed = append(mustFailed, c.ID)
			} else {
				shouldFailed = append(shouldFailed, c.ID)
			}
		case Skipped:
			r.Counts.Skipped++
		case Errored:
			r.Counts.Error++
		}
	}
	ran := r.Counts.Passed + r.Counts.Failed + r.Counts.Error
	switch {
	case r.SetupFailure != "" && r.Stopped != "":
		r.Verdict, r.Reason = VerdictError, fmt.Sprintf("the run was stopped (%s) before it could start: %s", r.Stopped, firstLine(r.SetupFailure))
	case r.SetupFailure != "":
		r.Verdict, r.Reason = VerdictError, "the run could not start: "+firstLine(r.SetupFailure)
	case r.Stopped != "":
		r.Verdict, r.Reason = VerdictError, fmt.Sprintf("the run was stopped before it ended (%s): %d of %d checks finished", r.Stopped, r.Counts.Passed+r.Counts.Failed+r.Counts.Skipped, len(r.Checks))
	case len(r.Checks) == 0:
		r.Verdict, r.Reason = VerdictError, "no check was selected (is the label filter right?): a run that checks nothing proves nothing"
	case ran == 0:
		r.Verdict, r.Reason = VerdictError, fmt.Sprintf("every one of the %d checks was skipped: a run that checks nothing proves nothing", r.Counts.Skipped)
	case len(mustFailed) > 0:
		r.Verdict, r.Reason = VerdictFailed, fmt.Sprintf("%d MUST check(s) failed: %s", len(mustFailed), strings.Join(mustFailed, ", "))
	case r.Strict && len(shouldFailed) > 0:
		r.Verdict, r.Reason = VerdictFailed, fmt.Sprintf("%d SHOULD check(s) failed and --strict is set: %s", len(shouldFailed), strings.Join(shouldFailed, ", "))
	case r.Counts.Error == ran:
		r.Verdict, r.Reason = VerdictError, "every check that ran ended in an error: the target could not be used"
	case r.Counts.Error > 0:
		r.Verdict, r.Reason = VerdictError, fmt.Sprintf("%d check(s) could not be completed (errors): the result is incomplete", r.Counts.Error)
	case len(missing) > 0:
		var needs []string
		for _, setting := range slices.Sorted(maps.Keys(missing)) {
			ids := missing[setting]
			needs = append(needs, fmt.Sprintf("%d MUST check(s) need %s (%s)", len(ids), setting, strings.Join(ids, ", ")))
		}
		r.Verdict, r.Reason = VerdictIncomplete, fmt.Sprintf("nothing failed, but not every MUST check ran: %s", strings.Join(needs, "; "))
		if r.AllowIncomplete {
			r.Reason += " (accepted: --allow-incomplete)"
		}
	default:
		r.Verdict, r.Reason = VerdictPassed, fmt.Sprintf("every MUST check passed (%d passed", r.Counts.Passed)
		if len(shouldFailed) > 0 {
			r.Reason += fmt.Sprintf("; %d SHOULD check(s) failed: %s", len(shouldFailed), strings.Join(shouldFailed, ", "))
		}
		if r.Counts.Skipped > 0 {
			r.Reason += fmt.Sprintf("; %d skipped", r.Counts.Skipped)
		}
		r.Reason += ")"
		if r.CatalogueSize > len(r.Checks) {
			r.Reason += fmt.Sprintf("; a subset: %d of the %d checks, chosen by --label-filter %q", len(r.Checks), r.CatalogueSize, r.LabelFilter)
		}
		if refused > 0 {
			r.Reason += fmt.Sprintf("; %d checks that create actions refused (production)", refused)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Load reads a results.json.
func Load(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("results %s: schema %q, this harness reads %q", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// JSON renders the results, indented as json.MarshalIndent(r, "", "  ") would.
func (r *Results) JSON() ([]byte, error) {
	compact, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return indent(compact), nil
}

// indent is json.Indent(dst, src, "", "  ") for what json.Marshal wrote: valid, compact JSON.
// json.Indent validates every byte as it goes, which made it most of the cost of writing
// results.json; the fuzz test holds the two to the same output.
func indent(src []byte) []byte {
	dst := make([]byte, 0, len(src)+len(src)/2)
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, "  "...)
		}
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(src)-1)
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, c, src[i+1]) // empty: kept on one line
				i++
				continue
			}
			depth++
			dst = append(dst, c)
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
