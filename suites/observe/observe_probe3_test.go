package observe

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func probe3Violations(r harness.Result) string {
	var got []string
	for _, v := range r.Violations {
		got = append(got, v.String())
	}
	return strings.Join(got, "; ")
}

// RFC 9110 §5.3: several field lines of one name are one list, their values joined by commas;
// Allow is a list (#method), and OWS around the comma may be SP or HTAB (§5.6.1). A 405 whose
// Allow is "OPTIONS" then "POST" on two lines, or "GET,<TAB>POST", allows POST (both failed).
func TestJudgeAllowOnSeveralFieldLines(t *testing.T) {
	for name, allow := range map[string][]string{
		"two field lines": {"OPTIONS", "POST"},
		"HTAB as OWS":     {"GET,\tPOST"},
	} {
		ex := exchange("POST", "/testwdatppreview/machines/m1/collectInvestigationPackage", `{"Comment":"c"}`, 405,
			`{"error":{"code":"MethodNotAllowed","message":"m"}}`)
		ex.Header["Allow"] = allow
		if r := Judge(context.Background(), spec.Preview2017, ex); r.Outcome != harness.Passed {
			t.Errorf("%s %q: %s %q: want passed", name, allow, r.Outcome, probe3Violations(r))
		}
	}
}

// RFC 3339 §5.6: "T" and "Z" may be lower case; a leap second (:60) is a valid time, and the
// contract's own date-time pattern accepts it. format: date-time is RFC 3339 (all three failed).
func TestJudgeRFC3339TimesThatConform(t *testing.T) {
	for _, ts := range []string{"2025-03-04T10:11:12.1234567z", "2025-03-04t10:11:12.1234567Z", "2016-12-31T23:59:60Z"} {
		body := strings.NewReplacer("STATUS", "Pending", "CREATED", ts).Replace(action)
		r := Judge(context.Background(), spec.MDE, exchange("POST", "/api/machines/m1/collectInvestigationPackage", `{"Comment":"c"}`, 201, body))
		if r.Outcome != harness.Passed {
			t.Errorf("creationDateTimeUtc %q: %s %q: want passed", ts, r.Outcome, probe3Violations(r))
		}
	}
}

// The body is "a JSON object" (SEED); a body that is "not JSON at all" is answered 400
// (spec BadRequest). A JSON object followed by more text is not JSON (RFC 8259: one value): it
// fails (it passed, and the 201's requestorComment was then not compared at all).
func TestJudgeRequestBodyWithTrailingDataIsNotJSON(t *testing.T) {
	good := strings.NewReplacer("STATUS", "Pending", "CREATED", "2025-03-04T10:11:12Z").Replace(action) // requestorComment "c"
	for _, reqBody := range []string{`{"Comment":"c"} {"Comment":5}`, `{"Comment":"other"}garbage`} {
		r := Judge(context.Background(), spec.MDE, exchange("POST", "/api/machines/m1/collectInvestigationPackage", reqBody, 201, good))
		if r.Outcome != harness.Failed {
			t.Errorf("request body %q: %s %q: want failed (not JSON)", reqBody, r.Outcome, probe3Violations(r))
		}
	}
}

// On Microsoft's own hosts the base path is known (servers: https://api.security.microsoft.com/api).
// A request to such a host without /api, or below /v1.0, is no operation of the contract:
// undocumented (it was judged as the collection, and passed).
func TestJudgeHostWithoutTheBasePathIsUndocumented(t *testing.T) {
	for _, raw := range []string{
		"https://api.security.microsoft.com/machines/m1/collectInvestigationPackage",
		"https://api.securitycenter.microsoft.com/v1.0/machines/m1/collectInvestigationPackage",
		"https://graph.microsoft.com/v1.0/machines/m1/collectInvestigationPackage",
	} {
		u, _ := url.Parse(raw)
		ex := Exchange{Request: &http.Request{Method: "POST", URL: u, Header: http.Header{"Authorization": {"Bearer abcdefghij"}, "Content-Type": {"application/json"}}},
			RequestBody: []byte(`{"Comment":"c"}`), Status: 404, Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"error":{"code":"NotFound","message":"No HTTP resource was found that matches the request URI"}}`)}
		r := NewLog(nil).Add(context.Background(), ex)
		if r.Check.Element.Operation != Undocumented {
			t.Errorf("%s: judged as %s, %s: want undocumented", raw, r.Check.Element.Operation, r.Outcome)
		}
	}
}

// A HAR body over MaxBody keeps its first MaxBody bytes, in an array of its own (not the whole
// body's), and is flagged: the exchange is skipped, as the proxy skips it.
func TestHARBodyOverTheBound(t *testing.T) {
	big := strings.Repeat("x", 2*MaxBody)
	har := `{"log":{"entries":[{"request":{"method":"POST","url":"https://x/api/machines/m/collectInvestigationPackage","headers":[],"postData":{"text":"` + big + `"}},` +
		`"response":{"status":201,"headers":[],"content":{"text":"` + big + `"}}}]}}`
	exchanges, _, err := ReadHAR([]byte(har))
	if err != nil || len(exchanges) != 1 {
		t.Fatalf("%v, %d exchanges", err, len(exchanges))
	}
	ex := exchanges[0]
	if !ex.RequestTruncated || !ex.BodyTruncated || len(ex.Body) != MaxBody || cap(ex.Body) > MaxBody+4096 || cap(ex.RequestBody) > MaxBody+4096 {
		t.Errorf("truncated %t %t, body %d bytes (cap %d), request body cap %d", ex.RequestTruncated, ex.BodyTruncated, len(ex.Body), cap(ex.Body), cap(ex.RequestBody))
	}
	if r := Judge(context.Background(), spec.MDE, ex); r.Outcome != harness.Skipped {
		t.Errorf("%s %q: want skipped", r.Outcome, r.Message)
	}
}
