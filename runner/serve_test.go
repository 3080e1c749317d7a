package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/reference"
)

// serve as a stand-in: a client fetches a token from the printed token endpoint for a client
// given on the command line (and one from --client-file), and collects under the printed /api.
func TestServeAsADefenderStandIn(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	file := filepath.Join(t.TempDir(), "clients")
	if err := os.WriteFile(file, []byte("# a reader\nreader-app:reader-secret:Machine.Read.All\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := exec.CommandContext(ctx, os.Args[0], "serve", "--addr", "127.0.0.1:0", "--quiet",
		"--client", "my-app:my-secret-123:Machine.CollectForensics:My App", "--client-file", file, "--fault", "charset")
	serve.Env = append(withoutCIP(os.Environ()), asMain+"=1")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		if err := serve.Wait(); err != nil {
			t.Errorf("serve did not stop cleanly: %v", err)
		}
	}()
	var api, v1, v2 string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "# Today's API:"):
			api = fields[len(fields)-1]
		case strings.HasPrefix(line, "#   v1 "):
			v1 = fields[2]
		case strings.HasPrefix(line, "#   v2 "):
			v2 = fields[2]
		}
		if strings.HasPrefix(line, "# Press Ctrl-C") {
			break
		}
	}
	if api == "" || v1 == "" || v2 == "" {
		t.Fatalf("serve printed no API base URL or token endpoint: %q %q %q", api, v1, v2)
	}
	post := func(u, ctype, auth, body string) (int, map[string]any) {
		req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	form := func(id, secret string, v2 bool) string {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
		if v2 {
			f.Set("scope", "https://api.securitycenter.microsoft.com/.default")
		} else {
			f.Set("resource", "https://api.securitycenter.microsoft.com")
		}
		return f.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	for i, endpoint := range []string{v1, v2} {
		status, tok := post(endpoint, formType, "", form("my-app", "my-secret-123", i == 1))
		if status != 200 {
			t.Fatalf("token from %s: %d %v", endpoint, status, tok)
		}
		status, action := post(api+"/machines/"+reference.DefaultMachines(3)[i]+"/collectInvestigationPackage", "application/json", tok["access_token"].(string), `{"Comment":"x"}`)
		if status != 201 || action["requestor"] != "My App" || action["status"] != "Pending" {
			t.Errorf("collect with a token from %s: %d %v", endpoint, status, action)
		}
	}
	if status, body := post(v2, formType, "", form("stranger", "stranger-secret", true)); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("unconfigured client: %d %v", status, body)
	}
	status, tok := post(v1, formType, "", form("reader-app", "reader-secret", false))
	if status != 200 {
		t.Fatalf("reader token: %d %v", status, tok)
	}
	if status, body := post(api+"/machines/"+reference.DefaultMachines(3)[2]+"/collectInvestigationPackage", "application/json", tok["access_token"].(string), `{"Comment":"x"}`); status != 403 {
		t.Errorf("reader app collects: %d %v", status, body)
	}
}

func TestServeRefusesBadClientsAndFaults(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--client", "id:short:Machine.CollectForensics"},
		{"--client", "id:secret-123:A", "--client", "id:secret-456:B"},
		{"--client-file", filepath.Join(t.TempDir(), "missing")},
		{"--fault", "no-such-mutant"},
	} {
		out := cli(t, t.TempDir(), nil, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
		if out.code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d\n%s", args, out.code, exitUsage, out.stderr)
		}
	}
}
