package redact_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/suites/redact"
)

// TestEveryFragmentOfEverySecretIsRedacted tries every fragment of MinFragment bytes and a
// little more, at every offset, of each secret and of its hex form: the matcher indexes only
// some windows of each, and skips windows that another secret has too (tokens share a header,
// an altered token all but its end), so a fragment that holds no indexed window of its own
// must still be found.
func TestEveryFragmentOfEverySecretIsRedacted(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsInJvbGVzIjpbIkFkbWluIl19.Qm9ndXMtc2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tdGVzdA"
	other := token[:37] + "eyJzdWIiOiJyZWFkZXIifQ.c2Vjb25kLXNpZ25hdHVyZS1mb3ItdGhlLXJlYWRlcg"
	secrets := []string{token, token[:len(token)-4] + "AAAA", other, other[:len(other)-4] + "AAAA", "exactly-12ch", "secret-value-42"}
	r := redact.New(secrets...)
	for _, secret := range secrets {
		for _, form := range []string{secret, hex.EncodeToString([]byte(secret))} {
			for _, n := range []int{redact.MinFragment, redact.MinFragment + 1, redact.MinFragment + 7} {
				for at := 0; at+n <= len(form); at++ {
					fragment := form[at : at+n]
					got := r.Replace("~" + fragment + "~")
					if !strings.Contains(got, redact.Redacted) {
						t.Fatalf("%q (%d bytes at %d of %q) not redacted: %q", fragment, n, at, form, got)
					}
					rest := strings.ReplaceAll(got, redact.Redacted, "\x00")
					for i := 0; i+redact.MinFragment <= len(rest); i++ {
						if piece := rest[i : i+redact.MinFragment]; strings.Contains(strings.ToLower(form), strings.ToLower(piece)) {
							t.Fatalf("%q (%d bytes at %d) still shows %q: %q", fragment, n, at, piece, got)
						}
					}
				}
			}
		}
	}
}

// FuzzFragments: a fragment of MinFragment bytes or more of a secret, or of an altered copy
// of it (both secrets), between any two texts, leaves no piece of MinFragment bytes of either
// in the output.
func FuzzFragments(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl", "Bearer ", " trailing", 3, 20)
	f.Add("short-secret-xyz", `{"a":"`, `"}`, 0, 16)
	f.Fuzz(func(t *testing.T, secret, before, after string, at, n int) {
		// The redactor reads escapes (\ % &) and folds - and _ into + and /; texts without
		// them, in ASCII, can be compared as they are.
		plain := func(s string) bool {
			for i := 0; i < len(s); i++ {
				if s[i] < ' ' || s[i] > '~' || strings.IndexByte(`\%&-_`, s[i]) >= 0 {
					return false
				}
			}
			return true
		}
		if len(secret) < redact.MinFragment+4 || at < 0 || n < redact.MinFragment || at+n > len(secret) || !plain(secret+before+after) {
			return
		}
		altered := secret[:len(secret)-4] + "AAAA"
		r := redact.New(secret, altered)
		got := r.Replace(before + secret[at:at+n] + after)
		rest := strings.ToLower(strings.ReplaceAll(got, redact.Redacted, "\x00"))
		for _, s := range []string{secret, altered} {
			s = strings.ToLower(s)
			for i := 0; i+redact.MinFragment <= len(s); i++ {
				if strings.Contains(rest, s[i:i+redact.MinFragment]) {
					t.Fatalf("%q shows %q of %q", got, s[i:i+redact.MinFragment], s)
				}
			}
		}
	})
}
