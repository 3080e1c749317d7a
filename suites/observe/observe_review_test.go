package observe

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// A token answer sent gzip-encoded (as through the proxy, which does not unzip) has its tokens
// redacted: they are looked for in the body unzipped, as the report keeps it (they were looked
// for in the zipped bytes, and reached the report).
func TestGzipTokenAnswerIsRedacted(t *testing.T) {
	const refresh = "0.ARrefresh-token-value-abcdefghijklmnop"
	const access = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.YWNjZXNzLXRva2Vu.sig-xyz123"
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"` + access + `","refresh_token":"` + refresh + `"}`))
	_ = zw.Close()
	u, _ := url.Parse("http://127.0.0.1:8081/oauth2/token")
	ex := Exchange{
		Request:     &http.Request{Method: "POST", URL: u, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		RequestBody: []byte("grant_type=client_credentials&client_id=abc"),
		Status:      200,
		Header:      http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}},
		Body:        z.Bytes(),
	}
	l := NewLog(nil)
	r := l.Add(context.Background(), ex)
	shown := l.Redactor().Replace(r.Exchanges[0].ResponseBody)
	for name, s := range map[string]string{"refresh_token": refresh, "access_token": access} {
		if strings.Contains(shown, s) {
			t.Errorf("the report's response body holds the %s: %s", name, shown)
		}
	}
}

// A request body that is not JSON at all (cut short) is not said to be "a JSON value followed by
// more text" (it was, besides the validator's own violation).
func TestTruncatedJSONIsNotSaidToHaveTrailingText(t *testing.T) {
	good := strings.NewReplacer("STATUS", "Pending", "CREATED", "2025-03-04T10:11:12Z").Replace(action)
	r := Judge(context.Background(), spec.MDE, exchange("POST", "/api/machines/m1/collectInvestigationPackage", `{"Comment":`, 201, good))
	if v := probe3Violations(r); strings.Contains(v, "followed by more text") {
		t.Errorf("a body cut short is said to be a JSON value followed by more text: %s", v)
	}
}

// A 201 whose body the recording left out is not "passed": its body (the schema, and every rule
// tying the 201 to its request) was not judged, and the entry says so (it passed, silently).
func TestUnknownBodyPassIsQualified(t *testing.T) {
	ex := exchange("POST", "/api/machines/m1/collectInvestigationPackage", `{"Comment":"c"}`, 201, "")
	ex.Body, ex.BodyUnknown = nil, true
	r := Judge(context.Background(), spec.MDE, ex)
	if r.Outcome == harness.Passed && r.Message == "" {
		t.Errorf("a 201 judged without its body: %s, message %q: nothing says the body was not judged", r.Outcome, r.Message)
	}
}

// A body in an encoding the judge cannot undo (br, which a client may accept and the proxy
// forwards as sent) is unknown, not a failure (it failed as not JSON: a false alarm).
func TestBrotliBodyIsNotAFalseAlarm(t *testing.T) {
	ex := exchange("GET", "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10", "", 404, "\x1b\x3f\x00\xf8\x8d\x94\x6e\xde\x5b\x01") // not decodable here
	ex.Header.Set("Content-Encoding", "br")
	r := Judge(context.Background(), spec.MDE, ex)
	if r.Outcome == harness.Failed {
		t.Errorf("a br-encoded body, which observe cannot unzip, fails: %s", probe3Violations(r))
	}
}

// A token request in a recording is said to be one (not told to give --profile, which would
// not make it an operation).
func TestATokenRequestIsSaidToBeOne(t *testing.T) {
	u, _ := url.Parse("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token")
	ex := Exchange{Request: &http.Request{Method: "POST", URL: u, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		RequestBody: []byte("grant_type=client_credentials&client_id=a&client_secret=s3cr3t-value-123"), Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"access_token":"eyJ0eXAi.abcdefghijkl.mnop"}`)}
	if r := NewLog(nil).Add(context.Background(), ex); r.Outcome != harness.Skipped || !strings.Contains(r.Message, "a token request") {
		t.Errorf("%s %q", r.Outcome, r.Message)
	}
}
