package checks_test

import (
	"slices"
	"testing"

	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/harness"
)

// The proofs table and the mutants agree: one row per mutant, each row names a mutant and
// only checks of the catalogue, selects at least one check, and every check of the catalogue
// is in some row's kill set (a check that no mutant can make fail is a defect).
func TestEveryMutantHasAProof(t *testing.T) {
	ids := map[string]bool{}
	everything, err := checks.Everything()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range everything {
		ids[c.ID] = true
	}
	faulty := map[string]bool{}
	for _, m := range mutants.All() {
		faulty[m.Name] = true
	}
	rows := map[string]bool{}
	killed := map[string]bool{}
	for _, p := range checks.ProofTable() {
		if rows[p.Mutant] {
			t.Errorf("the proofs table has two rows for %s", p.Mutant)
		}
		rows[p.Mutant] = true
		if !faulty[p.Mutant] {
			t.Errorf("the proofs table has a row for %s, which is no mutant of fixtures/mutants", p.Mutant)
		}
		for _, id := range p.Kills.IDs {
			if !ids[id] {
				t.Errorf("the proof of %s names %s, which is not in the catalogue", p.Mutant, id)
			}
		}
		selected := false
		for _, profile := range spec.Profiles() {
			catalogue, err := checks.Catalogue(profile)
			if err != nil {
				t.Fatal(err)
			}
			kills := p.Kills.Select(catalogue)
			selected = selected || len(kills) > 0
			for _, id := range kills {
				killed[profile.Name+" "+id] = true
			}
		}
		if !selected {
			t.Errorf("the proof of %s selects no check of any profile", p.Mutant)
		}
	}
	for _, m := range mutants.All() {
		if !rows[m.Name] {
			t.Errorf("mutant %s has no row in suites/checks/proofs.go", m.Name)
		}
	}
	for _, profile := range spec.Profiles() {
		catalogue, err := checks.Catalogue(profile)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range catalogue {
			if !killed[profile.Name+" "+c.ID] {
				t.Errorf("%s (%s) is in no proof's kill set: a check that cannot fail is a defect", c.ID, profile.Name)
			}
		}
	}
}

// The rules select by metadata: creating is the checks with machines of their own, refusing
// includes every read-only check (a read-only check sends only requests a conformant target
// refuses, so the element it verifies is an error response), all is the catalogue.
func TestProofRules(t *testing.T) {
	all := catalogue(t)
	proofs := checks.Proofs(all)
	var creates, every []string
	for _, c := range all {
		every = append(every, c.ID)
		if c.Machines > 0 {
			creates = append(creates, c.ID)
		}
		if c.Safety == harness.ReadOnly && !slices.Contains(proofs["error-body-not-json"], c.ID) {
			t.Errorf("%s is read-only, but its element %s is no error response: refusing leaves it out", c.ID, c.Element)
		}
	}
	slices.Sort(creates)
	slices.Sort(every)
	for name, want := range map[string][]string{"created-200": creates, "redirects-elsewhere": every, "echo-200": every} {
		if got := proofs[name]; !slices.Equal(got, want) {
			t.Errorf("%s: kills %v, want %v", name, got, want)
		}
	}
}
