package checks

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/fixtures/seed"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// refusal is a request a conformant target refuses, and the status it refuses it with.
type refusal struct {
	label  string
	auth   func(env *harness.Env) *harness.Auth
	method string  // default POST
	ctype  *string // default application/json
	body   []byte
	status int
	// alreadyRunning marks the refusal of a second collection on a busy machine.
	alreadyRunning bool
}

func (r refusal) request(env *harness.Env, machine string) harness.Request {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	var auth *harness.Auth
	if r.auth != nil {
		auth = r.auth(env)
	}
	return harness.Request{Label: r.label, Method: method, URL: env.URL(machine), Auth: auth, Type: r.ctype, Body: r.body}
}

// expectRefused sends a refusal and wants its status and a response that conforms to the spec.
// A 400 that says a collection is already running is not the refusal asked for: the read-only
// checks share one machine, so an earlier request that the target wrongly accepted would
// otherwise make every later body check pass for the wrong reason.
//
// A read-only check's refusal is shared: checks that send the same request in one run judge
// the same exchange (ERR-401 and AUTH-001 both send no token), so it is sent once.
func expectRefused(g Gomega, env *harness.Env, machine string, r refusal) *harness.Exchange {
	req := r.request(env, machine)
	req.Shared = env.Check.Safety == harness.ReadOnly
	ex := env.Send(req)
	g.Expect(ex).To(harness.HaveStatus(r.status))
	if r.status == http.StatusBadRequest && !r.alreadyRunning {
		g.Expect(alreadyRunning(ex)).To(BeFalse(), "%s: the 400 says a collection is already running on machine %s, not that the request is invalid: an earlier request this target should have refused started one\n%s", ex.Label, machine, ex.Summary())
	}
	g.Expect(ex).To(harness.ConformToOperation(env.Op))
	return ex
}

// alreadyRunning tells the 400 of a collection already running on the machine by its code or
// message (the documented ones of sibling actions; the collect doc names neither).
func alreadyRunning(ex *harness.Exchange) bool {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(ex.Body(), &body)
	return body.Error.Code == "ActiveRequestAlreadyExists" || strings.Contains(strings.ToLower(body.Error.Message), "already in progress")
}

func admin(env *harness.Env) *harness.Auth { return env.Bearer(harness.Admin) }

func text(s string) *string { return &s }

var validBody = commentBody(seed.ExampleComment)

// The refusals about identity. Auth is judged before the body: the last two prove it.
var (
	noToken        = refusal{label: "no Authorization header", body: validBody, status: 401}
	basicScheme    = refusal{label: "a Basic Authorization", auth: func(*harness.Env) *harness.Auth { return harness.Literal("Basic YWRtaW46YWRtaW4=") }, body: validBody, status: 401}
	emptyBearer    = refusal{label: "an empty Bearer token", auth: func(*harness.Env) *harness.Auth { return harness.Literal("Bearer ") }, body: validBody, status: 401}
	garbageToken   = refusal{label: "a garbage Bearer token", auth: func(*harness.Env) *harness.Auth { return harness.Literal("Bearer not-a-token") }, body: validBody, status: 401}
	alteredToken   = refusal{label: "the admin token with its last characters altered", auth: func(env *harness.Env) *harness.Auth { return env.Tampered(harness.Admin) }, body: validBody, status: 401}
	expiredToken   = refusal{label: "an expired token", auth: func(env *harness.Env) *harness.Auth { return env.Bearer(harness.Expired) }, body: validBody, status: 401}
	readerToken    = refusal{label: "a valid identity without permission (reader)", auth: func(env *harness.Env) *harness.Auth { return env.Bearer(harness.Reader) }, body: validBody, status: 403}
	noTokenBadBody = refusal{label: "no Authorization header and malformed JSON", body: []byte(`{"Comment": `), status: 401}
	readerBadBody  = refusal{label: "the reader with no Comment", auth: func(env *harness.Env) *harness.Auth { return env.Bearer(harness.Reader) }, body: []byte(`{}`), status: 403}
	missingComment = refusal{label: "an empty object, without Comment", auth: admin, body: []byte(`{}`), status: 400}
	malformedJSON  = refusal{label: "malformed JSON", auth: admin, body: []byte(`{"Comment": "x"`), status: 400}
	plainText      = refusal{label: "Content-Type text/plain", auth: admin, ctype: text("text/plain"), body: validBody, status: 400}
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
				g.Expect(ex).To(harness.HaveStatus(http.StatusCreated), "a refused request must not have started a collection on the machine")
			},
		},
	}
}

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
		{"CIP-AUTH-007", "A valid identity without the Security administrator or Global admin role gets 403", readerToken, harness.Must, []harness.Role{harness.Reader}},
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

// jsonSamples are a value of each JSON type, to put where another type is declared.
var jsonSamples = []struct {
	name, jsonType, value string
}{
	{"NULL", "null", `null`},
	{"NUMBER", "number", `1234`},
	{"BOOLEAN", "boolean", `true`},
	{"OBJECT", "object", `{"text":"Collect forensics"}`},
	{"ARRAY", "array", `["Collect forensics"]`},
	{"STRING", "string", `"Collect forensics"`},
}

// bodyChecks are derived from the request schema: for each required property, leaving it out,
// giving it a value of each other JSON type, and spelling its name in another case; then the
// body shapes and content types that are not a JSON object.
func bodyChecks(op *spec.Operation) []harness.Check {
	schema := "#/components/schemas/CollectInvestigationPackageRequest"
	var checks []harness.Check
	bodyCheck := func(id, title, element string, negative spec.Negative, r refusal) {
		r.auth, r.status = admin, 400
		checks = append(checks, harness.Check{
			Info: harness.Info{ID: id, Title: title, Element: op.Element("400", element).Refusing(negative), Level: harness.Must, Safety: harness.ReadOnly, Kind: harness.KindBody},
			Run:  func(g Gomega, env *harness.Env) { expectRefused(g, env, env.ProbeMachine, r) },
		})
	}
	props := op.RequestBodyProperties()
	valid := map[string]string{}
	for _, p := range props {
		if p.Required {
			valid[p.Name] = sampleOf(p.Type)
		}
	}
	for _, p := range props {
		if !p.Required {
			continue
		}
		id := "CIP-BODY-" + strings.ToUpper(p.Name)
		bodyCheck(id+"-MISSING", fmt.Sprintf("A body without the required %s gets 400", p.Name), schema+"/required", spec.MissingProperty,
			refusal{label: "no " + p.Name, body: objectWith(valid, p.Name, `"cipconformNote":"`+p.Name+` left out"`)})
		for _, sample := range jsonSamples {
			if sample.jsonType == p.Type || (sample.jsonType == "number" && p.Type == "integer") {
				continue
			}
			bodyCheck(id+"-"+sample.name, fmt.Sprintf("%s as %s (not %s) gets 400", p.Name, sample.jsonType, p.Type), schema+"/properties/"+p.Name+"/type", spec.WrongType,
				refusal{label: p.Name + " as " + sample.jsonType, body: objectWith(valid, p.Name, `"`+p.Name+`":`+sample.value)})
		}
		other := strings.ToLower(p.Name)
		if other == p.Name {
			other = strings.ToUpper(p.Name)
		}
		bodyCheck(id+"-CASE", fmt.Sprintf("%q instead of %q gets 400: names are case-sensitive", other, p.Name), schema+"/properties/"+p.Name, spec.MissingProperty,
			refusal{label: other + " instead of " + p.Name, body: objectWith(valid, p.Name, `"`+other+`":`+valid[p.Name])})
	}
	bodyCheck("CIP-BODY-001", "An empty object {} gets 400", schema+"/required", spec.MissingProperty, missingComment)
	bodyCheck("CIP-BODY-002", "An array [] gets 400", schema+"/type", spec.WrongType, refusal{label: "an array", body: []byte(`[]`)})
	bodyCheck("CIP-BODY-003", "A JSON string gets 400", schema+"/type", spec.WrongType, refusal{label: "a JSON string", body: []byte(`"Collect forensics due to alert 1234"`)})
	bodyCheck("CIP-BODY-004", "Malformed JSON gets 400", schema, spec.MalformedBody, malformedJSON)
	bodyCheck("CIP-BODY-005", "An empty body gets 400", "requestBody/required", spec.MalformedBody, refusal{label: "an empty body", body: []byte{}})
	bodyCheck("CIP-BODY-006", "No Content-Type gets 400", "requestBody/content", spec.UnsupportedContentType, refusal{label: "no Content-Type", ctype: text(""), body: validBody})
	bodyCheck("CIP-BODY-007", "Content-Type text/plain gets 400", "requestBody/content", spec.UnsupportedContentType, plainText)
	return checks
}

// objectWith renders the valid object without the property skip, plus the extra member.
func objectWith(valid map[string]string, skip string, extra string) []byte {
	var members []string
	for _, name := range slices.Sorted(maps.Keys(valid)) {
		if name != skip {
			members = append(members, `"`+name+`":`+valid[name])
		}
	}
	members = append(members, extra)
	return []byte("{" + strings.Join(members, ",") + "}")
}

// errorCode reads error.code of an error body; empty when there is none.
func errorCode(ex *harness.Exchange) string {
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(ex.Body(), &body)
	return body.Error.Code
}

func sampleOf(jsonType string) string {
	for _, s := range jsonSamples {
		if s.jsonType == jsonType {
			return s.value
		}
	}
	return `"Collect forensics"`
}

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

// errorCodeChecks provoke each error status that a request can provoke and want the error
// code to be one the spec lists for that status (x-error-codes).
func errorCodeChecks(op *spec.Operation) []harness.Check {
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
				g.Expect(slices.Contains(codes, code)).To(BeTrue(), "error code %q does not fit %s; the spec lists %v\n%s", code, status, codes, ex.Summary())
			},
		})
	}
	return checks
}
