package redact

import (
	"strings"
	"testing"
)

// bruteForce is what the matcher must find, found the slow way: every maximal run of text
// that matches a variant, at least the variant's shortest fragment long.
func bruteForce(m *matcher, text string) []bool {
	marked := make([]bool, len(text))
	for _, v := range m.variants {
		for p := range len(text) {
			for o := range len(v.text) {
				if p > 0 && o > 0 && text[p-1] == v.text[o-1] {
					continue // not where a run starts
				}
				n := 0
				for p+n < len(text) && o+n < len(v.text) && text[p+n] == v.text[o+n] {
					n++
				}
				if n >= v.min {
					for i := p; i < p+n; i++ {
						marked[i] = true
					}
				}
			}
		}
	}
	return marked
}

// FuzzMatcherIsBruteForce holds the matcher (windows every stride bytes, windows shared with
// an earlier secret left out, redacted stretches skipped) to the brute force: the same bytes
// redacted, on texts without escapes (where canonical and original positions agree).
func FuzzMatcherIsBruteForce(f *testing.F) {
	const v = "abcdefghijklmnopqrstuvwxyzyxwvutsrqponmlkj"
	const c = "mnbvcxzasdfghjklpo"
	for _, seed := range [][5]string{
		{"0123456789", v[:25] + "9" + v[26:], v[:15] + "8" + v[16:], v, "<" + v[15:27] + ">"}, // a short secret among long ones
		{"bdabhgeddgbf", "aggegegdghbbdad", "hh", "bgabhggddgbf", "x626761626867676464676266x"},
		{"qwzrtplkjh" + c, c + "uyie", "", "", "<qwzrtplkjh" + c + "uyie>"}, // a match past a redacted one
		{c + "qwzrtplkjh", "uyi" + c, "", "", "<yi" + c + "qwzrtplkjh>"},
		{"added-secret-number-", "added-secret-number-xx", "", "", "added-secret-number-xx and more"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4, text string) {
		if len(text) > 300 || len(s1)+len(s2)+len(s3)+len(s4) > 200 || strings.ContainsAny(text, `\%&`) {
			return
		}
		m := newMatcher(unique([]string{s1, s2, s3, s4}))
		if len(m.variants) == 0 {
			return
		}
		got := make([]bool, len(text))
		for _, sp := range find(m, text) {
			for i := sp.from; i < sp.to; i++ {
				got[i] = true
			}
		}
		want := bruteForce(m, canonical(text))
		for i := range text {
			if got[i] != want[i] {
				t.Fatalf("byte %d of %q: redacted %v, want %v (secrets %q %q %q %q)", i, text, got[i], want[i], s1, s2, s3, s4)
			}
		}
	})
}
