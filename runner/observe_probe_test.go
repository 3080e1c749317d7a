package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cipconform/cipconform/runner/results"
)

// probeProxy starts an upstream (h, or a 404 error body) behind the observer; upstreamURIs
// gets the RequestURI of every request the upstream receives.
func probeProxy(t *testing.T, h http.HandlerFunc) (o *observer, front *httptest.Server, upstreamURIs chan string, dir string) {
	t.Helper()
	upstreamURIs = make(chan string, 1000)
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case upstreamURIs <- r.RequestURI:
		default:
		}
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no such machine action"}}`)
	}))
	up.Config.DisableGeneralOptionsHandler = true // OPTIONS * reaches the handler
	up.Start()
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL + "/api")
	dir = t.TempDir()
	o = newObserver(u, nil, u.String(), false, dir, io.Discard, io.Discard)
	front = httptest.NewUnstartedServer(o)
	front.Config = proxyServer(o) // as the proxy verb serves it
	front.Start()
	t.Cleanup(o.close)
	t.Cleanup(front.Close)
	return o, front, upstreamURIs, dir
}

func probeRaw(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

const probeActionID = "24c7c9b9-4b1f-4c2b-9a1d-6f3e8b2a7c10"

// A protocol upgrade (WebSocket...) goes through: the upstream's 101 reaches the client (a
// tapped body, not a ReadWriteCloser, had ReverseProxy refuse it with 502). While the tunnel
// stays open, the exchange is judged and the request no longer counts as being forwarded (the
// judge would wait for it).
func TestProxyPassesAnUpgrade(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		c, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = bw.Flush()
		<-release // the tunnel stays open
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = io.WriteString(c, "GET /api/machineactions/"+probeActionID+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("the upstream answered 101, the client got %d", resp.StatusCode)
	}
	if res, _ := o.report(); len(res.Checks) != 1 || res.Checks[0].Title != "GET /api/machineactions/"+probeActionID+" -> 101" {
		t.Errorf("with the tunnel open, the report has %+v", res.Checks)
	}
	if n := o.forwarding.Load(); n != 0 {
		t.Errorf("with the tunnel open, %d request(s) count as being forwarded", n)
	}
}

// The path reaches the upstream as the client wrote it, characters net/url would escape
// ({ | " ^ ` \ #, raw UTF-8) included.
func TestProxyForwardsThePathAsWritten(t *testing.T) {
	_, front, got, _ := probeProxy(t, nil)
	addr := strings.TrimPrefix(front.URL, "http://")
	for _, uri := range []string{
		"/api/machineactions/a{b}", "/api/machineactions/a|b", `/api/machineactions/a"b`, "/api/machineactions/a^b",
		"/api/machineactions/a`b", `/api/machineactions/a\b`, "/api/machineactions/a#b", "/api/machineactions/€",
	} {
		probeRaw(t, addr, "GET "+uri+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		select {
		case r := <-got:
			if r != uri {
				t.Errorf("the client asked for %s, the upstream was asked for %s", uri, r)
			}
		case <-time.After(time.Second):
			t.Errorf("%s was not forwarded", uri)
		}
	}
}

// The response reaches the client as the upstream sent it: without a Content-Type or a Date
// if it had none (the proxy's own server would add both, and the judge would see other
// headers than the client).
func TestProxyAddsNoResponseHeader(t *testing.T) {
	_, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // the upstream's server adds neither
		w.Header()["Date"] = nil
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":"x"}`)
	})
	resp, err := http.Get(front.URL + "/api/machineactions/" + probeActionID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, name := range []string{"Content-Type", "Date"} {
		if v, ok := resp.Header[name]; ok {
			t.Errorf("the upstream sent no %s, the client got %s: %q", name, name, v)
		}
	}
}

// An upstream that breaks off its response (its declared length not sent, the connection
// closed) still leaves an entry, errored: ReverseProxy gives up with a panic
// (http.ErrAbortHandler), which once left the exchange unjudged and its number skipped.
func TestProxyJudgesABrokenResponse(t *testing.T) {
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		c, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"id\":")
		_ = bw.Flush()
		c.Close()
	})
	req, _ := http.NewRequest("GET", front.URL+"/api/machineactions/"+probeActionID, nil)
	req.Header.Set("Authorization", "Bearer probe-token-0123456789")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	res, code := o.report()
	if res == nil || len(res.Checks) != 1 {
		t.Fatalf("exit %d, %d entries (%s): want the exchange, errored", code, len(res.Checks), res.Reason)
	}
}

// Expect: 100-continue is the upstream's to answer: one that refuses without reading the body
// has its 401 reach the client first (the proxy once read the body before forwarding, and so
// told the client to go on).
func TestProxyLeavesExpectContinueToTheUpstream(t *testing.T) {
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized) // the body is never read
		_, _ = io.WriteString(w, `{"error":{"code":"Unauthorized","message":"no token"}}`)
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = io.WriteString(c, "POST /api/machines/m1/collectInvestigationPackage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer probe-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: 15\r\nExpect: 100-continue\r\n\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 401") {
		t.Errorf("the upstream answered 401 without reading the body; the client got %q first", line)
	}
	// The body was never sent: the request is judged without it, not as one without Comment,
	// and the exchange is not said to pass whole.
	if res, _ := o.report(); len(res.Checks) != 1 || res.Checks[0].Outcome != "skipped" || !strings.Contains(res.Checks[0].Message, "the request body is not known") {
		t.Errorf("the exchange: %+v", res.Checks)
	}
}

// getCompressed GETs an action through the proxy, accepting this encoding (and unzipping
// nothing), and returns the report.
func getCompressed(t *testing.T, o *observer, front *httptest.Server, encoding string) *results.Results {
	t.Helper()
	req, _ := http.NewRequest("GET", front.URL+"/api/machineactions/"+probeActionID, nil)
	req.Header.Set("Authorization", "Bearer probe-token-0123456789")
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res, _ := o.report()
	return res
}

// A gzip body small on the wire but longer than 1 MiB unzipped is skipped as too long to
// judge, not judged on its first MiB (a conforming response failed as "not JSON").
func TestProxySkipsABodyOverTheBoundUnzipped(t *testing.T) {
	action := fmt.Sprintf(`{"id":%q,"type":"CollectInvestigationPackage","title":"t","requestor":"app","requestorComment":"c","status":"Pending","machineId":"m1","computerDnsName":"d","creationDateTimeUtc":"2025-03-04T10:11:12Z","lastUpdateDateTimeUtc":"2025-03-04T10:11:12Z","pad":%q}`,
		probeActionID, strings.Repeat("a", 2<<20))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = io.WriteString(zw, action)
	_ = zw.Close()
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(z.Bytes())
	})
	res := getCompressed(t, o, front, "gzip")
	if len(res.Checks) != 1 || res.Checks[0].Outcome == "failed" {
		t.Errorf("a %d-byte gzip of a conforming %d-byte body: %+v", z.Len(), len(action), res.Checks)
	}
}

// A deflate-encoded (Content-Encoding: deflate, RFC 9110) body is judged unzipped, as gzip.
func TestProxyJudgesADeflateBodyUnzipped(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = io.WriteString(zw, `{"error":{"code":"NotFound","message":"no such machine action"}}`)
	_ = zw.Close()
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "deflate")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(z.Bytes())
	})
	res := getCompressed(t, o, front, "deflate")
	if len(res.Checks) != 1 || res.Checks[0].Outcome != "passed" {
		t.Errorf("a conforming deflate 404: %s %s", res.Checks[0].Outcome, violationsOf(res.Checks[0]))
	}
}

// No token reaches a report, whatever whitespace follows its scheme and in Proxy-Authorization
// too (both once reached the reports with an upstream that echoes nothing).
func TestProxyRedactsEveryCredentialField(t *testing.T) {
	const token = "eyJhbGciOiJub25lIn0.c2VjcmV0LXByb2Jl.sig-ZZZ123456"
	for name, h := range map[string]http.Header{
		"tab":                 {"Authorization": {"Bearer\t" + token}},
		"proxy-authorization": {"Proxy-Authorization": {"Bearer " + token}},
	} {
		t.Run(name, func(t *testing.T) {
			o, front, _, dir := probeProxy(t, nil)
			req, _ := http.NewRequest("GET", front.URL+"/api/machineactions/"+probeActionID, nil)
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			o.report()
			noSecrets(t, dir, token)
		})
	}
}

// With two Authorization fields, both tokens are redacted (only the first once was, and the
// second, echoed by the upstream, reached the reports).
func TestProxyRedactsASecondAuthorization(t *testing.T) {
	const first, second = "first-token-0123456789abcdef", "Zq9-unrelated-SECOND-credential-77"
	o, front, _, dir := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"code":"Unauthorized","message":%q}}`, "tokens: "+strings.Join(r.Header.Values("Authorization"), "; "))
	})
	req, _ := http.NewRequest("GET", front.URL+"/api/machineactions/"+probeActionID, nil)
	req.Header["Authorization"] = []string{"Bearer " + first, "Bearer " + second}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o.report()
	noSecrets(t, dir, first, second)
}

// A report asked for once the client has its whole response has that exchange: it is queued
// when the upstream's body has been read to its end, before its last bytes reach the client
// (queued when ServeHTTP returned, it was missed about once in 1,000).
func TestProxyReportHasEveryResponseTheClientHas(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 256<<10) // written straight through the server's buffers
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		_, _ = w.Write(big)
	})
	client := &http.Client{Transport: &http.Transport{}}
	for i := 1; i <= 1000; i++ {
		resp, err := client.Get(front.URL + "/api/nothing")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != int64(len(big)) {
			t.Fatalf("short body: %d", n)
		}
		o.drain() // what report() waits for
		if got := len(o.log.Entries()); got != i {
			t.Fatalf("request %d: its response was read whole, the report has %d entries", i, got)
		}
	}
}

// A token per request does not stall judging: the redactor is built when a report needs it,
// not once a token (which took 19 s for 300 tokens, filled the queue and held responses).
func TestProxyKeepsUpWithDistinctTokens(t *testing.T) {
	o, front, _, _ := probeProxy(t, nil)
	client := &http.Client{Transport: &http.Transport{}}
	start := time.Now()
	for range 300 {
		b := make([]byte, 700)
		_, _ = rand.Read(b)
		req, _ := http.NewRequest("GET", front.URL+"/api/machineactions/"+probeActionID, nil)
		req.Header.Set("Authorization", "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."+base64.RawURLEncoding.EncodeToString(b))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	done := make(chan struct{})
	go func() { o.drain(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("300 exchanges with distinct ~1 KB tokens: not judged %v after the first was sent", time.Since(start))
	}
}

// "OPTIONS * HTTP/1.1" is forwarded (the proxy's own server answered it).
func TestProxyForwardsOptionsAsterisk(t *testing.T) {
	_, front, got, _ := probeProxy(t, nil)
	resp := probeRaw(t, strings.TrimPrefix(front.URL, "http://"), "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	select {
	case uri := <-got:
		if uri != "*" {
			t.Errorf("OPTIONS * reached the upstream as %q", uri)
		}
	case <-time.After(time.Second):
		t.Errorf("OPTIONS * was not forwarded; the proxy answered %q", strings.SplitN(resp, "\r\n", 2)[0])
	}
}
