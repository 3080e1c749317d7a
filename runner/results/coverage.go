package results

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cipconform/cipconform/spec"
)

// CoverageItem is one part of the contract and the checks that exercised it.
type CoverageItem struct {
	Kind   string          `json:"kind"` // operation, response, request property, request header, negative class
	Item   string          `json:"item"`
	Checks []CoverageCheck `json:"checks"`
}

// CoverageCheck is a check that exercised an item, with its outcome in this run.
type CoverageCheck struct {
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
}

// Covered reports whether any check exercised the item.
func (c CoverageItem) Covered() bool { return len(c.Checks) > 0 }

// Coverage maps the operation, each documented response code, each required request
// property and header, and each negative class to the checks of this run that exercised it,
// reading what a check exercises from its spec element and kind. An item no check exercised
// has no checks: the reports list it as uncovered.
func Coverage(op *spec.Operation, checks []CheckResult) []CoverageItem {
	var items []CoverageItem
	add := func(kind, item string, exercised func(c CheckResult, element []string) bool) {
		ci := CoverageItem{Kind: kind, Item: item}
		for _, c := range checks {
			if exercised(c, strings.Fields(c.Element)) {
				ci.Checks = append(ci.Checks, CoverageCheck{ID: c.ID, Outcome: c.Outcome})
			}
		}
		items = append(items, ci)
	}
	add("operation", fmt.Sprintf("%s %s %s", op.ID, op.Method, op.PathTemplate), func(c CheckResult, el []string) bool {
		return len(el) > 0 && el[0] == op.ID
	})
	for _, status := range op.Statuses() {
		code := fmt.Sprint(status)
		add("response", code, func(c CheckResult, el []string) bool { return len(el) > 1 && el[1] == code })
	}
	for _, p := range op.RequestBodyProperties() {
		if !p.Required {
			continue
		}
		name := p.Name
		add("request property", name+" (required)", func(c CheckResult, _ []string) bool {
			return strings.Contains(c.Element, "/properties/"+name) || strings.HasSuffix(c.Element, "/required") || c.Kind == "create"
		})
	}
	add("request header", "Authorization (required, Bearer)", func(c CheckResult, _ []string) bool { return c.Kind == "auth" || c.Kind == "create" })
	add("request header", "Content-Type: application/json", func(c CheckResult, _ []string) bool {
		return strings.Contains(c.Element, "requestBody/content") || c.Kind == "create"
	})
	negatives := []struct {
		class string
		match func(c CheckResult) bool
	}{
		{"missing required property", func(c CheckResult) bool { return strings.HasSuffix(c.Element, "/required") }},
		{"wrong type", func(c CheckResult) bool { return strings.HasSuffix(c.Element, "/type") }},
		{"malformed or empty body", func(c CheckResult) bool {
			return strings.HasSuffix(c.Element, "Request") || strings.HasSuffix(c.Element, "requestBody/required")
		}},
		{"unsupported content type", func(c CheckResult) bool { return strings.Contains(c.Element, "requestBody/content") }},
		{"bad authentication", func(c CheckResult) bool { return c.Kind == "auth" && strings.Contains(c.Element, " 401 ") }},
		{"insufficient permission", func(c CheckResult) bool { return c.Kind == "auth" && strings.Contains(c.Element, " 403 ") }},
		{"unknown resource", func(c CheckResult) bool { return strings.Contains(c.Element, " 404") }},
		{"unsupported method", func(c CheckResult) bool { return strings.Contains(c.Element, " 405") }},
		{"conflicting state (already running)", func(c CheckResult) bool { return c.Kind == "state" }},
		{"rate limit exceeded", func(c CheckResult) bool { return strings.Contains(c.Element, " 429") }},
	}
	for _, n := range negatives {
		add("negative class", n.class, func(c CheckResult, _ []string) bool { return n.match(c) })
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
