package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/identity"
	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

// Kinds of self-test targets.
const (
	kindReference  = "reference"
	kindConformant = "conformant"
	kindMutant     = "mutant"
)

// SelfTestRow is one target of the self-test and what the suite made of it.
type SelfTestRow struct {
	Profile     string   `json:"profile"` // the contract the target was judged against
	Column      string   `json:"column"`  // its column in the matrix: R, C1..., M1...
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Description string   `json:"description"`
	Expected    []string `json:"expected"`   // the checks that must fail
	Failed      []string `json:"failed"`     // the checks that did fail
	Unexpected  []string `json:"unexpected"` // failed, but not expected: a false alarm or an undocumented knock-on
	Missed      []string `json:"missed"`     // expected, but passed: a check that did not fire
	Errors      []string `json:"errors,omitempty"`
	Skipped     []string `json:"skipped,omitempty"`
	Problem     string   `json:"problem,omitempty"`
	DurationMS  int64    `json:"durationMs"`
}

// SelfTestReport is selftest.json: a matrix per profile.
type SelfTestReport struct {
	SchemaVersion string     `json:"schemaVersion"`
	Harness       string     `json:"harness"`
	Profiles      []SelfTest `json:"profiles"`
	DurationMS    int64      `json:"durationMs"`
	Passed        bool       `json:"passed"`
}

// SelfTest is the matrix of one profile: every target judged against its contract.
type SelfTest struct {
	Profile string `json:"profile"`
	// NotApplicable are the mutants whose fault cannot show in this profile's contract (their
	// proof selects no check of its catalogue): they are not run.
	NotApplicable []string      `json:"notApplicable,omitempty"`
	Checks        []string      `json:"checks"`
	Rows          []SelfTestRow `json:"rows"`
	Unkilled      []string      `json:"unkilled"` // checks no mutant made fail
	Problems      []string      `json:"problems"`
	DurationMS    int64         `json:"durationMs"`
	Passed        bool          `json:"passed"`
}

func selftestVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var reportDir, only, profile *string
	var parallel *int
	cmd := command{name: "selftest", about: `
Proves the harness: runs the whole catalogue of each profile (as 'run' does, in this process)
against the reference implementation, every conformant variant and every mutant (a faulty implementation;
suites/checks/proofs.go names the checks that must catch it), then prints the mutant x check matrix.

It fails when a mutant survives or a check its proof lists does not fire on it, when a check that its
proof does not list fails on it, when any check fails on the reference or a conformant variant (a false
alarm), or when a check of the catalogue is killed by no mutant.`,
		bind: func(fs *flag.FlagSet) {
			reportDir = fs.String("report-dir", "reports/selftest", "write selftest.md and selftest.json to this `DIR`")
			parallel = fs.Int("parallel", runtime.NumCPU(), "how many targets to check at once")
			only = fs.String("only", "", "check only the targets whose names contain this `TEXT` (the reference always runs)")
			profile = fs.String("profile", "", "prove the checks of this profile only (`NAME`: "+strings.Join(spec.ProfileNames(), " or ")+"); default: every profile")
		},
		exits: []exitCode{
			{exitOK, "every check fires on its mutants, and no false alarm"},
			{exitFailed, "a mutant survived, a check did not fire or fired unexpectedly, a false alarm,\nor a check no mutant kills"},
			{exitUsage, "usage error: an unknown flag or a bad value, an argument, --parallel below 1"},
			{exitCannotDo, "the self-test could not be done: interrupted, or its reports could not be written"},
		},
	}
	if fs, code := cmd.parse(args, stdout, stderr); fs == nil {
		return code
	}
	if *parallel < 1 {
		fmt.Fprintf(stderr, "selftest: --parallel %d: want at least 1\n", *parallel)
		return exitUsage
	}
	profiles := spec.Profiles()
	if *profile != "" {
		p, err := spec.LookupProfile(*profile)
		if err != nil {
			fmt.Fprintf(stderr, "selftest: --profile: %v\n", err)
			return exitUsage
		}
		profiles = []spec.Profile{p}
	}
	start := time.Now()
	issuer, err := identity.NewIssuer()
	if err != nil {
		fmt.Fprintf(stderr, "selftest: %v\n", err)
		return exitCannotDo
	}
	tokens, err := issuer.MintTokens(time.Hour)
	if err != nil {
		fmt.Fprintf(stderr, "selftest: %v\n", err)
		return exitCannotDo
	}
	type work struct {
		row       *SelfTestRow
		profile   spec.Profile
		catalogue []harness.Check
	}
	var all []work
	report := SelfTestReport{SchemaVersion: "cipconform.selftest/v2", Harness: version}
	catalogues := make([][]harness.Check, len(profiles))
	rowsOf := make([][]SelfTestRow, len(profiles))
	notApplicable := make([][]string, len(profiles))
	for i, p := range profiles {
		if catalogues[i], err = checks.Catalogue(p); err != nil {
			fmt.Fprintf(stderr, "selftest: %v\n", err)
			return exitCannotDo
		}
		rowsOf[i], notApplicable[i] = selftestRows(catalogues[i], *only)
		for j := range rowsOf[i] {
			rowsOf[i][j].Profile = p.Name
		}
	}
	for i, p := range profiles {
		for j := range rowsOf[i] {
			all = append(all, work{&rowsOf[i][j], p, catalogues[i]})
		}
		fmt.Fprintf(stdout, "Self-test of %s: %d targets, %d checks\n", p.Name, len(rowsOf[i]), len(catalogues[i]))
	}
	fmt.Fprintf(stdout, "%d at a time\n", *parallel)

	var wg sync.WaitGroup
	var mu sync.Mutex
	next := make(chan work)
	for range *parallel {
		wg.Go(func() {
			for w := range next {
				row := w.row
				checkTarget(ctx, row, w.profile, w.catalogue, issuer, &tokens)
				slices.Sort(row.Failed)
				mu.Lock()
				status := "ok"
				if row.Problem != "" {
					status = "PROBLEM: " + row.Problem
				}
				fmt.Fprintf(stdout, "  %-12s %-4s %-28s %2d failed  %s\n", row.Profile, row.Column, row.Name, len(row.Failed), status)
				mu.Unlock()
			}
		})
	}
	for _, w := range all {
		select {
		case next <- w:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "selftest: interrupted")
		return exitCannotDo
	}

	report.Passed = true
	var matrix strings.Builder
	for i, p := range profiles {
		st := judgeSelfTest(catalogues[i], rowsOf[i], *only == "")
		st.Profile, st.NotApplicable = p.Name, notApplicable[i]
		report.Profiles = append(report.Profiles, st)
		report.Passed = report.Passed && st.Passed
	}
	report.DurationMS = time.Since(start).Milliseconds()
	for _, st := range report.Profiles {
		st.DurationMS = report.DurationMS
		matrix.WriteString(selftestMarkdown(st) + "\n")
	}
	fmt.Fprint(stdout, "\n"+matrix.String())
	if err := writeSelfTest(*reportDir, report, matrix.String()); err != nil {
		fmt.Fprintf(stderr, "selftest: %v\n", err)
		return exitCannotDo
	}
	bad, rows := 0, 0
	for _, st := range report.Profiles {
		for _, r := range st.Rows {
			rows++
			if r.Problem != "" {
				bad++
			}
		}
	}
	fmt.Fprintf(stdout, "\nmatrix: %s\nselftest: %d passed, %d failed\n", filepath.Join(*reportDir, "selftest.md"), rows-bad, bad)
	if !report.Passed {
		return exitFailed
	}
	return exitOK
}

// selftestRows are the targets of one profile's matrix: the reference, the conformant variants
// and the mutants whose fault can show in its contract; the names of the others are returned
// apart.
func selftestRows(catalogue []harness.Check, only string) ([]SelfTestRow, []string) {
	proofs := checks.Proofs(catalogue)
	var notApplicable []string
	rows := []SelfTestRow{{Column: "R", Name: "reference", Kind: kindReference, Description: "the reference implementation"}}
	for i, m := range mutants.Conformant() {
		rows = append(rows, SelfTestRow{Column: fmt.Sprintf("C%d", i+1), Name: m.Name, Kind: kindConformant, Description: m.Description})
	}
	for i, m := range mutants.All() {
		if len(proofs[m.Name]) == 0 {
			notApplicable = append(notApplicable, m.Name)
			continue
		}
		rows = append(rows, SelfTestRow{Column: fmt.Sprintf("M%d", i+1), Name: m.Name, Kind: kindMutant, Description: m.Description, Expected: proofs[m.Name]})
	}
	return slices.DeleteFunc(rows, func(r SelfTestRow) bool { return r.Kind != kindReference && !strings.Contains(r.Name, only) }), notApplicable
}

// checkTarget runs the catalogue against one target, in this process, and records what failed.
func checkTarget(ctx context.Context, row *SelfTestRow, p spec.Profile, catalogue []harness.Check, issuer *identity.Issuer, tokens *identity.Tokens) {
	start := time.Now()
	defer func() { row.DurationMS = time.Since(start).Milliseconds() }()
	var fault embedded.Fault
	if row.Kind != kindReference {
		m, _ := mutants.Find(row.Name)
		fault = m.Fault
	}
	target, err := embedded.Start(embedded.Options{Machines: 40, Fault: fault, Issuer: issuer, Tokens: tokens})
	if err != nil {
		row.Problem = err.Error()
		return
	}
	defer target.Close()
	cfg := config.Defaults()
	cfg.Profile = p.Name
	// The reference cancels at once; a mutant whose cancel does nothing must not hold the
	// self-test for the default wait, and no machine is busy from an earlier run.
	cfg.SettleTimeout, cfg.BusyWait = 200*time.Millisecond, 0
	cfg = harness.TargetConfig(cfg, target)
	suite, err := harness.NewSuite(ctx, cfg, p, catalogue)
	if err != nil {
		row.Problem = "the suite could not start: " + firstLine(err.Error())
		return
	}
	defer suite.Close()
	for _, r := range suite.RunChecks(ctx, catalogue, cfg.Concurrency, nil) {
		switch r.Outcome {
		case harness.Failed:
			row.Failed = append(row.Failed, r.Check.ID)
		case harness.Errored:
			row.Errors = append(row.Errors, r.Check.ID)
		case harness.Skipped:
			row.Skipped = append(row.Skipped, r.Check.ID)
		}
	}
	row.classify()
}

// classify compares what failed with what the row expects and names the problem, if any.
func (row *SelfTestRow) classify() {
	row.Unexpected, row.Missed = nil, nil
	for _, id := range row.Failed {
		if !slices.Contains(row.Expected, id) {
			row.Unexpected = append(row.Unexpected, id)
		}
	}
	for _, id := range row.Expected {
		if !slices.Contains(row.Failed, id) {
			row.Missed = append(row.Missed, id)
		}
	}
	switch {
	case len(row.Errors) > 0 || len(row.Skipped) > 0:
		row.Problem = fmt.Sprintf("errors %v, skipped %v", row.Errors, row.Skipped)
	case row.Kind == kindMutant && len(row.Failed) == 0:
		row.Problem = "survived: no check failed"
	case row.Kind != kindMutant && len(row.Failed) > 0:
		row.Problem = fmt.Sprintf("false alarm: %v failed", row.Failed)
	case len(row.Unexpected) > 0:
		row.Problem = fmt.Sprintf("%v failed but the mutant's proof does not list them", row.Unexpected)
	case len(row.Missed) > 0:
		row.Problem = fmt.Sprintf("%v did not fire", row.Missed)
	}
}

func judgeSelfTest(catalogue []harness.Check, rows []SelfTestRow, complete bool) SelfTest {
	st := SelfTest{Rows: rows}
	killed := map[string]bool{}
	for _, r := range rows {
		if r.Problem != "" {
			st.Problems = append(st.Problems, fmt.Sprintf("%s (%s): %s", r.Name, r.Kind, r.Problem))
		}
		if r.Kind == kindMutant {
			for _, id := range r.Failed {
				killed[id] = true
			}
		}
	}
	for _, c := range catalogue {
		st.Checks = append(st.Checks, c.ID)
		if !killed[c.ID] {
			st.Unkilled = append(st.Unkilled, c.ID)
		}
	}
	if complete && len(st.Unkilled) > 0 {
		st.Problems = append(st.Problems, fmt.Sprintf("killed by no mutant (a check that cannot fail is a defect): %v", st.Unkilled))
	}
	st.Passed = len(st.Problems) == 0
	return st
}

// selftestMarkdown is the matrix: one line per check, one column per target. X: failed as
// its entry says; !: failed though not expected; ?: expected but passed; .: passed.
func selftestMarkdown(st SelfTest) string {
	var b strings.Builder
	verdict := "PASSED"
	if !st.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "## cipconform self-test of %s: %s\n\n", st.Profile, verdict)
	fmt.Fprintf(&b, "%d targets x %d checks in %.1f s. Columns: R the reference, C conformant variants (must pass everything), M mutants (must fail exactly the checks their proof lists).\n", len(st.Rows), len(st.Checks), float64(st.DurationMS)/1000)
	b.WriteString("Cells: `X` failed as expected, `!` failed unexpectedly, `?` expected to fail but passed, `.` passed.\n\n```\n")
	width := 0
	for _, id := range st.Checks {
		width = max(width, len(id))
	}
	// Column headers, written vertically.
	for line := 0; line < 3; line++ {
		fmt.Fprintf(&b, "%-*s ", width, "")
		for _, r := range st.Rows {
			label := fmt.Sprintf("%3s", r.Column)
			b.WriteByte(label[len(label)-3+line])
		}
		b.WriteByte('\n')
	}
	for _, id := range st.Checks {
		fmt.Fprintf(&b, "%-*s ", width, id)
		for _, r := range st.Rows {
			failed, expected := slices.Contains(r.Failed, id), slices.Contains(r.Expected, id)
			switch {
			case failed && expected:
				b.WriteByte('X')
			case failed:
				b.WriteByte('!')
			case expected:
				b.WriteByte('?')
			default:
				b.WriteByte('.')
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString("```\n\n")
	if len(st.NotApplicable) > 0 {
		fmt.Fprintf(&b, "Not run: mutants whose fault cannot show in this contract: %s.\n\n", strings.Join(st.NotApplicable, ", "))
	}
	b.WriteString("| column | target | kind | what it does | checks that fail |\n|---|---|---|---|---|\n")
	for _, r := range st.Rows {
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", r.Column, r.Name, r.Kind, r.Description, strings.Join(r.Failed, ", "))
	}
	if len(st.Problems) > 0 {
		b.WriteString("\nProblems:\n")
		for _, p := range st.Problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	return b.String()
}

func writeSelfTest(dir string, st SelfTestReport, matrix string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "selftest.json"), data, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "selftest.md"), []byte(matrix), 0o644)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
