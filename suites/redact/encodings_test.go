package redact_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/suites/redact"
)

// canary has the characters encoders treat differently: + / = - . _
const canary = "CANARY+tok/en=9f3a7c2e-4b1d.8f60_a5e3QZ"

func jsonEscapeEvery(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04X`, r)
	}
	return b.String()
}

func jsonString(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// embedded is the secret base64-encoded inside a longer text, at each alignment.
func embedded(enc *base64.Encoding, before int) func(string) string {
	return func(s string) string {
		return enc.EncodeToString([]byte(strings.Repeat("x", before) + s + "-the rest of it"))
	}
}

// encodings are the ways a target, a token endpoint or a report may show a secret.
var encodings = []struct {
	name   string
	encode func(string) string
}{
	{"as is", func(s string) string { return s }},
	{"JSON, .NET's default encoder (+ as \\u002B)", func(s string) string { return strings.ReplaceAll(s, "+", `\u002B`) }},
	{"JSON, every character \\uXXXX", jsonEscapeEvery},
	{"JSON, lower-case hex", func(s string) string { return strings.ToLower(jsonEscapeEvery(s)) }},
	{"JSON, \\/", func(s string) string { return strings.ReplaceAll(s, "/", `\/`) }},
	{"JSON of JSON", func(s string) string { return jsonString(jsonString(strings.ReplaceAll(s, "+", `\u002B`))) }},
	{"JSON in HTML", func(s string) string { return template.HTMLEscapeString(jsonString(jsonEscapeEvery(s))) }},
	{"form", func(s string) string { return url.Values{"client_secret": {s}}.Encode() }},
	{"query", url.QueryEscape},
	{"path", url.PathEscape},
	{"every byte %XX", func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			fmt.Fprintf(&b, "%%%02x", s[i])
		}
		return b.String()
	}},
	{"percent twice", func(s string) string { return url.QueryEscape(url.QueryEscape(s)) }},
	{"HTML", template.HTMLEscapeString},
	{"HTML numeric hex", func(s string) string { return strings.ReplaceAll(s, "+", "&#x2B;") }},
	{"HTML twice", func(s string) string { return template.HTMLEscapeString(template.HTMLEscapeString(s)) }},
	{"XML", xmlText},
	{"upper case", strings.ToUpper},
	{"lower case", strings.ToLower},
	{"header name", http.CanonicalHeaderKey},
	{"hex", func(s string) string { return hex.EncodeToString([]byte(s)) }},
	{"HEX", func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }},
	{"base64", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }},
	{"base64 URL", func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }},
	{"base64 raw", func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }},
	{"base64 raw URL", func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }},
	{"base64 at 1 mod 3", embedded(base64.StdEncoding, 1)},
	{"base64 at 2 mod 3", embedded(base64.StdEncoding, 2)},
	{"base64 at 3", embedded(base64.StdEncoding, 3)},
	{"base64 URL at 1 mod 3", embedded(base64.RawURLEncoding, 4)},
	{"base64 URL at 2 mod 3", embedded(base64.RawURLEncoding, 5)},
	{"Basic", func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte("client-id:"+s)) }},
	{"base64 in JSON in HTML", func(s string) string {
		return template.HTMLEscapeString(jsonString(base64.StdEncoding.EncodeToString([]byte(s))))
	}},
	{"halves in two fields", func(s string) string {
		return `{"a":"` + s[:len(s)/2] + `","b":"` + s[len(s)/2:] + `"}`
	}},
	{"altered at its end", func(s string) string { return s[:len(s)-4] + "AAAA" }},
}

// leaks says which MinFragment-long piece of the secret, in this encoding, is still in text.
// Pieces that the encoding of another secret of the same length has too are the encoding's
// own (a prefix, base64 of what surrounds the secret): they are no leak, nor is a character
// at the edge that is only partly the secret's.
func leaks(text, secret string, encode func(string) string) string {
	low := strings.ToLower(text)
	other := strings.ToLower(encode(strings.Repeat("#", len(secret))))
	for _, form := range []string{secret, encode(secret)} {
		form = strings.ToLower(form)
		for i := 0; i+redact.MinFragment <= len(form); i++ {
			piece := form[i : i+redact.MinFragment]
			// A piece at the edge of an encoded secret has a character mixed from the secret
			// and what surrounds it, and the rest from what surrounds it.
			edge := strings.Contains(other, piece[1:]) || strings.Contains(other, piece[:len(piece)-1])
			if strings.Contains(low, piece) && !edge {
				return piece
			}
		}
	}
	return ""
}

func TestEveryEncodingOfASecretIsRedacted(t *testing.T) {
	r := redact.New(canary)
	for _, enc := range encodings {
		in := `{"echo":"` + enc.encode(canary) + `"} and some text after`
		got := r.Replace(in)
		if piece := leaks(got, canary, enc.encode); piece != "" || !strings.Contains(got, redact.Redacted) {
			t.Errorf("%s: %q still shows %q (from %q)", enc.name, got, piece, in)
		}
		if !strings.HasSuffix(got, "and some text after") {
			t.Errorf("%s: redacted more than the secret: %q", enc.name, got)
		}
	}
}

func TestAlteredSecretKeepsItsNewEnd(t *testing.T) {
	r := redact.New("CANARY1234567890abcdefXYZ")
	if got := r.Replace("Bearer CANARY1234567890abcdefAAAA"); got != "Bearer "+redact.Redacted+"AAAA" {
		t.Errorf("%q", got)
	}
}

func TestFragmentsShorterThanMinFragmentStay(t *testing.T) {
	r := redact.New(canary)
	short := canary[3 : 3+redact.MinFragment-1]
	if got := r.Replace("x" + short + "x"); got != "x"+short+"x" {
		t.Errorf("a fragment of %d characters was redacted: %q", len(short), got)
	}
	long := canary[3 : 3+redact.MinFragment]
	if got := r.Replace("x" + long + "x"); got != "x"+redact.Redacted+"x" {
		t.Errorf("a fragment of %d characters stayed: %q", len(long), got)
	}
}

func TestOrdinaryTextIsUnchanged(t *testing.T) {
	r := redact.New(canary, "another-secret-0123456789")
	text := `{"id":"7d1c3f2e-5b4a-4c3d-9e8f-0a1b2c3d4e5f","requestorComment":"a &amp; b \u002B c %2B d",` +
		`"body":"` + base64.StdEncoding.EncodeToString([]byte("an ordinary body of some length")) + `"}` + "\n<p>&#43;</p>"
	if got := r.Replace(text); got != text {
		t.Errorf("changed:\n%s\n%s", text, got)
	}
}

func BenchmarkReplace(b *testing.B) {
	secrets := []string{canary, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
		"canary-global-2b8d4f6a1c3e5g7h9i0j", "canary-reader-9z8y7x6w5v4u3t2s1r0q", "client-secret-value-0123456789"}
	r := redact.New(secrets...)
	// A report: JSON with escapes, HTML, base64, and a secret now and then.
	var doc strings.Builder
	for doc.Len() < 4<<20 {
		fmt.Fprintf(&doc, `{"label":"request %d","responseBody":"{\"id\":\"%x\",\"note\":\"a \u0026 b\"}","curl":"curl -H 'Authorization: Bearer $CIP_TOKEN_ADMIN' https://x.example/api"}`+"\n",
			doc.Len(), doc.Len())
		if doc.Len()%7 == 0 {
			doc.WriteString(base64.StdEncoding.EncodeToString([]byte(secrets[1])))
		}
	}
	text := doc.String()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		_ = r.Replace(text)
	}
}

// runSecrets are the secrets of a run: eight tokens of a JWT's length, each also altered at
// its end.
func runSecrets() []string {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var secrets []string
	for i := range 8 {
		payload := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"aud":"https://api.securitycenter.microsoft.com","iss":"https://sts.windows.net/%x/","sub":"user-%d","oid":"%x","roles":["Machine.CollectForensics"]}`, random(16), i, random(16)))
		token := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + payload + "." + base64.RawURLEncoding.EncodeToString(random(256))
		secrets = append(secrets, token, token[:len(token)-4]+"AAAA")
	}
	return secrets
}

// BenchmarkNew is building the redactor of a run, once per run.
func BenchmarkNew(b *testing.B) {
	secrets := runSecrets()
	for b.Loop() {
		_ = redact.New(secrets...)
	}
}

// BenchmarkReplaceReport is the redactor of a run (eight tokens of a JWT's length, each also
// altered at its end) over a report that holds none of them: what every report costs.
func BenchmarkReplaceReport(b *testing.B) {
	secrets := runSecrets()
	r := redact.New(secrets...)
	var doc strings.Builder
	for i := 0; doc.Len() < 300<<10; i++ {
		fmt.Fprintf(&doc, `{"id":"CIP-AUTH-%03d","responseBody":"{\"error\":{\"code\":\"Unauthorized\",\"message\":\"Authorization has been denied\",\"target\":\"%08x-f9f3-4965-9966-1bb0a81d720d\"}}","curl":"curl -i -X POST -H 'Authorization: Bearer $CIP_TOKEN_ADMIN' 'http://127.0.0.1:38645/testwdatppreview/machines/c19%037d/collectInvestigationPackage'"}`+"\n", i, i*2654435761, i)
	}
	text := []byte(doc.String())
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = r.ReplaceBytes(text)
	}
}
