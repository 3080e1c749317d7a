package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
)

// The self-test passes: every mutant fails exactly the checks it lists, the reference and the
// conformant variants pass everything, and every check is killed by some mutant. `make test`
// also runs `cipconform selftest`, which prints the matrix.
func TestSelfTest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := cli(t, dir, nil, "selftest", "--report-dir", "st")
	if out.code != exitOK {
		t.Fatalf("selftest: exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "st", "selftest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report SelfTestReport
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	if !report.Passed || len(report.Profiles) != len(spec.Profiles()) {
		t.Errorf("passed %v, %d profiles", report.Passed, len(report.Profiles))
	}
	for _, st := range report.Profiles {
		if !st.Passed || len(st.Rows) < 50 || len(st.Unkilled) > 0 {
			t.Errorf("%s: passed %v, %d rows, unkilled %v", st.Profile, st.Passed, len(st.Rows), st.Unkilled)
		}
	}
	matrix, err := os.ReadFile(filepath.Join(dir, "st", "selftest.md"))
	if err != nil || !strings.Contains(string(matrix), "CIP-CREATE-001") {
		t.Errorf("selftest.md: %v", err)
	}
	t.Logf("%s", matrix)
}

// A mutant entry that is wrong fails the self-test, and so does a partial proof judged as
// complete.
func TestSelfTestFailsOnAnIncompleteProof(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := cli(t, dir, nil, "selftest", "--report-dir", "st", "--only", "403-for-401")
	if out.code != exitOK {
		t.Fatalf("a partial run judges only its rows: exit %d\n%s", out.code, out.stdout)
	}
	catalogue, err := checks.Catalogue(spec.Preview2017)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := selftestRows(catalogue, "403-for-401")
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	cases := map[string]struct {
		failed, expected []string
		kind             string
	}{
		"a listed check did not fire": {failed: []string{"CIP-AUTH-001"}, expected: []string{"CIP-AUTH-001", "CIP-AUTH-002"}, kind: kindMutant},
		"an unlisted check failed":    {failed: []string{"CIP-AUTH-001", "CIP-BODY-001"}, expected: []string{"CIP-AUTH-001"}, kind: kindMutant},
		"the mutant survived":         {expected: []string{"CIP-AUTH-001"}, kind: kindMutant},
		"a false alarm":               {failed: []string{"CIP-AUTH-001"}, kind: kindConformant},
	}
	for name, tc := range cases {
		row := SelfTestRow{Name: "x", Kind: tc.kind, Failed: tc.failed, Expected: tc.expected}
		row.classify()
		if st := judgeSelfTest(nil, []SelfTestRow{row}, false); st.Passed {
			t.Errorf("%s: the self-test passed", name)
		}
	}
	if st := judgeSelfTest(catalogue, rows, true); st.Passed || len(st.Unkilled) == 0 {
		t.Error("a proof in which most checks are killed by no mutant passed")
	}
}

// BenchmarkSelfTest measures the whole self-test, in this process: every mutant and variant,
// per profile and for both. The goal (issue 10) was at most 3 s per op for one profile's matrix
// on a 2-core machine.
func BenchmarkSelfTest(b *testing.B) {
	for _, profile := range append(spec.ProfileNames(), "") {
		name := profile
		if name == "" {
			name = "every-profile"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			args := []string{"--report-dir", dir}
			if profile != "" {
				args = append(args, "--profile", profile)
			}
			for b.Loop() {
				if code := selftestVerb(context.Background(), args, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("selftest exited %d", code)
				}
			}
		})
	}
}
