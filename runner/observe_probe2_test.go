package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cipconform/cipconform/spec"
)

// probe2Front starts the observer in front of upstream (a URL ending in its base path), with
// the contract named (or none) and stderr kept; it returns the observer and its address.
func probe2Front(t *testing.T, upstream, profile string, stderr io.Writer) (*observer, string) {
	t.Helper()
	u, _ := url.Parse(upstream)
	var p *spec.Profile
	if profile != "" {
		got, err := spec.LookupProfile(profile)
		if err != nil {
			t.Fatal(err)
		}
		p = &got
	}
	o := newObserver(u, p, u.String(), false, t.TempDir(), io.Discard, stderr)
	front := httptest.NewUnstartedServer(o)
	front.Config = proxyServer(o)
	front.Start()
	t.Cleanup(o.close)
	t.Cleanup(front.Close)
	return o, strings.TrimPrefix(front.URL, "http://")
}

func probe2Dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// lockedBuffer is a stderr the request goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// After an informational response from the upstream (103 Early Hints, or the 100 Continue a
// Go upstream sends when it reads an Expect: 100-continue body), the final response still
// gets no Date or sniffed Content-Type the upstream did not send (ReverseProxy clears the
// header map after a 1xx, which once dropped the marks that keep the server from adding them).
func TestProxyAddsNoHeaderAfterAnInformationalResponse(t *testing.T) {
	for name, send := range map[string]func(c net.Conn, br *bufio.Reader){
		"103 Early Hints": func(c net.Conn, br *bufio.Reader) {
			_, _ = io.WriteString(c, "GET /api/machineactions/"+probeActionID+"?hints=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		},
		"100 Continue": func(c net.Conn, br *bufio.Reader) {
			_, _ = io.WriteString(c, "POST /api/machines/m1/collectInvestigationPackage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
			if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 100") {
				t.Fatalf("want 100 Continue first, got %q", line)
			}
			_, _ = br.ReadString('\n') // the blank line that ends it
			_, _ = io.WriteString(c, `{"Comment":"c"}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("hints") != "" {
					w.Header().Set("Link", "</a.css>; rel=preload")
					w.WriteHeader(http.StatusEarlyHints)
					w.Header().Del("Link")
				}
				_, _ = io.ReadAll(r.Body)
				w.Header()["Content-Type"] = nil // the upstream sends neither
				w.Header()["Date"] = nil
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, `{"id":"x"}`)
			})
			c := probe2Dial(t, strings.TrimPrefix(front.URL, "http://"))
			br := bufio.NewReader(c)
			send(c, br)
			var resp *http.Response
			for {
				r, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.StatusCode >= 200 {
					resp = r
					break
				}
			}
			for _, h := range []string{"Date", "Content-Type"} {
				if v, ok := resp.Header[h]; ok {
					t.Errorf("the upstream sent no %s, the client got %s: %q", h, h, v)
				}
			}
		})
	}
}

// An absolute-form request target (GET http://host/path) goes on with its path as written
// (net/url escaped it again: { } became %7B %7D), and a path starting with // as it came.
func TestProxyForwardsEveryPathAsWritten(t *testing.T) {
	_, front, got, _ := probeProxy(t, nil)
	addr := strings.TrimPrefix(front.URL, "http://")
	for _, c := range []struct{ target, want string }{
		{"http://x/api/machineactions/a{b}", "/api/machineactions/a{b}"},
		{"//api/machineactions/ab", "//api/machineactions/ab"},
		// Not "//api/machineactions/a{b}": net/http cannot write a path that starts with //
		// as it is (as URL.Opaque it would be sent as an absolute URL); it goes on escaped.
	} {
		probeRaw(t, addr, "GET "+c.target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		select {
		case r := <-got:
			if r != c.want {
				t.Errorf("the client asked for %s, the upstream was asked for %s", c.target, r)
			}
		case <-time.After(time.Second):
			t.Errorf("%s was not forwarded", c.target)
		}
	}
}

// CONNECT example.com:443 reaches the upstream with its target (it became "CONNECT /").
func TestProxyForwardsAConnectTargetAsWritten(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- strings.TrimSpace(line)
		_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}()
	_, addr := probe2Front(t, "http://"+ln.Addr().String()+"/api", "", io.Discard)
	probeRaw(t, addr, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	select {
	case line := <-got:
		if line != "CONNECT example.com:443 HTTP/1.1" {
			t.Errorf("the client sent CONNECT example.com:443, the upstream got %q", line)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("CONNECT was not forwarded")
	}
}

// A report asked once the client has a whole HEAD response has that exchange: a response
// without a body is queued before the reverse proxy writes its header (which it may flush at
// once, before reading the empty body's end: one was missed within a few hundred HEADs).
func TestProxyReportHasEveryHeadResponse(t *testing.T) {
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Probe", "1")
	})
	client := &http.Client{Transport: &http.Transport{}}
	for i := 1; i <= 2000; i++ {
		req, _ := http.NewRequest(http.MethodHead, front.URL+"/api/nothing", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		o.drain() // what report() waits for
		if got := len(o.log.Entries()); got != i {
			t.Fatalf("HEAD %d: the client has its response, the report has %d entries", i, got)
		}
	}
}

// With Expect: 100-continue, an upstream that answers after reading part of the body has the
// exchange judged without the body, not on that part (a client that sent a whole, valid body
// failed "request: failed to decode request body").
func TestProxyJudgesTheBodyTheClientSent(t *testing.T) {
	o, front, _, _ := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadFull(r.Body, make([]byte, 5))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"code":"InvalidRequest","message":"no"}}`)
	})
	c := probe2Dial(t, strings.TrimPrefix(front.URL, "http://"))
	_, _ = io.WriteString(c, "POST /api/machines/m1/collectInvestigationPackage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer probe-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: 15\r\nExpect: 100-continue\r\n\r\n")
	if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue first, got %q", line)
	}
	_, _ = io.WriteString(c, `{"Com`)
	time.Sleep(200 * time.Millisecond)
	_, _ = io.WriteString(c, `ment":"c"}`)
	time.Sleep(200 * time.Millisecond)
	res, _ := o.report()
	if len(res.Checks) != 1 {
		t.Fatalf("%d entries", len(res.Checks))
	}
	if v := violationsOf(res.Checks[0]); strings.Contains(v, "request body") {
		t.Errorf("the client sent {\"Comment\":\"c\"} whole; the exchange: %s %s", res.Checks[0].Outcome, v)
	}
}

// A client that stops mid-body, after 100 Continue or without it, is not said to be an upstream
// that gave no response, on stderr or in its entry (after 100 Continue it was, 2 times in 3: the
// body's error reaches the ErrorHandler before the request's context is cancelled). Five
// clients each, so that one would.
func TestProxyDoesNotBlameTheUpstreamForAClientThatLeft(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer up.Close()
	for _, expect := range []bool{true, false} {
		var stderr lockedBuffer
		o, addr := probe2Front(t, up.URL+"/api", "", &stderr)
		head := "POST /api/machines/m1/collectInvestigationPackage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
		if expect {
			head += "Expect: 100-continue\r\n"
		}
		for range 5 {
			c := probe2Dial(t, addr)
			_, _ = io.WriteString(c, head+"\r\n")
			if expect {
				if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 100") {
					t.Fatalf("want 100 Continue first, got %q", line)
				}
			}
			_, _ = io.WriteString(c, `{"Comment":`)
			time.Sleep(100 * time.Millisecond)
			c.Close()
			time.Sleep(200 * time.Millisecond)
		}
		if s := stderr.String(); s != "" {
			t.Errorf("Expect %t: clients left mid-body, the upstream answered every request; stderr says: %q", expect, s)
		}
		res, _ := o.report()
		for _, c := range res.Checks {
			if strings.Contains(c.Message, "upstream") {
				t.Errorf("Expect %t: %s: its client left mid-body; its entry says: %s", expect, c.ID, c.Message)
			}
		}
	}
}

// With one contract at /api, a path below /api that is not an operation's whole path
// (/api/v2/machineactions/{id}, /api/../admin/machineactions/{id}) is undocumented (it was
// judged as getMachineAction, whose path it ends with, and a client using it passed).
func TestProxyJudgesOnlyTheContractsPaths(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no such machine action"}}`)
	}))
	defer up.Close()
	o, addr := probe2Front(t, up.URL+"/api", "mde", io.Discard)
	paths := []string{"/api/v2/machineactions/" + probeActionID, "/api/../admin/machineactions/" + probeActionID}
	for _, p := range paths {
		probeRaw(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer probe-token-0123456789\r\nConnection: close\r\n\r\n")
	}
	res, _ := o.report()
	if len(res.Checks) != len(paths) {
		t.Fatalf("%d entries", len(res.Checks))
	}
	for _, c := range res.Checks {
		if c.Element.Operation != "undocumented" {
			t.Errorf("%s: judged as %s (%s)", c.Title, c.Element.Operation, c.Outcome)
		}
	}
}

// FuzzRequestTarget: the target sent on is the one the client wrote, its query apart: for an
// origin-form target, the path itself; never one net/url would turn into an absolute URL.
func FuzzRequestTarget(f *testing.F) {
	for _, seed := range []string{"/api/a{b}?q", "*", "http://x/api/a?b", "//api/x", "example.com:443", "", "?", "http://x", "/"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, requestURI string) {
		target, ok := requestTarget(requestURI)
		if !ok {
			return
		}
		if target == "" || strings.HasPrefix(target, "//") || strings.Contains(target, "?") || !strings.Contains(requestURI, target) {
			t.Errorf("%q: target %q", requestURI, target)
		}
		if path, _, _ := strings.Cut(requestURI, "?"); strings.HasPrefix(requestURI, "/") && target != path {
			t.Errorf("%q: target %q, want the path %q", requestURI, target, path)
		}
	})
}
