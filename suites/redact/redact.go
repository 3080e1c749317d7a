// Package redact keeps secrets out of everything a run shows: reports, log lines and
// reproduction commands. It knows nothing of where the secrets come from.
//
// A hostile or careless target may echo a secret in another form than it was sent, so the
// redactor follows a secret through the encodings a target, a token endpoint or a report may
// apply. Text is read in a canonical form: JSON string escapes (\uXXXX for any or every
// character, \/ and \", with any number of backslashes), percent- and form-encoding (%XX, and
// %25XX twice encoded), HTML and XML character references (&#43; &#x2B; &amp; ...), ASCII case,
// and the URL base64 alphabet read as the standard one (- as +, _ as /). Each secret is matched
// there as itself, as hex, and as base64 at each of the three alignments it can have inside a
// longer base64 text (so with or without padding, standard or URL). Any fragment of at least
// MinFragment characters of one of these forms is redacted, as far as it runs; a secret
// shorter than MinFragment is redacted whole.
package redact

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Redacted is what a secret looks like wherever it is shown.
const Redacted = "[REDACTED]"

// MinFragment is the length of the shortest piece of a secret (or of its hex or base64 form)
// that is redacted on its own: a token split in two, or altered at its end, still has pieces
// this long. Secrets shorter than this are redacted whole.
const MinFragment = 12

// Redactor replaces secrets with Redacted wherever they appear, in any of the forms above.
// Secrets can be added while it is in use (tokens fetched during a run); it is safe for
// concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
	m       *matcher // nil: no secret
}

// New redacts these secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	if len(r.secrets) > 0 {
		r.m = newMatcher(r.secrets) // once for all
	}
	return r
}

// Add redacts one more secret. The forms it is looked for in are computed here, once.
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
	// One matcher for all: a matcher per secret would be a pass per secret over every text,
	// which costs more than building it again.
	r.m = newMatcher(r.secrets)
}

// Replace returns s with every secret redacted.
func (r *Redactor) Replace(s string) string {
	r.mu.RLock()
	m := r.m
	r.mu.RUnlock()
	if m == nil || s == "" {
		return s
	}
	return m.replace(s)
}

// variant is one form of a secret, canonical, and the shortest match of it that is redacted.
type variant struct {
	text string
	min  int
}

// hit is where a window of the matcher's width starts in a variant.
type hit struct {
	variant int32
	offset  int32
}

// matcher finds fragments of variants in canonical text: a rolling hash over windows of width
// bytes, a bitset to rule out most positions at once, and a table from hash to the windows.
type matcher struct {
	variants []variant
	width    int
	pow      uint64 // hashBase^(width-1)
	filter   []uint64
	// windows maps a window's hash to its first hit (index+1 in hits); next chains the hits
	// of equal hashes. Flat, so that building a matcher allocates little.
	windows table
	hits    []hit
	next    []int32
}

const (
	hashBase   = 1099511628211
	filterBits = 1 << 16
)

func newMatcher(secrets []string) *matcher {
	m := &matcher{filter: make([]uint64, filterBits/64), width: MinFragment}
	seen := map[string]bool{}
	add := func(text string, whole bool) {
		text = canonical(text)
		if text == "" || seen[text] {
			return
		}
		seen[text] = true
		v := variant{text: text, min: min(MinFragment, len(text))}
		if whole {
			v.min = len(text)
		}
		m.variants = append(m.variants, v)
		m.width = min(m.width, v.min)
	}
	for _, s := range secrets {
		add(s, false)
		if len(s) < MinFragment {
			continue // short secrets: only whole, as themselves
		}
		add(hex.EncodeToString([]byte(s)), false)
		for align := range 3 {
			b := append(make([]byte, align), s...)
			enc := base64.RawStdEncoding.EncodeToString(b)
			// Only the characters every bit of which comes from the secret: the ones at the
			// edges depend on what surrounds it.
			first := (8*align + 5) / 6
			last := 8 * len(b) / 6
			if first < last {
				add(enc[first:last], false)
			}
		}
	}
	m.pow = 1
	for range m.width - 1 {
		m.pow *= hashBase
	}
	windows := 0
	for _, v := range m.variants {
		windows += len(v.text)
	}
	m.windows = newTable(windows)
	m.hits, m.next = make([]hit, 0, windows), make([]int32, 0, windows)
	for i, v := range m.variants {
		if len(v.text) < m.width {
			continue
		}
		var h uint64
		for j := 0; j < len(v.text); j++ {
			if j >= m.width {
				h -= uint64(v.text[j-m.width]) * m.pow
			}
			h = h*hashBase + uint64(v.text[j])
			if j >= m.width-1 {
				m.hits = append(m.hits, hit{int32(i), int32(j - m.width + 1)})
				slot := m.windows.slot(h)
				m.next = append(m.next, m.windows.heads[slot])
				m.windows.keys[slot], m.windows.heads[slot] = h, int32(len(m.hits))
				m.filter[(h%filterBits)/64] |= 1 << (h % 64)
			}
		}
	}
	return m
}

// span is a range of the original text to redact.
type span struct{ from, to int }

// maxPooled is the largest buffer kept for the next text.
const maxPooled = 16 << 20

var bufs = sync.Pool{New: func() any { return &canonText{} }}

func (m *matcher) replace(s string) string {
	c := bufs.Get().(*canonText)
	defer func() {
		if cap(c.text) <= maxPooled {
			bufs.Put(c)
		}
	}()
	c.read(s)
	text := c.text
	w := m.width
	if len(text) < w {
		return s
	}
	var spans []span
	covered := 0 // canonical text before this is already redacted
	var h uint64
	for j := 0; j < len(text); j++ {
		if j >= w {
			h -= uint64(text[j-w]) * m.pow
		}
		h = h*hashBase + uint64(text[j])
		if j < w-1 {
			continue
		}
		p := j - w + 1
		if m.filter[(h%filterBits)/64]&(1<<(h%64)) == 0 || j < covered {
			continue
		}
		for k := m.windows.heads[m.windows.slot(h)]; k != 0; k = m.next[k-1] {
			hh := m.hits[k-1]
			v := m.variants[hh.variant]
			off := int(hh.offset)
			if string(text[p:p+w]) != v.text[off:off+w] {
				continue
			}
			left := 0
			for p-left > 0 && off-left > 0 && text[p-left-1] == v.text[off-left-1] {
				left++
			}
			right := 0
			for p+w+right < len(text) && off+w+right < len(v.text) && text[p+w+right] == v.text[off+w+right] {
				right++
			}
			if left+w+right < v.min {
				continue
			}
			from, to := c.orig(p-left), c.orig(p+w+right)
			if n := len(spans); n > 0 && from <= spans[n-1].to {
				spans[n-1].to = max(spans[n-1].to, to)
				spans[n-1].from = min(spans[n-1].from, from)
			} else {
				spans = append(spans, span{from, to})
			}
			covered = max(covered, p+w+right)
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		if last := &merged[len(merged)-1]; sp.from <= last.to {
			last.to = max(last.to, sp.to)
		} else {
			merged = append(merged, sp)
		}
	}
	var out strings.Builder
	out.Grow(len(s))
	at := 0
	for _, sp := range merged {
		out.WriteString(s[at:sp.from])
		out.WriteString(Redacted)
		at = sp.to
	}
	out.WriteString(s[at:])
	return out.String()
}

// canonText is a text in canonical form, each of its bytes from one piece of the original:
// a byte, or an escape sequence.
type canonText struct {
	text  []byte
	start []int32 // where each byte's piece starts in the original
	end   int     // length of the original
}

// orig is where canonical byte i starts in the original (the end of the original for
// len(text)).
func (c *canonText) orig(i int) int {
	if i >= len(c.start) {
		return c.end
	}
	return int(c.start[i])
}

func (c *canonText) read(s string) {
	if cap(c.text) < len(s) {
		c.text, c.start = make([]byte, len(s)), make([]int32, len(s))
	}
	text, start := c.text[:len(s)], c.start[:len(s)]
	n := 0
	for i := 0; i < len(s); n++ {
		b, k := s[i], 1
		if b == '\\' || b == '%' || b == '&' {
			b, k = decode(s, i)
		}
		text[n], start[n] = folded[b], int32(i)
		i += k
	}
	c.text, c.start, c.end = text[:n], start[:n], len(s)
}

// canonical is a whole text in canonical form.
func canonical(s string) string {
	var c canonText
	c.read(s)
	return string(c.text)
}

// folded is the canonical form of each decoded byte.
var folded = func() (t [256]byte) {
	for b := range t {
		t[b] = fold(byte(b))
	}
	return t
}()

// fold is the canonical form of one decoded byte: ASCII lower case, the URL base64 alphabet
// as the standard one.
func fold(b byte) byte {
	switch {
	case 'A' <= b && b <= 'Z':
		return b + 'a' - 'A'
	case b == '-':
		return '+'
	case b == '_':
		return '/'
	}
	return b
}

// decode reads one piece of s at i: an escape sequence standing for an ASCII byte, or a byte
// as itself. It returns the byte and the length of the piece.
func decode(s string, i int) (byte, int) {
	switch s[i] {
	case '\\':
		j := i
		for j < len(s) && s[j] == '\\' {
			j++
		}
		if j < len(s) {
			switch s[j] {
			case '/', '"':
				return s[j], j + 1 - i
			case 'u':
				if v, ok := hexValue(s, j+1, 4); ok && v < 0x80 {
					return byte(v), j + 5 - i
				}
			}
		}
	case '%':
		j := i + 1
		v, ok := hexValue(s, j, 2)
		for ok && v == 0x25 { // %25 is % encoded again
			w, again := hexValue(s, j+2, 2)
			if !again {
				break
			}
			j, v = j+2, w
		}
		if ok && v < 0x80 {
			return byte(v), j + 2 - i
		}
	case '&':
		j := i + 1
		for hasPrefixAt(s, j, "amp;") && j+4 < len(s) && (s[j+4] == '#' || isLetter(s[j+4])) {
			j += 4 // &amp; is & encoded again
		}
		if b, n, ok := entity(s, j); ok {
			return b, j + n - i
		}
		if j > i+1 {
			return '&', j - i
		}
	}
	return s[i], 1
}

// entity reads a character reference after its '&' at j: #NN; #xHH; or a few names.
func entity(s string, j int) (byte, int, bool) {
	for _, e := range entities {
		if hasPrefixAt(s, j, e.name) {
			return e.b, len(e.name), true
		}
	}
	if !hasPrefixAt(s, j, "#") {
		return 0, 0, false
	}
	k, base := j+1, 10
	if k < len(s) && (s[k] == 'x' || s[k] == 'X') {
		k, base = k+1, 16
	}
	v, digits := 0, 0
	for k < len(s) && digits < 8 {
		d, ok := digit(s[k], base)
		if !ok {
			break
		}
		v, k, digits = v*base+d, k+1, digits+1
	}
	if digits == 0 || v >= 0x80 || k >= len(s) || s[k] != ';' {
		return 0, 0, false
	}
	return byte(v), k + 1 - j, true
}

var entities = []struct {
	name string
	b    byte
}{{"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}, {"lt;", '<'}, {"gt;", '>'}, {"plus;", '+'}, {"sol;", '/'}, {"equals;", '='}}

func hexValue(s string, at, n int) (int, bool) {
	if at+n > len(s) {
		return 0, false
	}
	v := 0
	for k := at; k < at+n; k++ {
		d, ok := digit(s[k], 16)
		if !ok {
			return 0, false
		}
		v = v*16 + d
	}
	return v, true
}

func digit(b byte, base int) (int, bool) {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0'), true
	case base == 16 && 'a' <= b && b <= 'f':
		return int(b-'a') + 10, true
	case base == 16 && 'A' <= b && b <= 'F':
		return int(b-'A') + 10, true
	}
	return 0, false
}

func hasPrefixAt(s string, at int, prefix string) bool {
	return at <= len(s) && len(s)-at >= len(prefix) && s[at:at+len(prefix)] == prefix
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// table maps a window's hash to the first of its hits, by open addressing: building a matcher
// for a handful of tokens inserts tens of thousands of windows, which a Go map made the
// larger part of starting a run.
type table struct {
	keys  []uint64
	heads []int32 // index+1 in matcher.hits; 0: an empty slot
	mask  uint64
}

func newTable(n int) table {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	return table{keys: make([]uint64, size), heads: make([]int32, size), mask: uint64(size - 1)}
}

// slot is where h is, or the empty slot where it goes.
func (t table) slot(h uint64) uint64 {
	i := (h ^ h>>29) * 0x9E3779B97F4A7C15 >> 7 & t.mask
	for t.heads[i] != 0 && t.keys[i] != h {
		i = (i + 1) & t.mask
	}
	return i
}
