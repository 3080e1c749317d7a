package checks

import (
	"net/http"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/fixtures/seed"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func stateChecks(op *spec.Operation) []harness.Check {
	return []harness.Check{
		{
			Info: harness.Info{ID: "CIP-STATE-001", Title: "A second collection on a machine while the first runs gets 400",
				Element: op.Element("400", "collection already running").Refusing(spec.ConflictingState),
				Level:   harness.Must, Safety: harness.CreatesAction, Kind: harness.KindState},
			Machines: 1,
			Run: func(g Gomega, env *harness.Env) {
				create(g, env, env.Machines[0], harness.Admin, seed.ExampleComment)
				expectRefused(g, env, env.Machines[0], refusal{label: "a second collection while the first runs", auth: admin, body: validBody, status: 400, alreadyRunning: true})
			},
		},
		{
			Info: harness.Info{ID: "CIP-STATE-002", Title: "Refused requests have no side effect: the machine then takes a valid request", Element: op.Element("201", "after 400, 401, 403"),
				Level: harness.Must, Safety: harness.CreatesAction, Kind: harness.KindState},
			Machines: 1,
			Run: func(g Gomega, env *harness.Env) {
				refusals := []refusal{noToken, garbageToken, alteredToken, missingComment, malformedJSON, plainText}
				if env.Has(harness.Reader) {
					refusals = append(refusals, readerToken)
				}
				for _, r := range refusals {
					ex := env.Send(r.request(env, env.Machines[0]))
					g.Expect(ex).To(harness.HaveStatus(r.status))
				}
				ex := env.Send(harness.Request{Label: "a valid request after the refused ones", Method: http.MethodPost, URL: env.URL(env.Machines[0]), Auth: admin(env), Body: validBody})
				if ex.Status == http.StatusBadRequest && alreadyRunning(ex) {
					// Only a valid request reaches the machine's state, so nothing tells beforehand
					// whether it was busy already: a collection of an earlier run explains this too.
					env.BusyExplains()
				}
				g.Expect(ex).To(harness.HaveStatus(http.StatusCreated), "a refused request must not have started a collection on the machine")
			},
		},
	}
}
