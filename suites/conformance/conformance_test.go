package conformance_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/conformance"
)

// Settings come from flags after `--` and --config FILE; CIP_ variables only when asked for:
// run by the ginkgo CLI (go tool ginkgo ./suites/conformance), or with CIP_SUITE=1. Plain
// `go test ./...` (make test) checks the in-process reference whatever the shell exports, so
// that it never sends anything to a target left in the environment (see README).
var settings = config.BindFlags(flag.CommandLine)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	conformance.Use(func() (config.Config, error) { return config.Load(settings, environment()) })
	RunSpecs(t, "Collect investigation package conformance")
}

// suiteOptIn is the variable that makes `go test` honour CIP_ variables.
const suiteOptIn = config.EnvPrefix + "SUITE"

// environment is where CIP_ variables are read from: the process's environment when the suite
// is run on purpose, else nowhere.
func environment() func(string) string {
	if os.Getenv(suiteOptIn) == "1" || runByGinkgoCLI() {
		return os.Getenv
	}
	var ignored []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, config.EnvPrefix) && name != suiteOptIn {
			ignored = append(ignored, name)
		}
	}
	if len(ignored) > 0 {
		fmt.Fprintf(os.Stderr, "%s set but ignored: go test checks the in-process reference. To use them, run go tool ginkgo ./suites/conformance, or set %s=1.\n", strings.Join(ignored, ", "), suiteOptIn)
	}
	return func(string) string { return "" }
}

// runByGinkgoCLI reports whether the ginkgo CLI runs this binary: it always passes a seed.
func runByGinkgoCLI() bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "ginkgo.seed" })
	return set
}

// A target exported in the shell is not read by plain go test.
func TestExportedVariablesNeedAnOptIn(t *testing.T) {
	if runByGinkgoCLI() {
		t.Skip("run by the ginkgo CLI: CIP_ variables are read on purpose")
	}
	t.Setenv(config.EnvPrefix+"TARGET", "http://127.0.0.1:9/api")
	t.Setenv(config.EnvPrefix+"TOKEN_ADMIN", "xxxxxxxxxxxx")
	t.Setenv(suiteOptIn, "")
	cfg, err := config.Load(nil, environment())
	if err != nil || cfg.Target != "" {
		t.Errorf("go test read the shell's target: %q %v", cfg.Target, err)
	}
	t.Setenv(suiteOptIn, "1")
	if cfg, err := config.Load(nil, environment()); err != nil || cfg.Target != "http://127.0.0.1:9/api" {
		t.Errorf("%s=1 did not read the target: %q %v", suiteOptIn, cfg.Target, err)
	}
}
