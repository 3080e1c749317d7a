package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/render"
	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
	"github.com/cipconform/cipconform/suites/redact"
)

// The report files of a run, in --report-dir.
const (
	resultsFile = "results.json"
	junitFile   = "junit.xml"
	htmlFile    = "report.html"
	summaryFile = "summary.md"
	specFile    = "openapi.yaml"
)

// runOptions are the flags of `run` beyond the configuration.
type runOptions struct {
	labelFilter     string
	reportDir       string
	quiet           bool
	strict          bool
	runTimeout      time.Duration
	baseline        string
	failOn          string
	knownFailures   string
	updateBaseline  bool
	allowIncomplete bool
	// phaseEnded, when set, hears the end of each part of a run ("setup", "checks",
	// "cleanup", "judging", "reports"): the whole-run benchmark reports where the time goes.
	phaseEnded func(phase string)
}

func (o runOptions) ended(phase string) {
	if o.phaseEnded != nil {
		o.phaseEnded(phase)
	}
}

func bindRunOptions(fs *flag.FlagSet) *runOptions {
	o := &runOptions{}
	fs.StringVar(&o.labelFilter, "label-filter", "", "run only the checks whose labels match this Ginkgo `QUERY`, e.g. 'safety:read-only' or 'kind:auth || kind:body'")
	fs.StringVar(&o.reportDir, "report-dir", "reports", "write "+resultsFile+", "+junitFile+", "+htmlFile+" and "+summaryFile+" to this `DIR`")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the verdict, not a line per check (for CI logs)")
	fs.BoolVar(&o.strict, "strict", false, "fail the run on SHOULD failures too")
	fs.DurationVar(&o.runTimeout, "timeout", 30*time.Minute, "bound the whole run: stop it after this long (exit 3); each request has its own --request-timeout")
	fs.StringVar(&o.baseline, "baseline", "", "compare with the results.json of an earlier run `FILE`: regressions, fixes, spec changes")
	fs.StringVar(&o.failOn, "fail-on", "", "what fails the run: regression, failure or none (default: regression with --baseline, else failure)")
	fs.StringVar(&o.knownFailures, "known-failures", "", "YAML `FILE` of accepted failures, each with a reason; they do not fail the run")
	fs.BoolVar(&o.allowIncomplete, "allow-incomplete", false, "exit 0 when nothing failed although MUST checks did not run for want of machines or identities (the verdict still says incomplete)")
	fs.BoolVar(&o.updateBaseline, "update-baseline", false, "rewrite --known-failures to this run's failures, keeping their reasons")
	return o
}

// gate is the baseline, the ratchet and the policy of a run, read before anything is sent.
type gate struct {
	baseline *results.Results
	ratchet  *regression.Ratchet
	policy   regression.Policy
	explicit bool // a baseline, a ratchet or --fail-on was given: the policy decides the verdict
}

func (o runOptions) gate() (gate, error) {
	var g gate
	var err error
	if o.baseline != "" {
		if g.baseline, err = results.Load(o.baseline); err != nil {
			return g, fmt.Errorf("--baseline: %w", err)
		}
	}
	if o.updateBaseline && o.knownFailures == "" {
		return g, fmt.Errorf("--update-baseline rewrites the --known-failures file: give one")
	}
	if o.knownFailures != "" {
		if g.ratchet, err = regression.LoadRatchet(o.knownFailures, o.updateBaseline); err != nil {
			return g, err
		}
	}
	if g.policy, err = regression.ParsePolicy(o.failOn, g.baseline != nil); err != nil {
		return g, err
	}
	g.explicit = o.baseline != "" || o.knownFailures != "" || o.failOn != ""
	return g, nil
}

// apply compares the run with the baseline, applies the ratchet and the policy, and marks
// each check with its change and its known-failure reason.
func (g gate) apply(res *results.Results, p spec.Profile, opts runOptions) (*regression.Report, error) {
	catalogue, err := catalogueIDs(p)
	if err != nil {
		return nil, err
	}
	var cmp *regression.Report
	if g.baseline != nil {
		cmp = regression.Compare(g.baseline, res, catalogue)
		res.Regression = cmp
	}
	var rat *regression.RatchetReport
	if g.ratchet != nil {
		// A run that could not be done says nothing about which failures remain.
		if opts.updateBaseline && res.Verdict != results.VerdictError {
			g.ratchet = g.ratchet.Updated(res, catalogue)
			if err := g.ratchet.Save(opts.knownFailures); err != nil {
				return cmp, err
			}
		}
		rat = g.ratchet.Apply(res, catalogue)
	}
	for i := range res.Checks {
		c := &res.Checks[i]
		if d, ok := cmp.Of(c.ID); ok {
			c.Change = string(d.Class)
		}
		if g.ratchet != nil && failing(c.Outcome) {
			c.KnownFailure, _ = g.ratchet.Reason(c.ID)
		}
	}
	if cmp != nil {
		cmp.Ratchet = rat
	}
	if g.explicit {
		regression.Gate(res, cmp, rat, g.policy, opts.strict)
	}
	return cmp, nil
}

// runWarnings are what every report says before anything else.
func runWarnings(cfg config.Config, res *results.Results) []string {
	var w []string
	if cfg.Insecure {
		w = append(w, "TLS certificate verification was OFF (--insecure): the target's identity was not checked")
	}
	refused := 0
	for _, c := range res.Checks {
		if c.Outcome == results.Skipped && c.Refused {
			refused++
		}
	}
	if production, why := cfg.Production(); production {
		if cfg.AllowActions {
			w = append(w, fmt.Sprintf("production target (%s): checks that create actions ran (--allow-actions)", why))
		} else {
			w = append(w, fmt.Sprintf("production target (%s): %d checks that create actions were refused; the read-only checks ran", why, refused))
		}
	}
	return w
}

// catalogueIDs are the IDs of every check of a profile's catalogue.
func catalogueIDs(p spec.Profile) ([]string, error) {
	catalogue, err := checks.Catalogue(p)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(catalogue))
	for i, c := range catalogue {
		ids[i] = c.ID
	}
	return ids, nil
}

func failing(outcome harness.Outcome) bool {
	return outcome == results.Failed || outcome == results.Errored
}

const configHelp = `
Configuration: each setting is a flag, a CIP_ variable (named beside each flag above) or a key of a
YAML file (--config FILE or CIP_CONFIG; the key is the flag's name with _ for -, e.g. machine_ids).
Precedence: flag > env > file. Without --target, the embedded reference implementation is started
on a loopback port, with minted tokens, and checked.
`

func runVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var settings *config.Flags
	var opts *runOptions
	cmd := command{name: "run", about: `
Runs every check of the catalogue against a target (or the embedded reference) and writes the
reports: results.json (versioned schema), junit.xml, report.html (self-contained) and summary.md.
Prints a line per check while it runs, then the counts and the verdict.`,
		bind: func(fs *flag.FlagSet) {
			settings = config.BindFlags(fs)
			opts = bindRunOptions(fs)
		},
		notes: configHelp,
		exits: []exitCode{
			{exitOK, "every MUST check passed (SHOULD failures are reported; they fail the run only with --strict)"},
			{exitFailed, "conformance failures"},
			{exitUsage, "usage or configuration error"},
			{exitCannotDo, "the run could not be done: the target could not be used, every check errored or was skipped,\nno check was selected, the run took longer than --timeout, or it is incomplete: MUST checks\ndid not run for want of machines or identities (--allow-incomplete exits 0 then)"},
		},
	}
	if fs, code := cmd.parse(args, stdout, stderr); fs == nil {
		return code
	}
	for _, w := range settings.Warnings() {
		fmt.Fprintln(stderr, w)
	}
	cfg, err := config.Load(settings, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "run: configuration: %v\n", err)
		return exitUsage
	}
	g, err := opts.gate()
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return exitUsage
	}
	profiles, err := cfg.Profiles()
	if err != nil {
		fmt.Fprintf(stderr, "run: configuration: %v\n", err)
		return exitUsage
	}
	if len(profiles) > 1 && g.explicit {
		fmt.Fprintf(stderr, "run: --baseline, --known-failures and --fail-on judge one contract: give --profile (%s)\n", strings.Join(spec.ProfileNames(), " or "))
		return exitUsage
	}
	if cfg.Insecure { // once for the run, however many profiles it checks
		fmt.Fprintln(stderr, "WARNING: TLS certificate verification is OFF (--insecure): the target's identity is not checked. Never use this against production.")
	}
	if len(profiles) > 1 {
		if err := removeReports(opts.reportDir); err != nil {
			fmt.Fprintf(stderr, "run: report dir: %v\n", err)
			return exitUsage
		}
	}
	code := exitOK
	for _, p := range profiles {
		o := *opts
		if len(profiles) > 1 {
			// The embedded reference speaks every profile: each gets its own reports.
			o.reportDir = filepath.Join(opts.reportDir, p.Name)
			fmt.Fprintf(stdout, "\n== %s: %s ==\n", p.Name, p.Title)
		}
		res, c := execute(ctx, cfg, p, o, g, stdout, stderr)
		if res != nil && !opts.quiet {
			printProblems(stdout, res, o.reportDir)
			fmt.Fprintf(stdout, "\n%d passed, %d failed, %d skipped, %d error\n", res.Counts.Passed, res.Counts.Failed, res.Counts.Skipped, res.Counts.Error)
		}
		if res != nil {
			verdict := strings.ToUpper(res.Verdict)
			if len(profiles) > 1 {
				verdict += " (" + p.Name + ")"
			}
			fmt.Fprintf(stdout, "%s: %s\nreports: %s\n", verdict, res.Reason, o.reportDir)
		}
		code = worse(code, c)
		if ctx.Err() != nil {
			break
		}
	}
	return code
}

// worse is the exit code of two runs together: a usage error, then a run that could not be
// done, then failures.
func worse(a, b int) int {
	rank := map[int]int{exitOK: 0, exitFailed: 1, exitCannotDo: 2, exitUsage: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// printProblems says in a line each why the failed checks failed, so that a person at a
// terminal need not open a report to know.
func printProblems(w io.Writer, res *results.Results, dir string) {
	printed := false
	for _, c := range res.Checks {
		if c.Outcome != results.Failed && c.Outcome != results.Errored {
			continue
		}
		if !printed {
			fmt.Fprintf(w, "\nWhat failed (exchanges and curl commands in %s):\n", filepath.Join(dir, htmlFile))
			printed = true
		}
		fmt.Fprintf(w, "  %-26s %s\n", c.ID, render.Headline(c))
	}
}

// execute runs the selected checks of the catalogue in this process against cfg's target
// (or a freshly started embedded reference) and writes the reports. It returns the results
// (nil when there are none) and the exit code.
func execute(ctx context.Context, cfg config.Config, p spec.Profile, opts runOptions, g gate, stdout, stderr io.Writer) (*results.Results, int) {
	catalogue, err := checks.Catalogue(p)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return nil, exitCannotDo
	}
	selected, err := selectChecks(catalogue, opts.labelFilter)
	if err != nil {
		fmt.Fprintf(stderr, "run: --label-filter: %s\n", ansi.ReplaceAllString(err.Error(), ""))
		return nil, exitUsage
	}
	if err := os.MkdirAll(opts.reportDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "run: report dir: %v\n", err)
		return nil, exitUsage
	}
	// No report of an earlier run may stand for this one, whatever becomes of it.
	if err := removeReports(opts.reportDir); err != nil {
		fmt.Fprintf(stderr, "run: report dir: %v\n", err)
		return nil, exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, opts.runTimeout)
	defer cancel()
	progress := stdout
	if opts.quiet {
		progress = io.Discard
	}
	start := time.Now()
	res, redact := runChecks(ctx, cfg, p, catalogue, selected, opts, progress, stderr)
	res.End = time.Now()
	res.Start = start
	if ctx.Err() != nil {
		why := "the run took longer than --timeout " + opts.runTimeout.String()
		if errors.Is(ctx.Err(), context.Canceled) {
			why = "interrupted"
		}
		fmt.Fprintf(stderr, "run: stopped: %s\n", why)
		res.Stopped = why
	}
	contract, err := p.Contract()
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return nil, exitCannotDo
	}
	op, err := p.Collect()
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return nil, exitCannotDo
	}
	res.Harness = results.Harness{Version: version}
	res.Spec = results.Spec{Version: contract.OpenAPI().Info.Version, Digest: contract.Digest(), Document: string(p.Document())}
	res.Profile = results.Profile{Name: p.Name, Title: p.Title, Source: p.Source}
	res.Strict, res.AllowIncomplete, res.CatalogueSize = opts.strict, opts.allowIncomplete, len(catalogue)
	res.Warnings = runWarnings(cfg, res)
	res.Coverage = results.Coverage(op, contract.Operations(), res.Checks)
	res.Judge()
	cmp, err := g.apply(res, p, opts)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return res, exitCannotDo
	}
	if cmp != nil && !opts.quiet {
		fmt.Fprintf(stdout, "\nSince the baseline (%s): %s\n", cmp.BaselineStart, cmp.Summary())
	}
	opts.ended("judging")
	if err := writeReports(opts.reportDir, res, cmp, redact); err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return res, exitCannotDo
	}
	opts.ended("reports")
	return res, verdictExit(res)
}

// verdictExit is the exit code of a verdict: incomplete exits 3 unless --allow-incomplete.
func verdictExit(res *results.Results) int {
	switch {
	case res.Verdict == results.VerdictPassed, res.Verdict == results.VerdictIncomplete && res.AllowIncomplete:
		return exitOK
	case res.Verdict == results.VerdictFailed:
		return exitFailed
	default:
		return exitCannotDo
	}
}

// ansi matches the colour codes of Ginkgo's label-filter errors, meant for its own terminal.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// selectChecks keeps the checks whose labels match a Ginkgo label filter, with Ginkgo's own
// parser: the same query selects the same checks in `cipconform run` and in `ginkgo`.
func selectChecks(catalogue []harness.Check, filter string) ([]harness.Check, error) {
	match, err := types.ParseLabelFilter(filter)
	if err != nil {
		return nil, err
	}
	var selected []harness.Check
	for _, c := range catalogue {
		if match(c.Labels()) {
			selected = append(selected, c)
		}
	}
	return selected, nil
}

// runChecks makes the target ready (the embedded reference when cfg names none) and runs the
// selected checks, printing a line per check to progress as it ends. It returns the results
// (a setup failure, when the target could not be used, is one of them) and the redactor of
// every secret the run knew, tokens fetched during it included.
func runChecks(ctx context.Context, cfg config.Config, p spec.Profile, catalogue, selected []harness.Check, opts runOptions, progress, stderr io.Writer) (*results.Results, func([]byte) []byte) {
	labelFilter := opts.labelFilter
	suite, err := harness.NewSuite(ctx, cfg, p, catalogue)
	if err != nil {
		res := results.FromRun(time.Time{}, time.Time{}, labelFilter, nil)
		res.SetupFailure = err.Error()
		res.Target, res.Embedded, res.Config = cfg.Target, cfg.Target == "", cfg
		return res, redactor(cfg.Redactor())
	}
	defer suite.Close()
	opts.ended("setup")
	if suite.Embedded != nil {
		fmt.Fprintf(stderr, "No --target: checking the embedded reference implementation at %s\n", suite.Target)
	}
	fmt.Fprintf(stderr, "Contract: %s (%s; spec %s)\n", p.Name, p.Title, p.Source)
	redact := redactor(suite.Client().Redactor())
	stopped, stopCleanup := harness.Outliving(ctx, harness.StopGrace)
	outcomes := suite.RunChecks(ctx, selected, suite.Config.Concurrency, func(r harness.Result) {
		line := fmt.Sprintf("%-5s %-26s %-7s %6dms  %s\n", progressWord[r.Outcome], r.Check.ID, r.Check.Level, r.Duration.Milliseconds(), r.Check.Title)
		_, _ = progress.Write(redact([]byte(line)))
	})
	opts.ended("checks")
	// Whatever a check left behind (an action it could not settle) gets one more try: a brief
	// one once the run is stopped (a signal, --timeout), which must end within seconds.
	cleanup, cancel := context.WithTimeout(stopped, suite.Config.SettleTimeout+10*time.Second)
	defer stopCleanup()
	suite.Cleanup(cleanup)
	cancel()
	opts.ended("cleanup")
	res := results.FromRun(time.Time{}, time.Time{}, labelFilter, outcomes)
	res.Target, res.Embedded, res.Config = suite.Target, suite.Embedded != nil, suite.Config
	res.Actions = suite.Actions()
	if why := suite.Aborted(); why != "" {
		res.Stopped, _, _ = strings.Cut(why, "\n")
	}
	return res, redact
}

// progressWord is how a check's line starts while a run prints its progress.
var progressWord = map[harness.Outcome]string{harness.Passed: "PASS", harness.Failed: "FAIL", harness.Skipped: "SKIP", harness.Errored: "ERROR"}

// writeReports writes results.json, junit.xml, report.html, summary.md and the spec the run
// checked against (openapi.yaml), each through the redactor. They are rendered side by side:
// rendering is most of what a run costs beyond its requests.
func writeReports(dir string, res *results.Results, cmp *regression.Report, redact func([]byte) []byte) error {
	renderers := []struct {
		name   string
		render func() ([]byte, error)
	}{
		{resultsFile, res.JSON},
		{junitFile, func() ([]byte, error) { return junitXML(res, cmp) }},
		{htmlFile, func() ([]byte, error) { return render.HTML(res, cmp) }},
		{summaryFile, func() ([]byte, error) { return render.Markdown(res, cmp) }},
		{specFile, func() ([]byte, error) { return []byte(res.Spec.Document), nil }},
	}
	errs := make([]error, len(renderers))
	var wg sync.WaitGroup
	for i, r := range renderers {
		wg.Go(func() {
			content, err := r.render()
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", r.name, err)
				return
			}
			if err := writeAtomically(filepath.Join(dir, r.name), redact(content)); err != nil {
				errs[i] = fmt.Errorf("write %s: %w", r.name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reportFiles are the files a run writes in its report dir.
var reportFiles = []string{resultsFile, junitFile, htmlFile, summaryFile, specFile}

// removeReports removes the report files of an earlier run from dir, and from the folder of
// each profile in it (a run of every profile writes there): whichever layout the earlier run
// had, none of its reports passes for this run's.
func removeReports(dir string) error {
	dirs := []string{dir}
	for _, name := range spec.ProfileNames() {
		dirs = append(dirs, filepath.Join(dir, name))
	}
	for _, d := range dirs {
		// What is there is read first: removing each name blindly costs two system calls
		// for every file that is not there (os.Remove tries it as a directory too).
		entries, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		names := reportFiles // a folder that cannot be listed: each name is tried
		if err == nil {
			names = nil
			for _, e := range entries {
				if slices.Contains(reportFiles, e.Name()) {
					names = append(names, e.Name())
				}
			}
		}
		for _, name := range names {
			if err := os.Remove(filepath.Join(d, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// writeAtomically writes a file whole or not at all: a temporary file in the same directory,
// renamed over the name once written.
func writeAtomically(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// redactor replaces every secret in a report's bytes: the last line of defence, after the
// client's own redaction.
func redactor(r *redact.Redactor) func([]byte) []byte {
	return r.ReplaceBytes
}
