// Package redact keeps secrets out of everything a run shows: reports, log lines and
// reproduction commands. It knows nothing of where the secrets come from.
package redact

import (
	"slices"
	"strings"
	"sync"
)

// Redacted is what a secret looks like wherever it is shown.
const Redacted = "[REDACTED]"

// Redactor replaces secrets with Redacted: each secret, and each secret but its last four
// characters (a token a check altered to test a wrong signature). Secrets can be added while it
// is in use (tokens fetched during a run); it is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string
	replacer *strings.Replacer
}

// New redacts these secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.Add(s)
	}
	if r.replacer == nil {
		r.replacer = strings.NewReplacer()
	}
	return r
}

// Add redacts one more secret.
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets, secret) {
		return
	}
	r.secrets = append(r.secrets, secret)
	var pairs []string
	for _, s := range r.secrets {
		pairs = append(pairs, s, Redacted)
	}
	for _, s := range r.secrets {
		if len(s) > 12 {
			pairs = append(pairs, s[:len(s)-4], Redacted)
		}
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// Replace returns s with every secret redacted.
func (r *Redactor) Replace(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.replacer.Replace(s)
}
