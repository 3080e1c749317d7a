package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/observe"
)

// startObserver starts the reference (with a fault, when one is named) and the proxy in front
// of it, over real HTTP.
func startObserver(t *testing.T, fault string) (*embedded.Target, *observer, *httptest.Server, string) {
	t.Helper()
	opts := embedded.Options{PerMinute: -1, PerHour: -1}
	if fault != "" {
		m, ok := mutants.Find(fault)
		if !ok {
			t.Fatalf("no mutant %s", fault)
		}
		opts.Fault = m.Fault
	}
	target, err := embedded.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = target.Close() })
	up, _ := url.Parse(target.APIBaseURL)
	dir := t.TempDir()
	o := newObserver(up, nil, target.APIBaseURL, false, dir, io.Discard, io.Discard)
	front := httptest.NewServer(o)
	t.Cleanup(o.close) // after front.Close: cleanups run last first
	t.Cleanup(front.Close)
	return target, o, front, dir
}

func send(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// noSecrets fails if a report in dir holds any of the secrets.
func noSecrets(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatalf("no reports in %s", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if s != "" && bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds a token", filepath.Base(f))
			}
		}
	}
}

func violationsOf(c results.CheckResult) string {
	var parts []string
	for _, v := range c.Violations {
		parts = append(parts, v.String())
	}
	return strings.Join(parts, "; ")
}

// A conforming client flow through the proxy (both contracts: a collection, then a GET of the
// action for /api) is all green, the responses reach the client unchanged, and no token
// reaches a report.
func TestProxyConformingFlowIsGreen(t *testing.T) {
	target, o, front, dir := startObserver(t, "")
	status, action := send(t, "POST", front.URL+"/api/machines/"+target.Machines[0]+"/collectInvestigationPackage", target.Tokens.APIAdmin, `{"Comment":"alert 1234"}`)
	if status != 201 || action["requestorComment"] != "alert 1234" {
		t.Fatalf("collect through the proxy: %d %v", status, action)
	}
	if status, got := send(t, "GET", front.URL+"/api/machineactions/"+action["id"].(string), target.Tokens.APIReader, ""); status != 200 || got["id"] != action["id"] {
		t.Fatalf("get the action through the proxy: %d %v", status, got)
	}
	if status, _ := send(t, "POST", front.URL+"/testwdatppreview/machines/"+target.Machines[1]+"/collectInvestigationPackage", target.Tokens.Admin, `{"Comment":"preview"}`); status != 201 {
		t.Fatalf("preview collect through the proxy: %d", status)
	}
	res, code := o.report()
	if code != exitOK || len(res.Checks) != 3 || res.Counts.Passed != 3 {
		for _, c := range res.Checks {
			t.Logf("%s %s %s %s", c.ID, c.Outcome, c.Title, violationsOf(c))
		}
		t.Fatalf("exit %d, %+v: want 0 and 3 passed", code, res.Counts)
	}
	if c := res.Checks[0]; c.ID != "OBS-0001" || !strings.HasPrefix(c.Title, "POST /api/machines/") || !strings.HasSuffix(c.Title, "-> 201") || c.Element.Operation != spec.OperationID {
		t.Errorf("first entry: %s %q %s", c.ID, c.Title, c.Element)
	}
	covered := map[string]bool{}
	for _, item := range res.Coverage {
		covered[item.Kind+" "+item.Item] = item.Covered()
	}
	if !covered["response collectInvestigationPackage 201"] || !covered["response getMachineAction 200"] || covered["response collectInvestigationPackage 403"] {
		t.Errorf("coverage of the observed traffic: %v", covered)
	}
	for _, item := range res.Coverage { // the preview collection is not one of mde's
		if item.Kind+" "+item.Item == "response collectInvestigationPackage 201" && (len(item.Checks) != 1 || item.Checks[0].ID != "OBS-0001") {
			t.Errorf("the 201s of the mde contract: %+v, want OBS-0001 only", item.Checks)
		}
	}
	if summary, _ := os.ReadFile(filepath.Join(dir, "summary.md")); !strings.Contains(string(summary), "Not exercised by any check: ") || !strings.Contains(string(summary), "response collectInvestigationPackage 403") {
		t.Errorf("summary.md does not say what the traffic left uncovered:\n%s", summary)
	}
	noSecrets(t, dir, target.Tokens.APIAdmin, target.Tokens.APIReader, target.Tokens.Admin)
}

// A request without Comment, one with comment, and an exchange with an undocumented operation
// are reported each as what it is; the on-demand report says so over HTTP.
func TestProxyReportsClientFaults(t *testing.T) {
	target, _, front, dir := startObserver(t, "")
	url := front.URL + "/api/machines/" + target.Machines[0] + "/collectInvestigationPackage"
	send(t, "POST", url, target.Tokens.APIAdmin, `{}`)
	send(t, "POST", url, target.Tokens.APIAdmin, `{"comment":"lower case"}`)
	send(t, "GET", front.URL+"/api/nothing/here", target.Tokens.APIAdmin, "")
	status, got := send(t, "GET", front.URL+reportPath, "", "")
	if status != 200 || got["verdict"] != "failed" || got["exitCode"] != float64(exitFailed) {
		t.Fatalf("report on demand: %d %v", status, got)
	}
	res, err := results.Load(filepath.Join(dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Checks) != 3 {
		t.Fatalf("%d entries, want 3", len(res.Checks))
	}
	for _, c := range res.Checks[:2] {
		if c.Outcome != results.Failed || !strings.Contains(violationsOf(c), "request:") || !strings.Contains(violationsOf(c), "Comment") {
			t.Errorf("%s %s: %s, violations %q: want failed, the request's missing Comment", c.ID, c.Title, c.Outcome, violationsOf(c))
		}
	}
	if c := res.Checks[2]; c.Outcome != results.Skipped || !strings.HasPrefix(c.Message, "undocumented") {
		t.Errorf("%s %s: %s %q, want skipped as undocumented", c.ID, c.Title, c.Outcome, c.Message)
	}
	noSecrets(t, dir, target.Tokens.APIAdmin)
}

// A faulty 201 (the wrong type) is reported with its violation.
func TestProxyReportsFaultyCreation(t *testing.T) {
	target, o, front, _ := startObserver(t, "wrong-type")
	if status, _ := send(t, "POST", front.URL+"/api/machines/"+target.Machines[0]+"/collectInvestigationPackage", target.Tokens.APIAdmin, `{"Comment":"x"}`); status != 201 {
		t.Fatalf("collect: %d", status)
	}
	res, code := o.report()
	if code != exitFailed || len(res.Checks) != 1 || !strings.Contains(violationsOf(res.Checks[0]), "/type") {
		t.Fatalf("exit %d, entries %+v: want 1 and the /type violation", code, res.Checks)
	}
}

// The proxy verb itself: it listens, forwards, and writes its reports when its context ends
// (as SIGINT or SIGTERM end it).
// TestProxyVerbWritesReportsWhenStopped: reports on SIGUSR1 while it runs, and when it stops.
func TestProxyVerbWritesReportsWhenStopped(t *testing.T) {
	target, err := embedded.Start(embedded.Options{PerMinute: -1, PerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	dir := t.TempDir()
	addr, stop := startProxyVerb(t, "--upstream", target.APIBaseURL, "--report-dir", dir)
	if status, _ := send(t, "POST", "http://"+addr+"/api/machines/"+target.Machines[0]+"/collectInvestigationPackage", target.Tokens.APIAdmin, `{"Comment":"x"}`); status != 201 {
		t.Fatalf("collect: %d", status)
	}
	// SIGUSR1: the reports, while the proxy goes on.
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, resultsFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGUSR1 wrote no report")
		}
	}
	if code, _, stderr := stop(); code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	res, err := results.Load(filepath.Join(dir, resultsFile))
	if err != nil || len(res.Checks) != 1 || res.Verdict != results.VerdictPassed {
		t.Fatalf("results: %v %+v", err, res)
	}
	noSecrets(t, dir, target.Tokens.APIAdmin)
}

// startProxyVerb runs the proxy verb on a free port with these flags, once it listens; stop
// ends it as SIGINT would and returns its exit code and output.
func startProxyVerb(t *testing.T, flags ...string) (addr string, stop func() (int, string, string)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"proxy", "--listen", addr}, flags...), &stdout, &stderr)
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("the proxy does not listen: %v; stderr:\n%s", err, stderr.String())
		}
	}
	return addr, func() (int, string, string) {
		cancel()
		code := <-done
		return code, stdout.String(), stderr.String()
	}
}

// The proxy says what goes wrong, and what to do: a missing --upstream or a --listen that is
// no address is a usage error; an upstream that does not answer is said at the start and
// whenever a request cannot be forwarded, and the verdict says the exchanges got no response.
func TestProxyTellsWhatGoesWrong(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "--listen", "127.0.0.1:0"}, "--upstream is missing"},
		{[]string{"proxy", "--listen", "8083", "--upstream", "http://127.0.0.1:8080/api"}, `--listen "8083": want HOST:PORT`},
	} {
		if _, stderr, code := runCLI(tc.args...); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q: want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + closed.Addr().String() + "/api"
	closed.Close()
	dir := t.TempDir()
	addr, stop := startProxyVerb(t, "--upstream", unreachable, "--report-dir", dir)
	for range 2 {
		resp, err := http.Post("http://"+addr+"/api/machines/m1/collectInvestigationPackage", "application/json", strings.NewReader(`{"Comment":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d, want 502", resp.StatusCode)
		}
	}
	resp, err := http.Post("http://"+addr+reportPath, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
		t.Errorf("POST %s: %d, Allow %q: want 405 and Allow: GET", reportPath, resp.StatusCode, resp.Header.Get("Allow"))
	}
	code, stdout, stderr := stop()
	for _, want := range []string{"warning: the upstream does not answer yet", "a POST got no response from the upstream, its client a 502: dial tcp"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if code != exitCannotDo || !strings.Contains(stdout, "2 exchange(s) without a response") {
		t.Errorf("exit %d, stdout %q: want 3 and the exchanges without a response", code, stdout)
	}
}

// With one contract, told by the upstream's base path, a request outside that path is not an
// operation of it (the client left out /api): undocumented, not judged as the operation whose
// path it ends with.
func TestProxyRequestOutsideTheBasePath(t *testing.T) {
	target, err := embedded.Start(embedded.Options{PerMinute: -1, PerHour: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	up, _ := url.Parse(target.APIBaseURL)
	o := newObserver(up, &spec.MDE, target.APIBaseURL, false, t.TempDir(), io.Discard, io.Discard)
	defer o.close()
	front := httptest.NewServer(o)
	defer front.Close()
	send(t, "POST", front.URL+"/machines/"+target.Machines[0]+"/collectInvestigationPackage", target.Tokens.APIAdmin, `{"Comment":"x"}`)
	res, code := o.report()
	if code != exitCannotDo || len(res.Checks) != 1 || res.Checks[0].Element.Operation != observe.Undocumented || !strings.Contains(res.Checks[0].Message, "not below the upstream's base path /api") {
		t.Fatalf("exit %d, entries %+v: want 3 and an undocumented exchange", code, res.Checks)
	}
}

// harEntry is one HAR entry of a collection.
func harEntry(machine, token, reqBody string, status int, respBody string, b64 bool) map[string]any {
	content := map[string]any{"mimeType": "application/json", "text": respBody}
	if b64 {
		content["text"], content["encoding"] = base64.StdEncoding.EncodeToString([]byte(respBody)), "base64"
	}
	return map[string]any{
		"time": 12.5,
		"request": map[string]any{
			"method": "POST", "url": "https://api.security.microsoft.com/api/machines/" + machine + "/collectInvestigationPackage",
			"headers":  []map[string]any{{"name": "Authorization", "value": "Bearer " + token}, {"name": "Content-Type", "value": "application/json"}},
			"postData": map[string]any{"mimeType": "application/json", "text": reqBody},
		},
		"response": map[string]any{
			"status":  status,
			"headers": []map[string]any{{"name": "Content-Type", "value": "application/json"}},
			"content": content,
		},
	}
}

func writeHAR(t *testing.T, entries ...map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"log": map[string]any{"version": "1.2", "entries": entries}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "traffic.har")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodAction = `{"id":"24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10","type":"CollectInvestigationPackage","title":"Collect investigation package","requestor":"app","requestorComment":"%s","status":"Pending","machineId":"%s","computerDnsName":"d","creationDateTimeUtc":"2025-03-04T10:11:12.1234567Z","lastUpdateDateTimeUtc":"2025-03-04T10:11:12.1234567Z","errorHResult":0}`

// A HAR with one good and one faulty exchange exits 1 naming the faulty one; the token of its
// requests, even echoed in a body, reaches no report.
func TestObserveHAR(t *testing.T) {
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLWJvZHk.sig-abcdef"
	const machine = "7b1f4aa4c5d6e7f8091a2b3c4d5e6f708192a3b4"
	good := harEntry(machine, token, `{"Comment":"alert 1"}`, 201, fmt.Sprintf(goodAction, "alert 1", machine), true)
	bad := harEntry(machine, token, `{"Comment":"alert 2"}`, 201, fmt.Sprintf(goodAction, "echo "+token, machine), false)
	dir := t.TempDir()
	stdout, stderr, code := runCLI("observe", "--report-dir", dir, writeHAR(t, good, bad))
	if code != exitFailed || !strings.Contains(stdout, "FAIL  OBS-0002") || !strings.Contains(stdout, "PASS  OBS-0001") || !strings.Contains(stdout, "/requestorComment") {
		t.Fatalf("exit %d, want 1 naming OBS-0002; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, token) {
		t.Errorf("stdout holds the token:\n%s", stdout)
	}
	noSecrets(t, dir, token)

	// Only the good one: exit 0; only an undocumented exchange: exit 3.
	if _, stderr, code := runCLI("observe", "--report-dir", dir, writeHAR(t, good)); code != exitOK {
		t.Errorf("a good HAR: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	other := harEntry(machine, token, "", 200, "{}", false)
	other["request"].(map[string]any)["url"] = "https://api.security.microsoft.com/api/alerts"
	if _, _, code := runCLI("observe", "--report-dir", dir, writeHAR(t, other)); code != exitCannotDo {
		t.Errorf("nothing documented: exit %d, want 3", code)
	}
}

// A machineId other than the path's is a SHOULD violation: the entry fails at SHOULD, and
// the verdict passes unless --strict.
func TestObserveShouldViolation(t *testing.T) {
	const machine = "7b1f4aa4c5d6e7f8091a2b3c4d5e6f708192a3b4"
	har := writeHAR(t, harEntry(machine, "tok-123456789012345", `{"Comment":"a"}`, 201, fmt.Sprintf(goodAction, "a", "another-machine"), false))
	stdout, _, code := runCLI("observe", "--report-dir", t.TempDir(), har)
	if code != exitOK || !strings.Contains(stdout, "FAIL  OBS-0001 SHOULD") || !strings.Contains(stdout, "/machineId") {
		t.Errorf("exit %d, want 0 and a SHOULD failure of /machineId:\n%s", code, stdout)
	}
	if _, _, code := runCLI("observe", "--strict", "--report-dir", t.TempDir(), har); code != exitFailed {
		t.Errorf("--strict: exit %d, want 1", code)
	}
}

// A HAR that is not valid exits 2 naming where it breaks.
func TestObserveInvalidHAR(t *testing.T) {
	good := harEntry("m1", "tok", `{"Comment":"x"}`, 201, "{}", false)
	noStatus := harEntry("m1", "tok", `{"Comment":"x"}`, 201, "{}", false)
	delete(noStatus["response"].(map[string]any), "status")
	noURL := harEntry("m1", "tok", `{"Comment":"x"}`, 201, "{}", false)
	delete(noURL["request"].(map[string]any), "url")
	badB64 := harEntry("m1", "tok", `{"Comment":"x"}`, 201, "{}", false)
	badB64["response"].(map[string]any)["content"] = map[string]any{"text": "not base64!", "encoding": "base64"}
	for _, tc := range []struct {
		path string
		want string
	}{
		{writeHAR(t, good, noStatus), "entries[1].response.status: missing"},
		{writeHAR(t, noURL), "entries[0].request.url: missing"},
		{writeHAR(t, good, good, badB64), "entries[2].response.content.text: not base64"},
	} {
		_, stderr, code := runCLI("observe", "--report-dir", t.TempDir(), tc.path)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("exit %d, want 2 and %q; stderr:\n%s", code, tc.want, stderr)
		}
	}
	bad := filepath.Join(t.TempDir(), "x.har")
	for content, want := range map[string]string{`{"nolog":1}`: "log: missing", `{"log":{}}`: "log.entries: missing", `not json`: "not a HAR file"} {
		_ = os.WriteFile(bad, []byte(content), 0o644)
		if _, stderr, code := runCLI("observe", bad); code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, want 2 and %q; stderr:\n%s", content, code, want, stderr)
		}
	}
}

// TestReportWhileARequestIsForwarded: the judge waits while requests are being forwarded, but
// a report asked for meanwhile has every exchange so far judged, without waiting for them.
func TestReportWhileARequestIsForwarded(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/slow") {
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no such machine action"}}`)
	}))
	defer slow.Close()
	up, _ := url.Parse(slow.URL + "/api")
	o := newObserver(up, nil, up.String(), false, t.TempDir(), io.Discard, io.Discard)
	defer o.close()
	front := httptest.NewServer(o)
	defer front.Close()
	defer close(release) // first of all: the servers' Close waits for the slow request
	go func() {
		if resp, err := http.Get(front.URL + "/api/machineactions/slow"); err == nil {
			resp.Body.Close()
		}
	}()
	for o.forwarding.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		resp, err := http.Get(front.URL + "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	done := make(chan *results.Results, 1)
	go func() { res, _ := o.report(); done <- res }()
	select {
	case res := <-done:
		if res == nil || len(res.Checks) != 3 {
			t.Fatalf("the report judged %v, want the 3 finished exchanges", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the report waited for the request still being forwarded")
	}
}

// TestAClientThatHangsUpLeavesNoRequestForwarding: the reverse proxy gives up on a response
// the client stopped reading (it panics with http.ErrAbortHandler); the proxy must not count
// that request as still being forwarded, or the judge would wait for the next report.
func TestAClientThatHangsUpLeavesNoRequestForwarding(t *testing.T) {
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/huge") {
			chunk := bytes.Repeat([]byte(" "), 64<<10)
			for range 400 { // 26 MB, unless the proxy stops asking
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no such machine action"}}`)
	}))
	defer huge.Close()
	up, _ := url.Parse(huge.URL + "/api")
	o := newObserver(up, nil, up.String(), false, t.TempDir(), io.Discard, io.Discard)
	defer o.close()
	front := httptest.NewServer(o)
	defer front.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "GET /api/machineactions/huge HTTP/1.1\r\nHost: x\r\n\r\n")
	_, _ = io.ReadFull(conn, make([]byte, 1000))
	conn.Close()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
		}
	}
	waitFor("the abandoned request still counts as being forwarded", func() bool { return o.forwarding.Load() == 0 })
	resp, err := http.Get(front.URL + "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor("an exchange was not judged while the proxy was idle", func() bool {
		o.judgedMu.Lock()
		defer o.judgedMu.Unlock()
		return o.judged >= 1
	})
}

// TestProxyForwardsTheTrafficAsSent: the upstream gets the request as the client sent it
// (ReverseProxy on its own drops the forwarding headers and the query parameters net/url
// cannot parse; its transport asks for gzip on a request that did not), and the client gets
// the upstream's bytes, compressed or not.
func TestProxyForwardsTheTrafficAsSent(t *testing.T) {
	zipped := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = io.WriteString(zw, s)
		_ = zw.Close()
		return b.Bytes()
	}
	const answer = `{"error":{"code":"NotFound","message":"no such machine action"}}`
	got := make(chan *http.Request, 2)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "as sent")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(zipped(answer))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, answer)
	}))
	defer upstream.Close()
	up, _ := url.Parse(upstream.URL + "/api")
	o := newObserver(up, nil, up.String(), false, t.TempDir(), io.Discard, io.Discard)
	defer o.close()
	front := httptest.NewServer(o)
	defer front.Close()
	// A client that neither asks for gzip on its own nor unzips what it gets.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	const uri = "/api/machineactions/24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10?b=%zz&a=1;c"
	for _, acceptEncoding := range []string{"", "gzip"} {
		req, _ := http.NewRequest("GET", front.URL+uri, nil)
		req.Header.Set("Authorization", "Bearer not-a-real-token")
		req.Header.Set("X-Forwarded-For", "192.0.2.7")
		req.Header.Set("Forwarded", "for=192.0.2.7")
		req.Header.Set("User-Agent", "playbook/1.0")
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := <-got
		if r.RequestURI != uri {
			t.Errorf("the upstream was asked for %s, the client asked for %s", r.RequestURI, uri)
		}
		for name, want := range map[string]string{"X-Forwarded-For": "192.0.2.7", "Forwarded": "for=192.0.2.7", "User-Agent": "playbook/1.0",
			"Authorization": "Bearer not-a-real-token", "Accept-Encoding": acceptEncoding} {
			if v := r.Header.Get(name); v != want {
				t.Errorf("Accept-Encoding %q: the upstream got %s %q, the client sent %q", acceptEncoding, name, v, want)
			}
		}
		want := []byte(answer)
		if acceptEncoding == "gzip" {
			want = zipped(answer)
		}
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Upstream") != "as sent" || !bytes.Equal(body, want) {
			t.Errorf("Accept-Encoding %q: the client got %d %v %q, the upstream sent 404 %q", acceptEncoding, resp.StatusCode, resp.Header, body, want)
		}
	}
	if res, _ := o.report(); res == nil || len(res.Checks) != 2 || res.Counts.Passed != 2 {
		t.Errorf("the two exchanges were not both judged conforming: %+v", res)
	}
}

// A session whose only exchange has a body too long to judge: nothing was judged, and the
// verdict says why (not that the operation is undocumented).
func TestNothingJudgedSaysWhy(t *testing.T) {
	log := observe.NewLog(&spec.MDE)
	req := httptest.NewRequest("POST", "http://target/api/machines/m1/collectInvestigationPackage", nil)
	log.Add(context.Background(), observe.Exchange{Request: req, RequestBody: bytes.Repeat([]byte("x"), observe.MaxBody), RequestTruncated: true, Status: 400})
	res, code := observeReports(log, "http://target/api", false, time.Now(), t.TempDir(), io.Discard, io.Discard)
	if code != exitCannotDo || !strings.Contains(res.Reason, "1 exchange(s) skipped (see their entries: a body too long to judge), 0 of no operation") {
		t.Errorf("exit %d, %q", code, res.Reason)
	}
}
