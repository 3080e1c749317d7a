package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/runner/results"
)

// A run stopped by SIGTERM or SIGINT ends within 2 s, even against a target that never
// answers, exits 3 and leaves reports that say the run was interrupted.
func TestASignalEndsARunWithinTwoSeconds(t *testing.T) {
	t.Parallel()
	// The target hangs from its first request (the preflight), or once the checks run: actions
	// are created, but what follows them (polls, cancels, the cleanup) never gets an answer.
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		for _, checksRun := range []bool{false, true} {
			name := sig.String() + "/" + map[bool]string{false: "in the preflight", true: "in the checks"}[checksRun]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				signalARun(t, sig, checksRun)
			})
		}
	}
}

func signalARun(t *testing.T, sig syscall.Signal, checksRun bool) {
	hit := make(chan struct{}, 1)
	done := make(chan struct{})
	var reference http.Handler = http.NotFoundHandler()
	env := []string{"CIP_TOKEN_ADMIN=hang-admin-token-1234", "CIP_MACHINE_IDS=" + machineList(4)}
	if checksRun {
		target := startTarget(t, embedded.Fault{})
		u, err := url.Parse(target.APIBaseURL)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = ""
		proxy := httputil.NewSingleHostReverseProxy(u)
		proxy.ErrorLog = log.New(io.Discard, "", 0)
		reference = proxy
		env = nil
		for k, v := range targetEnv(target) {
			if k != "CIP_TARGET" {
				env = append(env, k+"="+v)
			}
		}
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if checksRun && !strings.Contains(strings.ToLower(r.URL.Path), "/machineactions/") {
			reference.ServeHTTP(w, r)
			return
		}
		select {
		case hit <- struct{}{}:
		default:
		}
		<-done // until the test ends, whatever the client does
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(done) }) // runs first: Close waits for the handlers

	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "--report-dir", "out")
	cmd.Dir = dir
	cmd.Env = append(withoutCIP(os.Environ()), asMain+"=1", "CIP_TARGET="+hang.URL+"/api", "CIP_REQUEST_TIMEOUT=1m", "CIP_SETTLE_TIMEOUT=1m")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-hit: // the run has started, and a request of it hangs
	case err := <-exited:
		t.Fatalf("the run ended before it hung: %v\n%s\n%s", err, stdout.String(), stderr.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatal("the run never reached the hanging target")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("still running 30 s after %s\n%s\n%s", sig, stdout.String(), stderr.String())
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the run took %s to end after %s, want at most 2 s", took.Round(time.Millisecond), sig)
	}
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	}
	if code != exitCannotDo {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitCannotDo, stdout.String(), stderr.String())
	}
	res, err := results.Load(filepath.Join(dir, "out", resultsFile))
	if err != nil {
		t.Fatalf("no results.json: %v\n%s", err, stderr.String())
	}
	if res.Verdict != results.VerdictError || !strings.Contains(res.Reason, "interrupted") {
		t.Errorf("verdict %s: %s", res.Verdict, res.Reason)
	}
	for _, name := range []string{summaryFile, junitFile} {
		data, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil || !strings.Contains(string(data), "interrupted") {
			t.Errorf("%s does not say the run was interrupted (%v)", name, err)
		}
	}
}
