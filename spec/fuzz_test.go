package spec_test

import (
	"context"
	"net/http"
	"testing"
)

// FuzzValidateResponse feeds the validator whatever a target might answer: it must never
// panic, and a response it passes must have a documented status.
func FuzzValidateResponse(f *testing.F) {
	op := operation(&testing.T{})
	f.Add(201, "application/json", []byte(`{"id":"c9042f9b-8483-4526-87b5-35e4c2532223"}`))
	f.Add(201, "application/json; charset=utf-8", []byte(`[]`))
	f.Add(400, "application/json", []byte(`{"error":{"code":1,"message":null}}`))
	f.Add(429, "text/html", []byte(`<html>`))
	f.Add(200, "", []byte{0xff, 0xfe, 0x00})
	f.Add(405, "application/json", []byte(`{"error":{"code":"x","message":"y"}}`))
	f.Add(999, "application/json;;", []byte(`{"a":{"b":{"c":[[[[[[]]]]]]}}}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		h := http.Header{"Content-Type": {contentType}}
		violations := op.ValidateResponse(context.Background(), nil, status, h, body)
		if len(violations) == 0 && !op.Documents(status) {
			t.Errorf("status %d passed but is not documented", status)
		}
	})
}

// FuzzPathParams: any request path either matches with a non-empty id or does not match.
func FuzzPathParams(f *testing.F) {
	op := operation(&testing.T{})
	for _, p := range []string{"/machines/m/collectInvestigationPackage", "/api/machines/%2F/collectInvestigationPackage", "/machines//collectInvestigationPackage", "/%zz/machines/a%zz/collectInvestigationPackage", ""} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		params, ok := op.PathParams(path)
		if ok && params["id"] == "" {
			t.Errorf("%q matched with an empty id", path)
		}
	})
}
