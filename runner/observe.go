package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/observe"
)

// reportPath is where the proxy writes its reports on demand.
const reportPath = "/__cipconform/report"

var observeExits = []exitCode{
	{exitOK, "every judged exchange conforms (SHOULD violations fail only with --strict)"},
	{exitFailed, "an exchange does not conform"},
	{exitUsage, "usage error: an unknown flag or a bad value, a missing argument, an unknown --profile,\na file that is not valid HAR (not JSON, or an entry without its request or response)"},
	{exitCannotDo, "nothing was judged (no exchange, none the contract documents, or none with a body short enough to\njudge), or the reports could not be written"},
}

func observeVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var profile, reportDir *string
	var strict *bool
	cmd := command{name: "observe", args: []string{"FILE.har"}, about: `
Judges recorded traffic against the contract, offline: every entry of a HAR 1.2 file (as a
browser's developer tools, mitmproxy or Fiddler save it) is judged as the proxy command judges a
live exchange: the request (method, path, headers, body schema), the response (documented status,
headers, body schema) and, for a collection, what its 201 says against the request. An exchange
of an operation the contract does not document is reported as undocumented, not as a failure.
Entries whose response has status 0 (the browser gave up) are left out, and said so. Writes
results.json, junit.xml, report.html, summary.md and openapi.yaml, one entry (OBS-0001...) per
exchange, bearer tokens redacted.`,
		bind: func(fs *flag.FlagSet) {
			profile = fs.String("profile", "", "the contract `NAME` (preview-2017 or mde); default: told by each URL's base path")
			reportDir = fs.String("report-dir", "reports", "`DIR` to write the reports to")
			strict = fs.Bool("strict", false, "a SHOULD violation fails too")
		},
		exits: observeExits,
	}
	fs, code := cmd.parse(args, stdout, stderr)
	if fs == nil {
		return code
	}
	p, code := observeProfile("observe", *profile, "", stderr)
	if code != exitOK {
		return code
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "observe: %v\n", err)
		return exitUsage
	}
	start := time.Now()
	log := observe.NewLog(p)
	skipped, err := observe.EachHAR(data, func(ex observe.Exchange) { log.Add(ctx, ex) })
	if err != nil {
		fmt.Fprintf(stderr, "observe: %s: %v\n", fs.Arg(0), err)
		return exitUsage
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "observe: %d entries without a response left out\n", skipped)
	}
	res, code := observeReports(log, fs.Arg(0), *strict, start, *reportDir, stdout, stderr)
	if res != nil {
		printObserved(stdout, res, redactor(log.Redactor()))
	}
	return code
}

// observeProfile is --profile, or the profile the upstream's base path tells, or nil: each
// exchange's path tells.
func observeProfile(verb, name, upstream string, stderr io.Writer) (*spec.Profile, int) {
	if name != "" {
		p, err := spec.LookupProfile(name)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --profile: %v\n", verb, err)
			return nil, exitUsage
		}
		return &p, exitOK
	}
	if upstream != "" {
		if p, err := spec.ProfileFor(upstream); err == nil {
			return &p, exitOK
		}
	}
	return nil, exitOK
}

// observeReports builds the results of a log and writes its reports; the exit code is the
// verdict's.
func observeReports(log *observe.Log, target string, strict bool, start time.Time, dir string, stdout, stderr io.Writer) (*results.Results, int) {
	res := results.FromRun(start, time.Now(), "", log.Entries())
	res.Target, res.Strict = target, strict
	res.Harness = results.Harness{Version: version}
	if p, ok := log.Profile(); ok {
		if c, err := p.Contract(); err == nil {
			res.Spec = results.Spec{Version: c.OpenAPI().Info.Version, Digest: c.Digest(), Document: string(p.Document())}
			mine := log.JudgedAgainst(p.Name)
			res.Coverage = results.ObservedCoverage(c.Operations(), slices.DeleteFunc(slices.Clone(res.Checks), func(c results.CheckResult) bool { return !mine[c.ID] }))
		}
		res.Profile = results.Profile{Name: p.Name, Title: p.Title, Source: p.Source}
	}
	res.Judge()
	judged := res.Counts.Passed + res.Counts.Failed + res.Counts.Error
	switch {
	case len(res.Checks) == 0:
		res.Verdict, res.Reason = results.VerdictError, "no exchange was observed: nothing was judged"
	case judged == 0:
		undocumented := 0
		for _, c := range res.Checks {
			if c.Element.Operation == observe.Undocumented {
				undocumented++
			}
		}
		if undocumented == len(res.Checks) {
			res.Verdict, res.Reason = results.VerdictError, fmt.Sprintf("none of the %d exchanges is of an operation the contract documents: nothing was judged", len(res.Checks))
		} else {
			res.Verdict, res.Reason = results.VerdictError, fmt.Sprintf("nothing was judged: %d exchange(s) skipped (see their entries: a body too long to judge), %d of no operation the contract documents", len(res.Checks)-undocumented, undocumented)
		}
	case res.Counts.Error > 0 && res.Verdict == results.VerdictError:
		res.Reason = fmt.Sprintf("%d exchange(s) without a response (the upstream unreachable, or the client gone): not judged, so the result is incomplete", res.Counts.Error)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "report dir: %v\n", err)
		return res, exitCannotDo
	}
	if err := writeReports(dir, res, nil, redactor(log.Redactor())); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return res, exitCannotDo
	}
	return res, verdictExit(res)
}

// printObserved prints a line per entry, its violations and the verdict, through the
// redactor: a violation may quote a body that echoes a token.
func printObserved(w io.Writer, res *results.Results, redact func([]byte) []byte) {
	var b bytes.Buffer
	for _, c := range res.Checks {
		fmt.Fprintf(&b, "%-5s %s %-7s %s", progressWord[c.Outcome], c.ID, c.Level, c.Title)
		if c.Message != "" {
			fmt.Fprintf(&b, "  (%s)", c.Message)
		}
		fmt.Fprintln(&b)
		for _, v := range c.Violations {
			fmt.Fprintf(&b, "      %s\n", v)
		}
	}
	fmt.Fprintf(&b, "\n%s: %s\n", res.Verdict, res.Reason)
	_, _ = w.Write(redact(b.Bytes()))
}

func proxyVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var listen, upstream, profile, reportDir *string
	var strict *bool
	cmd := command{name: "proxy", about: `
A reverse proxy that judges a client's real traffic against the contract. Every request is
forwarded to --upstream unchanged and its response returned unchanged; meanwhile each exchange is
judged as the observe command judges a recorded one: the request (method, path, headers, body
schema), the response (documented status, headers, body schema) and, for a collection, what its
201 says against the request. An exchange of an operation the contract does not document is
reported as undocumented, not as a failure; so is a request outside --upstream's path when there
is one contract (--profile, or told by that path). Bodies up to 1 MiB are judged; longer ones are
forwarded but not judged. An upstream that does not answer is said on stderr, at the start and
whenever a request could not be forwarded (its client gets 502).

Reports (results.json, junit.xml, report.html, summary.md, openapi.yaml; one entry OBS-0001...
per exchange, every bearer token seen redacted) are written to --report-dir when the proxy stops
(SIGINT, SIGTERM), and on demand: GET ` + reportPath + ` on the proxy (it answers the verdict
as JSON), or SIGUSR1.

Example:
  cipconform serve --addr 127.0.0.1:8080 &
  cipconform proxy --listen 127.0.0.1:8081 --upstream http://127.0.0.1:8080/api
  # point the client at http://127.0.0.1:8081/api instead of http://127.0.0.1:8080/api`,
		bind: func(fs *flag.FlagSet) {
			listen = fs.String("listen", "127.0.0.1:8081", "`HOST:PORT` to listen on")
			upstream = fs.String("upstream", "", "the `URL` to forward to (required), e.g. http://127.0.0.1:8080/api")
			profile = fs.String("profile", "", "the contract `NAME` (preview-2017 or mde); default: told by --upstream's base path, else by each request's")
			reportDir = fs.String("report-dir", "reports", "`DIR` to write the reports to")
			strict = fs.Bool("strict", false, "a SHOULD violation fails too")
		},
		exits: []exitCode{
			{exitOK, "stopped, and every judged exchange conforms (SHOULD violations fail only with --strict)"},
			{exitFailed, "stopped, and an exchange did not conform"},
			{exitUsage, "usage error: an unknown flag or a bad value (a --listen that is not HOST:PORT), no --upstream,\nan unknown --profile"},
			{exitCannotDo, "could not listen on --listen (the port taken); or stopped with nothing judged, an exchange\nwithout a response (upstream unreachable), or reports that could not be written"},
		},
	}
	fs, code := cmd.parse(args, stdout, stderr)
	if fs == nil {
		return code
	}
	if *upstream == "" {
		fmt.Fprintf(stderr, "proxy: --upstream is missing: give the URL of the server to forward to, e.g. --upstream http://127.0.0.1:8080/api\n")
		return exitUsage
	}
	up, err := url.Parse(*upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		fmt.Fprintf(stderr, "proxy: --upstream %q: want an absolute http or https URL\n", *upstream)
		return exitUsage
	}
	if _, port, err := net.SplitHostPort(*listen); err != nil || port == "" {
		fmt.Fprintf(stderr, "proxy: --listen %q: want HOST:PORT, e.g. 127.0.0.1:8081 (:0 for any free port)\n", *listen)
		return exitUsage
	}
	p, code := observeProfile("proxy", *profile, *upstream, stderr)
	if code != exitOK {
		return code
	}
	// SIGUSR1 is heard before anything can connect: a client that has seen the proxy answer
	// may ask for a report at once (the signal's default would end the process).
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return exitCannotDo
	}
	if err := dialUpstream(ctx, up); err != nil {
		fmt.Fprintf(stderr, "proxy: warning: the upstream does not answer yet (%v); the proxy starts anyway, and a request it cannot forward gets 502\n", err)
	}
	pr := newObserver(up, p, *upstream, *strict, *reportDir, stdout, stderr)
	srv := proxyServer(pr)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	front := "http://" + ln.Addr().String() + up.Path
	fmt.Fprintf(stdout, "# Proxying %s -> %s\n# Point the client at %s; reports: GET http://%s%s, SIGUSR1, or on stop.\n", front, *upstream, front, ln.Addr(), reportPath)
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case err := <-served:
			fmt.Fprintf(stderr, "proxy: %v\n", err)
			return exitCannotDo
		case <-usr1:
			pr.report()
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
	}
	res, code := pr.report()
	pr.close()
	if res != nil {
		fmt.Fprintf(stdout, "%s: %s\n", res.Verdict, res.Reason)
	}
	return code
}

// observer is the proxy: a reverse proxy that tees each exchange (bodies bounded by
// observe.MaxBody) and judges it once its response has been forwarded, off the request's path.
type observer struct {
	proxy *httputil.ReverseProxy
	log   *observe.Log
	// The judge: exchanges are queued in the order their forwarding finished and judged in
	// that order, so that a report can wait for every one finished before it was asked for.
	queue     chan func()
	enqueueMu sync.Mutex   // numbers and queues an exchange at once
	closeMu   sync.RWMutex // queue is not sent to once closed
	closed    bool
	finished  atomic.Int64 // exchanges queued so far
	judgedMu  sync.Mutex
	judgedNow *sync.Cond // signalled as judged grows
	judged    int64
	// forwarding counts the requests being forwarded; draining, reports waiting for the judge.
	forwarding, draining atomic.Int64
	target               string
	strict               bool
	start                time.Time
	reportDir            string
	stdout               io.Writer
	stderr               io.Writer
	writing              sync.Mutex // one report at a time
	// lastFailure (unix ns) and failuresUnsaid pace what is said of an unreachable upstream.
	lastFailure, failuresUnsaid atomic.Int64
}

type tapKey struct{}

// tap is what the proxy saw of one exchange.
type tap struct {
	began        time.Time
	seen         *http.Request // the request, its body apart
	reqBody      []byte        // read before forwarding, up to observe.MaxBody
	reqTruncated bool
	// teed: the request body was kept as it was forwarded (Expect: 100-continue), into
	// teedBody; reqEOF says it was read to its end.
	teed     bool
	teedBody boundedBuffer
	reqEOF   atomic.Bool
	// clientLeft: reading the request body failed, the client gone mid-body.
	clientLeft atomic.Bool
	status     int
	header     http.Header
	body       boundedBuffer
	errMu      sync.Mutex
	err        string
	queue      func() // has the exchange judged, once
	queued     atomic.Bool
	// forwarded stops counting the request as being forwarded, once.
	forwarded      func()
	doneForwarding atomic.Bool
}

func (t *tap) setErr(s string) {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	if t.err == "" {
		t.err = s
	}
}

func (t *tap) error() string {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	return t.err
}

// readRequestBody reads the request body up to the bound kept for judging; the whole is
// forwarded as it came.
func (t *tap) readRequestBody(r *http.Request) {
	head, err := io.ReadAll(io.LimitReader(r.Body, observe.MaxBody+1))
	t.reqBody = head
	if len(head) > observe.MaxBody {
		t.reqBody, t.reqTruncated = head[:observe.MaxBody], true
	}
	rest := r.Body
	r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), rest), Closer: rest}
	if err != nil {
		r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), errReader{err}), Closer: rest}
	}
}

func newObserver(up *url.URL, p *spec.Profile, target string, strict bool, reportDir string, stdout, stderr io.Writer) *observer {
	o := &observer{log: observe.NewLog(p), target: target, strict: strict, start: time.Now(), reportDir: reportDir, stdout: stdout, stderr: stderr,
		queue: make(chan func(), judgeQueue)}
	o.judgedNow = sync.NewCond(&o.judgedMu)
	if p != nil {
		// One contract, at the upstream's path: the client's path is forwarded whole, so it
		// must hold that base path (without a contract, each path's own base tells one).
		o.log.SetBasePath(up.Path)
	}
	go o.judgeInTurn()
	base := *up
	base.Path, base.RawPath = "", "" // the client's path is kept whole: it already holds the base path
	o.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&base)
			// The request goes on as the client sent it: its path as written (net/url would
			// escape it again its own way), and what ReverseProxy drops before Rewrite (the
			// forwarding headers, and query parameters net/url cannot parse).
			if target, ok := requestTarget(r.In.RequestURI); ok {
				r.Out.URL.Opaque = target
			}
			r.Out.URL.RawQuery = r.In.URL.RawQuery
			for _, name := range forwardingHeaders {
				if v, ok := r.In.Header[name]; ok {
					r.Out.Header[name] = v
				}
			}
		},
		// DefaultTransport keeps 2 idle connections per host: a client with more at once would
		// have the proxy dial the upstream for most requests.
		Transport:  proxyTransport(),
		BufferPool: &bufferPool{}, // a 32 KiB buffer per response was most of the proxy's garbage
		ModifyResponse: func(resp *http.Response) error {
			t, _ := resp.Request.Context().Value(tapKey{}).(*tap)
			if t == nil {
				return nil
			}
			if resp.StatusCode == http.StatusSwitchingProtocols {
				// An upgraded connection is the upstream's own: its body must stay a
				// ReadWriteCloser, and what goes through it is not an exchange to judge. The
				// exchange is judged now, and no longer counts as being forwarded: the tunnel
				// may stay open for hours.
				t.status, t.header = resp.StatusCode, resp.Header
				if strings.EqualFold(resp.Request.Header.Get("Upgrade"), resp.Header.Get("Upgrade")) {
					t.queue() // else the reverse proxy refuses it, and the exchange ends with a 502
					t.forwarded()
				}
				return nil
			}
			// Not a copy: the reverse proxy has removed the hop-by-hop fields already and
			// only reads the header from here on.
			t.status, t.header = resp.StatusCode, resp.Header
			resp.Body = teeBody{ReadCloser: resp.Body, w: &t.body, atEnd: t.queue}
			if resp.Request.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
				// No body to read to its end: the reverse proxy may flush the whole response
				// before it reads the empty body, so the exchange is queued now.
				t.queue()
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t, _ := r.Context().Value(tapKey{}).(*tap)
			switch {
			case errors.Is(err, context.Canceled) || t != nil && t.clientLeft.Load():
				if t != nil {
					t.setErr("the client left before the response came")
				}
			case t != nil && t.status != 0:
				// The upstream answered, and the reverse proxy could not pass the answer on
				// (an upgrade to another protocol than the client asked for...).
				t.setErr("the upstream answered, but its answer could not be passed on (the client got 502): " + err.Error())
				o.upstreamFailed(r.Method, "its answer could not be passed on", err)
			default:
				if t != nil {
					t.setErr("no response from the upstream (the client got 502): " + err.Error())
				}
				o.upstreamFailed(r.Method, "got no response from the upstream", err)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
		ErrorLog: nil,
	}
	return o
}

func (o *observer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == reportPath {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		res, code := o.report()
		w.Header().Set("Content-Type", "application/json")
		if res == nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"verdict": res.Verdict, "reason": res.Reason, "counts": res.Counts, "exitCode": code, "reportDir": o.reportDir})
		return
	}
	n := o.log.Reserve()
	o.forwarding.Add(1)
	t := &tap{began: time.Now()}
	// What was asked, as a shallow copy: the reverse proxy sends a deep copy of r and leaves r
	// as it is.
	t.seen = r.WithContext(context.Background())
	seenURL := *r.URL
	t.seen.URL, t.seen.Body = &seenURL, nil
	if seenURL.Host == "" {
		seenURL.Scheme, seenURL.Host = "http", r.Host
	}
	// The request forwarded: r with its body read through the tap (r itself stays the
	// server's, whose body type tells it whether the client waits for 100 Continue).
	out := r.WithContext(context.WithValue(r.Context(), tapKey{}, t))
	if r.Body != nil && r.Body != http.NoBody {
		if strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			// Kept as it is forwarded: reading it first would have the proxy, not the
			// upstream, tell the client to go on.
			t.teed = true
			out.Body = teeRequest{ReadCloser: r.Body, t: t}
		} else {
			t.readRequestBody(out)
		}
	}
	t.queue = func() { o.queueOnce(n, t) }
	t.forwarded = func() {
		if t.doneForwarding.CompareAndSwap(false, true) {
			o.forwarding.Add(-1)
		}
	}
	returned := false
	defer func() {
		t.forwarded()
		if !returned {
			// The reverse proxy gave up (it panics with http.ErrAbortHandler): the upstream
			// broke off its response, or the client left. The exchange is judged all the same.
			t.setErr("the response broke off before its end: the upstream or the client closed the connection")
		}
		t.queue() // unless the response's end was read: no response, an upgrade, a break
	}()
	o.proxy.ServeHTTP(unstamped{w}, out)
	returned = true
}

// queueOnce has the exchange judged, once: when the upstream's response has been read to its
// end (before its last bytes reach the client, so that a report the client asks for then
// has it), or else when the proxy is done with it.
func (o *observer) queueOnce(n int, t *tap) {
	if !t.queued.CompareAndSwap(false, true) {
		return
	}
	took := time.Since(t.began)
	o.judge(func() {
		body, over := t.body.bytes()
		ex := observe.Exchange{Request: t.seen, RequestBody: t.reqBody, RequestTruncated: t.reqTruncated,
			Status: t.status, Header: t.header, Body: body, BodyTruncated: over, Error: t.error(), Duration: took}
		if t.teed {
			sent, more := t.teedBody.bytes()
			ex.RequestBody, ex.RequestTruncated = sent, more
			// Not read to its end: the upstream answered before it had the body (or before it
			// was sent at all), which is judged without it, not as the part it read.
			ex.RequestBodyUnknown = !t.reqEOF.Load()
		}
		o.log.Judge(context.Background(), n, ex)
	})
}

// forwardingHeaders are the fields ReverseProxy removes from a request before Rewrite.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

// judgeQueue is how many exchanges may wait for the judge: a proxy whose judge cannot keep up
// holds the next response until there is room, rather than grow without bound.
const judgeQueue = 256

// judge has an exchange judged, off the request's path. Forwarding goes first: one goroutine
// judges the exchanges in turn, and only while no request is being forwarded, or once half
// the queue is waiting, or a report waits for it. A client's burst of requests is forwarded
// at full speed and judged when it ends (at 10 connections, judging alongside forwarding made
// a third of the latency the proxy added); under load that never pauses, the judge keeps pace
// with a share of the CPU like one connection's.
func (o *observer) judge(f func()) {
	o.closeMu.RLock()
	defer o.closeMu.RUnlock()
	if o.closed { // the proxy has stopped: judged here, counted as any other
		o.finished.Add(1)
		f()
		o.markJudged()
		return
	}
	o.enqueueMu.Lock()
	defer o.enqueueMu.Unlock()
	o.finished.Add(1)
	o.queue <- f
}

func (o *observer) judgeInTurn() {
	for f := range o.queue {
		for o.forwarding.Load() > 0 && len(o.queue) < judgeQueue/2 && o.draining.Load() == 0 {
			// A sleep, not a signal: woken at once when a burst ends, the judge competed with
			// the next burst (measured at rtt=5ms: 0.87-1.24 ms added instead of 0.52-0.68).
			time.Sleep(200 * time.Microsecond)
		}
		f()
		o.markJudged()
		runtime.Gosched() // the connections waiting for the CPU go first
	}
}

func (o *observer) markJudged() {
	o.judgedMu.Lock()
	defer o.judgedMu.Unlock()
	o.judged++
	o.judgedNow.Broadcast()
}

// drain waits until every exchange whose forwarding had finished is judged (not those that
// finish meanwhile: a report under steady traffic still ends).
func (o *observer) drain() {
	o.draining.Add(1)
	defer o.draining.Add(-1)
	o.enqueueMu.Lock() // an exchange being numbered is queued first
	target := o.finished.Load()
	o.enqueueMu.Unlock()
	o.judgedMu.Lock()
	defer o.judgedMu.Unlock()
	for o.judged < target {
		o.judgedNow.Wait()
	}
}

// close ends the judge once the server is shut down (an exchange still finishing is judged
// by its own request).
func (o *observer) close() {
	o.closeMu.Lock()
	defer o.closeMu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.queue)
	}
}

// requestTarget is the request target the client wrote, its query apart, as the upstream is to
// get it: the path of an origin-form or absolute-form target ("/a{b}", "http://host/a{b}"), an
// authority (CONNECT host:443) or "*". ok is false for a path that starts with "//": net/url
// would write it as an absolute URL, and it goes on escaped as net/url escapes it.
func requestTarget(requestURI string) (target string, ok bool) {
	target, _, _ = strings.Cut(requestURI, "?")
	if i := strings.Index(target, "://"); i > 0 && !strings.HasPrefix(target, "/") {
		rest := target[i+len("://"):]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return "", false
		}
		target = rest[j:]
	}
	return target, target != "" && !strings.HasPrefix(target, "//")
}

// proxyServer serves the proxy. Every request goes to the upstream, OPTIONS * too (the
// server would answer it itself).
func proxyServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, DisableGeneralOptionsHandler: true}
}

// upstreamFailed says on stderr that a request got no response from the upstream, or one the
// reverse proxy could not pass on (its client got a 502), at most once a second, with how many more since. The request's path is left out:
// a client may put anything in it, and its token is not known to the redactor before judging.
func (o *observer) upstreamFailed(method, what string, err error) {
	now := time.Now().UnixNano()
	last := o.lastFailure.Load()
	if now-last < int64(time.Second) || !o.lastFailure.CompareAndSwap(last, now) {
		o.failuresUnsaid.Add(1)
		return
	}
	more := ""
	if n := o.failuresUnsaid.Swap(0); n > 0 {
		more = fmt.Sprintf(" (and %d more since)", n)
	}
	line := fmt.Sprintf("proxy: a %s %s, its client a 502: %v%s\n", method, what, err, more)
	_, _ = io.WriteString(o.stderr, o.log.Redactor().Replace(line))
}

// dialUpstream tells whether the upstream accepts connections.
func dialUpstream(ctx context.Context, up *url.URL) error {
	port := up.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[up.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(up.Hostname(), port))
	if err != nil {
		return err
	}
	return conn.Close()
}

func proxyTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	// The transport would otherwise ask for gzip on a request that did not, and unzip the answer.
	t.DisableCompression = true
	return t
}

// report waits for the exchanges being judged and writes the reports.
func (o *observer) report() (*results.Results, int) {
	o.drain()
	o.writing.Lock()
	defer o.writing.Unlock()
	return observeReports(o.log, o.target, o.strict, o.start, o.reportDir, o.stdout, o.stderr)
}

// boundedBuffer keeps the first observe.MaxBody bytes written to it and counts the rest.
type boundedBuffer struct {
	mu   sync.Mutex
	buf  []byte
	over bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := observe.MaxBody - len(b.buf)
	if len(p) > room {
		b.buf, b.over = append(b.buf, p[:max(room, 0)]...), true
	} else {
		b.buf = append(b.buf, p...)
	}
	return len(p), nil
}

func (b *boundedBuffer) bytes() ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf), b.over
}

// unstamped keeps the server from adding to a response a Date and a sniffed Content-Type the
// upstream did not send. It marks them when the final status is written: a 1xx before it
// (103 Early Hints, 100 Continue) has the reverse proxy clear the header map.
type unstamped struct{ http.ResponseWriter }

func (u unstamped) WriteHeader(code int) {
	if code >= 200 {
		h := u.Header()
		for _, name := range []string{"Date", "Content-Type"} {
			if _, ok := h[name]; !ok {
				h[name] = nil
			}
		}
	}
	u.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the reverse proxy flush and hijack (an upgrade) through http.ResponseController.
func (u unstamped) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// teeBody copies what the client is sent into a bounded buffer, and calls atEnd once the
// upstream's body has been read to its end.
type teeBody struct {
	io.ReadCloser
	w     io.Writer
	atEnd func()
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		_, _ = t.w.Write(p[:n])
	}
	if err == io.EOF {
		t.atEnd()
	}
	return n, err
}

// teeRequest keeps what the upstream is sent of a request body.
type teeRequest struct {
	io.ReadCloser
	t *tap
}

func (r teeRequest) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		_, _ = r.t.teedBody.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		r.t.reqEOF.Store(true)
	case err != nil:
		r.t.clientLeft.Store(true)
	}
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if errors.Is(e.err, io.EOF) {
		return 0, io.EOF
	}
	return 0, e.err
}

// bufferPool lends the reverse proxy its copy buffers.
type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
