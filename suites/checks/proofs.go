package checks

import (
	"slices"
	"sync"

	"github.com/cipconform/cipconform/suites/harness"
)

// The proofs: for each mutant of fixtures/mutants (a pure fault), the checks that must fail
// against it, knock-on failures included, so that every other check passing is part of the
// proof. `cipconform selftest` runs every mutant and wants exactly these checks to fail.
//
// A kill set is explicit check IDs and/or rules over the checks' metadata. A fault that breaks
// every response of one kind (every 201, every error body) names the rule, not a list: a check
// added to the catalogue with that metadata is then expected to catch it without an edit here.

// Kills selects the checks that must fail against one mutant: the checks named by ID, plus
// every check of the catalogue that one of the rules matches.
type Kills struct {
	IDs   []string
	Rules []Rule
}

// Rule selects checks by their metadata.
type Rule struct {
	Name  string // how the proofs table says it: creating, refusing, all
	Match func(harness.Info) bool
}

var (
	// creating: every check that needs an action created (Safety creates-action). A fault in
	// every 201 fails them all.
	creating = rule("creating", func(c harness.Info) bool { return c.Safety == harness.CreatesAction })
	// refusing: every check that wants a refused request's response to conform to the spec,
	// that is, whose spec element is an error status (400 and above). A fault in every error
	// response fails them all.
	refusing = rule("refusing", func(c harness.Info) bool { return errorStatus(c.Element.Status) })
	// all: every check of the catalogue.
	all = rule("all", func(harness.Info) bool { return true })
)

// answering selects the checks whose element is this response status: a fault in every such
// response fails them, whichever checks a profile verifies through that status (today's API
// answers another method with 404, so a fault in every 404 fails CIP-ROUTE-002 there too).
func answering(status string) Kills {
	return rule("answering "+status, func(c harness.Info) bool { return c.Element.Status == status })
}

func rule(name string, match func(harness.Info) bool) Kills {
	return Kills{Rules: []Rule{{Name: name, Match: match}}}
}

// ids names checks explicitly.
func ids(ids ...string) Kills { return Kills{IDs: ids} }

// errorStatus tells an error response code ("400", "404", "4XX", "500"); "" and 2xx are not.
func errorStatus(status string) bool { return len(status) == 3 && status >= "400" }

// Proof is one row of the proofs table.
type Proof struct {
	Mutant string // the name of a mutant in fixtures/mutants
	Kills  Kills
}

// proofs is the table: one row per mutant, in the order of mutants.All().
var proofs = []Proof{
	// The 201 and its MachineAction.
	{"created-200", creating},
	{"created-text-plain", ids("CIP-CREATE-002", "CIP-CREATE-003")},
	{"no-requestor", ids("CIP-CREATE-003", "CIP-CREATE-014")},
	{"requestor-service", ids("CIP-CREATE-014")},
	{"wrong-type", ids("CIP-CREATE-004", "CIP-ACTION-001")},
	{"status-outside-enum", ids("CIP-CREATE-003", "CIP-CREATE-009")},
	{"status-succeeded", ids("CIP-CREATE-009")},
	{"timestamp-not-rfc3339", ids("CIP-CREATE-003", "CIP-CREATE-011", "CIP-CREATE-012")},
	{"timestamp-not-utc", ids("CIP-CREATE-011")},
	{"timestamp-stale", ids("CIP-CREATE-011")},
	{"updated-before-created", ids("CIP-CREATE-012")},
	// A 201 with a wrong id names no action: reading or cancelling it by that id fails.
	{"id-not-guid", ids("CIP-CREATE-003", "CIP-CREATE-010", "CIP-ACTION-001", "CIP-ACTION-002", "CIP-ACTION-003")},
	{"id-reused", ids("CIP-CREATE-010", "CIP-ACTION-001", "CIP-ACTION-002", "CIP-ACTION-003")},
	{"comment-prefixed", ids("CIP-CREATE-005", "CIP-CREATE-006", "CIP-CREATE-007", "CIP-ACTION-001")},
	{"trims-comment", ids("CIP-CREATE-006")},
	{"truncates-comment", ids("CIP-CREATE-007")},
	{"wrong-machine-id", ids("CIP-CREATE-008", "CIP-ACTION-001")},

	// State.
	{"duplicate-accepted", ids("CIP-STATE-001")},
	{"refusal-starts-collection", ids("CIP-STATE-002")},

	// Identity. A refused request that is accepted also starts a collection: CIP-STATE-002.
	{"no-token-accepted", ids("CIP-AUTH-001", "CIP-AUTH-008", "CIP-ERR-401", "CIP-STATE-002")},
	{"basic-accepted", ids("CIP-AUTH-002")},
	{"empty-bearer-accepted", ids("CIP-AUTH-003")},
	{"garbage-token-accepted", ids("CIP-AUTH-004", "CIP-STATE-002")},
	{"bad-signature-accepted", ids("CIP-AUTH-005", "CIP-STATE-002")},
	{"expired-accepted", ids("CIP-AUTH-006")},
	{"reader-accepted", ids("CIP-AUTH-007", "CIP-AUTH-009", "CIP-ERR-403", "CIP-STATE-002")},
	{"global-admin-forbidden", ids("CIP-CREATE-013")},
	{"body-before-auth", ids("CIP-AUTH-008", "CIP-AUTH-009")},
	{"403-for-401", ids("CIP-AUTH-001", "CIP-AUTH-002", "CIP-AUTH-003", "CIP-AUTH-004", "CIP-AUTH-005", "CIP-AUTH-006", "CIP-AUTH-008", "CIP-ERR-401", "CIP-STATE-002")},
	{"401-for-403", ids("CIP-AUTH-007", "CIP-AUTH-009", "CIP-ERR-403", "CIP-STATE-002")},

	// The body.
	{"missing-comment-accepted", ids("CIP-BODY-COMMENT-MISSING", "CIP-BODY-COMMENT-CASE", "CIP-BODY-001", "CIP-ERR-400", "CIP-STATE-002")},
	{"lowercase-comment-accepted", ids("CIP-BODY-COMMENT-CASE")},
	{"null-comment-accepted", ids("CIP-BODY-COMMENT-NULL")},
	{"comment-coerced", ids("CIP-BODY-COMMENT-NUMBER", "CIP-BODY-COMMENT-BOOLEAN", "CIP-BODY-COMMENT-OBJECT", "CIP-BODY-COMMENT-ARRAY")},
	{"non-object-body-accepted", ids("CIP-BODY-002", "CIP-BODY-003")},
	{"malformed-json-500", ids("CIP-BODY-004", "CIP-STATE-002")},
	{"empty-body-accepted", ids("CIP-BODY-005")},
	{"content-type-ignored", ids("CIP-BODY-006", "CIP-BODY-007", "CIP-STATE-002")},

	// Routing and errors.
	{"unknown-machine-400", answering("404")},
	{"no-allow-header", answering("405")},
	{"generic-error-codes", ids("CIP-ERR-400", "CIP-ERR-401", "CIP-ERR-403", "CIP-ERR-404", "CIP-ERR-405")},
	{"error-body-not-json", refusing},
	{"redirects-elsewhere", all},

	// Realistic implementations with several faults.
	{"no-auth-at-all", ids("CIP-AUTH-001", "CIP-AUTH-002", "CIP-AUTH-003", "CIP-AUTH-004", "CIP-AUTH-005", "CIP-AUTH-006", "CIP-AUTH-007", "CIP-AUTH-008", "CIP-AUTH-009", "CIP-ERR-401", "CIP-ERR-403", "CIP-STATE-002")},
	{"echo-200", all},
	// Today's companion endpoints.
	{"readback-other-action", ids("CIP-ACTION-001")},
	{"cancel-does-nothing", ids("CIP-ACTION-002", "CIP-ACTION-003")},
	{"cancel-keeps-machine-busy", ids("CIP-ACTION-003")},
	{"lenient-body", ids("CIP-BODY-COMMENT-MISSING", "CIP-BODY-COMMENT-CASE", "CIP-BODY-COMMENT-NULL", "CIP-BODY-COMMENT-NUMBER", "CIP-BODY-COMMENT-BOOLEAN", "CIP-BODY-COMMENT-OBJECT", "CIP-BODY-COMMENT-ARRAY", "CIP-BODY-001", "CIP-BODY-002", "CIP-BODY-003", "CIP-ERR-400", "CIP-STATE-002")},
}

// ProofTable returns the rows of the proofs table, in order.
func ProofTable() []Proof { return slices.Clone(proofs) }

// Select returns the sorted IDs of the checks these kills select: the explicit IDs (those of
// another profile's catalogue left out; an ID of no catalogue kept, so that a wrong ID fails
// the self-test rather than vanish), and every check of the catalogue that a rule matches.
// An empty selection means the fault cannot show in this profile's contract.
func (k Kills) Select(catalogue []harness.Check) []string {
	var out []string
	for _, id := range k.IDs {
		if slices.ContainsFunc(catalogue, func(c harness.Check) bool { return c.ID == id }) || !knownIDs()[id] {
			out = append(out, id)
		}
	}
	for _, c := range catalogue {
		if slices.ContainsFunc(k.Rules, func(r Rule) bool { return r.Match(c.Info) }) {
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Proofs returns, for each mutant name, the sorted IDs of the checks of the catalogue that
// must fail against it.
func Proofs(catalogue []harness.Check) map[string][]string {
	m := make(map[string][]string, len(proofs))
	for _, p := range proofs {
		m[p.Mutant] = p.Kills.Select(catalogue)
	}
	return m
}

// knownIDs are the IDs of every embedded profile's checks.
var knownIDs = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{}
	all, _ := Everything()
	for _, c := range all {
		known[c.ID] = true
	}
	return known
})
