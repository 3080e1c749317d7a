package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

func planVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var settings *config.Flags
	var labelFilter *string
	cmd := command{name: "plan", about: `
Shows what 'cipconform run' would do with the same configuration: each check (ID, title, spec
element, level, safety), the machine it would use, and the requests it would send, tokens shown as
the variables that hold them. Nothing is sent to the target: the run is simulated against the
embedded reference implementation, given the target's machine ids.`,
		bind: func(fs *flag.FlagSet) {
			settings = config.BindFlags(fs)
			labelFilter = fs.String("label-filter", "", "plan only the checks whose labels match this Ginkgo `QUERY`")
		},
		notes: configHelp,
		exits: []exitCode{
			{exitOK, "the plan was printed"},
			{exitUsage, "usage or configuration error"},
			{exitCannotDo, "no check matches --label-filter, or the simulation could not be started"},
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
		fmt.Fprintf(stderr, "plan: configuration: %v\n", err)
		return exitUsage
	}
	match, err := types.ParseLabelFilter(*labelFilter)
	if err != nil {
		fmt.Fprintf(stderr, "plan: --label-filter: %v\n", err)
		return exitUsage
	}
	profiles, err := cfg.Profiles()
	if err != nil {
		fmt.Fprintf(stderr, "plan: configuration: %v\n", err)
		return exitUsage
	}
	code := exitOK
	for _, p := range profiles {
		code = worse(code, planProfile(ctx, cfg, p, match, stdout, stderr))
	}
	return code
}

// planProfile plans the run of one profile's catalogue.
func planProfile(ctx context.Context, cfg config.Config, p spec.Profile, match types.LabelFilter, stdout, stderr io.Writer) int {
	catalogue, err := checks.Catalogue(p)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitCannotDo
	}
	sim, err := embedded.Start(embedded.Options{MachineIDs: cfg.MachineIDs, Machines: 64, PerMinute: -1, PerHour: -1})
	if err != nil {
		fmt.Fprintf(stderr, "plan: start the simulation: %v\n", err)
		return exitCannotDo
	}
	defer sim.Close()
	cfg.Profile = p.Name
	simCfg := harness.TargetConfig(cfg, sim)
	target := cfg.Target
	heading := target
	if target == "" {
		target, heading = "$CIP_TARGET", "the embedded reference (its URL is chosen when it starts: $CIP_TARGET below)"
	} else {
		// Only the identities the real run would have: checks without them are skipped there
		// too. Client credentials are not used: plan fetches no token either.
		for _, role := range config.Roles {
			token := role.In(&simCfg).Token
			*token = keepIf(role.Configured(cfg), *token)
		}
		simCfg.MachineIDs = cfg.MachineIDs
	}
	suite, err := harness.NewSuite(ctx, simCfg, p, catalogue)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitCannotDo
	}
	defer suite.Close()
	// Refusals are the real target's: production is judged from its URL, not the simulation's.
	if production, why := cfg.Production(); production {
		suite.RefuseActions(why)
	}
	fmt.Fprintf(stdout, "# Plan: cipconform run against %s\n\nProfile %s: %s.\n", heading, p.Name, p.Title)
	fmt.Fprintf(stdout, "The catalogue needs %d machine id(s), the first for the read-only checks (CIP_MACHINE_IDS has %d).\n", suite.MachinesNeeded, len(simCfg.MachineIDs))
	if suite.CanCancel() {
		fmt.Fprintln(stdout, "The contract can cancel an action: after each check the run cancels the actions it started and reads them until they have ended, so one machine serves every check.")
	} else {
		fmt.Fprintf(stdout, "The run cannot cancel the actions it starts (%s): every machine that gets a collection stays busy until it ends (minutes on a real service), and a second run waits for it (CIP_BUSY_WAIT).\n", strings.TrimPrefix(suite.WhyNoCancel(), "the "+p.Name+" contract has no cancel; "))
	}
	planned := 0
	var outcomes []harness.Result
	for _, c := range catalogue {
		if !match(c.Labels()) {
			continue
		}
		planned++
		res := suite.Execute(ctx, c)
		outcomes = append(outcomes, res)
		fmt.Fprintf(stdout, "\n## %s: %s\n%s · %s · %s\n", c.ID, c.Title, c.Element, c.Level, c.Safety)
		switch machines := suite.Allocation(c.ID); {
		case len(machines) > 0:
			fmt.Fprintf(stdout, "machine: %s\n", strings.Join(slices.Compact(slices.Clone(machines)), ", "))
		case c.Machines == 0 && len(simCfg.MachineIDs) > 0:
			fmt.Fprintf(stdout, "machine: %s (read-only: every request is refused)\n", simCfg.MachineIDs[0])
		}
		if res.Outcome == harness.Skipped {
			fmt.Fprintf(stdout, "would be SKIPPED: %s\n", strings.TrimPrefix(res.Message, c.ID+": "))
			continue
		}
		for _, ex := range res.Exchanges {
			url := strings.Replace(ex.URL, simCfg.Target, target, 1)
			fmt.Fprintf(stdout, "- %s %s  (%s)\n", ex.Method, url, ex.Label)
			for _, k := range []string{"Authorization", "Content-Type"} {
				if v, ok := ex.RequestHeader[k]; ok {
					fmt.Fprintf(stdout, "    %s: %s\n", k, v)
				}
			}
			if ex.RequestBody != "" {
				fmt.Fprintf(stdout, "    %s\n", clipText(ex.RequestBody, 120))
			}
		}
	}
	if planned == 0 {
		fmt.Fprintln(stdout, "\nNo check matches the label filter: run would exit 3.")
		return exitCannotDo
	}
	verdict := results.FromRun(time.Time{}, time.Time{}, "", outcomes)
	verdict.CatalogueSize = len(catalogue)
	verdict.Judge()
	fmt.Fprintf(stdout, "\n%d checks planned. Were the target to answer as the reference does, the run would end %s: %s\n", planned, strings.ToUpper(verdict.Verdict), verdict.Reason)
	return exitOK
}

func keepIf(configured bool, simulated config.Secret) config.Secret {
	if !configured {
		return ""
	}
	return simulated
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d bytes)", len(s))
}
