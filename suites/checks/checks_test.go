package checks_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

func catalogue(t *testing.T) []harness.Check {
	t.Helper()
	c, err := checks.Catalogue(spec.Preview2017)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogueIsWellFormed(t *testing.T) {
	all := catalogue(t)
	idPattern := regexp.MustCompile(`^CIP-[A-Z]+(-[A-Z0-9]+)+$`)
	ids, names := map[string]bool{}, map[string]bool{}
	for _, c := range all {
		if !idPattern.MatchString(c.ID) {
			t.Errorf("%s: the ID does not look like CIP-KIND-NNN", c.ID)
		}
		if ids[c.ID] || names[c.Name()] {
			t.Errorf("%s: the ID or the name is not unique", c.ID)
		}
		ids[c.ID], names[c.Name()] = true, true
		if c.Title == "" || c.Element.Operation != spec.OperationID || c.Kind == "" || c.Run == nil {
			t.Errorf("%s: title, spec element, kind and run are all required: %+v", c.ID, c)
		}
		if c.Level != harness.Must && c.Level != harness.Should {
			t.Errorf("%s: level %q", c.ID, c.Level)
		}
		if (c.Safety == harness.CreatesAction) != (c.Machines > 0) {
			t.Errorf("%s: a check creates actions exactly when it needs machines of its own (%s, %d)", c.ID, c.Safety, c.Machines)
		}
		for _, l := range c.Labels() {
			if strings.ContainsAny(l, "&|!,()/") {
				t.Errorf("%s: label %q has a character Ginkgo forbids", c.ID, l)
			}
		}
	}
}

// run executes the whole catalogue against an embedded reference with a fault.
func run(t *testing.T, fault embedded.Fault) map[harness.Outcome][]string {
	t.Helper()
	all := catalogue(t)
	target, err := embedded.Start(embedded.Options{Machines: 40, Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	s, err := harness.NewSuite(context.Background(), harness.TargetConfig(config.Defaults(), target), spec.Preview2017, all)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	outcomes := map[harness.Outcome][]string{}
	for _, c := range all {
		res := s.Execute(context.Background(), c)
		outcomes[res.Outcome] = append(outcomes[res.Outcome], c.ID)
		if res.Outcome != harness.Passed && !strings.HasPrefix(res.Message, c.ID+": ") {
			t.Errorf("the outcome of %s does not name it: %q", c.ID, res.Message)
		}
		if res.Outcome != harness.Passed && testing.Verbose() {
			t.Logf("%s %s: %s", res.Outcome, c.ID, res.Message)
		}
	}
	return outcomes
}

// The self-test (cipconform selftest, TestSelfTest in runner) runs the mutants and the
// conformant variants through the Ginkgo suite; this runs the plain executor that `plan` uses.
func TestTheReferencePassesEveryCheck(t *testing.T) {
	got := run(t, embedded.Fault{})
	if len(got[harness.Passed]) != len(catalogue(t)) {
		t.Errorf("want every check to pass against the reference; failed %v, skipped %v, errors %v", got[harness.Failed], got[harness.Skipped], got[harness.Errored])
	}
}

// The mutants and the conformant variants have unique names and a description each. Which
// checks must catch each mutant is suites/checks/proofs.go (TestEveryMutantHasAProof).
func TestMutantsAreNamedAndDescribed(t *testing.T) {
	names := map[string]bool{}
	for _, m := range append(mutants.All(), mutants.Conformant()...) {
		if names[m.Name] || m.Description == "" {
			t.Errorf("mutant %q: names are unique and each has a description", m.Name)
		}
		names[m.Name] = true
	}
}

// The body checks follow the spec: another required property brings its own checks.
func TestBodyChecksAreDerivedFromTheSpec(t *testing.T) {
	doc := strings.Replace(string(spec.Preview2017.Document()), "      required: [Comment]\n", "      required: [Comment, Severity]\n", 1)
	doc = strings.Replace(doc, "        Comment:\n          type: string\n", "        Severity:\n          type: integer\n        Comment:\n          type: string\n", 1)
	doc = strings.Replace(doc, "              Comment: Collect forensics due to alert 1234\n", "              Comment: Collect forensics due to alert 1234\n              Severity: 3\n", 1)
	p, err := spec.Preview2017.WithDocument("severity.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	catalogue, err := checks.Catalogue(p)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, check := range catalogue {
		ids[check.ID] = true
	}
	for _, id := range []string{"CIP-BODY-SEVERITY-MISSING", "CIP-BODY-SEVERITY-STRING", "CIP-BODY-SEVERITY-NULL", "CIP-BODY-SEVERITY-CASE", "CIP-BODY-COMMENT-MISSING"} {
		if !ids[id] {
			t.Errorf("no %s in the catalogue of the changed spec", id)
		}
	}
	if ids["CIP-BODY-SEVERITY-NUMBER"] {
		t.Error("a number is an integer's own type: no CIP-BODY-SEVERITY-NUMBER")
	}
}
