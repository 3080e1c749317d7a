package checks_test

import (
	"context"
	"testing"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

// BenchmarkReadOnlyChecks measures the harness running every read-only check (the ones that can
// repeat on the same machines) against the embedded reference over loopback.
func BenchmarkReadOnlyChecks(b *testing.B) {
	all, err := checks.Catalogue(spec.Preview2017)
	if err != nil {
		b.Fatal(err)
	}
	target, err := embedded.Start(embedded.Options{Machines: 40, PerMinute: -1, PerHour: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	s, err := harness.NewSuite(context.Background(), harness.TargetConfig(config.Defaults(), target), spec.Preview2017, all)
	if err != nil {
		b.Fatal(err)
	}
	var readOnly []harness.Check
	for _, c := range all {
		if c.Safety == harness.ReadOnly {
			readOnly = append(readOnly, c)
		}
	}
	b.ReportMetric(float64(len(readOnly)), "checks/op")
	for b.Loop() {
		for _, c := range readOnly {
			if res := s.Execute(context.Background(), c); res.Outcome != harness.Passed {
				b.Fatalf("%s: %s", c.ID, res.Message)
			}
		}
	}
}
