package conformance_test

import (
	"flag"
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/conformance"
)

// Settings come from CIP_ variables, --config FILE, and flags after `--`:
// go tool ginkgo -r ./suites -- --target=https://... (see README).
var settings = config.BindFlags(flag.CommandLine)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	conformance.Use(func() (config.Config, error) { return config.Load(settings, os.Getenv) })
	RunSpecs(t, "Collect investigation package conformance")
}
