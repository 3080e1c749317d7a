// Package checks is the check catalogue: every clause of the contract that the harness
// verifies, as data. Each entry names the spec element it verifies; the negative body checks
// are derived from the spec's request schema, so a change of the spec changes them.
package checks

import (
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// Catalogue returns every check, in a stable order (the order machines are assigned in).
func Catalogue(op *spec.Operation) []harness.Check {
	var all []harness.Check
	all = append(all, createChecks(op)...)
	all = append(all, stateChecks(op)...)
	all = append(all, authChecks(op)...)
	all = append(all, bodyChecks(op)...)
	all = append(all, routingChecks(op)...)
	all = append(all, errorCodeChecks(op)...)
	return all
}

// Load returns the catalogue of the embedded spec.
func Load() ([]harness.Check, error) {
	op, err := spec.Collect()
	if err != nil {
		return nil, err
	}
	return Catalogue(op), nil
}
