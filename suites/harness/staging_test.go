package harness_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cipconform/cipconform/fixtures/identity"
	"github.com/cipconform/cipconform/fixtures/reference"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/checks"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/harness"
)

func TestA429IsWaitedOutAndRetriedOnce(t *testing.T) {
	var calls atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer target.Close()
	c := client(t, nil)
	ex := c.Do(context.Background(), post(target.URL))
	if ex.Status != http.StatusCreated || calls.Load() != 2 || !strings.Contains(ex.Note, "waited 1s") {
		t.Errorf("status %d after %d calls, note %q", ex.Status, calls.Load(), ex.Note)
	}
	// A check of the rate limit itself keeps the 429.
	calls.Store(0)
	r := post(target.URL)
	r.NoRetry = true
	if ex := c.Do(context.Background(), r); ex.Status != http.StatusTooManyRequests || calls.Load() != 1 {
		t.Errorf("NoRetry: status %d after %d calls", ex.Status, calls.Load())
	}
}

func TestALongRetryAfterIsNotWaited(t *testing.T) {
	var calls atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer target.Close()
	ex := client(t, nil).Do(context.Background(), post(target.URL))
	if ex.Status != http.StatusTooManyRequests || calls.Load() != 1 || !strings.Contains(ex.Note, "not retried") {
		t.Errorf("status %d after %d calls, note %q", ex.Status, calls.Load(), ex.Note)
	}
}

// --max-rps spaces the requests: the target sees them at least 1/rps apart.
func TestMaxRPSSpacesRequests(t *testing.T) {
	var mu sync.Mutex
	var seen []time.Time
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		mu.Unlock()
	}))
	defer target.Close()
	c := client(t, func(c *config.Config) { c.MaxRPS = 20 })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.Do(context.Background(), post(target.URL)) })
	}
	wg.Wait()
	if len(seen) != 4 {
		t.Fatalf("%d requests", len(seen))
	}
	first, last := seen[0], seen[0]
	for _, s := range seen {
		first, last = minTime(first, s), maxTime(last, s)
	}
	if gap := last.Sub(first); gap < 3*45*time.Millisecond {
		t.Errorf("4 requests at 20 per second arrived within %s", gap)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TLS with a private CA: trusted through CIP_CA_FILE; refused without it, saying what to do.
func TestTLSWithAPrivateCA(t *testing.T) {
	issuer, err := identity.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := issuer.MintTokens(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reference.New(reference.Config{BasePath: "/api", Machines: reference.DefaultMachines(30), Verify: issuer.Verify})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ref)
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	catalogue, err := checks.Catalogue(spec.Preview2017)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Target, cfg.MachineIDs = srv.URL+"/api", reference.DefaultMachines(30)
	for _, role := range config.Roles {
		*role.In(&cfg).Token = config.Secret(role.Minted(tokens))
	}

	if _, err := harness.NewSuite(context.Background(), cfg, spec.Preview2017, catalogue); err == nil || !strings.Contains(err.Error(), "CIP_CA_FILE") {
		t.Errorf("an untrusted certificate: %v", err)
	}
	cfg.CAFile = caFile
	s, err := harness.NewSuite(context.Background(), cfg, spec.Preview2017, catalogue)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range catalogue {
		if res := s.Execute(context.Background(), c); res.Outcome != harness.Passed {
			t.Errorf("%s over TLS: %s %s", c.ID, res.Outcome, res.Message)
		}
	}
}
