package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
)

func diffVerb(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var failOn, known *string
	cmd := command{name: "diff", args: []string{"BASELINE", "CURRENT"}, about: `
Compares two results.json files offline and classifies every check by its ID: regression (passed
before, fails now), expected-by-spec-change (fails now because the spec changed what it verifies,
per oasdiff), not-judged (an error this time: the target could not be used, a machine was busy;
never a regression), fixed, still-failing, new-check, removed-check, newly-skipped, not-run (left
out by a label filter), unchanged. A regression of a SHOULD check fails only with --strict, as the
CURRENT run had it; a known failure never does.`,
		bind: func(fs *flag.FlagSet) {
			failOn = fs.String("fail-on", "regression", "what fails: regression, failure or none")
			known = fs.String("known-failures", "", "YAML `FILE` of accepted failures, each with a reason")
		},
		exits: []exitCode{
			{exitOK, "nothing that --fail-on counts: no MUST regression (by default), or no MUST failure"},
			{exitFailed, "what --fail-on counts: a regression (by default) or any failure; or a --known-failures\nentry that now passes or no longer exists"},
			{exitUsage, "usage error, or a file that cannot be read (results.json, --known-failures)"},
			{exitCannotDo, "the CURRENT run could not be done (its verdict is error), or it is incomplete"},
		},
	}
	fs, code := cmd.parse(args, stdout, stderr)
	if fs == nil {
		return code
	}
	baseline, err := results.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "diff: baseline: %v\n", err)
		return exitUsage
	}
	current, err := results.Load(fs.Arg(1))
	if err != nil {
		fmt.Fprintf(stderr, "diff: current: %v\n", err)
		return exitUsage
	}
	if b, c := baseline.Profile.Name, current.Profile.Name; b != "" && c != "" && b != c {
		fmt.Fprintf(stderr, "diff: warning: the baseline judged the %s contract, CURRENT the %s one: a check's change may be the contract's, not the target's\n", b, c)
	}
	policy, err := regression.ParsePolicy(*failOn, true)
	if err != nil {
		fmt.Fprintf(stderr, "diff: %v\n", err)
		return exitUsage
	}
	// The current run's profile says which catalogue the checks belong to.
	profile, err := spec.LookupProfile(current.Profile.Name)
	if err != nil {
		profile = spec.Preview2017 // results of a harness before profiles
	}
	catalogue, err := catalogueIDs(profile)
	if err != nil {
		fmt.Fprintf(stderr, "diff: %v\n", err)
		return exitCannotDo
	}
	var rat *regression.RatchetReport
	if *known != "" {
		r, err := regression.LoadRatchet(*known, false)
		if err != nil {
			fmt.Fprintf(stderr, "diff: %v\n", err)
			return exitUsage
		}
		rat = r.Apply(current, catalogue)
	}
	cmp := regression.Compare(baseline, current, catalogue)
	cmp.Ratchet = rat
	printComparison(stdout, cmp)
	regression.Gate(current, cmp, rat, policy, current.Strict)
	fmt.Fprintf(stdout, "\n%s: %s\n", current.Verdict, current.Reason)
	return verdictExit(current)
}

func printComparison(w io.Writer, cmp *regression.Report) {
	fmt.Fprintf(w, "Since the baseline of %s: %s\n", cmp.BaselineStart, cmp.Summary())
	if cmp.SpecChanged {
		fmt.Fprintf(w, "The spec changed: %s -> %s\n", cmp.BaselineSpec, cmp.CurrentSpec)
		if cmp.SpecNote != "" {
			fmt.Fprintf(w, "  %s\n", cmp.SpecNote)
		}
		for _, c := range cmp.SpecChanges {
			fmt.Fprintf(w, "  %s\n", specChangeLine(c))
		}
	}
	for _, d := range cmp.Deltas {
		if d.Class == regression.Unchanged || d.Class == regression.NotRun {
			continue
		}
		fmt.Fprintf(w, "%-24s %-26s %-8s -> %-8s %s", d.Class, d.ID, orNone(string(d.Before)), orNone(string(d.After)), d.Element)
		if d.SpecChange != nil {
			fmt.Fprintf(w, "  [spec: %s]", d.SpecChange.Rule)
		}
		fmt.Fprintln(w)
	}
}

func specChangeLine(c regression.SpecChange) string {
	kind := "change  "
	if c.Breaking {
		kind = "BREAKING"
	}
	return fmt.Sprintf("%s [%s] %s", kind, c.Rule, c.Text)
}

func specDiffVerb(_ context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := command{name: "spec-diff", args: []string{"OLD.yaml", "NEW.yaml"}, about: `
Prints the changes between two versions of the OpenAPI document that matter to implementers,
breaking ones first (computed by oasdiff).`,
		exits: []exitCode{
			{exitOK, "no change is breaking"},
			{exitFailed, "a change is breaking (a removed path or operation always is)"},
			{exitUsage, "usage error, or a document that cannot be read or is not a valid OpenAPI document"},
		},
	}
	fs, code := cmd.parse(args, stdout, stderr)
	if fs == nil {
		return code
	}
	var docs [2][]byte
	for i := range docs {
		data, err := os.ReadFile(fs.Arg(i))
		if err != nil {
			fmt.Fprintf(stderr, "spec-diff: %v\n", err)
			return exitUsage
		}
		docs[i] = data
	}
	changes, err := regression.SpecDiff(docs[0], docs[1])
	if err != nil {
		fmt.Fprintf(stderr, "spec-diff: %v\n", err)
		return exitUsage
	}
	breaking := 0
	for _, c := range changes {
		fmt.Fprintln(stdout, specChangeLine(c))
		if c.Breaking {
			breaking++
		}
	}
	fmt.Fprintf(stdout, "%d change(s), %d breaking\n", len(changes), breaking)
	if breaking > 0 {
		return exitFailed
	}
	return exitOK
}
