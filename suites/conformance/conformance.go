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

// Report entry names, read back by the runner's reports.
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
	profile      = treeProfile()
	catalogue    = mustCatalogue(profile)
)

// treeProfile is the contract whose catalogue the tree holds. Ginkgo builds the tree before
// it parses flags, so the profile comes from the environment: CIP_PROFILE, CIP_SPEC, or what
// CIP_TARGET's base path tells; with none, the first embedded profile (the 2017 preview). A
// configuration error shows in BeforeSuite, where the whole configuration is loaded.
func treeProfile() spec.Profile {
	cfg := config.Defaults()
	cfg.Profile, cfg.Spec, cfg.Target = os.Getenv(config.EnvPrefix+"PROFILE"), os.Getenv(config.EnvPrefix+"SPEC"), os.Getenv(config.EnvPrefix+"TARGET")
	p, err := cfg.OneProfile()
	if err != nil {
		return spec.Preview2017
	}
	return p
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

func mustCatalogue(p spec.Profile) []harness.Check {
	c, err := checks.Catalogue(p)
	if err != nil {
		panic(fmt.Sprintf("cipconform: the check catalogue cannot be built: %v", err))
	}
	return c
}

var _ = BeforeSuite(func(ctx SpecContext) {
	cfg, err := configSource()
	if err != nil {
		Fail("configuration: " + err.Error())
	}
	if cfg.Insecure {
		fmt.Fprintln(os.Stderr, "WARNING: TLS certificate verification is OFF (CIP_INSECURE): the target's identity is not checked.")
	}
	p, err := cfg.OneProfile()
	if err != nil {
		Fail("configuration: " + err.Error())
	}
	if p.Name != profile.Name || p.Source != profile.Source {
		Fail(fmt.Sprintf("configuration: the specs were built for the %s profile (%s), but the configuration says %s (%s): Ginkgo builds its tree before flags are read, so give the profile, the target and --spec as CIP_PROFILE, CIP_TARGET and CIP_SPEC", profile.Name, profile.Source, p.Name, p.Source))
	}
	s, err := harness.NewSuite(ctx, cfg, p, catalogue)
	if err != nil {
		Fail(err.Error())
	}
	suite = s
	DeferCleanup(func() error { return suite.Close() })
}, NodeTimeout(2*time.Minute))

var _ = Describe("collectInvestigationPackage", func() {
	kinds := []harness.Kind{}
	byKind := map[harness.Kind][]harness.Check{}
	for _, c := range catalogue {
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
		Fail: func(m string, skip int) { Fail(m, skip+1) },
		Skip: func(m string) { Skip(m) },
		Error: func(m string) {
			AddReportEntry(EntryOutcome, string(harness.Errored), ReportEntryVisibilityNever)
			Fail("ERROR (the target could not be used): "+m, 2)
		},
	})
	defer func() {
		// The check's actions are cancelled (where the contract allows it) before its machine
		// serves another check.
		env.Settle()
		for _, ex := range env.Exchanges() {
			AddReportEntry(EntryExchange, ex, ReportEntryVisibilityNever)
		}
	}()
	env.Prepare()
	c.Run(env.Gomega(), env)
}
