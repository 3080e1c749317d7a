package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/conformance"
	"github.com/cipconform/cipconform/suites/harness"
)

// specsVerbName is the hidden verb of the child process that runs the Ginkgo specs. Ginkgo runs
// specs once per process, so `run` (and the self-test) re-execute the binary with it; the
// configuration comes through CIP_ variables, so tokens never appear in a process listing.
const specsVerbName = "__specs"

// specsRun is what the Ginkgo report nodes below need to know; Ginkgo's nodes are package
// level, so this is too. It is set once, before RunSpecs, by the child process only.
var specsRun struct {
	progress   io.Writer
	resultsOut string
	junitOut   string
	redact     func([]byte) []byte
	err        error
}

var _ = ReportAfterEach(func(r SpecReport) {
	if specsRun.progress == nil || r.LeafNodeType != types.NodeTypeIt {
		return
	}
	info, ok := checkInfo(r)
	if !ok {
		return
	}
	outcome := "PASS"
	switch {
	case r.State == types.SpecStateSkipped:
		outcome = "SKIP"
	case r.State.Is(types.SpecStateFailureStates):
		outcome = "FAIL"
		for _, e := range r.ReportEntries {
			if e.Name == conformance.EntryOutcome {
				outcome = "ERROR"
			}
		}
	}
	// One line per check; the parent prints it as progress.
	fmt.Fprintf(specsRun.progress, "%-5s %-26s %-7s %6dms  %s\n", outcome, info.ID, info.Level, r.RunTime.Milliseconds(), info.Title)
})

var _ = ReportAfterSuite("cipconform reports", func(r Report) {
	if specsRun.resultsOut == "" {
		return
	}
	res := results.FromGinkgo(r)
	data, err := res.JSON()
	if err == nil {
		err = os.WriteFile(specsRun.resultsOut, specsRun.redact(data), 0o644)
	}
	if err == nil && specsRun.junitOut != "" {
		err = reporters.GenerateJUnitReportWithConfig(r, specsRun.junitOut, reporters.JunitReportConfig{
			OmitLeafNodeType: true, OmitSpecLabels: true, OmitCapturedStdOutErr: true,
			OmitTimelinesForSpecState: types.SpecStatePassed | types.SpecStateSkipped,
			// Setup nodes are test cases only when they failed: then they say why nothing ran.
			OmitSuiteSetupNodes: res.SetupFailure == "",
		})
		if err == nil {
			err = redactFile(specsRun.junitOut, specsRun.redact)
		}
	}
	specsRun.err = err
})

func checkInfo(r SpecReport) (harness.Info, bool) {
	for _, e := range r.ReportEntries {
		if e.Name == conformance.EntryCheck {
			info, ok := e.Value.GetRawValue().(harness.Info)
			return info, ok
		}
	}
	return harness.Info{}, false
}

// failRecorder is the GinkgoTestingT of a run outside `go test`.
type failRecorder struct{ failed bool }

func (f *failRecorder) Fail() { f.failed = true }

func specsVerb(_ context.Context, args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet(specsVerbName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	resultsOut := fs.String("results", "", "write results.json here")
	junitOut := fs.String("junit", "", "write junit.xml here")
	labelFilter := fs.String("label-filter", "", "Ginkgo label filter")
	if err := fs.Parse(args); err != nil || *resultsOut == "" {
		fmt.Fprintln(stderr, "cipconform: __specs is internal: run `cipconform run`")
		return exitUsage
	}
	cfg, err := config.Load(nil, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "configuration: %v\n", err)
		return exitUsage
	}
	conformance.Use(func() (config.Config, error) { return cfg, nil })
	specsRun.progress = stderr
	specsRun.resultsOut, _ = filepath.Abs(*resultsOut)
	if *junitOut != "" {
		specsRun.junitOut, _ = filepath.Abs(*junitOut)
	}
	static := redactor(cfg)
	// Tokens fetched during the run (client credentials) are known to the suite only.
	specsRun.redact = func(b []byte) []byte { return []byte(conformance.Redact(string(static(b)))) }

	suiteConfig, reporterConfig := GinkgoConfiguration()
	suiteConfig.LabelFilter = *labelFilter
	suiteConfig.Timeout = 24 * time.Hour // the parent bounds the run
	reporterConfig.NoColor = true
	reporterConfig.Succinct = true
	RunSpecs(&failRecorder{}, "Collect investigation package conformance", suiteConfig, reporterConfig)
	if specsRun.err != nil {
		fmt.Fprintf(stderr, "write reports: %v\n", specsRun.err)
		return exitCannotDo
	}
	return exitOK
}
