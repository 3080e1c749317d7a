package observe

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

func exchange(method, path, reqBody string, status int, body string) Exchange {
	u, _ := url.Parse("http://target.invalid" + path)
	h := http.Header{"Authorization": {"Bearer abcdefghijklmnop"}, "Content-Type": {"application/json"}}
	return Exchange{Request: &http.Request{Method: method, URL: u, Header: h}, RequestBody: []byte(reqBody),
		Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

const action = `{"id":"24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10","type":"CollectInvestigationPackage","title":"t","requestor":"r","requestorComment":"c","status":"STATUS","machineId":"m1","computerDnsName":"d","creationDateTimeUtc":"CREATED","lastUpdateDateTimeUtc":"2025-03-04T10:11:12Z","errorHResult":0}`

// The rules of a 201 a single exchange can judge, and the error body of an undocumented error.
func TestJudgeRules(t *testing.T) {
	collect := "/api/machines/m1/collectInvestigationPackage"
	body := func(status, created string) string {
		return strings.NewReplacer("STATUS", status, "CREATED", created).Replace(action)
	}
	for _, tc := range []struct {
		name    string
		ex      Exchange
		outcome harness.Outcome
		want    string // in a violation
	}{
		{"conforms", exchange("POST", collect, `{"Comment":"c"}`, 201, body("Pending", "2025-03-04T10:11:12.1234567Z")), harness.Passed, ""},
		{"not a new status", exchange("POST", collect, `{"Comment":"c"}`, 201, body("Succeeded", "2025-03-04T10:11:12Z")), harness.Failed, "/status"},
		{"a time not in UTC", exchange("POST", collect, `{"Comment":"c"}`, 201, body("Pending", "2025-03-04T10:11:12+02:00")), harness.Failed, "/creationDateTimeUtc"},
		{"another comment", exchange("POST", collect, `{"Comment":"other"}`, 201, body("Pending", "2025-03-04T10:11:12Z")), harness.Failed, "/requestorComment"},
		{"an undocumented error without the error body", exchange("POST", collect, `{"Comment":"c"}`, 418, `{"oops":1}`), harness.Failed, `{"error"`},
		{"no token", func() Exchange {
			ex := exchange("POST", collect, `{"Comment":"c"}`, 401, `{"error":{"code":"Unauthorized","message":"m"}}`)
			ex.Request.Header.Del("Authorization")
			return ex
		}(), harness.Failed, "/Authorization"},
		{"undocumented", exchange("GET", "/api/alerts", "", 200, `{}`), harness.Skipped, ""},
		{"a method the path does not document", exchange("DELETE", collect, "", 405, `{}`), harness.Skipped, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Judge(context.Background(), spec.MDE, tc.ex)
			var got []string
			for _, v := range r.Violations {
				got = append(got, v.String())
			}
			if r.Outcome != tc.outcome || !strings.Contains(strings.Join(got, "; "), tc.want) {
				t.Errorf("%s %q, violations %q: want %s and %q", r.Outcome, r.Message, got, tc.outcome, tc.want)
			}
		})
	}
}

// A long session keeps every verdict but only the first exchanges, each bounded: its reports
// do not grow with the traffic or with what the target sends.
func TestALongSessionStaysBounded(t *testing.T) {
	log := NewLog(&spec.MDE)
	big := bytes.Repeat([]byte("x"), 200<<10)
	for range MaxKeptExchanges + 5 {
		req := httptest.NewRequest(http.MethodGet, "http://target/api/nothing", nil)
		log.Add(context.Background(), Exchange{Request: req, Status: 404, Header: http.Header{"Content-Type": {"text/plain"}}, Body: big})
	}
	entries := log.Entries()
	if len(entries) != MaxKeptExchanges+5 {
		t.Fatalf("%d entries", len(entries))
	}
	if len(entries[0].Exchanges) != 1 || len(entries[0].Exchanges[0].ResponseBody) > harness.KeptBodyBytes+100 {
		t.Errorf("the first exchange is not kept, or not bounded: %d bytes", len(entries[0].Exchanges[0].ResponseBody))
	}
	if last := entries[len(entries)-1]; len(last.Exchanges) != 0 || !strings.Contains(last.Message, "exchange not kept") {
		t.Errorf("a late exchange was kept: %+v", last.Message)
	}
}

// Entries come in the order of their numbers, past OBS-9999 too (their IDs would sort
// OBS-10000 first), whatever order they were judged in.
func TestEntriesAreInTheOrderOfTheirNumbers(t *testing.T) {
	log := NewLog(&spec.MDE)
	req := httptest.NewRequest(http.MethodGet, "http://target/api/nothing", nil)
	const n = 10002
	for i := n; i >= 1; i-- {
		log.Judge(context.Background(), i, Exchange{Request: req, Status: 404})
	}
	entries := log.Entries()
	if len(entries) != n {
		t.Fatalf("%d entries, want %d", len(entries), n)
	}
	for i, e := range entries {
		if want := fmt.Sprintf("OBS-%04d", i+1); e.Check.ID != want {
			t.Fatalf("entry %d is %s, want %s", i, e.Check.ID, want)
		}
	}
}

// A file that is not a HAR says where, in JSON's terms: line and column, never a Go type.
func TestReadHARSaysWhereTheJSONBreaks(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "the file is empty"},
		{`{"log": {"entries": [`, "the JSON ends before it is complete"},
		{"hello", "not JSON at line 1, column 1"},
		{"{\n  \"log\": {\n  }, }", "not JSON at line 3, column 6"},
		{`[1, 2]`, "the top level at line 1, column 1: an array, where HAR has an object"},
		{"{\"log\": {\"entries\": [\n {\"request\": {\"method\": 7}}]}}", "log.entries.request.method at line 2, column 25: a number, where HAR has a string"},
		{`{"log": {"entries": {}}}`, "log.entries at line 1, column 21: an object, where HAR has an array"},
	} {
		_, _, err := ReadHAR([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "observe.") || strings.Contains(err.Error(), "Go value") {
			t.Errorf("%q: %v, want %q", tc.data, err, tc.want)
		}
	}
}

// A body too long to judge: skipped, and what the entry keeps of it is bounded, its curl
// command too, and says that the body went on.
func TestABodyTooLongToJudge(t *testing.T) {
	ex := exchange("POST", "/api/machines/m1/collectInvestigationPackage", "", 201, "{}")
	ex.RequestBody, ex.RequestTruncated = bytes.Repeat([]byte("x"), MaxBody), true
	r := Judge(context.Background(), spec.MDE, ex)
	if r.Outcome != harness.Skipped || len(r.Exchanges) != 1 {
		t.Fatalf("%s %q: want skipped, with its exchange", r.Outcome, r.Message)
	}
	kept := r.Exchanges[0]
	if len(kept.Curl) > 1000 || !strings.Contains(kept.Curl, "--data-binary @body") {
		t.Errorf("curl: %d bytes, %.200q", len(kept.Curl), kept.Curl)
	}
	if len(kept.RequestBody) > harness.KeptBodyBytes+200 || !strings.HasSuffix(kept.RequestBody, "… the rest not kept (more than 1048576 bytes in all)") {
		t.Errorf("request body: %d bytes, ending %q", len(kept.RequestBody), kept.RequestBody[max(0, len(kept.RequestBody)-80):])
	}
}
