package observe

import (
	"strings"
	"testing"
)

// FuzzReadHAR: whatever a file holds, ReadHAR neither panics nor names a Go type in its error,
// and every exchange it returns has a request with a URL and a response status.
func FuzzReadHAR(f *testing.F) {
	for _, seed := range []string{
		"", "{}", `{"log":{"entries":[]}}`, "[1]", `{"log":{"entries":{}}}`,
		`{"log":{"entries":[{"request":{"method":"GET","url":"https://x/api/machineactions/a","headers":[]},"response":{"status":404,"headers":[],"content":{"text":"{}"}}}]}}`,
		`{"log":{"entries":[{"request":{"method":"POST","url":"/api/machines/m/collectInvestigationPackage","postData":{"text":"{\"Comment\":\"c\"}"}},"response":{"status":201,"content":{"text":"eyJ9","encoding":"base64"}}}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exchanges, _, err := ReadHAR(data)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "observe.") || strings.Contains(msg, "Go value") {
				t.Errorf("the error names a Go type: %s", msg)
			}
			return
		}
		for i, ex := range exchanges {
			if ex.Request == nil || ex.Request.URL == nil || ex.Status == 0 {
				t.Errorf("exchange %d: request %v, status %d", i, ex.Request, ex.Status)
			}
		}
	})
}
