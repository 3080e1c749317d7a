package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

// BenchmarkWholeRun measures a full `run` against the embedded reference (configuration,
// preflight, every check, every report written) and, in the same iteration, a replay of the
// very requests that run sent, one after another, by a plain keep-alive client: the floor
// any harness that sends these requests must pay. It reports both and their ratio
// ("run/replay"; issue 10's goal: at most 1.5 on loopback). With rtt=50ms a proxy in front of
// the target delays every request by 50 ms: there the goal is a run of at most 1.32 s
// ("run-s"; 40 % of the 3.3 s a run took when its requests went one at a time).
func BenchmarkWholeRun(b *testing.B) {
	for _, rtt := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("rtt="+rtt.String(), func(b *testing.B) { benchmarkWholeRun(b, rtt) })
	}
}

func benchmarkWholeRun(b *testing.B, rtt time.Duration) {
	// Every run gets fresh machines, so that no collection of an earlier one makes a check
	// fail with "already running".
	const window = 32
	target, err := embedded.Start(embedded.Options{Machines: window * 512, PerMinute: -1, PerHour: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	upstream, _ := url.Parse(target.BaseURL)
	upstream.Path = ""
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	// The benchmark's own proxy: without a pool its 32 KiB buffer per response was a quarter
	// of all the garbage in the process, collected at the cost of whichever side was running.
	proxy.BufferPool = &bufferPool{}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if rtt > 0 {
			time.Sleep(rtt)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	base := front.URL + embedded.BasePath
	dir := b.TempDir()
	next := 0
	// Where a run's time goes: the end of each phase, summed over the timed runs.
	phases := map[string]time.Duration{}
	var phaseStart time.Time
	timed := false
	ended := func(phase string) {
		if timed {
			phases[phase] += time.Since(phaseStart)
		}
		phaseStart = time.Now()
	}
	runOnce := func() time.Duration {
		cfg := harness.TargetConfig(config.Defaults(), target)
		cfg.Target = base
		cfg.MachineIDs = target.Machines[next*window : (next+1)*window]
		next = (next + 1) % 512
		start := time.Now()
		phaseStart = start
		res, code := execute(context.Background(), cfg, spec.Preview2017, runOptions{reportDir: dir, runTimeout: time.Minute, phaseEnded: ended}, gate{}, io.Discard, io.Discard)
		elapsed := time.Since(start)
		if code != exitOK {
			b.Fatalf("run exited %d: %s", code, res.Reason)
		}
		return elapsed
	}
	// One run through the recorder gives the requests to replay.
	rec.on = true
	runOnce()
	rec.on = false
	requests := rec.requests
	replay := func() time.Duration {
		// A fresh keep-alive client per replay, as each run is a fresh process with its own.
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		start := time.Now()
		for _, r := range requests {
			req, err := http.NewRequest(r.method, front.URL+r.path, bytes.NewReader(r.body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header = r.header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return time.Since(start)
	}
	var runTotal, replayTotal time.Duration
	timed = true
	for b.Loop() {
		runTotal += runOnce()
		replayTotal += replay()
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(requests)), "requests")
	b.ReportMetric(runTotal.Seconds()/n, "run-s")
	b.ReportMetric(replayTotal.Seconds()/n, "replay-s")
	b.ReportMetric(float64(runTotal)/float64(replayTotal), "run/replay")
	for phase, d := range phases {
		b.ReportMetric(d.Seconds()/n*1000, phase+"-ms")
	}
	if testing.Verbose() {
		fmt.Printf("rtt=%s: a run took %.3f s, a replay of its %d requests %.3f s\n", rtt, runTotal.Seconds()/n, len(requests), replayTotal.Seconds()/n)
	}
}

// recorder keeps the requests a run sends, to replay them.
type recorder struct {
	on       bool
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	method, path string
	header       http.Header
	body         []byte
}

func (r *recorder) record(req *http.Request) {
	if !r.on {
		return
	}
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, recorded{method: req.Method, path: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
}
