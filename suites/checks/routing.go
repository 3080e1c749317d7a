package checks

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func routingChecks(op *spec.Operation, p spec.Profile) []harness.Check {
	// Another method is refused as the profile says: 405 with Allow: POST (the spec requires
	// the header on a 405), or today's 404.
	first, others := p.OtherMethod[0], p.OtherMethod[1:]
	title := fmt.Sprintf("Other methods get %s", httpStatuses(p.OtherMethod))
	element := op.Element(fmt.Sprint(first), "another method")
	if first == http.StatusMethodNotAllowed {
		title += " with Allow: POST"
		element = op.HeaderElement("405", "Allow")
	}
	return []harness.Check{
		{
			Info: harness.Info{ID: "CIP-ROUTE-001", Title: "An unknown machine gets 404", Element: op.Element("404", "").Refusing(spec.UnknownResource),
				Level: harness.Must, Safety: harness.ReadOnly, Kind: harness.KindRouting},
			Run: func(g Gomega, env *harness.Env) {
				expectRefused(g, env, env.UnknownMachine, refusal{label: "an unknown machine", auth: admin, body: validBody, status: 404})
			},
		},
		{
			Info: harness.Info{ID: "CIP-ROUTE-002", Title: title, Element: element.Refusing(spec.UnsupportedMethod),
				Level: harness.Should, Safety: harness.ReadOnly, Kind: harness.KindRouting},
			Run: func(g Gomega, env *harness.Env) {
				for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
					r := refusal{label: method + " instead of POST", method: method, auth: admin, status: first, others: others}
					if method == http.MethodPut || method == http.MethodPatch {
						r.body = validBody
					} else {
						r.ctype = text("")
					}
					expectRefused(g, env, env.ProbeMachine, r)
				}
			},
		},
	}
}

// httpStatuses is "405", "404 or 405".
func httpStatuses(codes []int) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, " or ")
}
