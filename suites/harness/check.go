// Package harness is the generic machinery that runs the check catalogue against a target:
// the check type, the HTTP client with capture and redaction, the matchers that judge
// responses against the spec, and the allocation of the target's machines to checks.
// It knows nothing of any particular check, nor of Ginkgo: the suites adapt it.
package harness

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
)

// Level is the requirement level of a check.
type Level string

const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Safety says what a check does to the target when the target conforms.
type Safety string

const (
	// ReadOnly checks send only requests a conformant target refuses: nothing is created.
	ReadOnly Safety = "read-only"
	// CreatesAction checks ask machines to collect an investigation package.
	CreatesAction Safety = "creates-action"
)

// Role names an identity whose token a check uses: the name of a row of config.Roles.
type Role string

var (
	Admin       = Role(config.Admin.Name)
	GlobalAdmin = Role(config.GlobalAdmin.Name)
	Reader      = Role(config.Reader.Name)
	Expired     = Role(config.Expired.Name)
)

// Kind groups checks by what they exercise; reports and label filters use it.
type Kind string

const (
	KindCreate  Kind = "create"
	KindState   Kind = "state"
	KindAuth    Kind = "auth"
	KindBody    Kind = "body"
	KindRouting Kind = "routing"
	KindErrors  Kind = "errors"
	KindAction  Kind = "action" // the companion endpoints that follow an action
)

// Info is what a check is, apart from how it runs: the one record of a check that the suite,
// results.json, the regression report and every rendered report carry.
type Info struct {
	ID      string       `json:"id"` // stable: reports, baselines and label filters key on it
	Title   string       `json:"title"`
	Element spec.Element `json:"element"` // the spec element verified
	Level   Level        `json:"level"`
	Safety  Safety       `json:"safety"`
	Kind    Kind         `json:"kind"`
	// Profiles are the contracts the check applies to (spec.Profile names).
	Profiles []string `json:"profiles,omitempty"`
}

// Check is one entry of the catalogue: what is verified, where the spec says so, and how.
type Check struct {
	Info
	// Machines is how many machines of its own the check needs (CreatesAction checks).
	Machines int
	// Shares names a group of checks that judge one creation: they get the same machines and
	// send their (identical) request once; the first to run sends it, the others judge its
	// exchange. Empty: the check creates its own.
	Shares string
	// Roles are the identities whose tokens the check needs; it is skipped without them.
	Roles []Role
	Run   func(g gomega.Gomega, env *Env)
}

// Name is the check's stable test name.
func (c Info) Name() string { return c.ID + ": " + c.Title }

// Labels are the Ginkgo labels of the check, for --label-filter: its ID, "level:MUST",
// "safety:read-only" and "kind:auth".
func (c Info) Labels() []string {
	return []string{c.ID, "level:" + string(c.Level), "safety:" + string(c.Safety), "kind:" + string(c.Kind)}
}

// Hooks end a check from inside: each must not return (Ginkgo's Fail and Skip panic; the
// plain executor panics with its own values).
type Hooks struct {
	// Fail's skip counts the frames above the hook's caller that belong to assertion
	// machinery, so that Ginkgo can report the check's own line.
	Fail  func(message string, skip int)
	Skip  func(message string)
	Error func(message string) // the target is unusable: an error, not a failure
}

// Env is what a check runs with: its own machines, the client and the operation.
type Env struct {
	Ctx            context.Context
	Check          Check
	Op             *spec.Operation
	Profile        spec.Profile
	Config         config.Config
	Machines       []string // the check's own, len(Machines) == Check.Machines
	ProbeMachine   string   // an existing machine for read-only checks
	UnknownMachine string

	suite      *Suite
	hooks      Hooks
	exchanges  []*Exchange
	actions    []*Action        // the actions the check's requests started
	violations []spec.Violation // the violations the check found (Conform)
	missing    string           // the setting whose absence skipped the check
	refused    bool             // skipped because the target is production
	// busyExplains: a machine busy from an earlier run would explain the check's failure.
	busyExplains bool
}

// Gomega returns an assertion handle whose failures name the check ID.
func (e *Env) Gomega() gomega.Gomega {
	return gomega.NewGomega(func(message string, callerSkip ...int) {
		skip := 1 // this handler
		if len(callerSkip) > 0 {
			skip += callerSkip[0]
		}
		e.hooks.Fail(e.Check.ID+": "+message, skip)
	})
}

// Exchanges are the requests the check sent, in order, with their responses.
func (e *Env) Exchanges() []*Exchange { return e.exchanges }

// Skip ends the check as skipped.
func (e *Env) Skip(reason string) { e.hooks.Skip(e.Check.ID + ": " + reason) }

// skipFor ends the check as skipped for want of what it needs (a setting to give: machines, an
// identity): a MUST check skipped so makes the run incomplete.
func (e *Env) skipFor(missing, reason string) {
	e.missing = missing
	e.Skip(reason)
}

// URL is the operation's URL for a machine on the target.
func (e *Env) URL(machine string) string {
	u, err := e.Op.URL(e.suite.Target, map[string]string{"id": machine})
	if err != nil {
		e.hooks.Error(e.Check.ID + ": " + err.Error())
	}
	return u
}

// Has reports whether the role has an identity (a token or client credentials).
func (e *Env) Has(role Role) bool { return e.suite.hasIdentity(role) }

// Bearer is the Authorization of a role's token.
func (e *Env) Bearer(role Role) *Auth {
	return &Auth{Value: "Bearer " + e.token(role), Shown: "Bearer $" + roleEnv(role)}
}

// token is a role's token; the check is skipped without one, and ends as an error when it
// cannot be obtained.
func (e *Env) token(role Role) string {
	token, err := e.suite.token(role)
	if err != nil {
		e.hooks.Error(e.Check.ID + ": " + err.Error())
	}
	if token == "" {
		e.skipFor(roleEnv(role), fmt.Sprintf("no token for the %s identity (%s)", role, roleSettings(role)))
	}
	return token
}

// CallerName is who a role's token says its caller is, as the service names a requestor: the
// user's UPN (or name), or an application's display name. The token's claims are read without
// checking its signature: the target judges the token, the harness only reads whom it names.
// ok is false when the token is no JWT or names nobody.
func (e *Env) CallerName(role Role) (name string, ok bool) {
	parts := strings.Split(e.token(role), ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", false
	}
	var claims struct {
		UPN               string `json:"upn"`
		UniqueName        string `json:"unique_name"`
		PreferredUsername string `json:"preferred_username"`
		AppDisplayName    string `json:"app_displayname"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return "", false
	}
	for _, n := range []string{claims.UPN, claims.UniqueName, claims.PreferredUsername, claims.AppDisplayName} {
		if n != "" {
			return n, true
		}
	}
	return "", false
}

// Tampered is a role's token with its last four characters replaced: a wrong signature.
func (e *Env) Tampered(role Role) *Auth {
	token := e.token(role)
	if len(token) < 8 {
		e.Skip(fmt.Sprintf("the %s token is too short to alter", role))
	}
	altered, suffix := tamper(token)
	e.suite.Client().Redactor().Add(altered) // a secret like the others (known already for a static token)
	return &Auth{Value: "Bearer " + altered, Shown: "Bearer ${" + roleEnv(role) + "%????}" + suffix}
}

// tamper replaces a token's last four characters: the signature no longer matches.
func tamper(token string) (altered, suffix string) {
	suffix = "AAAA"
	if strings.HasSuffix(token, suffix) {
		suffix = "BBBB"
	}
	return token[:len(token)-4] + suffix, suffix
}

// Literal is an Authorization value that is no secret.
func Literal(value string) *Auth { return &Auth{Value: value, Shown: value} }

func roleEnv(role Role) string { return role.row().TokenEnv() }

// Send sends a request, records the exchange and returns it. When the target cannot be used
// (refused, timed out), the check ends as an error.
//
// A run the suite has given up on (the target stopped answering, a machine it does not know)
// sends nothing more: the check ends as an error that says why.
func (e *Env) Send(r Request) *Exchange {
	if why := e.suite.Aborted(); why != "" {
		e.hooks.Error(fmt.Sprintf("%s: not sent: %s", e.Check.ID, why))
	}
	ex := e.suite.do(e.Ctx, r)
	e.exchanges = append(e.exchanges, ex)
	if a := e.suite.record(e.Check.ID, ex); a != nil && !slices.Contains(e.actions, a) {
		e.actions = append(e.actions, a)
	}
	if ex.Unusable {
		e.hooks.Error(fmt.Sprintf("%s: %s: %s", e.Check.ID, r.Label, ex.Error))
	}
	return ex
}

// BusyExplains says that the failure about to come has another explanation if machines of this
// run were busy with an earlier run's collections: then the check ends as an error instead
// (see RunChecks).
func (e *Env) BusyExplains() { e.busyExplains = true }

// Unusable ends the check as an error: the target could not be used for it (a busy machine),
// which says nothing about conformance.
func (e *Env) Unusable(reason string) { e.hooks.Error(e.Check.ID + ": " + reason) }

// Abort gives the run up for this reason: every check that has not sent its requests yet
// ends as an error that says why, instead of waiting out a timeout of its own or failing for
// the same cause.
func (e *Env) Abort(reason string) {
	e.suite.abort(reason)
	e.hooks.Error(fmt.Sprintf("%s: %s", e.Check.ID, reason))
}

// Prepare skips the check when it must not run (it would start a collection on a production
// target) or what it needs is missing: machines or identities.
func (e *Env) Prepare() {
	if e.Check.Safety == CreatesAction && e.suite.production && !e.Config.AllowActions {
		e.refused = true
		e.Skip(fmt.Sprintf("refused: %s, and this check starts a collection on a real machine; give --allow-actions (%sALLOW_ACTIONS=true) to run it", e.suite.refused, config.EnvPrefix))
	}
	if len(e.Machines) < e.Check.Machines {
		e.skipFor(config.EnvPrefix+"MACHINE_IDS", fmt.Sprintf("needs %d machine(s) of its own, but %sMACHINE_IDS has too few: this catalogue needs %d in all (one of them for the read-only checks)",
			e.Check.Machines, config.EnvPrefix, e.suite.MachinesNeeded))
	}
	for _, role := range e.Check.Roles {
		if !e.suite.hasIdentity(role) {
			e.skipFor(roleEnv(role), fmt.Sprintf("no token for the %s identity: set %s", role, roleSettings(role)))
		}
	}
}
