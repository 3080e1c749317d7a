package regression_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func run(doc string, checks ...results.CheckResult) *results.Results {
	r := &results.Results{Spec: results.Spec{Digest: "sha256:" + string(rune(len(doc))), Document: doc}, Checks: checks}
	r.Judge()
	return r
}

func check(id, element, outcome string) results.CheckResult {
	var el spec.Element
	_ = el.UnmarshalText([]byte(element))
	return results.CheckResult{Info: harness.Info{ID: id, Element: el, Level: harness.Must}, Outcome: harness.Outcome(outcome)}
}

func TestCompareClassifiesEveryCheck(t *testing.T) {
	doc := string(spec.Preview2017.Document())
	baseline := run(doc,
		check("CIP-A", "op 201", "passed"), check("CIP-B", "op 201", "failed"), check("CIP-C", "op 201", "failed"),
		check("CIP-D", "op 201", "passed"), check("CIP-E", "op 201", "passed"), check("CIP-GONE", "op 201", "passed"),
		check("CIP-F", "op 201", "passed"), check("CIP-G", "op 201", "passed"), check("CIP-FILTERED", "op 201", "failed"))
	current := run(doc,
		check("CIP-A", "op 201", "failed"), check("CIP-B", "op 201", "passed"), check("CIP-C", "op 201", "failed"),
		check("CIP-D", "op 201", "skipped"), check("CIP-E", "op 201", "passed"), check("CIP-NEW", "op 201", "failed"),
		check("CIP-F", "op 201", "error"), check("CIP-G", "op 201 renamed", "passed"))
	cmp := regression.Compare(baseline, current, []string{"CIP-A", "CIP-B", "CIP-C", "CIP-D", "CIP-E", "CIP-F", "CIP-G", "CIP-NEW", "CIP-FILTERED"})
	want := map[string]regression.Class{
		"CIP-FILTERED": regression.NotRun,
		"CIP-A":        regression.Regression, "CIP-B": regression.Fixed, "CIP-C": regression.StillFailing, "CIP-D": regression.NewlySkipped,
		"CIP-E": regression.Unchanged, "CIP-NEW": regression.NewCheck, "CIP-GONE": regression.RemovedCheck, "CIP-F": regression.NotJudged,
		"CIP-G": regression.Unchanged,
	}
	if len(cmp.Deltas) != len(want) {
		t.Fatalf("%d deltas, want %d: %+v", len(cmp.Deltas), len(want), cmp.Deltas)
	}
	for _, d := range cmp.Deltas {
		if want[d.ID] != d.Class {
			t.Errorf("%s: %s, want %s", d.ID, d.Class, want[d.ID])
		}
	}
	if cmp.Deltas[0].Class != regression.Regression || cmp.SpecChanged {
		t.Errorf("regressions come first; the spec did not change: %+v", cmp)
	}
	if got := cmp.Summary(); !strings.HasPrefix(got, "1 regression, 1 not-judged, 1 newly-skipped") {
		t.Errorf("summary %q", got)
	}
}

// With a spec whose status enum lost Pending, the schema check's new failure is expected by the
// spec change (with oasdiff's rule); a failure of an unrelated check is still a regression.
func TestASpecChangeExplainsADelta(t *testing.T) {
	old := string(spec.Preview2017.Document())
	changed := strings.Replace(old, "enum: [Pending, InProgress, Succeeded, Failed, TimeOut, Cancelled]", "enum: [InProgress, Succeeded, Failed, TimeOut, Cancelled]", 1)
	if changed == old {
		t.Fatal("the enum to change is not in the spec")
	}
	schema := "collectInvestigationPackage 201 #/components/schemas/MachineAction"
	baseline := run(old, check("CIP-CREATE-003", schema, "passed"), check("CIP-CREATE-009", "collectInvestigationPackage 201 /status", "passed"),
		check("CIP-CREATE-004", "collectInvestigationPackage 201 /type", "passed"), check("CIP-CREATE-001", "collectInvestigationPackage 201", "passed"),
		check("CIP-AUTH-001", "collectInvestigationPackage 401 security bearer", "passed"))
	current := run(changed, check("CIP-CREATE-003", schema, "failed"), check("CIP-CREATE-009", "collectInvestigationPackage 201 /status", "failed"),
		check("CIP-CREATE-004", "collectInvestigationPackage 201 /type", "failed"), check("CIP-CREATE-001", "collectInvestigationPackage 201", "failed"),
		check("CIP-AUTH-001", "collectInvestigationPackage 401 security bearer", "failed"))
	current.Spec.Digest = "sha256:other"
	cmp := regression.Compare(baseline, current, nil)
	if !cmp.SpecChanged || len(cmp.SpecChanges) != 1 || cmp.SpecChanges[0].Rule != "response-property-enum-value-removed" {
		t.Fatalf("spec changes %+v (%s)", cmp.SpecChanges, cmp.SpecNote)
	}
	want := map[string]regression.Class{
		"CIP-CREATE-003": regression.ExpectedBySpec, "CIP-CREATE-009": regression.ExpectedBySpec,
		"CIP-CREATE-004": regression.Regression, "CIP-CREATE-001": regression.Regression, "CIP-AUTH-001": regression.Regression,
	}
	for _, d := range cmp.Deltas {
		if want[d.ID] != d.Class {
			t.Errorf("%s: %s, want %s", d.ID, d.Class, want[d.ID])
		}
		if d.Class == regression.ExpectedBySpec && (d.SpecChange == nil || d.SpecChange.Rule != "response-property-enum-value-removed") {
			t.Errorf("%s: no rule %+v", d.ID, d.SpecChange)
		}
	}
	// Without the documents, nothing can be put down to the spec.
	baseline.Spec.Document = ""
	if cmp := regression.Compare(baseline, current, nil); cmp.SpecNote == "" || cmp.Counts[regression.ExpectedBySpec] != 0 {
		t.Errorf("without documents: %+v", cmp)
	}
}

func writeRatchet(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRatchet(t *testing.T) {
	path := writeRatchet(t, "known_failures:\n  - id: CIP-A\n    reason: gateway answers 404, JIRA-1\n  - id: CIP-B\n    reason: fixed upstream\n  - id: CIP-GONE\n    reason: old\n")
	rat, err := regression.LoadRatchet(path, false)
	if err != nil {
		t.Fatal(err)
	}
	current := run("", check("CIP-A", "op 201", "failed"), check("CIP-B", "op 201", "passed"), check("CIP-C", "op 201", "failed"))
	catalogue := []string{"CIP-A", "CIP-B", "CIP-C", "CIP-NOT-RUN"}
	rep := rat.Apply(current, catalogue)
	if !slices.Equal(rep.Known, []string{"CIP-A"}) || !slices.Equal(rep.Fixed, []string{"CIP-B"}) || !slices.Equal(rep.Stale, []string{"CIP-GONE"}) {
		t.Errorf("%+v", rep)
	}
	regression.Gate(current, nil, rep, regression.FailOnFailure, false)
	for _, want := range []string{"1 MUST check(s) failed: CIP-C", "now pass, remove them from the file: CIP-B", "no longer exist: CIP-GONE"} {
		if current.Verdict != results.VerdictFailed || !strings.Contains(current.Reason, want) {
			t.Errorf("verdict %s %q, want %q", current.Verdict, current.Reason, want)
		}
	}
	updated := rat.Updated(current, catalogue)
	if err := updated.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := regression.LoadRatchet(path, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []regression.KnownFailure{{ID: "CIP-A", Reason: "gateway answers 404, JIRA-1"}, {ID: "CIP-C", Reason: regression.NotTriaged}}
	if !slices.Equal(again.KnownFailures, want) {
		t.Errorf("updated %+v", again.KnownFailures)
	}
	current.Judge()
	regression.Gate(current, nil, again.Apply(current, catalogue), regression.FailOnFailure, false)
	if current.Verdict != results.VerdictPassed {
		t.Errorf("after the update: %s %s", current.Verdict, current.Reason)
	}
	// An entry for a check that exists but did not run (a label filter) is neither fixed nor
	// stale, and an update keeps it.
	notRun := &regression.Ratchet{KnownFailures: []regression.KnownFailure{{ID: "CIP-NOT-RUN", Reason: "flaky gateway"}}}
	if rep := notRun.Apply(current, catalogue); len(rep.Fixed)+len(rep.Stale)+len(rep.Known) != 0 {
		t.Errorf("a check that did not run: %+v", rep)
	}
	if kept := notRun.Updated(current, catalogue); !slices.Contains(kept.KnownFailures, regression.KnownFailure{ID: "CIP-NOT-RUN", Reason: "flaky gateway"}) {
		t.Errorf("an update dropped the entry of a check that did not run: %+v", kept)
	}
}

func TestBadRatchetFiles(t *testing.T) {
	cases := map[string]string{
		"no reason":   "known_failures:\n  - id: CIP-A\n",
		"no id":       "known_failures:\n  - reason: x\n",
		"twice":       "known_failures:\n  - id: CIP-A\n    reason: x\n  - id: CIP-A\n    reason: y\n",
		"unknown key": "known_failure:\n  - id: CIP-A\n    reason: x\n",
		"not yaml":    "known_failures: [",
	}
	for name, content := range cases {
		if _, err := regression.LoadRatchet(writeRatchet(t, content), false); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := regression.LoadRatchet(filepath.Join(t.TempDir(), "none.yaml"), false); err == nil {
		t.Error("a missing file must be an error unless it will be written")
	}
	if r, err := regression.LoadRatchet(filepath.Join(t.TempDir(), "none.yaml"), true); err != nil || len(r.KnownFailures) != 0 {
		t.Errorf("%v %v", r, err)
	}
}

func TestPolicies(t *testing.T) {
	baseline := run("", check("CIP-A", "op 201", "passed"), check("CIP-B", "op 201", "failed"))
	cases := []struct {
		policy  regression.Policy
		verdict string
	}{
		{regression.FailOnRegression, results.VerdictFailed},
		{regression.FailOnFailure, results.VerdictFailed},
		{regression.FailOnNone, results.VerdictPassed},
	}
	for _, tc := range cases {
		current := run("", check("CIP-A", "op 201", "failed"), check("CIP-B", "op 201", "failed"))
		regression.Gate(current, regression.Compare(baseline, current, nil), nil, tc.policy, false)
		if current.Verdict != tc.verdict {
			t.Errorf("%s: %s (%s)", tc.policy, current.Verdict, current.Reason)
		}
	}
	// Only B fails, as it did: no regression.
	current := run("", check("CIP-A", "op 201", "passed"), check("CIP-B", "op 201", "failed"))
	regression.Gate(current, regression.Compare(baseline, current, nil), nil, regression.FailOnRegression, false)
	if current.Verdict != results.VerdictPassed {
		t.Errorf("still failing is not a regression: %s", current.Reason)
	}
	for _, bad := range []string{"sometimes", "regression"} {
		if _, err := regression.ParsePolicy(bad, false); err == nil {
			t.Errorf("ParsePolicy(%q) without a baseline must fail", bad)
		}
	}
}

// The gate's reason and the summary count regressions alike, or say what each counts: a
// SHOULD check that regressed is in the summary, not among the regressions that fail the run.
func TestGateAndSummaryAgree(t *testing.T) {
	should := func(c results.CheckResult) results.CheckResult { c.Level = harness.Should; return c }
	baseline := run("", check("CIP-A", "op 201", "passed"), check("CIP-B", "op 201", "passed"), should(check("CIP-S", "op 201", "passed")))
	current := run("", check("CIP-A", "op 201", "failed"), check("CIP-B", "op 201", "failed"), should(check("CIP-S", "op 201", "failed")))
	cmp := regression.Compare(baseline, current, []string{"CIP-A", "CIP-B", "CIP-S"})
	if got := cmp.Summary(); got != "3 regression" {
		t.Errorf("summary %q", got)
	}
	regression.Gate(current, cmp, nil, regression.FailOnRegression, false)
	want := "2 MUST check(s) regressed since the baseline: CIP-A, CIP-B (of 3 regressions in all: the other 1 do not fail the run"
	if current.Verdict != results.VerdictFailed || !strings.Contains(current.Reason, want) {
		t.Errorf("verdict %s %q, want %q", current.Verdict, current.Reason, want)
	}
	current = run("", check("CIP-A", "op 201", "failed"), check("CIP-B", "op 201", "failed"), should(check("CIP-S", "op 201", "failed")))
	regression.Gate(current, cmp, nil, regression.FailOnRegression, true)
	if want := "3 MUST or SHOULD check(s) regressed since the baseline: CIP-A, CIP-B, CIP-S"; !strings.HasSuffix(current.Reason, want) {
		t.Errorf("strict: %q, want %q", current.Reason, want)
	}
}
