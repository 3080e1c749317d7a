package spec_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/fixtures/seed"
	"github.com/cipconform/cipconform/spec"
)

func operation(t *testing.T) *spec.Operation {
	t.Helper()
	c, err := spec.Preview2017.Contract()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	op, err := c.Operation(spec.OperationID)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestLoadValidatesTheDocument(t *testing.T) {
	c, err := spec.Preview2017.Contract()
	if err != nil {
		t.Fatalf("the embedded spec does not load: %v", err)
	}
	if !strings.HasPrefix(c.Digest(), "sha256:") || len(c.Digest()) != 71 {
		t.Errorf("digest %q", c.Digest())
	}
	if c.OpenAPI().OpenAPI != "3.0.3" {
		t.Errorf("openapi version %q, want 3.0.3", c.OpenAPI().OpenAPI)
	}
	op := operation(t)
	if !op.OpenAPI().Deprecated {
		t.Error("the operation must be deprecated, as the seed says")
	}
	if op.Method != http.MethodPost || op.PathTemplate != "/machines/{id}/collectInvestigationPackage" {
		t.Errorf("operation %s %s", op.Method, op.PathTemplate)
	}
	if got, want := op.Statuses(), []int{201, 400, 401, 403, 404, 405, 429, 500}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if _, err := c.Operation("nope"); err == nil {
		t.Error("an unknown operationId must be an error")
	}
}

func TestParseRejectsAnInvalidDocument(t *testing.T) {
	cases := map[string]string{
		"not yaml":       "{{{",
		"bad example":    strings.Replace(string(spec.Preview2017.Document()), "id: c9042f9b-8483-4526-87b5-35e4c2532223", "id: 42", 1),
		"non-uuid id":    strings.Replace(string(spec.Preview2017.Document()), "id: c9042f9b-8483-4526-87b5-35e4c2532223", "id: not-a-guid", 1),
		"unresolved ref": strings.Replace(string(spec.Preview2017.Document()), "#/components/schemas/MachineAction", "#/components/schemas/Nope", 1),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := spec.Parse([]byte(doc)); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestSeedExamplesConform(t *testing.T) {
	op := operation(t)
	req, err := http.NewRequest(http.MethodPost, seed.ExampleURL, bytes.NewReader(seed.ExampleRequest()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", seed.ExampleContentType)
	req.Header.Set("Authorization", "Bearer x.y.z")
	if v := op.ValidateRequest(context.Background(), req, seed.ExampleRequest()); len(v) > 0 {
		t.Errorf("seed request: %v", v)
	}
	h := http.Header{"Content-Type": {seed.ExampleContentType}}
	if v := op.ValidateResponse(context.Background(), req, 201, h, seed.ExampleResponse()); len(v) > 0 {
		t.Errorf("seed response: %v", v)
	}
}

func TestValidateRequest(t *testing.T) {
	op := operation(t)
	cases := []struct {
		name        string
		url         string
		contentType string
		auth        string
		body        string
		want        []string // substrings of the violations, in order
	}{
		{name: "any base URL", url: "http://127.0.0.1:8080/api/machines/m1/collectInvestigationPackage", contentType: "application/json", auth: "Bearer t", body: `{"Comment":"x"}`},
		{name: "charset", url: "http://h/machines/m1/collectInvestigationPackage", contentType: "application/json; charset=utf-8", auth: "Bearer t", body: `{"Comment":"x"}`},
		{name: "no token", url: "http://h/machines/m1/collectInvestigationPackage", contentType: "application/json", body: `{"Comment":"x"}`, want: []string{"header /Authorization"}},
		{name: "basic", url: "http://h/machines/m1/collectInvestigationPackage", contentType: "application/json", auth: "Basic eDp5", body: `{"Comment":"x"}`, want: []string{"header /Authorization"}},
		{name: "missing Comment", url: "http://h/machines/m1/collectInvestigationPackage", contentType: "application/json", auth: "Bearer t", body: `{"comment":"x"}`, want: []string{"body /Comment: property \"Comment\" is missing (required)"}},
		{name: "number Comment", url: "http://h/machines/m1/collectInvestigationPackage", contentType: "application/json", auth: "Bearer t", body: `{"Comment":1}`, want: []string{"body /Comment"}},
		{name: "text/plain", url: "http://h/machines/m1/collectInvestigationPackage", contentType: "text/plain", auth: "Bearer t", body: `{"Comment":"x"}`, want: []string{"header /Content-Type"}},
		{name: "wrong path", url: "http://h/machines/m1/other", contentType: "application/json", auth: "Bearer t", body: `{"Comment":"x"}`, want: []string{"path"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			got := op.ValidateRequest(context.Background(), req, []byte(tc.body))
			assertViolations(t, got, tc.want)
		})
	}
}

func TestValidateResponse(t *testing.T) {
	op := operation(t)
	const good = `{"id":"c9042f9b-8483-4526-87b5-35e4c2532223","type":"CollectInvestigationPackage","requestor":"a","requestorComment":"c","status":"Pending","machineId":"m1","creationDateTimeUtc":"2026-11-28T02:00:00.1234567Z","lastUpdateTimeUtc":"2026-11-28T02:00:00Z","extra":{"x":1}}`
	const errBody = `{"error":{"code":"TooManyRequests","message":"slow down","target":"c"}}`
	json := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   []string
	}{
		{name: "conforming with extra properties", status: 201, header: json, body: good},
		{name: "charset", status: 201, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: good},
		{name: "undocumented status", status: 200, header: json, body: good, want: []string{"status: status 200 is not documented"}},
		{name: "redirect", status: 307, header: http.Header{"Location": {"http://elsewhere"}}, want: []string{"status: status 307 is not documented"}},
		{name: "text/plain", status: 201, header: http.Header{"Content-Type": {"text/plain"}}, body: good, want: []string{"header /Content-Type"}},
		{name: "not JSON", status: 201, header: json, body: "<html>", want: []string{"body: not JSON"}},
		{
			name: "every violation listed", status: 201, header: json,
			body: `{"id":"nope","type":"Other","requestor":"a","requestorComment":"c","status":"Done","creationDateTimeUtc":"yesterday","lastUpdateTimeUtc":"2026-11-28T02:00:00Z"}`,
			want: []string{"body /creationDateTimeUtc: string doesn't match the format \"date-time\"", "body /id: string doesn't match the format \"uuid\"", "body /machineId: property \"machineId\" is missing", "body /status: value is not one of the allowed values", "body /type: value is not one of the allowed values"},
		},
		{name: "429 with Retry-After", status: 429, header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"30"}}, body: errBody},
		{name: "429 without Retry-After and a bad body", status: 429, header: json, body: `{"error":{}}`, want: []string{"header", "body /error/code: property \"code\" is missing", "body /error/message: property \"message\" is missing"}},
		{name: "405 without Allow", status: 405, header: json, body: `{"error":{"code":"MethodNotAllowed","message":"m"}}`, want: []string{"header"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := op.ValidateResponse(context.Background(), nil, tc.status, tc.header, []byte(tc.body))
			assertViolations(t, got, tc.want)
		})
	}
}

// assertViolations wants one violation per expected substring, matched in order.
func assertViolations(t *testing.T, got []spec.Violation, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d violations %v, want %d %q", len(got), got, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i].String(), w) {
			t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
		}
	}
}

func TestOperationHelpers(t *testing.T) {
	op := operation(t)
	if got := op.ErrorCodes(401); !slices.Equal(got, []string{"Unauthorized"}) {
		t.Errorf("401 codes %v", got)
	}
	props := op.RequestBodyProperties()
	if len(props) != 1 || props[0] != (spec.BodyProperty{Name: "Comment", Type: "string", Required: true}) {
		t.Errorf("body properties %+v", props)
	}
	u, err := op.URL("https://staging.example.com/api/", map[string]string{"id": "a b/c"})
	if err != nil || u != "https://staging.example.com/api/machines/a%20b%2Fc/collectInvestigationPackage" {
		t.Errorf("URL %q %v", u, err)
	}
	for _, bad := range []string{"", "ftp://x", "/relative", "http://"} {
		if _, err := op.URL(bad, map[string]string{"id": "m"}); err == nil {
			t.Errorf("URL(%q) must fail", bad)
		}
	}
	params, ok := op.PathParams("/api/v1/machines/a%20b/collectInvestigationPackage")
	if !ok || params["id"] != "a b" {
		t.Errorf("PathParams %v %v", params, ok)
	}
	if got := op.Element("201", "/id").String(); got != "collectInvestigationPackage 201 /id" {
		t.Errorf("Element %q", got)
	}
}

// ParseTime reads RFC 3339 as RFC 3339 writes it: "t" and "z" in either case, seven fractional
// digits as the seed has them, a leap second; and refuses what it is not.
func TestParseTime(t *testing.T) {
	for s, ok := range map[string]bool{
		"2025-03-04T10:11:12.1234567Z": true, "2025-03-04t10:11:12z": true, "2016-12-31T23:59:60Z": true,
		"2025-03-04T10:11:12+02:00": true, "2025-03-04 10:11:12Z": false, "2025-03-04T10:11:12": false, "": false,
	} {
		if _, err := spec.ParseTime(s); (err == nil) != ok {
			t.Errorf("%q: %v, want ok %t", s, err, ok)
		}
	}
}
