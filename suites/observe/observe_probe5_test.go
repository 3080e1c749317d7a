package observe

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// probe5Shown is every text of an entry's exchange as a report shows it (redacted).
func probe5Shown(l *Log, r harness.Result) string {
	e := r.Exchanges[0]
	var b strings.Builder
	b.WriteString(e.URL + "\n" + e.RequestBody + "\n" + e.ResponseBody + "\n" + e.Curl + "\n")
	for k, v := range e.RequestHeader {
		b.WriteString(k + ": " + v + "\n")
	}
	for k, v := range e.ResponseHeader {
		b.WriteString(k + ": " + v + "\n")
	}
	return l.Redactor().Replace(b.String())
}

func probe5TokenExchange(rawURL, form string, status int, header http.Header, body string) Exchange {
	u, _ := url.Parse(rawURL)
	if header == nil {
		header = http.Header{"Content-Type": {"application/json"}}
	}
	return Exchange{
		Request:     &http.Request{Method: "POST", URL: u, Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		RequestBody: []byte(form), Status: status, Header: header, Body: []byte(body),
	}
}

// A token request's client secret is redacted in a form with one pair url.ParseQuery rejects
// (a stray '%', a ';': its error threw away the pairs it did parse) and in the query (a sloppy
// client; only access_token was looked for there).
func TestClientSecretOfATokenRequestIsRedacted(t *testing.T) {
	const secret = "Zx8Q~client.secret-value_0123456789"
	const token = "https://login.microsoftonline.com/tenant/oauth2/v2.0/token"
	for name, ex := range map[string]Exchange{
		"form with a bad pair": probe5TokenExchange(token, "grant_type=client_credentials&client_id=abc&client_secret="+url.QueryEscape(secret)+
			"&scope=https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default&state=100%", 400, nil, `{"error":"invalid_request"}`),
		"query": probe5TokenExchange(token+"?grant_type=client_credentials&client_id=abc&client_secret="+url.QueryEscape(secret), "", 400, nil, `{"error":"invalid_request"}`),
	} {
		l := NewLog(nil)
		if shown := probe5Shown(l, l.Add(context.Background(), ex)); strings.Contains(shown, secret) {
			t.Errorf("%s: the client_secret reaches the report:\n%s", name, shown)
		}
	}
}

// A token answer with a byte order mark (some .NET servers write one) has its tokens redacted
// (json.Unmarshal refused it, and they were kept).
func TestTokenAnswerWithABOMIsRedacted(t *testing.T) {
	const refresh = "0.ARrefresh-token-value-abcdefghijklmnop"
	l := NewLog(nil)
	ex := probe5TokenExchange("https://login.microsoftonline.com/tenant/oauth2/token", "grant_type=client_credentials&client_id=abc", 200, nil,
		"\ufeff"+`{"token_type":"Bearer","expires_in":3599,"refresh_token":"`+refresh+`"}`)
	r := l.Add(context.Background(), ex)
	if shown := probe5Shown(l, r); strings.Contains(shown, refresh) {
		t.Errorf("the refresh_token reaches the report:\n%s", shown)
	}
}

// Session cookies (a HAR of a browser holds ESTSAUTH...) show their names only, and the code or
// tokens of an authorization redirect's Location are redacted (both were kept as they were).
func TestCookiesAndRedirectTokensAreRedacted(t *testing.T) {
	const cookie = "0.AXcookie-session-value-abcdefghijklmnop"
	const idToken = "eyJ0eXAiOiJKV1QifQ.aWQtdG9rZW4tdmFsdWU.signature-xyz"
	l := NewLog(nil)
	u, _ := url.Parse("https://login.microsoftonline.com/tenant/oauth2/v2.0/authorize?client_id=abc&response_type=id_token")
	ex := Exchange{
		Request: &http.Request{Method: "GET", URL: u, Header: http.Header{"Cookie": {"ESTSAUTH=" + cookie}}},
		Status:  302,
		Header:  http.Header{"Location": {"https://app.example/cb#id_token=" + idToken}, "Set-Cookie": {"ESTSAUTH=" + cookie + "; path=/; secure; HttpOnly"}},
	}
	r := l.Add(context.Background(), ex)
	shown := probe5Shown(l, r)
	for name, s := range map[string]string{"cookie": cookie, "id_token": idToken} {
		if strings.Contains(shown, s) {
			t.Errorf("the %s reaches the report:\n%s", name, shown)
		}
	}
}

// A client that labels its request body with a Content-Encoding nobody can undo ("utf-8", a
// common slip, or any made-up token) but sends plain JSON has that body judged: one without
// the required Comment fails (it was skipped as unknown: a way round the judge).
func TestOddRequestEncodingHidesNoViolation(t *testing.T) {
	for _, ce := range []string{"utf-8", "x-dodge"} {
		ex := exchange("POST", "/api/machines/m1/collectInvestigationPackage", `{"comment":"lower case"}`, 201,
			strings.NewReplacer("STATUS", "Pending", "CREATED", "2025-03-04T10:11:12Z").Replace(action))
		ex.Request.Header.Set("Content-Encoding", ce)
		r := Judge(context.Background(), spec.MDE, ex)
		if r.Outcome != harness.Failed {
			t.Errorf("Content-Encoding %s: %s %q, want failed (the body lacks Comment)", ce, r.Outcome, r.Message)
		}
	}
}

// A HAR entry of a POST whose body was not recorded, with bodySize -1 (unknown, HAR 1.2) and
// no Content-Length (HTTP/2), is unknown, not empty (it failed: "Comment missing").
func TestHARPostWithoutPostDataIsNotEmpty(t *testing.T) {
	har := `{"log":{"entries":[{"request":{"method":"POST","url":"https://api.security.microsoft.com/api/machines/m1/collectInvestigationPackage","headers":[{"name":"authorization","value":"Bearer abcdefghijklmnop"},{"name":"content-type","value":"application/json"}],"bodySize":-1},"response":{"status":201,"headers":[{"name":"content-type","value":"application/json"}],"content":{"text":` + strconvQuote(strings.NewReplacer("STATUS", "Pending", "CREATED", "2025-03-04T10:11:12Z").Replace(action)) + `}}}]}}`
	exs, _, err := ReadHAR([]byte(har))
	if err != nil {
		t.Fatal(err)
	}
	r := Judge(context.Background(), spec.MDE, exs[0])
	if r.Outcome == harness.Failed {
		t.Errorf("%s %q %v: the body was not recorded, not empty", r.Outcome, r.Message, r.Violations)
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }
