package results_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func TestJudge(t *testing.T) {
	check := func(id, level, outcome string) results.CheckResult {
		return results.CheckResult{Info: harness.Info{ID: id, Level: harness.Level(level)}, Outcome: harness.Outcome(outcome)}
	}
	cases := []struct {
		name    string
		r       results.Results
		verdict string
		reason  string
	}{
		{"all passed", results.Results{Checks: []results.CheckResult{check("A", "MUST", "passed")}}, "passed", "every MUST check passed (1 passed)"},
		{"SHOULD failure is reported, not fatal", results.Results{Checks: []results.CheckResult{check("A", "MUST", "passed"), check("B", "SHOULD", "failed")}}, "passed", "1 SHOULD check(s) failed: B"},
		{"SHOULD failure with strict", results.Results{Strict: true, Checks: []results.CheckResult{check("B", "SHOULD", "failed")}}, "failed", "--strict"},
		{"MUST failure", results.Results{Checks: []results.CheckResult{check("A", "MUST", "failed"), check("B", "MUST", "passed")}}, "failed", "1 MUST check(s) failed: A"},
		{"setup failure", results.Results{SetupFailure: "cannot reach target\nmore"}, "error", "the run could not start: cannot reach target"},
		{"stopped before it could start", results.Results{SetupFailure: "cannot use target x: the run was cancelled", Stopped: "interrupted"}, "error", "the run was stopped (interrupted) before it could start: cannot use target x"},
		{"nothing selected", results.Results{}, "error", "no check was selected"},
		{"all skipped", results.Results{Checks: []results.CheckResult{check("A", "MUST", "skipped")}}, "error", "every one of the 1 checks was skipped"},
		{"all errored", results.Results{Checks: []results.CheckResult{check("A", "MUST", "error")}}, "error", "every check that ran ended in an error"},
		{"some errored", results.Results{Checks: []results.CheckResult{check("A", "MUST", "error"), check("B", "MUST", "passed")}}, "error", "incomplete"},
		{"MUST check without an identity", results.Results{Checks: []results.CheckResult{check("A", "MUST", "passed"), {Info: harness.Info{ID: "B", Level: harness.Must}, Outcome: harness.Skipped, Missing: "CIP_TOKEN_READER"}}}, "incomplete", "1 MUST check(s) need CIP_TOKEN_READER (B)"},
		{"SHOULD check without an identity", results.Results{Checks: []results.CheckResult{check("A", "MUST", "passed"), {Info: harness.Info{ID: "B", Level: harness.Should}, Outcome: harness.Skipped, Missing: "CIP_TOKEN_READER"}}}, "passed", "1 skipped"},
		{"refused on production", results.Results{Checks: []results.CheckResult{check("A", "MUST", "passed"), {Info: harness.Info{ID: "B", Level: harness.Must}, Outcome: harness.Skipped, Refused: true}}}, "passed", "1 checks that create actions refused"},
		{"a label filter's subset", results.Results{CatalogueSize: 45, LabelFilter: "safety:read-only", Checks: []results.CheckResult{check("A", "MUST", "passed")}}, "passed", "a subset: 1 of the 45 checks"},
		{"failure beats error", results.Results{Checks: []results.CheckResult{check("A", "MUST", "error"), check("B", "MUST", "failed")}}, "failed", "B"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Judge()
			if tc.r.Verdict != tc.verdict || !strings.Contains(tc.r.Reason, tc.reason) {
				t.Errorf("verdict %q reason %q, want %q and %q", tc.r.Verdict, tc.r.Reason, tc.verdict, tc.reason)
			}
		})
	}
}

// TestObservedCoverage: each operation and documented response, the first exchanges that
// exercised it listed and the rest counted, the rest uncovered.
func TestObservedCoverage(t *testing.T) {
	c, err := spec.MDE.Contract()
	if err != nil {
		t.Fatal(err)
	}
	var entries []results.CheckResult
	for i := range results.ObservedListed + 3 {
		entries = append(entries, results.CheckResult{Outcome: harness.Passed,
			Info: harness.Info{ID: fmt.Sprintf("OBS-%04d", i+1), Element: spec.Element{Operation: spec.OperationID, Status: "201"}}})
	}
	entries = append(entries, results.CheckResult{Outcome: harness.Failed,
		Info: harness.Info{ID: "OBS-0100", Element: spec.Element{Operation: "getMachineAction", Status: "404"}}})
	items := results.ObservedCoverage(c.Operations(), entries)
	got := map[string]results.CoverageItem{}
	for _, it := range items {
		got[it.Kind+" "+it.Item] = it
	}
	if it := got["response collectInvestigationPackage 201"]; len(it.Checks) != results.ObservedListed || it.More != 3 || it.Checks[0].ID != "OBS-0001" {
		t.Errorf("201: %d listed, %d more: want %d and 3", len(it.Checks), it.More, results.ObservedListed)
	}
	if it := got["response getMachineAction 404"]; len(it.Checks) != 1 || it.Checks[0].Outcome != harness.Failed {
		t.Errorf("404 of getMachineAction: %+v", it)
	}
	for _, uncovered := range []string{"response collectInvestigationPackage 400", "operation cancelMachineAction POST /machineactions/{id}/cancel"} {
		if it, ok := got[uncovered]; !ok || it.Covered() {
			t.Errorf("%s: %+v, want listed and uncovered (items: %v)", uncovered, it, results.Uncovered(items))
		}
	}
}
