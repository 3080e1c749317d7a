package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/results"
)

// annotateJUnit adds the run's warnings and the coverage of the contract (as suite
// properties) and the baseline comparison (cmp may be nil) to junit.xml: each test case's class in its system-out, "REGRESSION:" before a
// regressed check's failure message, and the counts as suite properties, so that CI tools that
// read only JUnit see them too.
func annotateJUnit(path string, cmp *regression.Report, warnings []string, coverage []results.CoverageItem) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &suites); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	for i := range suites.TestSuites {
		suite := &suites.TestSuites[i]
		for _, w := range warnings {
			suite.Properties.Properties = append(suite.Properties.Properties, reporters.JUnitProperty{Name: "cipconform.warning", Value: w})
		}
		for _, item := range coverage {
			value := "uncovered"
			if item.Covered() {
				var parts []string
				for _, c := range item.Checks {
					parts = append(parts, c.ID+" "+c.Outcome)
				}
				value = strings.Join(parts, ", ")
			}
			suite.Properties.Properties = append(suite.Properties.Properties, reporters.JUnitProperty{Name: "cipconform.coverage: " + item.Kind + " " + item.Item, Value: value})
		}
		if cmp == nil {
			continue
		}
		for class, n := range cmp.Counts {
			suite.Properties.Properties = append(suite.Properties.Properties, reporters.JUnitProperty{Name: "cipconform." + string(class), Value: fmt.Sprint(n)})
		}
		for j := range suite.TestCases {
			tc := &suite.TestCases[j]
			d, ok := cmp.Of(checkIDIn(tc.Name))
			if !ok {
				continue
			}
			line := fmt.Sprintf("cipconform change since the baseline: %s (baseline: %s, now: %s)", d.Class, orNone(d.Before), orNone(d.After))
			if d.SpecChange != nil {
				line += fmt.Sprintf("; the spec changed [%s]: %s", d.SpecChange.Rule, d.SpecChange.Text)
			}
			tc.SystemOut = strings.TrimSpace(line + "\n" + tc.SystemOut)
			if d.Class == regression.Regression && tc.Failure != nil {
				tc.Failure.Message = "REGRESSION: " + tc.Failure.Message
			}
		}
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return os.WriteFile(path, append([]byte(xml.Header), out...), 0o644)
}

// checkIDIn finds the check ID in a test case name: "... CIP-AUTH-001: title".
func checkIDIn(name string) string {
	for _, word := range strings.Fields(name) {
		if id, ok := strings.CutSuffix(word, ":"); ok && strings.HasPrefix(id, "CIP-") {
			return id
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
