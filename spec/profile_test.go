package spec_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
)

// Both embedded contracts load, and each describes the operation the checks judge; today's
// also describes the companion endpoints clients use.
func TestEmbeddedProfilesLoad(t *testing.T) {
	for _, p := range spec.Profiles() {
		c, err := p.Contract()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if _, err := p.Collect(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if !strings.HasPrefix(c.Digest(), "sha256:") || len(p.Document()) == 0 {
			t.Errorf("%s: digest %q", p.Name, c.Digest())
		}
	}
	c, _ := spec.MDE.Contract()
	for _, id := range []string{"getMachineAction", "cancelMachineAction", "listMachines"} {
		if _, err := c.Operation(id); err != nil {
			t.Errorf("mde: %v", err)
		}
	}
}

func TestProfileFor(t *testing.T) {
	cases := []struct{ target, want string }{
		{"https://graph.microsoft.com/testwdatppreview", "preview-2017"},
		{"http://127.0.0.1:8080/testwdatppreview/", "preview-2017"},
		{"https://api.security.microsoft.com/api", "mde"},
		{"https://staging.example.com/api", "mde"},
		{"https://api-gcc.securitycenter.microsoft.us/whatever", "mde"},
	}
	for _, tc := range cases {
		p, err := spec.ProfileFor(tc.target)
		if err != nil || p.Name != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.target, p.Name, err, tc.want)
		}
	}
	_, err := spec.ProfileFor("https://staging.example.com/defender")
	if err == nil || !strings.Contains(err.Error(), "preview-2017") || !strings.Contains(err.Error(), "mde") {
		t.Errorf("an unknown base path must be an error naming both profiles: %v", err)
	}
}

// A 201 in today's shape passes today's contract and fails the preview's, naming the property;
// the preview's shape the other way round.
func TestEachProfileRejectsTheOthersShape(t *testing.T) {
	today := `{"id":"24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10","type":"CollectInvestigationPackage","requestor":"a@b.c","requestorComment":"x","status":"Pending","machineId":"m1","creationDateTimeUtc":"2025-03-04T10:11:12.1234567Z","lastUpdateDateTimeUtc":"2025-03-04T10:11:12.1234567Z","errorHResult":0,"commands":[],"relatedFileInfo":null}`
	preview := `{"id":"24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10","type":"CollectInvestigationPackage","requestor":"a@b.c","requestorComment":"x","status":"InProgress","error":"None","machineId":"m1","creationDateTimeUtc":"2017-12-04T12:09:24.1785079Z","lastUpdateTimeUtc":"2017-12-04T12:09:24.1785079Z"}`
	judge := func(p spec.Profile, body string) []spec.Violation {
		op, err := p.Collect()
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "http://target"+p.BasePath+"/machines/m1/collectInvestigationPackage", nil)
		return op.ValidateResponse(context.Background(), req, 201, http.Header{"Content-Type": {"application/json"}}, []byte(body))
	}
	names := func(vs []spec.Violation) string {
		var s []string
		for _, v := range vs {
			s = append(s, v.String())
		}
		return strings.Join(s, "; ")
	}
	if v := judge(spec.MDE, today); len(v) > 0 {
		t.Errorf("today's shape under mde: %s", names(v))
	}
	if v := judge(spec.Preview2017, preview); len(v) > 0 {
		t.Errorf("the preview's shape under preview-2017: %s", names(v))
	}
	if v := names(judge(spec.MDE, preview)); !strings.Contains(v, "lastUpdateDateTimeUtc") {
		t.Errorf("the preview's shape under mde must fail naming lastUpdateDateTimeUtc: %s", v)
	}
	if v := names(judge(spec.Preview2017, today)); !strings.Contains(v, "lastUpdateTimeUtc") {
		t.Errorf("today's shape under preview-2017 must fail naming lastUpdateTimeUtc: %s", v)
	}
	if !slices.Contains(spec.MDE.OtherMethod, 404) {
		t.Error("today's service answers another method with 404")
	}
}

func TestWithDocument(t *testing.T) {
	if _, err := spec.MDE.WithDocument("x.yaml", []byte("openapi: 3.0.3\ninfo: {title: t, version: v}\npaths: {}\n")); err == nil || !strings.Contains(err.Error(), "no operation") {
		t.Errorf("a document without the operation: %v", err)
	}
	if _, err := spec.MDE.WithDocument("x.yaml", []byte("not: [openapi")); err == nil {
		t.Error("a document kin-openapi rejects must be an error")
	}
	p, err := spec.MDE.WithDocument("mine.yaml", spec.MDE.Document())
	if err != nil || p.Source != "mine.yaml" || p.Name != "mde" {
		t.Errorf("%+v %v", p, err)
	}
}
