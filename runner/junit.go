package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/results"
)

// suiteName is the JUnit suite (and every test case's class name), as the Ginkgo suite names it.
const suiteName = "Collect investigation package conformance"

// junitXML renders the run as JUnit XML with Ginkgo's JUnit types, named as the Ginkgo suite
// names its specs ("collectInvestigationPackage <kind> <ID>: <title>"), so that a CI tool
// sees the same test cases whether it ran `cipconform run` or `ginkgo`. Suite properties carry
// the verdict, the warnings, the coverage of the contract and the counts of the baseline
// comparison (cmp may be nil); each test case carries its check record and exchanges as
// properties, its class against the baseline in its system-out, and "REGRESSION:" before a
// regressed check's failure message.
func junitXML(res *results.Results, cmp *regression.Report) ([]byte, error) {
	suite := reporters.JUnitTestSuite{
		Name:      suiteName,
		Package:   res.Target,
		Time:      res.End.Sub(res.Start).Seconds(),
		Timestamp: res.Start.Format("2006-01-02T15:04:05"),
	}
	prop := func(name, value string) {
		suite.Properties.Properties = append(suite.Properties.Properties, reporters.JUnitProperty{Name: name, Value: value})
	}
	prop("SuiteSucceeded", fmt.Sprint(verdictExit(res) == exitOK))
	prop("LabelFilter", res.LabelFilter)
	prop("cipconform.verdict", res.Verdict+": "+res.Reason)
	prop("cipconform.spec", res.Spec.Digest)
	for _, w := range res.Warnings {
		prop("cipconform.warning", w)
	}
	prop("cipconform.profile", res.Profile.Name)
	for _, a := range res.Actions {
		prop("cipconform.action: "+a.ID, fmt.Sprintf("machine %s, started by %s, last status %s, cancelled %t%s", a.Machine, a.Check, a.Status, a.Cancelled, strings.TrimSuffix("; "+a.Note, "; ")))
	}
	for _, item := range res.Coverage {
		value := "uncovered"
		if item.Covered() {
			var parts []string
			for _, c := range item.Checks {
				parts = append(parts, c.ID+" "+string(c.Outcome))
			}
			if item.More > 0 {
				parts = append(parts, fmt.Sprintf("and %d more", item.More))
			}
			value = strings.Join(parts, ", ")
		}
		prop("cipconform.coverage: "+item.Kind+" "+item.Item, value)
	}
	if cmp != nil {
		for _, class := range regression.Classes() {
			if n := cmp.Counts[class]; n > 0 {
				prop("cipconform."+string(class), fmt.Sprint(n))
			}
		}
	}
	if res.SetupFailure != "" {
		suite.Tests, suite.Errors = 1, 1
		suite.TestCases = append(suite.TestCases, reporters.JUnitTestCase{
			Name: "[BeforeSuite] the run could not start", Classname: suiteName, Status: "errored",
			Error: &reporters.JUnitError{Message: firstLine(res.SetupFailure), Type: "errored", Description: res.SetupFailure},
		})
	}
	for _, c := range res.Checks {
		tc := reporters.JUnitTestCase{
			Name:      fmt.Sprintf("%s %s %s", c.Element.Operation, c.Kind, c.Name()),
			Classname: suiteName,
			Status:    string(c.Outcome),
			Time:      float64(c.DurationMS) / 1000,
		}
		props := &reporters.JUnitProperties{}
		add := func(name string, v any) {
			data, _ := json.Marshal(v)
			props.Properties = append(props.Properties, reporters.JUnitProperty{Name: name, Value: string(data)})
		}
		add("cip.check", c.Info)
		// The exchanges of a check that did not pass, for the CI tool that shows only JUnit; those
		// of every check are in results.json and report.html.
		if c.Outcome == results.Failed || c.Outcome == results.Errored {
			for _, ex := range c.Exchanges {
				add("cip.exchange", ex)
			}
		}
		tc.Properties = props
		suite.Tests++
		switch c.Outcome {
		case results.Failed:
			suite.Failures++
			tc.Failure = &reporters.JUnitFailure{Message: c.Message, Type: "failed", Description: failureText(c)}
		case results.Errored:
			suite.Errors++
			tc.Error = &reporters.JUnitError{Message: c.Message, Type: "errored", Description: failureText(c)}
		case results.Skipped:
			suite.Skipped++
			tc.Skipped = &reporters.JUnitSkipped{Message: "skipped - " + c.Message}
		}
		if d, ok := cmp.Of(c.ID); ok {
			line := fmt.Sprintf("cipconform change since the baseline: %s (baseline: %s, now: %s)", d.Class, orNone(string(d.Before)), orNone(string(d.After)))
			if d.SpecChange != nil {
				line += fmt.Sprintf("; the spec changed [%s]: %s", d.SpecChange.Rule, d.SpecChange.Text)
			}
			tc.SystemOut = line
			if d.Class == regression.Regression && tc.Failure != nil {
				tc.Failure.Message = "REGRESSION: " + tc.Failure.Message
			}
		}
		suite.TestCases = append(suite.TestCases, tc)
	}
	suites := reporters.JUnitTestSuites{
		Tests: suite.Tests, Disabled: suite.Skipped, Errors: suite.Errors, Failures: suite.Failures, Time: suite.Time,
		TestSuites: []reporters.JUnitTestSuite{suite},
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// failureText is a failed check's message, then every violation, then the commands that
// reproduce its requests.
func failureText(c results.CheckResult) string {
	var b strings.Builder
	b.WriteString(c.Message)
	if len(c.Violations) > 0 {
		b.WriteString("\n\nViolations:\n")
		for _, v := range c.Violations {
			fmt.Fprintf(&b, "  - %s\n", v)
		}
	}
	var more []string // the commands the message does not show already
	for _, cmd := range c.Curl {
		if !strings.Contains(c.Message, cmd) {
			more = append(more, cmd)
		}
	}
	if len(more) > 0 {
		b.WriteString("\nReproduce:\n")
		for _, cmd := range more {
			fmt.Fprintf(&b, "  %s\n", cmd)
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
