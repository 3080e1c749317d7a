package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
)

// The test binary doubles as the cipconform binary: with this variable set it runs main's
// logic, so `run` can re-execute it for the suites as the real binary re-executes itself.
const asMain = "CIPCONFORM_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
	}
	os.Exit(m.Run())
}

type outcome struct {
	stdout, stderr string
	code           int
}

// cli runs the cipconform command in a child process with exactly these CIP_ variables.
func cli(t *testing.T, dir string, env map[string]string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(withoutCIP(os.Environ()), asMain+"=1")
	if _, given := env["CIP_PROFILE"]; env["CIP_TARGET"] == "" && !given {
		// Without a target, run checks every profile, each in a folder of its own; the tests
		// read one profile's reports, except where they say otherwise.
		cmd.Env = append(cmd.Env, "CIP_PROFILE=preview-2017")
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("cipconform %v: %v", args, err)
	}
	return outcome{stdout.String(), stderr.String(), code}
}

// startTarget starts an embedded reference, with a fault if given, stopped when the test ends.
func startTarget(t *testing.T, fault embedded.Fault) *embedded.Target {
	t.Helper()
	target, err := embedded.Start(embedded.Options{Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = target.Close() })
	return target
}

func targetEnv(t *embedded.Target) map[string]string {
	env := map[string]string{"CIP_TARGET": t.BaseURL, "CIP_MACHINE_IDS": strings.Join(t.Machines, ",")}
	for _, role := range config.Roles {
		env[role.TokenEnv()] = role.Minted(t.Tokens)
	}
	return env
}

func catalogueSize(t *testing.T) int {
	t.Helper()
	c, err := checks.Catalogue(spec.Preview2017)
	if err != nil {
		t.Fatal(err)
	}
	return len(c)
}

func TestRunAgainstTheEmbeddedReference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := cli(t, dir, nil, "run", "--report-dir", "out")
	if out.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	if !strings.Contains(out.stdout, "PASS  CIP-AUTH-001") || !strings.Contains(out.stdout, "PASSED: every MUST check passed") {
		t.Errorf("no progress lines or verdict:\n%s", out.stdout)
	}
	for _, name := range []string{resultsFile, junitFile, htmlFile, summaryFile} {
		if _, err := os.Stat(filepath.Join(dir, "out", name)); err != nil {
			t.Errorf("no %s: %v", name, err)
		}
	}
	res, err := results.Load(filepath.Join(dir, "out", resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Passed != catalogueSize(t) || res.Verdict != results.VerdictPassed || !res.Embedded || !strings.HasPrefix(res.Spec.Digest, "sha256:") {
		t.Errorf("results: %+v", res.Counts)
	}
	// The JUnit file reads back as JUnit, one test case per check, named by ID and title.
	data, err := os.ReadFile(filepath.Join(dir, "out", junitFile))
	if err != nil {
		t.Fatal(err)
	}
	var junit reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &junit); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	if len(junit.TestSuites) != 1 || len(junit.TestSuites[0].TestCases) != catalogueSize(t) || junit.Failures != 0 {
		t.Fatalf("junit: %d suites, failures %d", len(junit.TestSuites), junit.Failures)
	}
	if name := junit.TestSuites[0].TestCases[0].Name; !strings.Contains(name, "CIP-") {
		t.Errorf("test case name %q", name)
	}
}

func TestServeThenRunWithThePrintedVariables(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	serve := exec.CommandContext(ctx, os.Args[0], "serve", "--addr", "127.0.0.1:0", "--quiet")
	serve.Env = append(withoutCIP(os.Environ()), asMain+"=1")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if kv, ok := strings.CutPrefix(lines.Text(), "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		if strings.HasPrefix(lines.Text(), "# Press Ctrl-C") {
			break
		}
	}
	if len(env) != 6 {
		t.Fatalf("serve printed %v", env)
	}
	out := cli(t, t.TempDir(), env, "run", "--quiet")
	if out.code != exitOK || strings.Contains(out.stdout, "PASS  ") {
		t.Errorf("run against serve: exit %d (quiet must print no check lines)\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := serve.Wait(); err != nil {
		t.Errorf("serve did not stop cleanly on SIGTERM: %v", err)
	}
}

func TestRunAgainstAFaultyTarget(t *testing.T) {
	t.Parallel()
	m, ok := mutants.Find("created-text-plain")
	if !ok {
		t.Fatal("no mutant created-text-plain")
	}
	target := startTarget(t, m.Fault)
	dir := t.TempDir()
	out := cli(t, dir, targetEnv(target), "run", "--report-dir", "out")
	if out.code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", out.code, exitFailed, out.stdout, out.stderr)
	}
	if !strings.Contains(out.stdout, "FAIL  CIP-CREATE-002") || !strings.Contains(out.stdout, "FAILED: 2 MUST check(s) failed: CIP-CREATE-002, CIP-CREATE-003") {
		t.Errorf("stdout:\n%s", out.stdout)
	}
	res, err := results.Load(filepath.Join(dir, "out", resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if c.ID == "CIP-CREATE-003" && (len(c.Violations) == 0 || c.Violations[0].Pointer != "/Content-Type" || len(c.Curl) == 0) {
			t.Errorf("CIP-CREATE-003 lacks its violations or curl: %+v", c)
		}
	}
	summary, _ := os.ReadFile(filepath.Join(dir, "out", summaryFile))
	if !strings.Contains(string(summary), "FAIL `CIP-CREATE-002`") {
		t.Errorf("summary.md:\n%s", summary)
	}
	checkReportInBrowser(t, filepath.Join(dir, "out", htmlFile))
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	onlyAdmin := map[string]string{"CIP_TARGET": target.BaseURL, "CIP_MACHINE_IDS": strings.Join(target.Machines, ","), "CIP_TOKEN_ADMIN": target.Tokens.Admin}
	unreachable := map[string]string{"CIP_TARGET": "http://127.0.0.1:1/api", "CIP_TOKEN_ADMIN": "unreachable-token"}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		says string
	}{
		{"bad target", map[string]string{"CIP_TARGET": "not a url"}, []string{"run"}, exitUsage, "absolute http"},
		{"target without token", map[string]string{"CIP_TARGET": "https://x.example"}, []string{"run"}, exitUsage, "is required with CIP_TARGET"},
		{"malformed config file", map[string]string{"CIP_CONFIG": "/nonexistent.yaml"}, []string{"run"}, exitUsage, "config file"},
		{"CA file without a certificate", nil, []string{"run", "--ca-file", notPEM}, exitUsage, "--ca-file " + notPEM + ": no PEM certificate"},
		{"unknown flag", nil, []string{"run", "--nope"}, exitUsage, "flag provided but not defined"},
		{"unknown verb", nil, []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unreachable", unreachable, []string{"run", "--report-dir", "out"}, exitCannotDo, "cannot reach target"},
		{"nothing selected", nil, []string{"run", "--label-filter", "kind:nope"}, exitCannotDo, "no check was selected"},
		{"everything skipped", onlyAdmin, []string{"run", "--label-filter", "CIP-AUTH-007 || CIP-AUTH-006"}, exitCannotDo, "every one of the 2 checks was skipped"},
		{"SHOULD failure only", map[string]string{}, []string{"run", "--label-filter", "level:SHOULD"}, exitOK, "PASSED"},
		{"help", nil, []string{"run", "--help"}, exitOK, "Exit codes"},
		{"bad label filter", nil, []string{"run", "--label-filter", "kind:("}, exitUsage, "run: --label-filter: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := cli(t, t.TempDir(), tc.env, tc.args...)
			if out.code != tc.code || !strings.Contains(out.stdout+out.stderr, tc.says) {
				t.Errorf("exit %d, want %d and %q in\n%s\n%s", out.code, tc.code, tc.says, out.stdout, out.stderr)
			}
		})
	}
}

// Canary tokens given to a run never appear in any file it writes nor in what it prints,
// even when the target echoes them back.
func TestNoReportContainsAToken(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"` + r.Header.Get("Authorization") + `","requestorComment":"` + r.Header.Get("Authorization") + `"}`))
	}))
	defer echo.Close()
	canaries := map[string]string{
		"CIP_TOKEN_ADMIN":        "canary-admin-7f3a9c2e4b1d8f60a5e3",
		"CIP_TOKEN_GLOBAL_ADMIN": "canary-global-2b8d4f6a1c3e5g7h9i0j",
		"CIP_TOKEN_READER":       "canary-reader-9z8y7x6w5v4u3t2s1r0q",
		"CIP_TOKEN_EXPIRED":      "canary-expired-1a2b3c4d5e6f7g8h9i0j",
	}
	env := map[string]string{"CIP_TARGET": echo.URL + "/api", "CIP_MACHINE_IDS": strings.Repeat("m,", 30) + "last"}
	env["CIP_MACHINE_IDS"] = machineList(30)
	for k, v := range canaries {
		env[k] = v
	}
	dir := t.TempDir()
	outs := []outcome{
		cli(t, dir, env, "run", "--report-dir", "out"),
		cli(t, dir, env, "plan"),
	}
	if outs[0].code != exitFailed {
		t.Errorf("run against an echoing target: exit %d\n%s", outs[0].code, outs[0].stderr)
	}
	scan := func(where, text string) {
		for name, canary := range canaries {
			if strings.Contains(text, canary[:len(canary)-4]) {
				t.Errorf("%s contains %s", where, name)
			}
		}
	}
	for i, o := range outs {
		scan([]string{"run", "plan"}[i]+" output", o.stdout+o.stderr)
	}
	files, err := scanFiles(dir, scan)
	if err != nil || files < 4 {
		t.Errorf("scanned %d files: %v", files, err)
	}
}

func machineList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "machine-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	return strings.Join(ids, ",")
}

func TestPlanSendsNothingAndListsEveryCheck(t *testing.T) {
	t.Parallel()
	hits := 0
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer target.Close()
	env := map[string]string{"CIP_TARGET": target.URL + "/api", "CIP_TOKEN_ADMIN": "tok-admin-123456789", "CIP_MACHINE_IDS": machineList(20)}
	out := cli(t, t.TempDir(), env, "plan")
	if out.code != exitOK || hits != 0 {
		t.Fatalf("exit %d, %d requests reached the target\n%s", out.code, hits, out.stderr)
	}
	for _, want := range []string{"## CIP-CREATE-001", "POST " + target.URL + "/api/machines/machine-b/collectInvestigationPackage", "Authorization: Bearer $CIP_TOKEN_ADMIN", "## CIP-AUTH-007", "would be SKIPPED: no token for the reader identity"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("plan does not say %q", want)
		}
	}
}

func TestChecksMarkdownIsFresh(t *testing.T) {
	t.Parallel()
	catalogue, err := checks.Everything()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../CHECKS.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != catalogueMarkdown(catalogue) {
		t.Error("CHECKS.md is stale: run `make docs` and commit it")
	}
}

func TestConfigMarkdownIsFresh(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != settingsMarkdown() {
		t.Error("CONFIG.md is stale: run `make docs` and commit it")
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, verb := range []string{"run", "plan", "checks", "settings", "serve", "selftest", "diff", "spec-diff"} {
		out := cli(t, t.TempDir(), nil, verb, "--help")
		if out.code != exitOK || !strings.Contains(out.stdout, "Usage: cipconform "+verb) || !strings.Contains(out.stdout, "Exit codes") {
			t.Errorf("%s --help: exit %d\n%s", verb, out.code, out.stdout)
		}
	}
	out := cli(t, t.TempDir(), nil, "--version")
	if out.code != exitOK || !strings.Contains(out.stdout, "sha256:") {
		t.Errorf("--version: %d %s", out.code, out.stdout)
	}
	out = cli(t, t.TempDir(), nil, "--help")
	if out.code != exitOK || !strings.Contains(out.stdout, "selftest") || !strings.Contains(out.stdout, "Exit codes") {
		t.Errorf("--help: %s", out.stdout)
	}
}

// withoutCIP drops the CIP_ variables of this shell: a test's child process gets only the
// configuration the test gives it.
func withoutCIP(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CIP_") {
			out = append(out, kv)
		}
	}
	return out
}

// A token given as a flag is warned of on stderr (it is in the process list), by run and plan,
// and never in a report.
func TestSecretFlagsAreWarnedOf(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	env := targetEnv(target)
	token := env["CIP_TOKEN_ADMIN"]
	delete(env, "CIP_TOKEN_ADMIN")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"run", "--report-dir", "out", "--label-filter", "CIP-AUTH-001", "--token-admin", token},
		{"plan", "--label-filter", "CIP-AUTH-001", "--token-admin", token},
	} {
		out := cli(t, dir, env, args...)
		if out.code != exitOK || !strings.Contains(out.stderr, "WARNING: --token-admin puts a secret in the process list") || !strings.Contains(out.stderr, "CIP_TOKEN_ADMIN or --token-admin-file") {
			t.Errorf("%s: exit %d, no warning on stderr:\n%s", args[0], out.code, out.stderr)
		}
		if strings.Contains(out.stdout, "process list") {
			t.Errorf("%s: the warning is on stdout", args[0])
		}
	}
	for _, name := range reportFiles {
		data, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil || strings.Contains(string(data), "process list") {
			t.Errorf("%s: the warning is in the report (%v)", name, err)
		}
	}
	if out := cli(t, dir, targetEnv(target), "plan", "--label-filter", "CIP-AUTH-001"); strings.Contains(out.stderr, "process list") {
		t.Errorf("a token from the environment is warned of:\n%s", out.stderr)
	}
}

// scanFiles gives scan the path and the content of every file below dir, and counts them.
func scanFiles(dir string, scan func(where, text string)) (int, error) {
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		files++
		scan(path, string(data))
		return err
	})
	return files, err
}

// Small points of the hostile-target review: the --insecure warning is printed once, a run
// that cannot start says "checks": [] (not null), and a bad label filter is a usage error
// without terminal colour codes.
func TestSmallPointsOfTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := cli(t, dir, map[string]string{"CIP_PROFILE": ""}, "run", "--quiet", "--insecure", "--report-dir", "both")
	if n := strings.Count(out.stderr, "TLS certificate verification is OFF"); n != 1 {
		t.Errorf("the --insecure warning printed %d times\n%s", n, out.stderr)
	}
	unreachable := map[string]string{"CIP_TARGET": "http://127.0.0.1:9/api", "CIP_TOKEN_ADMIN": "unused-admin-token-123"}
	cli(t, dir, unreachable, "run", "--quiet", "--report-dir", "none")
	data, err := os.ReadFile(filepath.Join(dir, "none", resultsFile))
	if err != nil || !strings.Contains(string(data), `"checks": []`) {
		t.Errorf("results.json of a run that could not start: %v\n%.300s", err, data)
	}
	bad := cli(t, dir, nil, "run", "--label-filter", "kind:(")
	if bad.code != exitUsage || strings.Contains(bad.stderr, "\x1b[") {
		t.Errorf("bad label filter: exit %d, stderr %q", bad.code, bad.stderr)
	}
}
