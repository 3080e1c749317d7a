package redact_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/cipconform/cipconform/suites/redact"
)

func TestSecretsAndTamperedSecretsAreRedacted(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.payload.signature"
	r := redact.New(token, "", "short-secret")
	cases := map[string]string{
		"Bearer " + token:                         "Bearer " + redact.Redacted,
		"Bearer " + token[:len(token)-4] + "AAAA": "Bearer " + redact.Redacted + "AAAA",
		"secret=short-secret":                     "secret=" + redact.Redacted,
		"secret=short-sec":                        "secret=short-sec", // 12 characters or fewer: only whole
		"nothing secret here":                     "nothing secret here",
		token + " and again " + token:             redact.Redacted + " and again " + redact.Redacted,
	}
	for in, want := range cases {
		if got := r.Replace(in); got != want {
			t.Errorf("Replace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAnEmptyRedactorChangesNothing(t *testing.T) {
	if got := redact.New().Replace("anything"); got != "anything" {
		t.Errorf("%q", got)
	}
	var none []string
	if got := redact.New(none...).Replace(""); got != "" {
		t.Errorf("%q", got)
	}
}

func TestSecretsAddedDuringUse(t *testing.T) {
	r := redact.New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			secret := "fetched-token-" + strings.Repeat("x", i+1)
			r.Add(secret)
			r.Add(secret) // twice is once
			_ = r.Replace("Bearer " + secret)
		})
	}
	wg.Wait()
	for i := range 8 {
		secret := "fetched-token-" + strings.Repeat("x", i+1)
		if got := r.Replace("<" + secret + ">"); strings.Contains(got, "fetched") {
			t.Errorf("%s not redacted: %q", secret, got)
		}
	}
}

func TestStartedRedactorWaitsForItsBuild(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.payload-of-the-token.signature"
	r := redact.Start(token)
	r.Add("another-secret-added-at-once") // waits for the build, then adds
	if got := r.Replace("Bearer " + token + " and another-secret-added-at-once"); got != "Bearer "+redact.Redacted+" and "+redact.Redacted {
		t.Errorf("%q", got)
	}
	if got := string(redact.Start().ReplaceBytes([]byte("nothing"))); got != "nothing" {
		t.Errorf("%q", got)
	}
}
