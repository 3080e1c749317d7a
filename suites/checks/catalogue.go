// Package checks is the check catalogue: every clause of the contract that the harness
// verifies, as data. Each entry names the spec element it verifies; the negative body checks
// are derived from the spec's request schema, so a change of the spec changes them.
package checks

import (
	"slices"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// Catalogue returns every check that applies to a profile, in a stable order (the order
// machines are assigned in). The checks read the profile's document (the schema-derived
// ones) and its facts (the initial statuses, the update-time property, the answer to another
// method), never its name.
func Catalogue(p spec.Profile) ([]harness.Check, error) {
	op, err := p.Collect()
	if err != nil {
		return nil, err
	}
	var all []harness.Check
	// The checks of the companion endpoints come first: the harness relies on them to hand a
	// machine from check to check, so a machine shared by every check serves them first.
	all = append(all, actionChecks(p)...)
	all = append(all, createChecks(op, p)...)
	all = append(all, stateChecks(op)...)
	all = append(all, authChecks(op)...)
	all = append(all, bodyChecks(op)...)
	all = append(all, routingChecks(op, p)...)
	all = append(all, errorCodeChecks(op, p)...)
	for i := range all {
		all[i].Profiles = []string{p.Name}
	}
	return all, nil
}

// Everything lists every check of every embedded profile once, in catalogue order, each with
// the profiles it applies to; the first profile's title and element stand for the others.
func Everything() ([]harness.Check, error) {
	var all []harness.Check
	index := map[string]int{}
	for _, p := range spec.Profiles() {
		catalogue, err := Catalogue(p)
		if err != nil {
			return nil, err
		}
		for _, c := range catalogue {
			if i, ok := index[c.ID]; ok {
				all[i].Profiles = append(all[i].Profiles, p.Name)
				continue
			}
			index[c.ID] = len(all)
			c.Profiles = slices.Clone(c.Profiles)
			all = append(all, c)
		}
	}
	return all, nil
}
