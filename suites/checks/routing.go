package checks

import (
	"net/http"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func routingChecks(op *spec.Operation) []harness.Check {
	return []harness.Check{
		{
			Info: harness.Info{ID: "CIP-ROUTE-001", Title: "An unknown machine gets 404", Element: op.Element("404", "").Refusing(spec.UnknownResource),
				Level: harness.Must, Safety: harness.ReadOnly, Kind: harness.KindRouting},
			Run: func(g Gomega, env *harness.Env) {
				expectRefused(g, env, env.UnknownMachine, refusal{label: "an unknown machine", auth: admin, body: validBody, status: 404})
			},
		},
		{
			Info: harness.Info{ID: "CIP-ROUTE-002", Title: "Other methods get 405 with Allow: POST", Element: op.HeaderElement("405", "Allow").Refusing(spec.UnsupportedMethod),
				Level: harness.Should, Safety: harness.ReadOnly, Kind: harness.KindRouting},
			Run: func(g Gomega, env *harness.Env) {
				for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
					r := refusal{label: method + " instead of POST", method: method, auth: admin, status: 405}
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
