package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
)

// Action is a machine action the run started on the target: every report lists them, with
// what became of them, so that a run leaves no trace it does not account for.
type Action struct {
	ID      string `json:"id"`
	Machine string `json:"machine"`
	Check   string `json:"check"` // the check whose request started it
	// Status is the last status the harness saw: the 201's, or what it read back after
	// cancelling.
	Status    string `json:"status"`
	Cancelled bool   `json:"cancelled"` // the harness cancelled it (the target answered 200)
	// Note says what the harness could not do: cancel it (the contract has no cancel, or
	// --no-cleanup), or see it end.
	Note string `json:"note,omitempty"`

	ended bool // read back in a status that frees the machine
}

// open tells a status in which an action keeps its machine busy.
func open(status string) bool { return status == "Pending" || status == "InProgress" || status == "" }

// companion is the operations of the profile that let the harness read and cancel an action;
// nil members when the contract has none (the preview).
type companion struct {
	get, cancel *spec.Operation
}

func companionOf(p spec.Profile) companion {
	var c companion
	contract, err := p.Contract()
	if err != nil {
		return c
	}
	c.get, _ = contract.Operation("getMachineAction")
	c.cancel, _ = contract.Operation("cancelMachineAction")
	return c
}

// CanCancel reports whether the harness cancels the actions it starts and so hands their
// machines back for the next check: the contract has a cancel and --no-cleanup is not set.
func (s *Suite) CanCancel() bool {
	return s.companion.cancel != nil && s.companion.get != nil && !s.Config.NoCleanup
}

// Companion is the contract's operation to read (getMachineAction) or cancel
// (cancelMachineAction) an action; nil when the contract has none.
func (s *Suite) Companion(operationID string) *spec.Operation {
	switch operationID {
	case "getMachineAction":
		return s.companion.get
	case "cancelMachineAction":
		return s.companion.cancel
	}
	return nil
}

// record notes the action a 201 of the collect operation started.
func (s *Suite) record(check string, ex *Exchange) *Action {
	if ex.Status != http.StatusCreated || ex.HTTPRequest() == nil {
		return nil
	}
	params, ok := s.Op.PathParams(ex.HTTPRequest().URL.Path)
	if !ok {
		return nil
	}
	var body struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if json.Unmarshal(ex.Body(), &body) != nil || body.ID == "" {
		return nil
	}
	a := &Action{ID: body.ID, Machine: params["id"], Check: check, Status: body.Status}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used = map[string]bool{}
	}
	s.used[a.Machine] = true
	for _, known := range s.actions {
		if known.ID == a.ID {
			return known // a shared exchange, seen by another check first
		}
	}
	s.actions = append(s.actions, a)
	return a
}

// Actions lists the actions the run started, in order.
func (s *Suite) Actions() []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Action, len(s.actions))
	for i, a := range s.actions {
		out[i] = *a
	}
	return out
}

// settle cancels every action of the list that still keeps its machine busy and waits, by
// polling politely, until each reads ended: then its machine takes the next check. Where
// the contract has no cancel, or --no-cleanup is set, it notes why the action stays.
func (s *Suite) settle(ctx context.Context, actions []*Action) {
	for _, a := range actions {
		// The 201's status is not trusted: an action is cancelled unless it was cancelled
		// already, or read back ended (a cancel of one that has ended is refused, harmlessly).
		s.mu.Lock()
		done := a.Cancelled || a.ended
		s.mu.Unlock()
		if done {
			continue
		}
		if !s.CanCancel() {
			s.note(a, "not cancelled: "+s.WhyNoCancel())
			continue
		}
		s.cancel(ctx, a)
	}
}

// WhyNoCancel says why the run leaves its actions running.
func (s *Suite) WhyNoCancel() string {
	if s.companion.cancel == nil || s.companion.get == nil {
		return fmt.Sprintf("the %s contract cannot cancel an action and read it back; the machine stays busy until the collection ends", s.Profile.Name)
	}
	return "--no-cleanup"
}

func (s *Suite) note(a *Action, note string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.Note = note
}

// cancel cancels one action and reads it until it has ended (a cancel can race a completion,
// so the status read back is the one kept).
func (s *Suite) cancel(ctx context.Context, a *Action) {
	token, err := s.token(Admin)
	if err != nil || token == "" {
		s.note(a, "not cancelled: no admin token")
		return
	}
	auth := &Auth{Value: "Bearer " + token, Shown: "Bearer $" + roleEnv(Admin)}
	cancelURL, err1 := s.companion.cancel.URL(s.Target, map[string]string{"id": a.ID})
	getURL, err2 := s.companion.get.URL(s.Target, map[string]string{"id": a.ID})
	if err1 != nil || err2 != nil {
		s.note(a, "not cancelled: its URL cannot be built")
		return
	}
	ex := s.client.Do(ctx, Request{Label: "cleanup: cancel action " + a.ID, Method: http.MethodPost, URL: cancelURL, Auth: auth,
		Body: []byte(`{"Comment":"cipconform: cleanup after ` + a.Check + `"}`)})
	cancelAnswer := ""
	if ex.Status != http.StatusOK {
		cancelAnswer = fmt.Sprintf("cancel answered %s", statusOrError(ex))
	} else {
		s.mu.Lock()
		a.Cancelled = true
		s.mu.Unlock()
	}
	deadline := time.Now().Add(s.Config.SettleTimeout)
	interval := 100 * time.Millisecond
	for {
		ex := s.client.Do(ctx, Request{Label: "cleanup: read action " + a.ID, Method: http.MethodGet, URL: getURL, Auth: auth})
		var body struct {
			Status string `json:"status"`
		}
		if ex.Status != http.StatusOK || json.Unmarshal(ex.Body(), &body) != nil {
			s.note(a, strings.TrimPrefix(cancelAnswer+"; ", "; ")+fmt.Sprintf("reading it back answered %s: it cannot be followed", statusOrError(ex)))
			return
		}
		{
			s.mu.Lock()
			a.Status = body.Status
			a.Cancelled = a.Cancelled || body.Status == "Cancelled" // by the harness or its check
			a.ended = !open(body.Status)
			s.mu.Unlock()
			if !open(body.Status) {
				return // ended: whatever the cancel answered (one that had ended is refused)
			}
		}
		if time.Now().Add(interval).After(deadline) || ctx.Err() != nil {
			s.note(a, strings.TrimPrefix(cancelAnswer+"; ", "; ")+fmt.Sprintf("still %s after %s (%sSETTLE_TIMEOUT); last read: %s", a.Status, s.Config.SettleTimeout, config.EnvPrefix, statusOrError(ex)))
			return
		}
		if sleep(ctx, interval) != nil {
			return
		}
		interval = min(interval*2, 5*time.Second)
	}
}

func statusOrError(ex *Exchange) string {
	if ex.Error != "" {
		return ex.Error
	}
	return fmt.Sprintf("HTTP %d", ex.Status)
}

// Cleanup cancels, at the end of a run, every action the run started that still keeps its
// machine busy, where the target allows it (see settle).
func (s *Suite) Cleanup(ctx context.Context) {
	s.mu.Lock()
	actions := slices.Clone(s.actions)
	s.mu.Unlock()
	s.settle(ctx, actions)
}

// Settle cancels the actions this check has started so far and waits until they have ended,
// so that its machine takes the next collection (a check that creates twice on one machine
// calls it between). Where the target cannot cancel, it does nothing.
func (e *Env) Settle() { e.SettleWith(e.Ctx) }

// SettleWith settles the check's actions within ctx (which may outlive the check's own, so
// that a stopped run still cancels what it started, briefly).
func (e *Env) SettleWith(ctx context.Context) { e.suite.settle(ctx, e.actions) }

// CompanionURL is the URL of a companion operation for an action id; the check ends as an
// error when the contract has none.
func (e *Env) CompanionURL(operationID, actionID string) (*spec.Operation, string) {
	op := e.suite.Companion(operationID)
	if op == nil {
		e.hooks.Error(fmt.Sprintf("%s: the %s contract has no %s", e.Check.ID, e.Profile.Name, operationID))
	}
	u, err := op.URL(e.suite.Target, map[string]string{"id": actionID})
	if err != nil {
		e.hooks.Error(e.Check.ID + ": " + err.Error())
	}
	return op, u
}
