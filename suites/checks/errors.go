package checks

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// errorCodeChecks provoke each error status that a request can provoke and want the error
// code to be one the spec lists for that status (x-error-codes).
func errorCodeChecks(op *spec.Operation, p spec.Profile) []harness.Check {
	rows := []struct {
		id       string
		r        refusal
		negative spec.Negative
		machine  func(env *harness.Env) string
		roles    []harness.Role
	}{
		{"CIP-ERR-400", missingComment, spec.MissingProperty, nil, nil},
		{"CIP-ERR-401", noToken, spec.BadAuthentication, nil, nil},
		{"CIP-ERR-403", readerToken, spec.InsufficientPermission, nil, []harness.Role{harness.Reader}},
		{"CIP-ERR-404", refusal{label: "an unknown machine", auth: admin, body: validBody, status: 404}, spec.UnknownResource, func(env *harness.Env) string { return env.UnknownMachine }, nil},
		{"CIP-ERR-405", refusal{label: "GET instead of POST", method: http.MethodGet, auth: admin, ctype: text(""), status: 405}, spec.UnsupportedMethod, nil, nil},
	}
	var checks []harness.Check
	for _, row := range rows {
		if row.r.status == http.StatusMethodNotAllowed && p.OtherMethod[0] != http.StatusMethodNotAllowed {
			continue // the contract answers another method otherwise: CIP-ROUTE-002 judges that answer
		}
		status := fmt.Sprint(row.r.status)
		codes := op.ErrorCodes(row.r.status)
		checks = append(checks, harness.Check{
			Info: harness.Info{ID: row.id, Title: fmt.Sprintf("A %s's error code is one the spec lists for it (%s)", status, strings.Join(codes, ", ")),
				Element: op.Element(status, "x-error-codes").Refusing(row.negative), Level: harness.Should, Safety: harness.ReadOnly, Kind: harness.KindErrors},
			Roles: row.roles,
			Run: func(g Gomega, env *harness.Env) {
				machine := env.ProbeMachine
				if row.machine != nil {
					machine = row.machine(env)
				}
				ex := expectRefused(g, env, machine, row.r)
				code := errorCode(ex)
				g.Expect(slices.Contains(codes, code)).To(BeTrue(), "error code %q does not fit %s; the spec lists %v\n%s", code, status, codes, ex)
			},
		})
	}
	return checks
}
