package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func probe5Upgrade(t *testing.T, answer string) (got string, entries []string, stderr string) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString(answer)
		_ = brw.Flush()
		time.Sleep(100 * time.Millisecond)
	}))
	defer up.Close()
	var errs lockedBuffer
	o, addr := probe2Front(t, up.URL+"/api", "", &errs)
	got = probeRaw(t, addr, "GET /api/machineactions/"+probeActionID+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	res, _ := o.report()
	for _, c := range res.Checks {
		entries = append(entries, c.ID+" "+c.Title+" "+string(c.Outcome)+" "+c.Message)
	}
	return got, entries, errs.String()
}

// An upgrade the reverse proxy refuses (the upstream switches to another protocol than the one
// asked) is titled with the upstream's 101, and its entry says the answer could not be passed
// on and the client got 502, not that there was no response (it did); so does stderr.
func TestProxyRefusedUpgradeEntrySaysWhy(t *testing.T) {
	got, entries, stderr := probe5Upgrade(t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 502") {
		t.Fatalf("client got %q", got)
	}
	if strings.Contains(stderr, "got no response") {
		t.Errorf("the upstream did answer (101 to another protocol); stderr says: %q", stderr)
	}
	if len(entries) != 1 {
		t.Fatalf("entries: %q", entries)
	}
	if e := entries[0]; strings.Contains(e, "no response") || !strings.Contains(e, "could not be passed on (the client got 502)") {
		t.Errorf("%s", e)
	}
}
