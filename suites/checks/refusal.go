package checks

import (
	"encoding/json"
	"net/http"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/fixtures/seed"
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
	// others are further statuses that refuse it as well (another method: 404 or 405).
	others []int
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
	g.Expect(ex).To(harness.HaveStatus(append([]int{r.status}, r.others...)...))
	if r.status == http.StatusBadRequest && !r.alreadyRunning {
		g.Expect(alreadyRunning(ex)).To(BeFalse(), "%s: the 400 says a collection is already running on machine %s, not that the request is invalid: an earlier request this target should have refused started one\n%s", ex.Label, machine, ex)
	}
	g.Expect(ex).To(env.Conform(env.Op))
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
