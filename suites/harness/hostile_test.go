package harness_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

// kept is how many bytes an exchange keeps of a response, for reports.
func kept(ex *harness.Exchange) int {
	n := len(ex.ResponseBody)
	for k, v := range ex.ResponseHeader {
		n += len(k) + len(v)
	}
	return n
}

// What an exchange keeps of a hostile response is bounded, and says what it did not keep.
func TestAHostileResponseIsKeptWithinBounds(t *testing.T) {
	bomb := func() []byte {
		var b bytes.Buffer
		z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for range 200 { // 200 MB of zeros in about 200 KB
			_, _ = z.Write(zeros)
		}
		_ = z.Close()
		return b.Bytes()
	}()
	cases := []struct {
		name    string
		handler http.HandlerFunc
		check   func(t *testing.T, ex *harness.Exchange)
	}{
		{"9 MB of headers", func(w http.ResponseWriter, r *http.Request) {
			for i := range 9 {
				w.Header().Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 1<<20))
			}
			w.WriteHeader(201)
		}, func(t *testing.T, ex *harness.Exchange) {
			if !ex.Unusable || !strings.Contains(ex.Error, "exceeded") {
				t.Errorf("error %q, unusable %v", ex.Error, ex.Unusable)
			}
		}},
		{"200 KB of headers, under the client's cap", func(w http.ResponseWriter, r *http.Request) {
			for i := range 4 {
				w.Header().Set(fmt.Sprintf("X-Big-%d", i), strings.Repeat("h", 50<<10))
			}
			w.WriteHeader(201)
		}, func(t *testing.T, ex *harness.Exchange) {
			if ex.Status != 201 || len(ex.Header().Get("X-Big-3")) != 50<<10 {
				t.Errorf("validation does not see the headers read: %d", ex.Status)
			}
			if _, ok := ex.ResponseHeader["…"]; !ok {
				t.Errorf("no mark of what was not kept: %d fields", len(ex.ResponseHeader))
			}
		}},
		{"10,000 headers", func(w http.ResponseWriter, r *http.Request) {
			for i := range 10000 {
				w.Header().Set("X-H"+strconv.Itoa(i), "v")
			}
			w.WriteHeader(201)
		}, func(t *testing.T, ex *harness.Exchange) {
			if len(ex.Header()) < 10000 {
				t.Errorf("validation sees %d header fields", len(ex.Header()))
			}
			if len(ex.ResponseHeader) > harness.KeptHeaders+1 || !strings.Contains(ex.ResponseHeader["…"], "header fields") {
				t.Errorf("kept %d header fields, mark %q", len(ex.ResponseHeader), ex.ResponseHeader["…"])
			}
		}},
		{"a gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept-Encoding") != "" {
				t.Errorf("the client asked for %q", r.Header.Get("Accept-Encoding"))
			}
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			_, _ = w.Write(bomb)
		}, func(t *testing.T, ex *harness.Exchange) {
			if len(ex.Body()) > len(bomb) {
				t.Errorf("the body was decompressed: %d bytes", len(ex.Body()))
			}
		}},
		{"50 MB body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(50<<20))
			w.WriteHeader(201)
			chunk := bytes.Repeat([]byte("b"), 1<<20)
			for range 50 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, func(t *testing.T, ex *harness.Exchange) {
			if len(ex.Body()) != 2<<20 || !strings.Contains(ex.Error, "longer than") {
				t.Errorf("validation sees %d bytes, error %q", len(ex.Body()), ex.Error)
			}
			if !strings.Contains(ex.ResponseBody, "52,363,264 bytes not kept (of 52,428,800") {
				t.Errorf("no mark of what was not kept: %q", ex.ResponseBody[len(ex.ResponseBody)-200:])
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := httptest.NewServer(tc.handler)
			defer target.Close()
			ex := client(t, func(c *config.Config) { c.MaxResponseBytes = 2 << 20 }).Do(context.Background(), post(target.URL))
			if n := kept(ex); n > harness.KeptBodyBytes+harness.KeptHeaderBytes+1024 {
				t.Errorf("the exchange keeps %d bytes", n)
			}
			if len(ex.Summary()) > harness.KeptHeaderBytes+8<<10 {
				t.Errorf("the summary has %d bytes", len(ex.Summary()))
			}
			tc.check(t, ex)
		})
	}
}

// A target that echoes the token as a header name (Go rewrites its case) shows it nowhere.
func TestATokenEchoedAsAHeaderNameIsRedacted(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(strings.ReplaceAll(token, ".", "-"), "echo")
		w.Header().Set(token[:30], "first half")
		w.Header().Set(token[30:], "second half")
		w.WriteHeader(400)
	}))
	defer target.Close()
	ex := client(t, nil).Do(context.Background(), post(target.URL))
	for k, v := range ex.ResponseHeader {
		if low := strings.ToLower(k + v); strings.Contains(low, strings.ToLower(token[20:32])) || strings.Contains(low, strings.ToLower(token[40:52])) {
			t.Errorf("header %q: %q shows the token", k, v)
		}
	}
	if _, ok := ex.ResponseHeader["[REDACTED]"]; !ok {
		t.Errorf("header names: %v", ex.ResponseHeader)
	}
}
