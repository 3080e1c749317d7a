package harness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/cipconform/cipconform/spec"
)

// HaveStatus succeeds when the exchange got a response with one of the statuses. The failure
// shows the whole exchange and how to reproduce it.
func HaveStatus(statuses ...int) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(ex *Exchange) (bool, error) {
		return ex.Error == "" && slices.Contains(statuses, ex.Status), nil
	}).WithTemplate(fmt.Sprintf("{{.Actual.Label}}: want HTTP %s, got {{if .Actual.Error}}{{.Actual.Error}}{{else}}HTTP {{.Actual.Status}}{{end}}\n{{.Actual.Summary}}", joinStatuses(statuses)))
}

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
func ConformToOperation(op *spec.Operation) types.GomegaMatcher {
	var violations []spec.Violation
	return gcustom.MakeMatcher(func(ex *Exchange) (bool, error) {
		violations = ex.Conformance(op)
		return len(violations) == 0, nil
	}).WithTemplate(
		"{{.Actual.Label}}: the response does not conform to "+op.ID+":\n"+
			"{{range .Data}}  - {{.}}\n{{end}}{{.Actual.Summary}}", &violations)
}
