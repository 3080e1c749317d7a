package checks

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/fixtures/seed"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

// Comments whose exact echo in requestorComment is checked.
var (
	unicodeComment = "  Forensics: \u00e9\u00e8 \u00fc \u65e5\u672c\u8a9e \u0645\u0631\u062d\u0628\u0627 \U0001F50D \"quoted\" \\ back\tslash  "
	longComment    = strings.TrimSpace(strings.Repeat("Collect forensics due to alert 1234 \u2014 evidence for case #42; ", 64)) // about 4 KB
)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// commentBody is a valid request body with this Comment.
func commentBody(comment string) []byte {
	body, _ := json.Marshal(map[string]string{"Comment": comment})
	return body
}

// create sends a valid request by a role for a machine and returns the exchange and the
// decoded MachineAction; it fails the check unless the answer is 201 with a JSON object.
func create(g Gomega, env *harness.Env, machine string, role harness.Role, comment string) (*harness.Exchange, map[string]any) {
	ex := env.Send(harness.Request{
		Label:  fmt.Sprintf("a valid request by the %s for machine %s", role, machine),
		Method: http.MethodPost,
		URL:    env.URL(machine),
		Auth:   env.Bearer(role),
		Body:   commentBody(comment),
		Shared: env.Check.Shares != "",
		// A machine still collecting for an earlier run is waited for (CIP_BUSY_WAIT).
		RetryWhile: func(ex *harness.Exchange) bool { return ex.Status == http.StatusBadRequest && alreadyRunning(ex) },
	})
	// A machine of the run that is busy or unknown says nothing about conformance: the check
	// could not be done (an error), and an unknown machine ends the run, whose other checks
	// would fail for the same cause.
	if ex.Status == http.StatusBadRequest && alreadyRunning(ex) {
		env.Unusable(fmt.Sprintf("machine %s is busy: a collection from an earlier run? Give fresh machines in %sMACHINE_IDS or wait until their collections end\n%s", machine, config.EnvPrefix, ex.Summary()))
	}
	if ex.Status == http.StatusNotFound {
		env.Abort(fmt.Sprintf("machine %s was not found on the target (404): check %sMACHINE_IDS\n%s", machine, config.EnvPrefix, ex.Summary()))
	}
	g.Expect(ex).To(harness.HaveStatus(http.StatusCreated))
	var action map[string]any
	g.Expect(json.Unmarshal(ex.Body(), &action)).To(Succeed(), "%s: the 201 body is not a JSON object\n%s", ex.Label, ex)
	return ex, action
}

// property reads a string property of a MachineAction, failing the check when it is absent
// or not a string.
func property(g Gomega, ex *harness.Exchange, action map[string]any, name string) string {
	raw, ok := action[name]
	g.Expect(ok).To(BeTrue(), "the MachineAction has no %q\n%s", name, ex)
	s, ok := raw.(string)
	g.Expect(ok).To(BeTrue(), "%q is %T, not a string\n%s", name, raw, ex)
	return s
}

func parseTime(g Gomega, ex *harness.Exchange, action map[string]any, name string) time.Time {
	value := property(g, ex, action, name)
	t, err := spec.ParseTime(value)
	g.Expect(err).NotTo(HaveOccurred(), "%q = %q is not an RFC 3339 date-time\n%s", name, value, ex)
	return t
}

func parseUTC(g Gomega, ex *harness.Exchange, action map[string]any, name string) time.Time {
	t := parseTime(g, ex, action, name)
	value := action[name]
	_, offset := t.Zone()
	g.Expect(offset).To(BeZero(), "%q = %q is not in UTC (the name says Utc; want Z)\n%s", name, value, ex)
	return t
}

// AdminCreation names the creation that the checks judging the administrator's 201 share.
const AdminCreation = "the administrator's 201"

func createChecks(op *spec.Operation, p spec.Profile) []harness.Check {
	el := func(pointer string) spec.Element { return op.Element("201", pointer) }
	positive := func(id, title string, element spec.Element, level harness.Level, run func(g Gomega, env *harness.Env)) harness.Check {
		return harness.Check{Info: harness.Info{ID: id, Title: title, Element: element, Level: level, Safety: harness.CreatesAction, Kind: harness.KindCreate}, Machines: 1, Run: run}
	}
	// judging is a check that only judges the administrator's 201 for the seed's Comment:
	// all of them judge one creation, sent once (harness.Check.Shares).
	judging := func(id, title string, element spec.Element, level harness.Level, judge func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any)) harness.Check {
		c := positive(id, title, element, level, func(g Gomega, env *harness.Env) {
			ex, action := create(g, env, env.Machines[0], harness.Admin, seed.ExampleComment)
			judge(g, env, ex, action)
		})
		c.Shares = AdminCreation
		return c
	}
	echo := func(comment string) func(g Gomega, env *harness.Env) {
		return func(g Gomega, env *harness.Env) {
			ex, action := create(g, env, env.Machines[0], harness.Admin, comment)
			got := property(g, ex, action, "requestorComment")
			g.Expect(got).To(Equal(comment), "requestorComment must be the Comment exactly (%d bytes sent, %d returned)\n%s", len(comment), len(got), ex)
		}
	}
	return []harness.Check{
		judging("CIP-CREATE-001", "A Security Administrator's valid request gets 201 Created", el(""), harness.Must,
			func(Gomega, *harness.Env, *harness.Exchange, map[string]any) {}),
		judging("CIP-CREATE-002", "The 201 response has a JSON content type", op.HeaderElement("201", "Content-Type"), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, _ map[string]any) {
				media, _, err := mime.ParseMediaType(ex.Header().Get("Content-Type"))
				g.Expect(err).NotTo(HaveOccurred(), "unreadable Content-Type\n%s", ex)
				g.Expect(media).To(Equal("application/json"), "the 201 must be application/json\n%s", ex)
			}),
		judging("CIP-CREATE-003", "The 201 response conforms to the spec: every MachineAction violation listed", el("#/components/schemas/MachineAction"), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, _ map[string]any) {
				g.Expect(ex).To(env.Conform(env.Op))
			}),
		judging("CIP-CREATE-004", "type is CollectInvestigationPackage", el("/type"), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				g.Expect(property(g, ex, action, "type")).To(Equal("CollectInvestigationPackage"), "type must be CollectInvestigationPackage\n%s", ex)
			}),
		judging("CIP-CREATE-005", "requestorComment is the Comment exactly: the seed's comment", el("/requestorComment"), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				got := property(g, ex, action, "requestorComment")
				g.Expect(got).To(Equal(seed.ExampleComment), "requestorComment must be the Comment exactly\n%s", ex)
			}),
		positive("CIP-CREATE-006", "requestorComment is the Comment exactly: unicode, quotes and surrounding whitespace", el("/requestorComment"), harness.Must, echo(unicodeComment)),
		positive("CIP-CREATE-007", "requestorComment is the Comment exactly: a comment of about 4 KB", el("/requestorComment"), harness.Must, echo(longComment)),
		judging("CIP-CREATE-008", "machineId is the machine id of the path", el("/machineId"), harness.Should,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				g.Expect(property(g, ex, action, "machineId")).To(Equal(env.Machines[0]), "machineId must be the machine id of the path\n%s", ex)
			}),
		judging("CIP-CREATE-014", "requestor names the caller: the user's UPN, or the application's name", el("/requestor"), harness.Should,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				want, ok := env.CallerName(harness.Admin)
				if !ok {
					env.Skip("the admin token is no JWT naming its caller (upn, unique_name, preferred_username or app_displayname): nothing to compare requestor with")
				}
				got := property(g, ex, action, "requestor")
				// The seed's own example carries a trailing space: spaces around and case are not judged.
				g.Expect(strings.EqualFold(strings.TrimSpace(got), want)).To(BeTrue(), "requestor %q does not name the caller %q\n%s", got, want, ex)
			}),
		judging("CIP-CREATE-009", "A new action's status is "+strings.Join(p.InitialStatuses, " or "), el("/status"), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				g.Expect(property(g, ex, action, "status")).To(BeElementOf(p.InitialStatuses), "a new action's status must be %s\n%s", strings.Join(p.InitialStatuses, " or "), ex)
			}),
		{
			Info: harness.Info{ID: "CIP-CREATE-010", Title: "id is a GUID, different for each action", Element: el("/id"),
				Level: harness.Must, Safety: harness.CreatesAction, Kind: harness.KindCreate},
			Machines: 2,
			Run: func(g Gomega, env *harness.Env) {
				first, a := create(g, env, env.Machines[0], harness.Admin, seed.ExampleComment)
				env.Settle() // where the harness cancels actions, one machine serves both creations
				second, b := create(g, env, env.Machines[1], harness.Admin, seed.ExampleComment)
				idA, idB := property(g, first, a, "id"), property(g, second, b, "id")
				g.Expect(idA).To(MatchRegexp(guidPattern.String()), "id is not a GUID\n%s", first)
				g.Expect(idB).To(MatchRegexp(guidPattern.String()), "id is not a GUID\n%s", second)
				g.Expect(strings.EqualFold(idA, idB)).To(BeFalse(), "two actions share the id %s\n%s\n%s", idA, first, second)
			},
		},
		judging("CIP-CREATE-011", "creationDateTimeUtc and "+p.UpdateTime+" are UTC and close to now", el("/creationDateTimeUtc"), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				before, after := ex.SentAt(), ex.ReceivedAt()
				skew := env.Config.ClockSkew
				for _, name := range []string{"creationDateTimeUtc", p.UpdateTime} {
					t := parseUTC(g, ex, action, name)
					g.Expect(t).To(BeTemporally(">=", before.Add(-skew)), "%s is more than %s (CIP_CLOCK_SKEW) before the request\n%s", name, skew, ex)
					g.Expect(t).To(BeTemporally("<=", after.Add(skew)), "%s is more than %s (CIP_CLOCK_SKEW) after the response\n%s", name, skew, ex)
				}
			}),
		judging("CIP-CREATE-012", p.UpdateTime+" is not before creationDateTimeUtc", el("/"+p.UpdateTime), harness.Must,
			func(g Gomega, env *harness.Env, ex *harness.Exchange, action map[string]any) {
				created, updated := parseTime(g, ex, action, "creationDateTimeUtc"), parseTime(g, ex, action, p.UpdateTime)
				g.Expect(updated).To(BeTemporally(">=", created), "%s must not be before creationDateTimeUtc\n%s", p.UpdateTime, ex)
			}),
		{
			Info: harness.Info{ID: "CIP-CREATE-013", Title: "A Global Administrator's valid request gets 201 Created", Element: op.Element("201", "x-permissions Global admin"),
				Level: harness.Must, Safety: harness.CreatesAction, Kind: harness.KindCreate},
			Machines: 1, Roles: []harness.Role{harness.GlobalAdmin},
			Run: func(g Gomega, env *harness.Env) {
				create(g, env, env.Machines[0], harness.GlobalAdmin, seed.ExampleComment)
			},
		},
	}
}
