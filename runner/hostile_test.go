package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/suites/config"
)

// echoEncodings are the ways a hostile target echoes a token back.
var echoEncodings = map[string]func(string) string{
	"as is":           func(s string) string { return s },
	".NET JSON":       func(s string) string { return strings.ReplaceAll(s, "+", `\u002B`) },
	"every char \\u":  func(s string) string { return everyCharEscaped(s) },
	"query":           url.QueryEscape,
	"form":            func(s string) string { return url.Values{"client_secret": {s}}.Encode() },
	"upper":           strings.ToUpper,
	"lower":           strings.ToLower,
	"hex":             func(s string) string { return hex.EncodeToString([]byte(s)) },
	"base64":          func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"base64 URL at 1": func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte("x" + s)) },
	"base64 at 2":     func(s string) string { return base64.StdEncoding.EncodeToString([]byte("xy" + s + "tail")) },
	"first half":      func(s string) string { return s[:len(s)/2] },
	"second half":     func(s string) string { return s[len(s)/2:] },
	"altered":         func(s string) string { return s[:len(s)-4] + "ZZZZ" },
	"percent, all bytes": func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	},
}

// perChar is how many characters an escape takes for each character of the secret.
var perChar = map[string]int{"every char \\u": 6, "percent, all bytes": 3}

func everyCharEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04X`, r)
	}
	return b.String()
}

// leakedPiece is a 12-character piece of a secret in one of the echo encodings found in text
// (case aside); pieces the encoding of another secret has too are the encoding's own.
func leakedPiece(text, secret string) string {
	low := strings.ToLower(text)
	for name, enc := range echoEncodings {
		form := strings.ToLower(enc(secret))
		other := strings.ToLower(enc(strings.Repeat("#", len(secret))))
		n := 12 * perChar[name] // escapes: a piece is 12 characters of the secret
		if n == 0 {
			n = 12
		}
		for i := 0; i+n <= len(form); i++ {
			piece := form[i : i+n]
			if strings.Contains(other, piece[1:]) || strings.Contains(other, piece[:n-1]) {
				continue
			}
			if strings.Contains(low, piece) {
				return name + ": " + piece
			}
		}
	}
	return ""
}

// A target that echoes the token in every encoding, in its body, its header values and its
// header names: no file the run writes, nor what it prints, holds a piece of a token.
func TestNoReportContainsAnEncodedToken(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		fields := []string{`"id":"x"`}
		i := 0
		for name, enc := range echoEncodings {
			if auth == "" {
				break
			}
			e := enc(auth)
			fields = append(fields, strconv.Quote(name)+`:"`+strings.ReplaceAll(e, `"`, `\"`)+`"`)
			w.Header().Set(fmt.Sprintf("X-Echo-%d", i), e)
			i++
		}
		if auth != "" {
			w.Header().Set(strings.NewReplacer("+", "-", "/", "-", "=", "-").Replace(auth), "as a header name")
		}
		// The Content-Type too: a violation's reason quotes it, and run prints the reason.
		w.Header().Set("Content-Type", "application/json")
		if auth != "" && strings.Contains(r.URL.Path, "collectInvestigationPackage") {
			w.Header().Set("Content-Type", "application/x-"+strings.NewReplacer("+", "-", "/", "-", "=", "-").Replace(auth))
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("{" + strings.Join(fields, ",") + "}"))
	}))
	defer echo.Close()
	canaries := map[string]string{
		"CIP_TOKEN_ADMIN":        "Canary+Admin/7f3a9c2e4b1d=8f60a5e3QZ",
		"CIP_TOKEN_GLOBAL_ADMIN": "Canary+Global/2b8d4f6a1c3e5g7h9i0jQZ",
		"CIP_TOKEN_READER":       "Canary+Reader/9z8y7x6w5v4u3t2s1r0qQZ",
		"CIP_TOKEN_EXPIRED":      "Canary+Expired/1a2b3c4d5e6f7g8h9i0jQ",
	}
	env := map[string]string{"CIP_TARGET": echo.URL + "/api", "CIP_MACHINE_IDS": machineList(30)}
	for k, v := range canaries {
		env[k] = v
	}
	dir := t.TempDir()
	out := cli(t, dir, env, "run", "--report-dir", "out")
	if out.code != exitFailed {
		t.Errorf("run against an echoing target: exit %d\n%s", out.code, out.stderr)
	}
	scan := func(where, text string) {
		for name, canary := range canaries {
			if piece := leakedPiece(text, canary); piece != "" {
				t.Errorf("%s contains %s (%s)", where, name, piece)
			}
		}
	}
	scan("stdout", out.stdout)
	scan("stderr", out.stderr)
	files, err := scanFiles(dir, scan)
	if err != nil || files != len(reportFiles) {
		t.Errorf("scanned %d files: %v", files, err)
	}
	// The echoes were there to redact.
	data, _ := os.ReadFile(filepath.Join(dir, "out", resultsFile))
	if !strings.Contains(string(data), "[REDACTED]") {
		t.Error("results.json redacted nothing: did the target echo?")
	}
}

// maxReportBytes bounds each report file of a run against a hostile target: an exchange keeps
// at most 64 KiB of body and 16 KiB of header, whatever the target sends.
const maxReportBytes = 8 << 20

// hostileTargets answer every request with something meant to exhaust the harness.
func hostileTargets() map[string]http.HandlerFunc {
	bomb := func() []byte {
		var b bytes.Buffer
		z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 100 {
			_, _ = z.Write(zeros)
		}
		_ = z.Close()
		return b.Bytes()
	}()
	big := bytes.Repeat([]byte("b"), 1<<20)
	return map[string]http.HandlerFunc{
		"9 MB of headers": func(w http.ResponseWriter, r *http.Request) {
			for i := range 9 {
				w.Header().Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 1<<20))
			}
			w.WriteHeader(201)
		},
		"10,000 headers": func(w http.ResponseWriter, r *http.Request) {
			for i := range 10000 {
				w.Header().Set("X-H"+strconv.Itoa(i), "value")
			}
			w.WriteHeader(201)
		},
		"gzip bomb": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			_, _ = w.Write(bomb)
		},
		"50 MB body": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(50<<20))
			w.WriteHeader(201)
			for range 50 {
				if _, err := w.Write(big); err != nil {
					return
				}
			}
		},
	}
}

// Hostile targets end the run, and its reports stay under maxReportBytes.
func TestHostileTargetsKeepReportsBounded(t *testing.T) {
	t.Parallel()
	targets := hostileTargets()
	for name, handler := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			target := httptest.NewServer(handler)
			defer target.Close()
			env := map[string]string{"CIP_TARGET": target.URL + "/api", "CIP_MACHINE_IDS": machineList(30), "CIP_TOKEN_ADMIN": "hostile-admin-token-0123456789"}
			dir := t.TempDir()
			out := cli(t, dir, env, "run", "--quiet", "--report-dir", "out")
			if out.code != exitFailed && out.code != exitCannotDo {
				t.Errorf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
			}
			for _, file := range reportFiles {
				info, err := os.Stat(filepath.Join(dir, "out", file))
				if err != nil {
					t.Errorf("no %s: %v", file, err)
					continue
				}
				t.Logf("%s: %d bytes", file, info.Size())
				if info.Size() > maxReportBytes {
					t.Errorf("%s has %d bytes, more than %d", file, info.Size(), maxReportBytes)
				}
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "out", resultsFile)); name == "50 MB body" && !strings.Contains(string(data), "bytes not kept") {
				t.Error("results.json does not say what it did not keep of the body")
			}
		})
	}
}

// A run stopped by --timeout writes every report, each saying error, and nothing of an
// earlier, passed run is left in the report dir.
func TestAStoppedRunLeavesNoStalePass(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := "STALE PASSED run"
	for _, name := range reportFiles {
		if err := os.WriteFile(filepath.Join(out, name), []byte(stale), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"CIP_TARGET": hang.URL + "/api", "CIP_MACHINE_IDS": machineList(30), "CIP_TOKEN_ADMIN": "hang-admin-token-0123456789", "CIP_REQUEST_TIMEOUT": "30s"}
	start := time.Now()
	o := cli(t, dir, env, "run", "--timeout", "2s", "--report-dir", "out")
	if o.code != exitCannotDo || time.Since(start) > time.Minute {
		t.Errorf("exit %d after %s\n%s\n%s", o.code, time.Since(start), o.stdout, o.stderr)
	}
	for _, name := range reportFiles {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || strings.Contains(string(data), stale) {
			t.Errorf("%s: %v, stale: %v", name, err, strings.Contains(string(data), stale))
		}
	}
	res, err := results.Load(filepath.Join(out, resultsFile))
	if err != nil || res.Verdict != results.VerdictError {
		t.Fatalf("results: %v %+v", err, res)
	}
	for name, says := range map[string]string{junitFile: "cipconform.verdict\" value=\"error", summaryFile: "## cipconform: ERROR", htmlFile: "<strong>ERROR</strong>"} {
		if data, _ := os.ReadFile(filepath.Join(out, name)); !strings.Contains(string(data), says) {
			t.Errorf("%s does not say %q:\n%.600s", name, says, data)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != len(reportFiles) {
		t.Errorf("the report dir has %d entries (temporary files left?)", len(entries))
	}
}

// BenchmarkPeakMemoryAgainstHostileTargets runs the whole catalogue, in this process, against
// each hostile target and reports the peak heap in use during the run ("peak-MiB"): what the
// README states as the bound. An exchange keeps at most MaxResponseBytes (1 MiB) of raw body
// for validation until the run ends, and 64 KiB + 16 KiB for the reports.
func BenchmarkPeakMemoryAgainstHostileTargets(b *testing.B) {
	for name, handler := range hostileTargets() {
		b.Run(strings.ReplaceAll(name, " ", "-"), func(b *testing.B) {
			target := httptest.NewServer(handler)
			defer target.Close()
			cfg := config.Defaults()
			cfg.Target, cfg.MachineIDs, cfg.TokenAdmin = target.URL+"/api", strings.Split(machineList(30), ","), "hostile-admin-token-0123456789"
			p, err := cfg.OneProfile()
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			var peak uint64
			for b.Loop() {
				runtime.GC()
				done := make(chan struct{})
				sampled := make(chan uint64)
				go func() {
					var m runtime.MemStats
					var top uint64
					tick := time.NewTicker(2 * time.Millisecond)
					defer tick.Stop()
					for {
						runtime.ReadMemStats(&m)
						top = max(top, m.HeapInuse)
						select {
						case <-done:
							sampled <- top
							return
						case <-tick.C:
						}
					}
				}()
				_, _ = execute(context.Background(), cfg, p, runOptions{reportDir: dir, runTimeout: time.Minute}, gate{}, io.Discard, io.Discard)
				close(done)
				peak = max(peak, <-sampled)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}
