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
	"encoding/binary"
	"encoding/hex"
	mbits "math/bits"
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
	known   map[string]bool // secrets, to tell a new one at once
	m       *matcher        // nil: no secret
	stale   bool            // secrets were added since m was built
	// built is closed once Start's matcher is built; nil for New's.
	built chan struct{}
}

// New redacts these secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{secrets: unique(secrets)}
	if len(r.secrets) > 0 {
		r.m = newMatcher(r.secrets) // once for all
	}
	return r
}

// Start is New with the matcher built in the background: the first redaction waits for it.
// A run starts its redactor this way before its first request, which the build overlaps.
func Start(secrets ...string) *Redactor {
	r := &Redactor{secrets: unique(secrets), built: make(chan struct{})}
	go func() {
		defer close(r.built)
		if len(r.secrets) > 0 {
			m := newMatcher(r.secrets)
			r.mu.Lock()
			r.m = m
			r.mu.Unlock()
		}
	}()
	return r
}

func unique(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Add redacts one more secret. The matcher is built again, for all the secrets, when it is
// next needed: one matcher for all makes a single pass over every text, and building it when
// needed rather than at each Add keeps a proxy that sees a new token per client from
// building it once a request (a build grows faster than the number of secrets).
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.wait() // else the background build could replace a matcher built since
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known == nil {
		r.known = map[string]bool{}
		for _, s := range r.secrets {
			r.known[s] = true
		}
	}
	if r.known[secret] {
		return
	}
	r.known[secret] = true
	r.secrets = append(r.secrets, secret)
	r.stale = true
}

func (r *Redactor) wait() {
	if r.built != nil {
		<-r.built
	}
}

// Replace returns s with every secret redacted.
func (r *Redactor) Replace(s string) string {
	m := r.matcher()
	if m == nil || s == "" {
		return s
	}
	spans := find(m, s)
	if len(spans) == 0 {
		return s
	}
	var out strings.Builder
	out.Grow(len(s))
	at := 0
	for _, sp := range spans {
		out.WriteString(s[at:sp.from])
		out.WriteString(Redacted)
		at = sp.to
	}
	out.WriteString(s[at:])
	return out.String()
}

// ReplaceBytes is Replace for bytes: b itself when it holds no secret, else a new slice (b
// is not changed). Reports are bytes; this spares copying each one twice.
func (r *Redactor) ReplaceBytes(b []byte) []byte {
	m := r.matcher()
	if m == nil || len(b) == 0 {
		return b
	}
	spans := find(m, b)
	if len(spans) == 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	at := 0
	for _, sp := range spans {
		out = append(out, b[at:sp.from]...)
		out = append(out, Redacted...)
		at = sp.to
	}
	return append(out, b[at:]...)
}

func (r *Redactor) matcher() *matcher {
	r.wait()
	r.mu.RLock()
	m, stale := r.m, r.stale
	r.mu.RUnlock()
	if !stale {
		return m
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale {
		r.m, r.stale = newMatcher(r.secrets), false
	}
	return r.m
}

// text is what the redactor reads.
type text interface{ ~string | ~[]byte }

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

// matcher finds fragments of variants in canonical text. Its key for a window is the
// window's bytes themselves, read as one little-endian word (so a window is at most 8 bytes
// and keys are exact: no hash, no collision to rule out); a bitset rules out most positions
// at once, and a table maps a key to the windows that have it.
//
// Only the windows that start every stride bytes of a variant are in the table, and the
// window is narrower than the shortest fragment to redact by stride-1: any fragment that long
// holds an indexed window whole, and the hit on it extends over the fragment. The text is
// read at every position. With MinFragment 12: 8-byte windows every 5 bytes, a fifth of the
// table, and a key per position that does not depend on the one before. (Reading the text
// every few bytes instead, against more windows, made the build, which a run waits for, cost
// what it saved on the reports.)
type matcher struct {
	variants []variant
	width    int
	stride   int    // between indexed windows of a variant
	mask     uint64 // the key's bits: width bytes
	filter   []uint64
	fshift   uint // 64 - log2(bits in filter)
	// windows maps a key to its first hit (index+1 in hits); next chains the hits of equal
	// keys. Flat, so that building a matcher allocates little.
	windows table
	hits    []hit
	next    []int32
}

const (
	// filterBitsPerWindow keeps the bitset's false hits to a few in a hundred positions.
	filterBitsPerWindow = 32
	minFilterBits       = 1 << 12
	// spread scatters a key's bits (Fibonacci hashing): its top bits index the bitset and
	// the table.
	spread = 0x9E3779B97F4A7C15
)

// keyAt is the key of the window at p: the 8 bytes there, masked to the window. b has 8
// readable bytes at p, whatever the window's width.
func keyAt(b []byte, p int, mask uint64) uint64 {
	return binary.LittleEndian.Uint64(b[p:p+8]) & mask
}

func newMatcher(secrets []string) *matcher {
	m := &matcher{width: MinFragment}
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
	// m.width is now the shortest fragment to redact; split it into window and stride.
	shortest := m.width
	m.width = min(8, shortest)
	m.stride = shortest - m.width + 1
	m.mask = ^uint64(0) >> (64 - 8*m.width)
	// A window of a variant whose neighbourhood (see indexed) lies within a prefix an earlier
	// variant shares is skipped without a look-up: an altered token is its token but for the
	// end, and tokens share their header.
	shared := make([]int, len(m.variants))
	windows := 0
	for i, v := range m.variants {
		for _, a := range m.variants[:i] {
			if a.min <= v.min {
				shared[i] = max(shared[i], commonPrefix(a.text, v.text))
			}
		}
		windows += (len(v.text)-max(0, shared[i]-v.min))/m.stride + 2
	}
	m.windows = newTable(windows)
	m.hits, m.next = make([]hit, 0, windows), make([]int32, 0, windows)
	var padded []byte
	for i, v := range m.variants {
		padded = append(append(padded[:0], v.text...), make([]byte, 8)...)
		for off := 0; off+m.width <= len(v.text); off += m.stride {
			if off+v.min <= shared[i] {
				continue
			}
			key := keyAt(padded, off, m.mask)
			slot := m.windows.slot(key)
			if m.indexed(slot, i, off) {
				continue
			}
			m.hits = append(m.hits, hit{int32(i), int32(off)})
			m.next = append(m.next, m.windows.slots[slot].head)
			m.windows.slots[slot] = entry{key, int32(len(m.hits))}
		}
	}
	// The bitset is sized to the windows kept, small enough to stay in a core's first cache.
	bits := minFilterBits
	for bits < filterBitsPerWindow*len(m.hits) {
		bits <<= 1
	}
	m.filter, m.fshift = make([]uint64, bits/64), uint(64-mbits.TrailingZeros(uint(bits)))
	for _, e := range m.windows.slots {
		if e.head != 0 {
			f := e.key * spread >> m.fshift
			m.filter[f/64] |= 1 << (f % 64)
		}
	}
	return m
}

// indexed says whether the window at off of variant i can go without its own entry: an
// earlier variant that redacts fragments as short has the same bytes at the same offset as
// far around it as a fragment of this variant that holds it can reach without holding the
// next window (v.min-width bytes before it, v.min from its start). A hit on that variant's
// window then extends over at least v.min bytes of such a fragment, and the hits on the
// windows of a longer one over all of it together. Tokens share their header, and an altered
// token all but its end: this halves the table of a run's secrets. (The neighbourhood is the
// variant's own shortest fragment, not the matcher's: with a short secret among long ones, the
// long ones' hits would be too short to count.)
func (m *matcher) indexed(slot uint64, i, off int) bool {
	v := m.variants[i]
	from, to := max(0, off-(v.min-m.width)), min(len(v.text), off+v.min)
	for k := m.windows.slots[slot].head; k != 0; k = m.next[k-1] {
		h := m.hits[k-1]
		a := m.variants[h.variant]
		if int(h.offset) == off && a.min <= v.min && to <= len(a.text) && a.text[from:to] == v.text[from:to] {
			return true
		}
	}
	return false
}

// commonPrefix is the length of the prefix a and b share, compared a word at a time.
func commonPrefix(a, b string) int {
	n := 0
	for n+8 <= len(a) && n+8 <= len(b) {
		if x := leWord(a[n:]) ^ leWord(b[n:]); x != 0 {
			return n + mbits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// leWord is the first 8 bytes of s as a little-endian word.
func leWord(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// span is a range of the original text to redact.
type span struct{ from, to int }

// maxPooled is the largest buffer kept for the next text.
const maxPooled = 16 << 20

var bufs = sync.Pool{New: func() any { return &canonText{} }}

// find returns the ranges of s to redact, in order and apart.
func find[T text](m *matcher, s T) []span {
	c := bufs.Get().(*canonText)
	defer func() {
		if cap(c.text) <= maxPooled {
			bufs.Put(c)
		}
	}()
	read(c, s)
	text := c.text
	padded := c.text[:len(text)+8] // read pads the text with 8 bytes for keyAt
	w := m.width
	if len(text) < w {
		return nil
	}
	var spans []span
	// [coverFrom, covered) is the stretch of canonical text redacted last. A window within it,
	// and far enough from its edges that a fragment holding it would hold another window out
	// of the stretch (stride-1 bytes), can find nothing new.
	coverFrom, covered := 0, 0
	margin := m.stride - 1
	filter, shift, mask := m.filter, m.fshift, m.mask
	for p := 0; p+w <= len(text); p++ {
		key := keyAt(padded, p, mask)
		if f := key * spread >> shift; filter[f/64]&(1<<(f%64)) == 0 || p-margin >= coverFrom && p+w+margin <= covered {
			continue
		}
		for k := m.windows.slots[m.windows.slot(key)].head; k != 0; k = m.next[k-1] {
			hh := m.hits[k-1]
			v := m.variants[hh.variant]
			off := int(hh.offset)
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
			if p-left <= covered && p+w+right >= coverFrom {
				coverFrom, covered = min(coverFrom, p-left), max(covered, p+w+right)
			} else {
				coverFrom, covered = p-left, p+w+right
			}
		}
	}
	if len(spans) == 0 {
		return nil
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
	return merged
}

// canonText is a text in canonical form, each of its bytes from one piece of the original:
// a byte, or an escape sequence. Most pieces are one byte, so only where the two part is
// kept: after each escape sequence, where the next canonical byte starts in the original.
type canonText struct {
	text  []byte
	jumps []jump
}

// jump says that canonical byte canon starts at orig in the original, and each byte after it
// at one more, up to the next jump.
type jump struct{ canon, orig int32 }

// orig is where canonical byte i starts in the original (the end of the original for
// len(text)).
func (c *canonText) orig(i int) int {
	k := sort.Search(len(c.jumps), func(k int) bool { return int(c.jumps[k].canon) > i })
	if k == 0 {
		return i
	}
	j := c.jumps[k-1]
	return int(j.orig) + i - int(j.canon)
}

func read[T text](c *canonText, s T) {
	if cap(c.text) < len(s)+8 {
		c.text = make([]byte, len(s)+8)
	}
	text := c.text[:len(s)]
	c.jumps = c.jumps[:0]
	n := 0
	for i := 0; i < len(s); n++ {
		b := s[i]
		if !escapes[b] {
			text[n] = folded[b]
			i++
			continue
		}
		b, k := decode(s, i)
		text[n] = folded[b]
		i += k
		if k != 1 {
			c.jumps = append(c.jumps, jump{int32(n + 1), int32(i)})
		}
	}
	clear(c.text[n : n+8]) // keyAt reads 8 bytes at the last window
	c.text = text[:n]
}

// escapes are the bytes that may start an escape sequence.
var escapes = [256]bool{'\\': true, '%': true, '&': true}

// canonical is a whole text in canonical form.
func canonical(s string) string {
	var c canonText
	read(&c, s)
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
func decode[T text](s T, i int) (byte, int) {
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
func entity[T text](s T, j int) (byte, int, bool) {
	if j >= len(s) {
		return 0, 0, false
	}
	if s[j] != '#' { // reports escape by number mostly: names are the rarer case
		for _, e := range entities {
			if e.name[0] == s[j] && hasPrefixAt(s, j, e.name) {
				return e.b, len(e.name), true
			}
		}
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

func hexValue[T text](s T, at, n int) (int, bool) {
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

func hasPrefixAt[T text](s T, at int, prefix string) bool {
	return at <= len(s) && len(s)-at >= len(prefix) && string(s[at:at+len(prefix)]) == prefix
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// table maps a window's key to the first of its hits, by open addressing: building a matcher
// for a handful of tokens inserts tens of thousands of windows, which a Go map made the
// larger part of starting a run.
type table struct {
	slots []entry // key and head side by side: a look-up reads one cache line
	mask  uint64
	shift uint // 64 - log2(size): a key's slot is the top bits of key*spread
}

type entry struct {
	key  uint64
	head int32 // index+1 in matcher.hits; 0: an empty slot
}

func newTable(n int) table {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	return table{slots: make([]entry, size), mask: uint64(size - 1), shift: uint(64 - mbits.TrailingZeros(uint(size)))}
}

// slot is where key h is, or the empty slot where it goes.
func (t table) slot(h uint64) uint64 {
	i := h * spread >> t.shift
	for t.slots[i].head != 0 && t.slots[i].key != h {
		i = (i + 1) & t.mask
	}
	return i
}
