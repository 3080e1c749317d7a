package spec_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
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

// FuzzPathParams holds PathParams, for every operation of every profile, to the plain
// reading of its contract: the path's last segments, split at "/", are the template's, each
// parameter unescaped and non-empty.
func FuzzPathParams(f *testing.F) {
	var ops []*spec.Operation
	for _, p := range spec.Profiles() {
		c, err := p.Contract()
		if err != nil {
			f.Fatal(err)
		}
		ops = append(ops, c.Operations()...)
	}
	for _, p := range []string{"/machines/m/collectInvestigationPackage", "/api/machines/%2F/collectInvestigationPackage", "/machines//collectInvestigationPackage",
		"/%zz/machines/a%zz/collectInvestigationPackage", "", "/", "machines", "//machineactions/x/", "/api/machineactions/a/cancel", "/a/b/c/d/e/f"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		for _, op := range ops {
			params, ok := op.PathParams(path)
			wantParams, wantOK := pathParamsBySplitting(op.PathTemplate, path)
			if ok != wantOK || !maps.Equal(params, wantParams) || ok && params == nil {
				t.Errorf("%s on %q: %v %v, want %v %v", op.PathTemplate, path, params, ok, wantParams, wantOK)
			}
			if ok && strings.Contains(op.PathTemplate, "{id}") && params["id"] == "" {
				t.Errorf("%q matched %s with an empty id", path, op.PathTemplate)
			}
		}
	})
}

func pathParamsBySplitting(template, requestPath string) (map[string]string, bool) {
	tmpl := strings.Split(strings.Trim(template, "/"), "/")
	segs := strings.Split(strings.Trim(requestPath, "/"), "/")
	if len(segs) < len(tmpl) {
		return nil, false
	}
	segs = segs[len(segs)-len(tmpl):]
	params := map[string]string{}
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[t[1:len(t)-1]] = v
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}
