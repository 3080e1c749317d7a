package checks

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/fixtures/seed"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// actionChecks verify the companion endpoints a contract offers to follow an action (today's
// API: read it, cancel it). The harness relies on them to hand a machine back after each
// check, so they are checked before they are trusted; a contract without them (the preview)
// has none of these checks.
func actionChecks(p spec.Profile) []harness.Check {
	contract, err := p.Contract()
	if err != nil {
		return nil
	}
	get, errGet := contract.Operation("getMachineAction")
	cancel, errCancel := contract.Operation("cancelMachineAction")
	var out []harness.Check
	if errGet == nil {
		out = append(out, harness.Check{
			Info: harness.Info{ID: "CIP-ACTION-001", Title: "The action read back by its id is the one the 201 described",
				Element: get.Element("200", "#/components/schemas/MachineAction"), Level: harness.Must, Safety: harness.CreatesAction, Kind: harness.KindAction},
			Machines: 1, Shares: AdminCreation,
			Run: func(g Gomega, env *harness.Env) {
				created, action := create(g, env, env.Machines[0], harness.Admin, seed.ExampleComment)
				read, back := readAction(g, env, property(g, created, action, "id"))
				g.Expect(read).To(env.Conform(get))
				// What identifies the action; times and requestor may be written differently.
				for _, name := range []string{"id", "type", "machineId", "requestorComment"} {
					want, got := action[name], back[name]
					if name == "id" {
						want, got = strings.ToLower(asText(want)), strings.ToLower(asText(got))
					}
					g.Expect(got).To(Equal(want), "%s of the action read back differs from the 201's\n201: %s\nread back: %s", name, created, read)
				}
			},
		})
	}
	if errGet == nil && errCancel == nil {
		out = append(out,
			harness.Check{
				Info: harness.Info{ID: "CIP-ACTION-002", Title: "A cancel answers 200 and the action then reads Cancelled (or ended, had it finished first)",
					Element: cancel.Element("200", "#/components/schemas/MachineAction/properties/status"), Level: harness.Must, Safety: harness.CreatesAction, Kind: harness.KindAction},
				Machines: 1,
				Run: func(g Gomega, env *harness.Env) {
					created, action := create(g, env, env.Machines[0], harness.Admin, seed.ExampleComment)
					id := property(g, created, action, "id")
					ex := sendCancel(env, id)
					read, back := readAction(g, env, id)
					if ex.Status == http.StatusBadRequest && slices.Contains([]any{"Succeeded", "Failed", "TimeOut"}, back["status"]) {
						return // the collection ended before the cancel came: the race the docs describe
					}
					g.Expect(ex).To(harness.HaveStatus(http.StatusOK))
					g.Expect(ex).To(env.Conform(cancel))
					var answer map[string]any
					g.Expect(json.Unmarshal(ex.Body(), &answer)).To(Succeed(), "the cancel's answer is not a JSON object\n%s", ex)
					g.Expect(strings.EqualFold(asText(answer["id"]), id)).To(BeTrue(), "the cancel's answer is another action (cancelling updates the original, same id)\n%s", ex)
					g.Expect(back["status"]).To(BeElementOf("Cancelled", "Succeeded", "Failed", "TimeOut"), "after a cancel answered 200, the action must read Cancelled (or ended, had it finished first)\n%s", read)
				},
			},
			harness.Check{
				Info: harness.Info{ID: "CIP-ACTION-003", Title: "A cancelled action frees its machine: a new collection there gets 201",
					Element: cancel.Element("200", "frees the machine"), Level: harness.Should, Safety: harness.CreatesAction, Kind: harness.KindAction},
				Machines: 1,
				Run: func(g Gomega, env *harness.Env) {
					created, action := create(g, env, env.Machines[0], harness.Admin, seed.ExampleComment)
					sendCancel(env, property(g, created, action, "id")) // whatever it answers: CIP-ACTION-002 judges that
					again := env.Send(harness.Request{Label: "a new collection on the machine after the cancel", Method: http.MethodPost,
						URL: env.URL(env.Machines[0]), Auth: env.Bearer(harness.Admin), Body: validBody})
					g.Expect(again).To(harness.HaveStatus(http.StatusCreated), "a cancelled action must free its machine (UNVERIFIED for the real service, which the harness relies on to use one machine for every check)")
				},
			},
		)
	}
	return out
}

// readAction reads an action by its id and wants 200 with a JSON object.
func readAction(g Gomega, env *harness.Env, id string) (*harness.Exchange, map[string]any) {
	_, u := env.CompanionURL("getMachineAction", id)
	ex := env.Send(harness.Request{Label: "read the action " + id, Method: http.MethodGet, URL: u, Auth: env.Bearer(harness.Admin), Type: text("")})
	g.Expect(ex).To(harness.HaveStatus(http.StatusOK))
	var back map[string]any
	g.Expect(json.Unmarshal(ex.Body(), &back)).To(Succeed(), "the action read back is not a JSON object\n%s", ex)
	return ex, back
}

// sendCancel asks the target to cancel an action.
func sendCancel(env *harness.Env, id string) *harness.Exchange {
	_, u := env.CompanionURL("cancelMachineAction", id)
	return env.Send(harness.Request{Label: "cancel the action " + id, Method: http.MethodPost, URL: u, Auth: env.Bearer(harness.Admin), Body: []byte(`{"Comment":"cipconform: cancelled by a check"}`)})
}

func asText(v any) string {
	s, _ := v.(string)
	return s
}
