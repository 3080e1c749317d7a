package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Through the proxy, a gzip token answer from the upstream has its tokens redacted in the
// reports (the proxy does not unzip; its tokens were looked for in the zipped bytes).
func TestProxyGzipTokenAnswerIsRedacted(t *testing.T) {
	const refresh = "0.ARrefresh-token-value-abcdefghijklmnop"
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = io.WriteString(zw, `{"token_type":"Bearer","expires_in":3599,"access_token":"at-0123456789abcdefghij","refresh_token":"`+refresh+`"}`)
	_ = zw.Close()
	o, front, _, dir := probeProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(z.Bytes())
	})
	req, _ := http.NewRequest("POST", front.URL+"/api/oauth2/token", strings.NewReader("grant_type=refresh_token&client_id=abc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o.report()
	noSecrets(t, dir, refresh)
}

// An upstream that answers 101 with another protocol than the one asked: the client gets 502,
// and stderr does not say the request "got no response from the upstream" (it did), and the
// entry is not judged as the 101 the client never got.
func TestProxyRefusedUpgradeIsNotSaidUnanswered(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")
		_ = brw.Flush()
		time.Sleep(200 * time.Millisecond)
	}))
	defer up.Close()
	var stderr lockedBuffer
	o, addr := probe2Front(t, up.URL+"/api", "", &stderr)
	got := probeRaw(t, addr, "GET /api/machineactions/"+probeActionID+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 502") {
		t.Fatalf("client got %q", got)
	}
	if s := stderr.String(); strings.Contains(s, "got no response") {
		t.Errorf("the upstream did answer (101 to another protocol); stderr says: %q", s)
	}
	res, _ := o.report()
	for _, c := range res.Checks {
		if strings.Contains(c.Title, "-> 101") && c.Message == "" {
			t.Errorf("%s: %s %s: the client got 502, not 101", c.ID, c.Title, c.Outcome)
		}
	}
}
