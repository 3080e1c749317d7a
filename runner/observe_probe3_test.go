package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const probe3Machine = "7b1f4aa4c5d6e7f8091a2b3c4d5e6f708192a3b4"

// HAR 1.2 ("Encoding"): "The reader must ignore byte order mark if it exists in the file." A
// HAR saved with a UTF-8 BOM (Windows tools) is read (it was refused: "not JSON at line 1").
func TestObserveHARWithAByteOrderMark(t *testing.T) {
	good := harEntry(probe3Machine, "tok-123456789012345", `{"Comment":"alert 1"}`, 201, fmt.Sprintf(goodAction, "alert 1", probe3Machine), false)
	data, _ := os.ReadFile(writeHAR(t, good))
	path := filepath.Join(t.TempDir(), "bom.har")
	if err := os.WriteFile(path, append([]byte("\xef\xbb\xbf"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := runCLI("observe", "--report-dir", t.TempDir(), path); code != exitOK {
		t.Errorf("exit %d, want 0; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// HAR 1.2: content.text is optional, "Leave out this field if the information is not available"
// (Firefox leaves it out with devtools.netmonitor.har.includeResponseBodies false); postData is
// optional too. A body the recording does not hold is unknown, not empty: the exchange is
// judged without it (it failed as "not JSON" or "request body missing").
func TestObserveHARWithoutTheBodies(t *testing.T) {
	noText := harEntry(probe3Machine, "tok-123456789012345", `{"Comment":"alert 1"}`, 201, "", false)
	noText["response"].(map[string]any)["content"] = map[string]any{"size": 310, "mimeType": "application/json"}
	noPost := harEntry(probe3Machine, "tok-123456789012345", `{"Comment":"alert 1"}`, 201, fmt.Sprintf(goodAction, "alert 1", probe3Machine), false)
	rq := noPost["request"].(map[string]any)
	delete(rq, "postData")
	rq["bodySize"] = 21
	rq["headers"] = append(rq["headers"].([]map[string]any), map[string]any{"name": "Content-Length", "value": "21"})
	for name, e := range map[string]map[string]any{"response content without text": noText, "request without postData": noPost} {
		stdout, _, code := runCLI("observe", "--report-dir", t.TempDir(), writeHAR(t, e))
		if code == exitFailed || strings.Contains(stdout, "FAIL ") {
			t.Errorf("%s: exit %d, a failure for a body the HAR does not hold:\n%s", name, code, stdout)
		}
	}
}

// A client's recording holds its token request too (client credentials: client_secret in the
// form, refresh_token and access_token in the answer). That entry is undocumented and kept in
// the reports, its secrets redacted (the client secret and the refresh token reached them).
func TestObserveHARRedactsTheTokenRequest(t *testing.T) {
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLWJvZHk.sig-abcdef"
	const secret = "Xq8Q~client-secret-value-0123456789"
	const refresh = "0.ARrefresh-token-value-abcdefghijklmnop"
	tok := harEntry(probe3Machine, "", "", 200, `{"token_type":"Bearer","expires_in":3599,"access_token":"`+token+`","refresh_token":"`+refresh+`"}`, false)
	rq := tok["request"].(map[string]any)
	rq["url"] = "https://login.microsoftonline.com/tenant/oauth2/v2.0/token"
	rq["headers"] = []map[string]any{{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}}
	rq["postData"] = map[string]any{"mimeType": "application/x-www-form-urlencoded", "text": "client_id=abc&client_secret=" + secret + "&grant_type=client_credentials"}
	good := harEntry(probe3Machine, token, `{"Comment":"alert 1"}`, 201, fmt.Sprintf(goodAction, "alert 1", probe3Machine), false)
	dir := t.TempDir()
	stdout, _, _ := runCLI("observe", "--report-dir", dir, writeHAR(t, tok, good))
	for _, s := range []string{secret, refresh, token} {
		if strings.Contains(stdout, s) {
			t.Errorf("stdout holds %.12s...", s)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for name, s := range map[string]string{"the client secret": secret, "the refresh token": refresh, "the access token": token} {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds %s", filepath.Base(f), name)
			}
		}
	}
}

// BenchmarkObserveLargeHAR measures the memory observe takes for a large HAR (10 entries of a
// 5 MiB body): "heap-per-file-byte", the peak growth of the heap over the file's size (2 to 3:
// the file and its decoded text; it was over 4, every entry held and each body twice). Every
// body is over observe.MaxBody, so nothing is judged (exit 3), as the proxy would.
func BenchmarkObserveLargeHAR(b *testing.B) {
	pad := strings.Repeat("x", 5<<20)
	body := strings.Replace(fmt.Sprintf(goodAction, "a", probe3Machine), `"errorHResult":0`, `"errorHResult":0,"pad":"`+pad+`"`, 1)
	e := harEntry(probe3Machine, "tok-123456789012345", `{"Comment":"a"}`, 201, body, false)
	entries := make([]map[string]any, 10)
	for i := range entries {
		entries[i] = e
	}
	data, err := json.Marshal(map[string]any{"log": map[string]any{"version": "1.2", "entries": entries}})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "big.har")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	size := uint64(len(data))
	data, entries, e, body, pad = nil, nil, nil, "", ""
	var worst uint64
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		_, stderr, code := runCLI("observe", "--report-dir", b.TempDir(), path)
		close(stop)
		<-done
		if code != exitCannotDo {
			b.Fatalf("exit %d, want 3: %s", code, stderr)
		}
		worst = max(worst, peak.Load()-min(peak.Load(), base.HeapInuse))
	}
	b.ReportMetric(float64(worst)/float64(size), "heap-per-file-byte")
}
