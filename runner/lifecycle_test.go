package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/runner/results"
)

// todayEnv points a run at an embedded target's today's API, as the applications real
// integrations use, with the machines given.
func todayEnv(t *embedded.Target, machines ...string) map[string]string {
	env := targetEnv(t)
	env["CIP_TARGET"] = t.APIBaseURL
	env["CIP_TOKEN_ADMIN"], env["CIP_TOKEN_READER"] = t.Tokens.APIAdmin, t.Tokens.APIReader
	env["CIP_MACHINE_IDS"] = strings.Join(machines, ",")
	return env
}

func readResults(t *testing.T, path string) *results.Results {
	t.Helper()
	res, err := results.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// With one machine id, today's profile runs every check (the harness cancels each action and
// reuses the machine), leaves no action Pending or InProgress, lists every action it started
// in its reports, and a second run right after passes too.
func TestOneMachineIsEnoughForTodaysAPI(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	dir := t.TempDir()
	env := todayEnv(target, target.Machines[0])
	for i, out := range []string{"first", "second"} {
		o := cli(t, dir, env, "run", "--quiet", "--report-dir", out)
		if o.code != exitOK {
			t.Fatalf("run %d: exit %d\n%s\n%s", i+1, o.code, o.stdout, o.stderr)
		}
		res := readResults(t, filepath.Join(dir, out, resultsFile))
		if res.Profile.Name != "mde" || res.Counts.Skipped != 0 || res.Counts.Passed != len(res.Checks) {
			t.Errorf("run %d: profile %s, %+v: every check must run and pass on one machine", i+1, res.Profile.Name, res.Counts)
		}
		if len(res.Actions) == 0 {
			t.Errorf("run %d: no action listed", i+1)
		}
		for _, a := range res.Actions {
			if a.Machine != target.Machines[0] || a.Status == "Pending" || a.Status == "InProgress" {
				t.Errorf("run %d: action %+v: on another machine, or left running", i+1, a)
			}
		}
		if running := target.Running(); len(running) > 0 {
			t.Errorf("run %d left %d actions Pending or InProgress on the target: %+v", i+1, len(running), running)
		}
		for _, report := range []string{htmlFile, summaryFile} {
			data, _ := os.ReadFile(filepath.Join(dir, out, report))
			if !strings.Contains(string(data), res.Actions[0].ID) {
				t.Errorf("run %d: %s does not list the action %s", i+1, report, res.Actions[0].ID)
			}
		}
	}
}

// With the preview (which cannot cancel) and two machine ids, the run is incomplete: exit 3,
// naming what is missing; --allow-incomplete exits 0 and every report still says incomplete.
func TestAPartialRunIsIncompleteNotPassed(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	dir := t.TempDir()
	env := targetEnv(target)
	env["CIP_MACHINE_IDS"] = strings.Join(target.Machines[:2], ",")
	o := cli(t, dir, env, "run", "--quiet", "--report-dir", "strict")
	if o.code != exitCannotDo || !strings.Contains(o.stdout, "INCOMPLETE") || !strings.Contains(o.stdout, "need CIP_MACHINE_IDS (") {
		t.Errorf("exit %d, want 3 and the verdict naming the missing machines:\n%s", o.code, o.stdout)
	}
	env["CIP_MACHINE_IDS"] = strings.Join(target.Machines[2:4], ",")
	o = cli(t, dir, env, "run", "--quiet", "--report-dir", "lenient", "--allow-incomplete")
	if o.code != exitOK {
		t.Errorf("--allow-incomplete: exit %d\n%s", o.code, o.stdout)
	}
	for _, report := range reportFiles {
		if report == specFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "lenient", report))
		if err != nil || !strings.Contains(strings.ToLower(string(data)), "incomplete") {
			t.Errorf("%s does not say incomplete (%v)", report, err)
		}
	}
}

// A machine still busy with an earlier run's collection is an error (exit 3), not a
// conformance failure, and diff does not call it a regression.
func TestABusyMachineIsAnErrorNotARegression(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	dir := t.TempDir()
	env := targetEnv(target)
	env["CIP_BUSY_WAIT"] = "0s"
	if o := cli(t, dir, env, "run", "--quiet", "--report-dir", "first"); o.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", o.code, o.stdout)
	}
	o := cli(t, dir, env, "run", "--quiet", "--report-dir", "second")
	res := readResults(t, filepath.Join(dir, "second", resultsFile))
	if o.code != exitCannotDo || res.Counts.Failed != 0 || res.Counts.Error == 0 {
		t.Errorf("exit %d, counts %+v: busy machines must be errors, not failures\n%s", o.code, res.Counts, o.stdout)
	}
	found := false
	for _, c := range res.Checks {
		if c.Outcome == results.Errored && strings.Contains(c.Message, "is busy") {
			found = true
		}
	}
	if !found {
		t.Error("no check says its machine is busy")
	}
	d := cli(t, dir, nil, "diff", filepath.Join("first", resultsFile), filepath.Join("second", resultsFile))
	if strings.Contains(d.stdout, "regression ") && !strings.Contains(d.stdout, "0 regression") {
		t.Errorf("diff calls a busy machine a regression:\n%s", d.stdout)
	}
	if !strings.Contains(d.stdout, "not-judged") {
		t.Errorf("diff does not say the busy checks were not judged:\n%s", d.stdout)
	}
}

// A first machine the target does not know ends the run at once with one clear message.
func TestAnUnknownMachineEndsTheRun(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	env := todayEnv(target, "no-such-machine")
	o := cli(t, t.TempDir(), env, "run", "--report-dir", "out")
	if o.code != exitCannotDo || !strings.Contains(o.stdout, "machine no-such-machine was not found on the target") || strings.Contains(o.stdout, "FAIL ") {
		t.Errorf("exit %d: want 3, one clear message and no failures\n%s", o.code, o.stdout)
	}
}

// A target that stops answering ends the run after a few timeouts, not after one per check:
// the checks left are errors that say so.
func TestATargetThatStopsAnsweringEndsTheRun(t *testing.T) {
	t.Parallel()
	target := startTarget(t, embedded.Fault{})
	upstream, _ := url.Parse(target.BaseURL)
	upstream.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	var served atomic.Int32
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 2 { // the preflight's two requests are answered, then nothing
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer hanging.Close()
	defer close(release)
	env := targetEnv(target)
	env["CIP_TARGET"] = hanging.URL + embedded.BasePath
	env["CIP_REQUEST_TIMEOUT"] = "1s"
	start := time.Now()
	o := cli(t, t.TempDir(), env, "run", "--report-dir", "out")
	elapsed := time.Since(start)
	// 4 checks in flight time out together, then the run gives up: a few timeouts, not 46.
	if o.code != exitCannotDo || elapsed > 15*time.Second || !strings.Contains(o.stdout, "the target stopped answering") {
		t.Errorf("exit %d after %s: want 3 within seconds, saying the target stopped answering\n%s", o.code, elapsed, o.stdout)
	}
}
