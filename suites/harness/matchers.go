package harness

import (
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/cipconform/cipconform/spec"
)

// HaveStatus succeeds when the exchange got a response with one of the statuses. The failure
// shows the whole exchange and how to reproduce it.
func HaveStatus(statuses ...int) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(ex *Exchange) (bool, error) {
		return ex.Error == "" && slices.Contains(statuses, ex.Status), nil
	}).WithPrecompiledTemplate(haveStatusTemplate, joinStatuses(statuses))
}

// The matchers' failure templates, parsed once: parsing one per assertion cost more than the
// assertion.
var (
	haveStatusTemplate = template.Must(gcustom.ParseTemplate(
		"{{.Actual.Label}}: want HTTP {{.Data}}, got {{if .Actual.Error}}{{.Actual.Error}}{{else}}HTTP {{.Actual.Status}}{{end}}\n{{.Actual.Summary}}"))
	conformTemplate = template.Must(gcustom.ParseTemplate(
		"{{.Actual.Label}}: the response does not conform to {{.Data.Operation}}:\n" +
			"{{range .Data.Violations}}  - {{.}}\n{{end}}{{.Actual.Summary}}"))
)

func joinStatuses(statuses []int) string {
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, " or ")
}

// ConformToOperation succeeds when the exchange's response conforms to the operation: a
// documented status, its headers, its content type and its body schema. The failure lists
// every violation, not only the first, with the body.
func ConformToOperation(op *spec.Operation) types.GomegaMatcher { return conform(op, nil) }

// Conform is ConformToOperation for this check: the violations it finds are the check's own,
// in its result (a shared exchange judged by another check does not lend them its violations).
func (e *Env) Conform(op *spec.Operation) types.GomegaMatcher {
	return conform(op, func(v []spec.Violation) { e.violations = append(e.violations, v...) })
}

func conform(op *spec.Operation, found func([]spec.Violation)) types.GomegaMatcher {
	data := &conformData{Operation: op.ID}
	return gcustom.MakeMatcher(func(ex *Exchange) (bool, error) {
		data.Violations = ex.Conformance(op)
		if found != nil && len(data.Violations) > 0 {
			found(data.Violations)
		}
		return len(data.Violations) == 0, nil
	}).WithPrecompiledTemplate(conformTemplate, data)
}

type conformData struct {
	Operation  string
	Violations []spec.Violation
}
