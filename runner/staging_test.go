package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/identity"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/harness"
)

// fakeEntra is a local token endpoint that issues, for client credentials, tokens the embedded
// reference accepts. It says they expire in a second, so a client must fetch again during a run.
type fakeEntra struct {
	*httptest.Server
	mu     sync.Mutex
	issued []string
}

func newFakeEntra(t *testing.T, issuer *identity.Issuer, apps map[string]identity.Identity, secret string) *fakeEntra {
	f := &fakeEntra{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil || r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_secret") != secret || r.Form.Get("resource") != "https://api.securitycenter.microsoft.com" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		id, ok := apps[r.Form.Get("client_id")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"unauthorized_client"}`))
			return
		}
		token, err := issuer.Mint(id, time.Hour)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		f.mu.Lock()
		f.issued = append(f.issued, token)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		// Entra ID's v1 endpoint sends expires_in as a string.
		_ = json.NewEncoder(w).Encode(map[string]string{"token_type": "Bearer", "access_token": token, "expires_in": "1"})
	}))
	t.Cleanup(f.Close)
	return f
}

func TestClientCredentialsWithRefresh(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	const secret = "canary-client-secret-0123456789"
	entra := newFakeEntra(t, target.Issuer, map[string]identity.Identity{"admin-app": identity.SecurityAdmin, "ga-app": identity.GlobalAdmin, "reader-app": identity.SecurityRead}, secret)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CIP_TARGET": target.BaseURL, "CIP_MACHINE_IDS": strings.Join(target.Machines, ","), "CIP_TOKEN_EXPIRED": target.Tokens.Expired,
		"CIP_TENANT_ID": "contoso", "CIP_TOKEN_URL": entra.URL + "/contoso/oauth2/token",
		"CIP_ADMIN_CLIENT_ID": "admin-app", "CIP_ADMIN_CLIENT_SECRET_FILE": secretFile,
		"CIP_GLOBAL_ADMIN_CLIENT_ID": "ga-app", "CIP_GLOBAL_ADMIN_CLIENT_SECRET": secret,
		"CIP_READER_CLIENT_ID": "reader-app", "CIP_READER_CLIENT_SECRET": secret,
	}
	dir := t.TempDir()
	out := cli(t, dir, env, "run", "--report-dir", "out")
	if out.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	entra.mu.Lock()
	issued := append([]string(nil), entra.issued...)
	entra.mu.Unlock()
	if len(issued) < 10 {
		t.Errorf("the token endpoint issued %d tokens: short-lived tokens must be fetched again during the run", len(issued))
	}
	// Neither the secret nor any token issued during the run is in any report.
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(path)
		for _, s := range append(issued, secret) {
			if strings.Contains(string(data), s[:len(s)-4]) {
				t.Errorf("%s contains a secret", path)
				return nil
			}
		}
		return nil
	})

	// A wrong secret: one clear message, no wall of failures.
	env["CIP_ADMIN_CLIENT_SECRET_FILE"] = ""
	env["CIP_ADMIN_CLIENT_SECRET"] = "wrong-secret-42"
	out = cli(t, dir, env, "run", "--report-dir", "out2")
	if out.code != exitCannotDo || !strings.Contains(out.stdout, "cannot get the admin token") || strings.Contains(out.stdout, "FAIL ") {
		t.Errorf("wrong secret: exit %d\n%s", out.code, out.stdout)
	}
}

func TestARejectedAdminTokenSaysSoOnce(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	env := targetEnv(target)
	env["CIP_TOKEN_ADMIN"] = target.Tokens.Expired
	out := cli(t, t.TempDir(), env, "run")
	if out.code != exitCannotDo || strings.Count(out.stdout, "the admin token was rejected") != 1 || !strings.Contains(out.stdout, "check CIP_TOKEN_ADMIN") || strings.Contains(out.stdout, "FAIL ") {
		t.Errorf("exit %d\n%s", out.code, out.stdout)
	}
}

func TestProductionRefusesActions(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	env := targetEnv(target)
	env["CIP_TARGET_ENV"] = "production"
	dir := t.TempDir()
	out := cli(t, dir, env, "run", "--report-dir", "out")
	if out.code != exitOK || !strings.Contains(out.stdout, "SKIP  CIP-CREATE-001") || !strings.Contains(out.stdout, "PASS  CIP-AUTH-001") {
		t.Fatalf("exit %d\n%s", out.code, out.stdout)
	}
	creating := 0
	catalogue, err := checks.Catalogue(spec.Preview2017)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range catalogue {
		if c.Safety == harness.CreatesAction {
			creating++
		}
	}
	summary, _ := os.ReadFile(filepath.Join(dir, "out", summaryFile))
	if !strings.Contains(string(summary), fmt.Sprintf("WARNING:** production target (CIP_TARGET_ENV is production): %d checks that create actions were refused", creating)) {
		t.Errorf("summary.md:\n%s", summary)
	}
	plan := cli(t, dir, env, "plan")
	if plan.code != exitOK || !strings.Contains(plan.stdout, "would be SKIPPED: refused: CIP_TARGET_ENV is production") {
		t.Errorf("plan: %d\n%s", plan.code, plan.stdout)
	}
	fresh := startTarget(t, embedded.Fault{})
	env = targetEnv(fresh)
	env["CIP_TARGET_ENV"], env["CIP_ALLOW_ACTIONS"] = "production", "true"
	if out := cli(t, dir, env, "run", "--quiet", "--report-dir", "out2"); out.code != exitOK || !strings.Contains(out.stdout, fmt.Sprintf("(%d passed)", len(catalogue))) {
		t.Errorf("--allow-actions: exit %d\n%s", out.code, out.stdout)
	}
}

// plan with client credentials fetches no token and sends nothing; against a production host it
// shows the refusals.
func TestPlanAgainstProductionWithClientCredentials(t *testing.T) {
	t.Parallel()
	hits := 0
	entra := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer entra.Close()
	env := map[string]string{
		"CIP_TARGET": "https://api-eu.securitycenter.microsoft.com/api", "CIP_MACHINE_IDS": machineList(20),
		"CIP_TOKEN_URL": entra.URL, "CIP_ADMIN_CLIENT_ID": "a", "CIP_ADMIN_CLIENT_SECRET": "secret-123456", "CIP_READER_CLIENT_ID": "r", "CIP_READER_CLIENT_SECRET": "secret-123456",
	}
	out := cli(t, t.TempDir(), env, "plan")
	if out.code != exitOK || hits != 0 {
		t.Fatalf("exit %d, %d token requests\n%s", out.code, hits, out.stderr)
	}
	for _, want := range []string{"## CIP-CREATE-001", "would be SKIPPED: refused: api-eu.securitycenter.microsoft.com is a Microsoft production host", "POST https://api-eu.securitycenter.microsoft.com/api/machines/machine-a/collectInvestigationPackage", "## CIP-AUTH-007"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("plan does not say %q", want)
		}
	}
	if strings.Contains(out.stdout, "CIP-AUTH-007: A valid identity without the Security administrator or Global admin role gets 403\ncollectInvestigationPackage 403 x-permissions · MUST · read-only\nwould be SKIPPED") {
		t.Error("the reader has client credentials: its checks are planned, not skipped")
	}
}

// HTTP_PROXY is honoured: the target's name does not resolve, and only the proxy (here the
// reference itself, which serves absolute-form requests) can answer.
func TestTheProxyIsHonoured(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	env := targetEnv(target)
	proxy := strings.TrimSuffix(target.BaseURL, embedded.BasePath)
	env["CIP_TARGET"] = "http://cip-target.invalid" + embedded.BasePath
	env["HTTP_PROXY"], env["NO_PROXY"] = proxy, ""
	if out := cli(t, t.TempDir(), env, "run", "--quiet", "--label-filter", "kind:auth"); out.code != exitOK {
		t.Errorf("through the proxy: exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
}
