package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
)

// Suite is a target made ready for a catalogue: the client, the tokens, and the machines
// assigned to each check. Without a configured target it starts the embedded reference.
type Suite struct {
	Config config.Config
	Target string
	Op     *spec.Operation
	// Profile is the contract judged: its document and the facts a schema cannot say.
	Profile spec.Profile
	// MachinesNeeded is how many machines the catalogue needs: one per machine that a
	// creates-action check asks for, plus the probe machine of the read-only checks.
	MachinesNeeded int
	// Embedded is the reference started for this suite, nil when a target was configured.
	Embedded *embedded.Target

	client     *Client
	tokens     map[Role]oauth2.TokenSource
	allocation map[string][]string
	probe      string
	unknown    string
	// production is set when the target is production; refused says why.
	production bool
	refused    string
	// shared holds the exchange of each shared request sent in this run (see Request.Shared).
	shared sync.Map // request key -> *sharedExchange

	mu       sync.Mutex
	aborted  string // why the run was given up; "" while it goes on
	timeouts int    // requests in a row that got no answer in time
	actions  []*Action
	sawBusy  bool            // a creation found a machine busy that this run had not used yet
	used     map[string]bool // machines on which this run started an action

	// companion reads and cancels actions, where the contract allows it.
	companion companion
	// probeShared: the one machine id serves the read-only checks and, after them, every
	// check that creates an action.
	probeShared bool
}

// StopAfterTimeouts is how many requests in a row may go unanswered before the run is given
// up: a target that stopped answering must not hold a run for a timeout per check.
const StopAfterTimeouts = 3

// SawBusy reports whether a creation of this run found its machine busy when it started.
func (s *Suite) SawBusy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sawBusy
}

// Aborted says why the run was given up, or "".
func (s *Suite) Aborted() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aborted
}

func (s *Suite) abort(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted == "" {
		s.aborted = reason
	}
}

// observe counts the requests in a row that got no answer in time; any answer resets it.
func (s *Suite) observe(ex *Exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ex.timedOut {
		s.timeouts = 0
		return
	}
	s.timeouts++
	if s.timeouts >= StopAfterTimeouts && s.aborted == "" {
		s.aborted = fmt.Sprintf("the target stopped answering: %d requests in a row got no response within %s (%sREQUEST_TIMEOUT)", s.timeouts, s.Config.RequestTimeout, config.EnvPrefix)
	}
}

type sharedExchange struct {
	once sync.Once
	ex   *Exchange
}

// do sends a request through the client; a shared request is sent once per run, and every
// check that sends the same one gets that exchange.
func (s *Suite) do(ctx context.Context, r Request) *Exchange {
	if !r.Shared {
		return s.send(ctx, r)
	}
	v, _ := s.shared.LoadOrStore(r.key(), &sharedExchange{})
	se := v.(*sharedExchange)
	se.once.Do(func() { se.ex = s.send(ctx, r) })
	return se.ex
}

// send sends a request, again while its RetryWhile says so, within the busy wait.
func (s *Suite) send(ctx context.Context, r Request) *Exchange {
	ex := s.client.Do(ctx, r)
	s.observe(ex) // once per request sent, however many checks share its exchange
	if r.RetryWhile == nil || !r.RetryWhile(ex) {
		return ex
	}
	// A machine busy before this run started anything on it is busy with an earlier run's
	// collection (one this run left busy, say by a cancel that did nothing, is not).
	if ex.HTTPRequest() != nil {
		if params, ok := s.Op.PathParams(ex.HTTPRequest().URL.Path); ok {
			s.mu.Lock()
			s.sawBusy = s.sawBusy || !s.used[params["id"]]
			s.mu.Unlock()
		}
	}
	if s.Config.BusyWait <= 0 {
		return ex
	}
	start := time.Now()
	for r.RetryWhile(ex) && time.Since(start) < s.Config.BusyWait {
		if sleep(ctx, min(2*time.Second, s.Config.BusyWait-time.Since(start))) != nil {
			return ex
		}
		ex = s.client.Do(ctx, r)
	}
	ex.Note = strings.TrimPrefix(ex.Note+"; ", "; ") + fmt.Sprintf("the machine was busy: waited %s (%sBUSY_WAIT %s) and sent the request again", time.Since(start).Round(time.Second), config.EnvPrefix, s.Config.BusyWait)
	return ex
}

// NewSuite prepares a run of checks against the configured target, or against a freshly
// started embedded reference when none is configured. It fails fast, saying so, when the
// target cannot be reached.
//
// The profile is the contract the checks judge by (its document and facts); the checks are
// the catalogue of that profile.
func NewSuite(ctx context.Context, cfg config.Config, profile spec.Profile, checks []Check) (*Suite, error) {
	op, err := profile.Collect()
	if err != nil {
		return nil, err
	}
	s := &Suite{Op: op, Profile: profile, companion: companionOf(profile)}
	if cfg.Target == "" {
		t, err := embedded.Start(embedded.Options{Machines: 1 + machinesOf(units(checks)) + 8})
		if err != nil {
			return nil, fmt.Errorf("start the embedded reference: %w", err)
		}
		s.Embedded = t
		cfg.Profile = profile.Name
		cfg = TargetConfig(cfg, t)
	}
	s.Config = cfg
	s.Target = cfg.Target
	if s.client, err = NewClient(cfg); err != nil {
		s.Close()
		return nil, err
	}
	s.tokens = tokenSources(cfg, s.client.Redactor())
	s.production, s.refused = cfg.Production()
	s.unknown = cfg.UnknownMachineID
	if s.unknown == "" {
		s.unknown = "cipconform-unknown-" + randomHex(8)
	}
	s.allocate(checks)
	if err := s.preflight(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// TargetConfig points a configuration at an embedded target: its URL (for the configuration's
// profile; the preview without one), machines and tokens (client credentials, which the
// embedded target has no use for, are dropped).
func TargetConfig(cfg config.Config, t *embedded.Target) config.Config {
	for _, role := range config.Roles {
		s := role.In(&cfg)
		if s.ClientID != nil {
			*s.ClientID, *s.ClientSecret = "", ""
		}
		*s.Token = config.Secret(role.Minted(t.Tokens))
	}
	cfg.Target = t.BaseURL
	if p, err := spec.LookupProfile(cfg.Profile); err == nil {
		cfg.Target = strings.TrimSuffix(t.BaseURL, embedded.BasePath) + p.BasePath
		if p.AppPermission != "" {
			// Real integrations call today's API as applications: the administrator is an
			// app with the permission, the reader an app without it.
			cfg.TokenAdmin, cfg.TokenReader = config.Secret(t.Tokens.APIAdmin), config.Secret(t.Tokens.APIReader)
		}
	}
	cfg.MachineIDs = t.Machines
	return cfg
}

// unit is what gets machines: a group of checks that share one creation, or one check.
type unit struct {
	checks   []string
	machines int
	must     int // how many MUST checks it serves: its value
}

// units groups the checks that need machines, most valuable first (the most MUST checks
// served), then in catalogue order.
func units(checks []Check) []unit {
	var out []unit
	group := map[string]int{}
	for _, c := range checks {
		if c.Machines == 0 {
			continue
		}
		i, ok := group[c.Shares]
		if !ok || c.Shares == "" {
			i = len(out)
			out = append(out, unit{})
			if c.Shares != "" {
				group[c.Shares] = i
			}
		}
		u := &out[i]
		u.checks = append(u.checks, c.ID)
		u.machines = max(u.machines, c.Machines)
		if c.Level == Must {
			u.must++
		}
	}
	slices.SortStableFunc(out, func(a, b unit) int { return b.must - a.must })
	return out
}

func machinesOf(us []unit) int {
	n := 0
	for _, u := range us {
		n += u.machines
	}
	return n
}

// allocate gives the first machine to the read-only checks (the probe) and machines to the
// checks that create actions, the most valuable first; the same assignment in every process
// of a parallel run.
//
// Where the harness cancels the actions it starts (today's API), a machine serves check after
// check: the units take the other machines in turn, or the probe machine itself when it is
// the only one, so one machine id is enough for a full run. Elsewhere each unit needs
// machines of its own, and a unit that does not fit leaves the rest to the next ones; its
// checks are skipped, saying so (and the run is incomplete).
func (s *Suite) allocate(checks []Check) {
	ids := s.Config.MachineIDs
	s.allocation = map[string][]string{}
	us := units(checks)
	s.MachinesNeeded = 1 + machinesOf(us)
	if len(ids) == 0 {
		return
	}
	s.probe = ids[0]
	if s.CanCancel() {
		s.MachinesNeeded = 1
		pool := ids[1:]
		if len(pool) == 0 {
			pool, s.probeShared = ids, true
		}
		next := 0
		for _, u := range us {
			// Distinct machines while the pool lasts; then the same ones again, in turn.
			machines := make([]string, u.machines)
			for j := range machines {
				machines[j] = pool[next%len(pool)]
				next++
			}
			for _, id := range u.checks {
				s.allocation[id] = machines
			}
		}
		return
	}
	next := 1
	for _, u := range us {
		if next+u.machines > len(ids) {
			continue
		}
		for _, id := range u.checks {
			s.allocation[id] = ids[next : next+u.machines]
		}
		next += u.machines
	}
}

// Allocation is the machines each check that creates actions was given (plan shows it).
func (s *Suite) Allocation(id string) []string { return s.allocation[id] }

// preflight sends two harmless requests so that a run that cannot work ends at once with one
// clear message instead of a wall of failures: GET on the base URL (is the target there?), and
// the administrator's valid request for a machine that does not exist (is the token accepted?).
func (s *Suite) preflight(ctx context.Context) error {
	ex := s.client.Do(ctx, Request{Label: "preflight", Method: http.MethodGet, URL: s.Target})
	if ex.Unusable {
		return fmt.Errorf("cannot use target %s: %s", s.Target, ex.Error)
	}
	src, ok := s.tokens[Admin]
	if !ok {
		return nil
	}
	token, err := src.Token()
	if err != nil {
		return fmt.Errorf("cannot get the admin token: %s (check %s)", s.client.Redact(err.Error()), roleSettings(Admin))
	}
	u, err := s.Op.URL(s.Target, map[string]string{"id": s.unknown})
	if err != nil {
		return err
	}
	ex = s.client.Do(ctx, Request{Label: "preflight: the admin token", Method: http.MethodPost, URL: u,
		Auth: &Auth{Value: "Bearer " + token.AccessToken, Shown: "Bearer $" + roleEnv(Admin)}, Body: []byte(`{"Comment":"cipconform preflight"}`)})
	switch {
	case ex.Unusable:
		return fmt.Errorf("cannot use target %s: %s", s.Target, ex.Error)
	case ex.Status == http.StatusUnauthorized:
		return fmt.Errorf("the admin token was rejected (401 for a valid request): check %s", roleSettings(Admin))
	}
	return nil
}

// RefuseActions treats the target as production, for this reason: plan simulates a
// production target on a local one.
func (s *Suite) RefuseActions(reason string) { s.production, s.refused = true, reason }

// Close lets go of the target's connections and stops the embedded reference, if any.
func (s *Suite) Close() error {
	// An idle connection the server never saw a request on would hold its shutdown for
	// seconds (net/http waits for new connections to speak).
	if s.client != nil {
		s.client.http.CloseIdleConnections()
	}
	if s.Embedded != nil {
		return s.Embedded.Close()
	}
	return nil
}

// Env is the environment of one check.
func (s *Suite) Env(ctx context.Context, c Check, hooks Hooks) *Env {
	return &Env{
		Ctx:            ctx,
		Check:          c,
		Op:             s.Op,
		Profile:        s.Profile,
		Config:         s.Config,
		Machines:       s.allocation[c.ID],
		ProbeMachine:   s.probe,
		UnknownMachine: s.unknown,
		suite:          s,
		hooks:          hooks,
	}
}

// Client is the suite's HTTP client.
func (s *Suite) Client() *Client { return s.client }

// hasIdentity reports whether the role has a token or credentials.
func (s *Suite) hasIdentity(role Role) bool {
	_, ok := s.tokens[role]
	return ok
}

// token returns the role's current token ("" without an identity), fetching or refreshing it
// when it comes from client credentials.
func (s *Suite) token(role Role) (string, error) {
	src, ok := s.tokens[role]
	if !ok {
		return "", nil
	}
	t, err := src.Token()
	if err != nil {
		return "", fmt.Errorf("cannot get a token for the %s identity: %s (check %s)", role, s.client.Redact(err.Error()), roleSettings(role))
	}
	return t.AccessToken, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
