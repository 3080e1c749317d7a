package harness_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

const token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWNsYWltcw.c2lnbmF0dXJlLXNlY3JldA"

func client(t *testing.T, tweak func(*config.Config)) *harness.Client {
	t.Helper()
	cfg := config.Defaults()
	cfg.TokenAdmin = token
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := harness.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func post(url string) harness.Request {
	return harness.Request{Label: "test", Method: http.MethodPost, URL: url, Auth: &harness.Auth{Value: "Bearer " + token, Shown: "Bearer $CIP_TOKEN_ADMIN"}, Body: []byte(`{"Comment":"x"}`)}
}

func TestRedirectsAreNotFollowedAndTheTokenStaysHome(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	target := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusTemporaryRedirect))
	defer target.Close()
	ex := client(t, nil).Do(context.Background(), post(target.URL))
	if ex.Status != 307 || !strings.Contains(ex.Error, "redirected") || ex.Unusable {
		t.Errorf("status %d error %q unusable %v", ex.Status, ex.Error, ex.Unusable)
	}
	if elsewhere.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

func TestAHangingTargetEndsWithinTheTimeout(t *testing.T) {
	release := make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer target.Close()
	defer close(release)
	start := time.Now()
	ex := client(t, func(c *config.Config) { c.RequestTimeout = 200 * time.Millisecond }).Do(context.Background(), post(target.URL))
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %s", elapsed)
	}
	if !ex.Unusable || !strings.Contains(ex.Error, "no response within 200ms") {
		t.Errorf("error %q unusable %v", ex.Error, ex.Unusable)
	}
}

func TestAnEndlessBodyIsCutAtTheLimit(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		chunk := []byte(strings.Repeat("x", 4096))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer target.Close()
	ex := client(t, func(c *config.Config) { c.MaxResponseBytes = 10000 }).Do(context.Background(), post(target.URL))
	if !strings.Contains(ex.Error, "longer than 10000 bytes") || len(ex.Body()) != 10000 || ex.Unusable {
		t.Errorf("error %q, body %d bytes, unusable %v", ex.Error, len(ex.Body()), ex.Unusable)
	}
}

func TestGarbageInsteadOfHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("\x00\x01garbage, not HTTP\r\n\r\n"))
			conn.Close()
		}
	}()
	ex := client(t, nil).Do(context.Background(), post("http://"+ln.Addr().String()+"/x"))
	if !ex.Unusable || ex.Error == "" {
		t.Errorf("error %q unusable %v", ex.Error, ex.Unusable)
	}
}

func TestAnUnreachableTargetFailsTheSuiteAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := config.Defaults()
	cfg.Target, cfg.TokenAdmin = "http://"+addr+"/api", token
	start := time.Now()
	_, err = harness.NewSuite(context.Background(), cfg, spec.Preview2017, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot reach target") {
		t.Errorf("error %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestSecretsAreRedactedAndCurlReproduces(t *testing.T) {
	// A target that echoes the Authorization header into its body and a header.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":{"code":"BadRequest","message":"` + r.Header.Get("Authorization") + `"}}`))
	}))
	defer target.Close()
	ex := client(t, nil).Do(context.Background(), post(target.URL))
	all := ex.Summary() + ex.Curl + ex.ResponseBody + ex.ResponseHeader["X-Echo"] + ex.RequestHeader["Authorization"]
	if strings.Contains(all, token) || strings.Contains(all, "c2lnbmF0dXJlLXNlY3JldA") {
		t.Errorf("the token leaked:\n%s", all)
	}
	if !strings.Contains(ex.Curl, `"Authorization: Bearer $CIP_TOKEN_ADMIN"`) {
		t.Errorf("curl %s", ex.Curl)
	}
}

// The tampered token's shell expression, evaluated by a shell with the real token in the
// environment, is exactly the value sent: the curl command reproduces the check.
func TestTamperedTokenIsReproducible(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	var sent, shown string
	s := suiteFor(t)
	env := s.Env(context.Background(), harness.Check{Info: harness.Info{ID: "CIP-TEST-001"}}, harness.Hooks{})
	auth := env.Tampered(harness.Admin)
	sent, shown = auth.Value, auth.Shown
	cmd := exec.Command(sh, "-c", `printf %s "`+shown+`"`)
	cmd.Env = []string{"CIP_TOKEN_ADMIN=" + token}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != sent || sent == "Bearer "+token {
		t.Errorf("shell gives %q, sent %q", out, sent)
	}
}

func suiteFor(t *testing.T) *harness.Suite {
	t.Helper()
	target := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(target.Close)
	cfg := config.Defaults()
	cfg.Target, cfg.TokenAdmin = target.URL, token
	s, err := harness.NewSuite(context.Background(), cfg, spec.Preview2017, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ConformToOperation's failure lists every violation with its pointer, and the body.
func TestConformToOperationListsEveryViolation(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"id":"not-a-guid","type":"Nope","status":"Done"}`))
	}))
	defer target.Close()
	ex := client(t, nil).Do(context.Background(), post(target.URL))
	c, err := spec.Preview2017.Contract()
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Operation(spec.OperationID)
	if err != nil {
		t.Fatal(err)
	}
	var message string
	g := gomega.NewGomega(func(m string, _ ...int) { message = m })
	g.Expect(ex).To(harness.ConformToOperation(op))
	for _, want := range []string{"body /id", "body /type", "body /status", "body /machineId", "body /requestor", "body /creationDateTimeUtc", `"not-a-guid"`, "reproduce: curl"} {
		if !strings.Contains(message, want) {
			t.Errorf("the failure does not mention %q:\n%s", want, message)
		}
	}
}
