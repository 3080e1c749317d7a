package checks

import (
	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func authChecks(op *spec.Operation) []harness.Check {
	rows := []struct {
		id    string
		title string
		r     refusal
		level harness.Level
		roles []harness.Role
	}{
		{"CIP-AUTH-001", "No Authorization header gets 401", noToken, harness.Must, nil},
		{"CIP-AUTH-002", "A Basic Authorization gets 401", basicScheme, harness.Must, nil},
		{"CIP-AUTH-003", "An empty Bearer token gets 401", emptyBearer, harness.Must, nil},
		{"CIP-AUTH-004", "A garbage Bearer token gets 401", garbageToken, harness.Must, nil},
		{"CIP-AUTH-005", "The admin token with its last characters altered gets 401", alteredToken, harness.Must, nil},
		{"CIP-AUTH-006", "An expired token gets 401", expiredToken, harness.Must, []harness.Role{harness.Expired}},
		{"CIP-AUTH-007", "A valid identity without the permission to collect gets 403", readerToken, harness.Must, []harness.Role{harness.Reader}},
		{"CIP-AUTH-008", "Authentication is judged before the body: no token and malformed JSON get 401", noTokenBadBody, harness.Should, nil},
		{"CIP-AUTH-009", "Permission is judged before the body: the reader without Comment gets 403", readerBadBody, harness.Should, []harness.Role{harness.Reader}},
	}
	checks := make([]harness.Check, 0, len(rows))
	for _, row := range rows {
		element := op.Element("401", "security bearer").Refusing(spec.BadAuthentication)
		if row.r.status == 403 {
			element = op.Element("403", "x-permissions").Refusing(spec.InsufficientPermission)
		}
		checks = append(checks, harness.Check{
			Info:  harness.Info{ID: row.id, Title: row.title, Element: element, Level: row.level, Safety: harness.ReadOnly, Kind: harness.KindAuth},
			Roles: row.roles,
			Run:   func(g Gomega, env *harness.Env) { expectRefused(g, env, env.ProbeMachine, row.r) },
		})
	}
	return checks
}
