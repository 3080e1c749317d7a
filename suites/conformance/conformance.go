// Package conformance is the Ginkgo suite: it turns the check catalogue into specs, one It
// per check, labelled for --label-filter, and attaches each check's exchanges to the report.
// Importing it registers the specs; the test binary (go test, ginkgo) and the cipconform
// runner each say where the configuration comes from (Use) and call RunSpecs.
package conformance

import (
	"context"
	"fmt"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

// Report entry names: what Ginkgo's own reports (--json-report, --junit-report) carry of a check.
const (
	EntryCheck    = "cip.check"
	EntryExchange = "cip.exchange"
	EntryOutcome  = "cip.outcome"
)

// Ginkgo needs these as package state: the tree is built once, and the suite is made ready
// in BeforeSuite for the specs of this process.
var (
	configSource = func() (config.Config, error) { return config.Defaults(), nil }
	suite        *harness.Suite
	// run is the configuration, read once when Ginkgo builds the tree (in RunSpecs, after the
	// flags are parsed), with the profile it judges by and that profile's catalogue.
	run struct {
		loaded    bool
		cfg       config.Config
		err       error
		profile   spec.Profile
		catalogue []harness.Check
	}
)

// load reads the configuration and builds the catalogue of its profile (for the embedded
// reference without a profile: the first embedded one, the 2017 preview). A configuration
// error is kept for BeforeSuite to report; the tree is then the preview's.
func load() {
	if run.loaded {
		return
	}
	run.loaded = true
	run.profile = spec.Preview2017
	run.cfg, run.err = configSource()
	if run.err == nil {
		var p spec.Profile
		if p, run.err = run.cfg.OneProfile(); run.err == nil {
			run.profile = p
		}
	}
	c, err := checks.Catalogue(run.profile)
	if err != nil {
		panic(fmt.Sprintf("cipconform: the check catalogue cannot be built: %v", err))
	}
	run.catalogue = c
}

// Redact removes from s every secret the suite knows, tokens fetched during the run included.
func Redact(s string) string {
	if suite == nil {
		return s
	}
	return suite.Client().Redact(s)
}

// Use sets where the configuration comes from; call it before RunSpecs.
func Use(source func() (config.Config, error)) { configSource = source }

var _ = BeforeSuite(func(ctx SpecContext) {
	load()
	cfg, err := run.cfg, run.err
	if err != nil {
		Fail("configuration: " + err.Error())
	}
	if cfg.Insecure {
		fmt.Fprintln(os.Stderr, "WARNING: TLS certificate verification is OFF (CIP_INSECURE): the target's identity is not checked.")
	}
	s, err := harness.NewSuite(ctx, cfg, run.profile, run.catalogue)
	if err != nil {
		Fail(err.Error())
	}
	suite = s
	DeferCleanup(func() error { return suite.Close() })
}, NodeTimeout(2*time.Minute))

var _ = Describe("collectInvestigationPackage", func() {
	load()
	kinds := []harness.Kind{}
	byKind := map[harness.Kind][]harness.Check{}
	for _, c := range run.catalogue {
		if _, seen := byKind[c.Kind]; !seen {
			kinds = append(kinds, c.Kind)
		}
		byKind[c.Kind] = append(byKind[c.Kind], c)
	}
	for _, kind := range kinds {
		Describe(string(kind), func() {
			for _, c := range byKind[kind] {
				args := []any{Label(c.Labels()...), func(ctx SpecContext) { runCheck(ctx, c) }}
				if c.Machines > 0 {
					// Checks that create actions share machines (and one creation): under
					// ginkgo -p they all run on process 1, one after another; refusals spread.
					args = append([]any{Serial}, args...)
				}
				It(c.Name(), args...)
			}
		})
	}
})

func runCheck(ctx context.Context, c harness.Check) {
	AddReportEntry(EntryCheck, c.Info, ReportEntryVisibilityNever)
	env := suite.Env(ctx, c, harness.Hooks{
		// A message quotes what the target sent: redacted before Ginkgo prints it.
		Fail: func(m string, skip int) { Fail(Redact(m), skip+1) },
		Skip: func(m string) { Skip(Redact(m)) },
		Error: func(m string) {
			AddReportEntry(EntryOutcome, string(harness.Errored), ReportEntryVisibilityNever)
			Fail("ERROR (the target could not be used): "+Redact(m), 2)
		},
	})
	defer func() {
		// The check's actions are cancelled (where the contract allows it) before its machine
		// serves another check.
		grace, stop := harness.Outliving(ctx, harness.StopGrace)
		env.SettleWith(grace)
		stop()
		for _, ex := range env.Exchanges() {
			AddReportEntry(EntryExchange, ex, ReportEntryVisibilityNever)
		}
	}()
	env.Prepare()
	c.Run(env.Gomega(), env)
}
