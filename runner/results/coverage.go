package results

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// CoverageItem is one part of the contract and the checks that exercised it.
type CoverageItem struct {
	Kind   string          `json:"kind"` // operation, response, request property, request header, negative class
	Item   string          `json:"item"`
	Checks []CoverageCheck `json:"checks"`
	// More counts the further checks that exercised the item, not listed (observe mode lists
	// a few exchanges an item: a session may have thousands).
	More int `json:"more,omitempty"`
}

// CoverageCheck is a check that exercised an item, with its outcome in this run.
type CoverageCheck struct {
	ID      string          `json:"id"`
	Outcome harness.Outcome `json:"outcome"`
}

// Covered reports whether any check exercised the item.
func (c CoverageItem) Covered() bool { return len(c.Checks) > 0 }

// ObservedListed is how many exchanges an observed coverage item lists.
const ObservedListed = 10

// ObservedCoverage maps each operation of the contract and each response it documents to the
// observed exchanges (the entries of observe mode) that exercised it, listing the first
// ObservedListed of each: a client's team sees which parts of the contract its traffic never
// reached (a 403, a 429, the cancel endpoint).
func ObservedCoverage(ops []*spec.Operation, entries []CheckResult) []CoverageItem {
	var items []CoverageItem
	add := func(kind, item string, exercised func(c CheckResult) bool) {
		ci := CoverageItem{Kind: kind, Item: item}
		for _, c := range entries {
			switch {
			case !exercised(c):
			case len(ci.Checks) < ObservedListed:
				ci.Checks = append(ci.Checks, CoverageCheck{ID: c.ID, Outcome: c.Outcome})
			default:
				ci.More++
			}
		}
		items = append(items, ci)
	}
	for _, op := range ops {
		add("operation", fmt.Sprintf("%s %s %s", op.ID, op.Method, op.PathTemplate), func(c CheckResult) bool {
			return c.Element.Operation == op.ID
		})
		for _, status := range op.Statuses() {
			code := fmt.Sprint(status)
			add("response", op.ID+" "+code, func(c CheckResult) bool { return c.Element.Operation == op.ID && c.Element.Status == code })
		}
	}
	return items
}

// Coverage maps the operation, each documented response code, each required request
// property and header, and each negative class to the checks of this run that exercised it,
// reading what a check exercises from its spec element's fields and its kind. An item no
// check exercised has no checks: the reports list it as uncovered.
//
// The contract's other operations (today's companion endpoints) are items too: the checks
// whose element is one of theirs exercised it.
func Coverage(op *spec.Operation, others []*spec.Operation, checks []CheckResult) []CoverageItem {
	var items []CoverageItem
	add := func(kind, item string, exercised func(c CheckResult) bool) {
		ci := CoverageItem{Kind: kind, Item: item}
		for _, c := range checks {
			if exercised(c) {
				ci.Checks = append(ci.Checks, CoverageCheck{ID: c.ID, Outcome: c.Outcome})
			}
		}
		items = append(items, ci)
	}
	add("operation", fmt.Sprintf("%s %s %s", op.ID, op.Method, op.PathTemplate), func(c CheckResult) bool {
		return c.Element.Operation == op.ID
	})
	for _, status := range op.Statuses() {
		code := fmt.Sprint(status)
		add("response", code, func(c CheckResult) bool { return c.Element.Operation == op.ID && c.Element.Status == code })
	}
	for _, other := range others {
		if other.ID == op.ID {
			continue
		}
		add("operation", fmt.Sprintf("%s %s %s", other.ID, other.Method, other.PathTemplate), func(c CheckResult) bool {
			return c.Element.Operation == other.ID
		})
	}
	for _, p := range op.RequestBodyProperties() {
		if !p.Required {
			continue
		}
		name := p.Name
		add("request property", name+" (required)", func(c CheckResult) bool {
			return strings.Contains(c.Element.Pointer(), "/properties/"+name) || c.Element.Negative == spec.MissingProperty || c.Kind == harness.KindCreate
		})
	}
	add("request header", "Authorization (required, Bearer)", func(c CheckResult) bool {
		return c.Kind == harness.KindAuth || c.Kind == harness.KindCreate
	})
	add("request header", "Content-Type: application/json", func(c CheckResult) bool {
		return c.Element.Negative == spec.UnsupportedContentType || c.Kind == harness.KindCreate
	})
	for _, n := range spec.Negatives() {
		add("negative class", string(n), func(c CheckResult) bool { return c.Element.Negative == n })
	}
	return items
}

// Uncovered lists the items no check exercised.
func Uncovered(items []CoverageItem) []string {
	var out []string
	for _, i := range items {
		if !i.Covered() {
			out = append(out, i.Kind+" "+i.Item)
		}
	}
	return slices.Clip(out)
}
