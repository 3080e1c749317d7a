package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/results"
)

// The CI workflow of the README: keep the last results.json, pass it as --baseline, fail on
// regressions only; accept known failures with reasons; the ratchet only tightens.
func TestBaselineAndRatchet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out := cli(t, dir, nil, "run", "--quiet", "--report-dir", "good"); out.code != exitOK {
		t.Fatalf("reference: %d %s", out.code, out.stderr)
	}
	m, _ := mutants.Find("created-text-plain")
	faulty := startTarget(t, m.Fault)
	baseline := filepath.Join(dir, "good", resultsFile)

	// A mutant after a good run: exactly its two checks regress.
	out := cli(t, dir, targetEnv(faulty), "run", "--report-dir", "bad", "--baseline", baseline)
	if out.code != exitFailed || !strings.Contains(out.stdout, "2 MUST check(s) regressed since the baseline: CIP-CREATE-002, CIP-CREATE-003") {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	res, err := results.Load(filepath.Join(dir, "bad", resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		want := string(regression.Unchanged)
		if c.ID == "CIP-CREATE-002" || c.ID == "CIP-CREATE-003" {
			want = string(regression.Regression)
		}
		if c.Change != want {
			t.Errorf("%s: change %q, want %q", c.ID, c.Change, want)
		}
	}
	for file, want := range map[string]string{summaryFile: "| **regression** | `CIP-CREATE-002`", junitFile: "REGRESSION: ", htmlFile: `<tr class="regression"><td><b>regression</b></td><td><a href="#CIP-CREATE-002">`, specFile: "openapi: 3.0.3"} {
		data, _ := os.ReadFile(filepath.Join(dir, "bad", file))
		if !strings.Contains(string(data), want) {
			t.Errorf("%s does not show %q", file, want)
		}
	}

	// The offline diff says the same.
	out = cli(t, dir, nil, "diff", baseline, filepath.Join(dir, "bad", resultsFile))
	if out.code != exitFailed || !strings.Contains(out.stdout, "regression               CIP-CREATE-002") {
		t.Errorf("diff: exit %d\n%s", out.code, out.stdout)
	}

	// Accepted as known failures, the same run passes.
	known := filepath.Join(dir, "known.yaml")
	if err := os.WriteFile(known, []byte("known_failures:\n  - id: CIP-CREATE-002\n    reason: our gateway labels bodies text/plain, INC-7\n  - id: CIP-CREATE-003\n    reason: same as CIP-CREATE-002\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A fresh target: the first one's machines are still collecting.
	again := startTarget(t, m.Fault)
	if out := cli(t, dir, targetEnv(again), "run", "--quiet", "--report-dir", "bad2", "--baseline", baseline, "--known-failures", known); out.code != exitOK {
		t.Errorf("known failures: exit %d\n%s", out.code, out.stdout)
	}
	// Fixed, they must leave the file: the run fails until --update-baseline removes them.
	out = cli(t, dir, nil, "run", "--quiet", "--report-dir", "good2", "--known-failures", known)
	if out.code != exitFailed || !strings.Contains(out.stdout, "known failures now pass, remove them from the file: CIP-CREATE-002, CIP-CREATE-003") {
		t.Errorf("fixed known failures: exit %d\n%s", out.code, out.stdout)
	}
	if out := cli(t, dir, nil, "run", "--quiet", "--report-dir", "good3", "--known-failures", known, "--update-baseline"); out.code != exitOK {
		t.Errorf("--update-baseline: exit %d\n%s", out.code, out.stdout)
	}
	if data, _ := os.ReadFile(known); strings.Contains(string(data), "CIP-CREATE") {
		t.Errorf("the updated file still lists fixed checks:\n%s", data)
	}
	// Errors in these flags are usage errors.
	for _, args := range [][]string{{"run", "--baseline", "/nonexistent.json"}, {"run", "--fail-on", "regression"}, {"run", "--update-baseline"}, {"diff", baseline}} {
		if out := cli(t, dir, nil, args...); out.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, out.code, exitUsage)
		}
	}
}

func TestCoverageIsInEveryReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out := cli(t, dir, nil, "run", "--quiet", "--report-dir", "out"); out.code != exitOK {
		t.Fatalf("exit %d", out.code)
	}
	res, err := results.Load(filepath.Join(dir, "out", resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	uncovered := results.Uncovered(res.Coverage)
	want := []string{"response 429", "response 500", "negative class rate limit exceeded"}
	if strings.Join(uncovered, "|") != strings.Join(want, "|") {
		t.Errorf("uncovered %v, want %v", uncovered, want)
	}
	for _, file := range []string{htmlFile, summaryFile} {
		data, _ := os.ReadFile(filepath.Join(dir, "out", file))
		if !strings.Contains(string(data), "response 429") {
			t.Errorf("%s does not list what is uncovered", file)
		}
	}
}
