package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
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
