// Package observe judges real traffic against the contract: one exchange at a time, as a
// proxy sees it or a recording (HAR) holds it. It is the one place that judging lives; the
// proxy and observe verbs differ only in where their exchanges come from.
//
// An exchange is judged on what a single request and its response can say: the request
// against its operation (method, path, headers, body schema), the response (documented status,
// headers, body schema), and for a collection the rules that tie its 201 to the request
// (requestorComment, machineId, type, status, times). An exchange of an operation the contract
// does not document is "undocumented": skipped, never a failure.
package observe

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
	"github.com/cipconform/cipconform/suites/redact"
)

// MaxKeptExchanges is how many exchanges a session keeps for its reports (each at most
// harness.KeptBodyBytes of body and KeptHeaderBytes of header); later entries keep their
// verdict and violations only.
const MaxKeptExchanges = 1000

// MaxBody is how much of a body is kept for judging; a longer body is forwarded whole but
// not judged.
const MaxBody = 1 << 20

// Kind is the kind of every observed entry.
const Kind harness.Kind = "observed"

// Undocumented is the Element operation of an exchange the contract does not document.
const Undocumented = "undocumented"

// Exchange is one observed request and its response.
type Exchange struct {
	Request     *http.Request // its URL, method and header; the body is RequestBody
	RequestBody []byte
	// RequestTruncated: the request body was longer than MaxBody; RequestBody is its start.
	RequestTruncated bool
	// RequestBodyUnknown: the body the client meant to send is not known: the upstream
	// answered before reading it whole (the client waited for "100 Continue"), or a recording
	// left it out. The request is judged without its body.
	RequestBodyUnknown bool
	// BodyUnknown: the response body is not known (a recording left it out): the response is
	// judged without its body.
	BodyUnknown   bool
	Status        int // 0: no response (Error says why)
	Header        http.Header
	Body          []byte
	BodyTruncated bool
	Error         string
	Duration      time.Duration
}

// Log collects the judged exchanges of one session, numbered in the order they were added
// (OBS-0001...), with a redactor of every bearer token it saw. It is safe for concurrent use.
type Log struct {
	fixed    *spec.Profile // nil: each exchange's profile is told by its path
	base     string        // "": any path; else the one every operation's path is below
	redactor *redact.Redactor

	mu      sync.Mutex
	next    int
	entries []entry
	seen    map[string]bool // profiles judged against, by name
	used    []spec.Profile
}

// NewLog judges against profile, or, when it is nil, against the profile each exchange's path
// tells (a path below a profile's base path, or a host of it).
func NewLog(profile *spec.Profile) *Log {
	return &Log{fixed: profile, redactor: redact.New(), seen: map[string]bool{}}
}

// Redactor redacts every bearer token the log has seen.
func (l *Log) Redactor() *redact.Redactor { return l.redactor }

// Reserve numbers the next exchange, in arrival order; Judge takes the number.
func (l *Log) Reserve() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	return l.next
}

// SetBasePath has every exchange whose path is not below base (the proxy's upstream's path)
// judged undocumented. Call it before the first exchange is judged.
func (l *Log) SetBasePath(base string) { l.base = strings.TrimSuffix(base, "/") }

func below(path, base string) bool {
	return path == base || strings.HasPrefix(path, base+"/")
}

// operationPath says whether the part of path below its base path (the upstream's, or the
// profile's where the path has it) is the whole path of one of the contract's operations:
// /api/v2/machineactions/{id} and /api/../x/machineactions/{id} are none, though they end
// with one. On a Microsoft host the base path is due; with a contract given, a path without
// its base path (an implementation served elsewhere) is matched by its end.
func (l *Log) operationPath(p spec.Profile, path string) bool {
	rel := ""
	switch i := strings.Index(path+"/", p.BasePath+"/"); {
	case l.base != "":
		rel = strings.TrimPrefix(path, l.base)
	case p.BasePath != "" && i >= 0:
		rel = path[i+len(p.BasePath):]
	case l.fixed == nil:
		return false // a Microsoft host: its contract is below the base path, and this is not
	default:
		return true
	}
	c, err := p.Contract()
	if err != nil {
		return true // Judge says so
	}
	for _, o := range c.Operations() {
		if segments(o.PathTemplate) != segments(rel) {
			continue
		}
		if _, ok := o.PathParams(rel); ok {
			return true
		}
	}
	return false
}

func segments(path string) int {
	path = strings.Trim(path, "/")
	if path == "" {
		return 0
	}
	return strings.Count(path, "/") + 1
}

// Add judges an exchange under the next number.
func (l *Log) Add(ctx context.Context, ex Exchange) harness.Result {
	return l.Judge(ctx, l.Reserve(), ex)
}

// Judge judges an exchange numbered n (from Reserve) and keeps its entry.
func (l *Log) Judge(ctx context.Context, n int, ex Exchange) harness.Result {
	if ex.Request != nil {
		for _, name := range credentialHeaders {
			for _, field := range ex.Request.Header.Values(name) {
				for _, c := range credentials(field) {
					l.redactor.Add(c)
				}
			}
		}
	}
	for _, secret := range tokenSecrets(ex) {
		l.redactor.Add(secret)
	}
	p, ok := l.profileOf(ex)
	var r harness.Result
	switch {
	case !ok && tokenRequest(ex):
		r = undocumented(ex, "a token request: no operation of the contract")
	case !ok:
		r = undocumented(ex, "the path is below no profile's base path: give --profile to say which contract it speaks")
	case l.base != "" && ex.Request != nil && ex.Request.URL != nil && !below(ex.Request.URL.Path, l.base):
		r = undocumented(ex, fmt.Sprintf("the path is not below the upstream's base path %s, where the contract's operations are", l.base))
		ok = false
	case ex.Request != nil && ex.Request.URL != nil && !l.operationPath(p, ex.Request.URL.Path):
		r = undocumented(ex, fmt.Sprintf("the %s contract documents no operation at %s: below its base path, the path is no operation's whole path", p.Name, ex.Request.URL.Path))
		ok = false
	default:
		r = Judge(ctx, p, ex)
	}
	r.Check.ID = fmt.Sprintf("OBS-%04d", n)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) >= MaxKeptExchanges {
		// A long session keeps every verdict, but the exchanges of its first ones only: the
		// reports and the memory must not grow with the traffic.
		r.Exchanges = nil
		r.Message = strings.TrimSpace(r.Message + fmt.Sprintf(" (exchange not kept: a session keeps those of its first %d)", MaxKeptExchanges))
	}
	if ok && r.Check.Element.Operation != Undocumented && !l.seen[p.Name] {
		l.seen[p.Name] = true
		l.used = append(l.used, p)
	}
	e := entry{n: n, r: &r}
	if ok {
		e.profile = p.Name
	}
	l.entries = append(l.entries, e)
	return r
}

// JudgedAgainst returns the IDs of the entries judged against the named profile (a session
// may speak both: the same operation IDs then name operations of two contracts).
func (l *Log) JudgedAgainst(profile string) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := map[string]bool{}
	for _, e := range l.entries {
		if e.profile == profile {
			ids[e.r.Check.ID] = true
		}
	}
	return ids
}

// entry is a judged exchange and its number. A pointer: a session's entries grow with its
// traffic, and appending would otherwise copy whole results each time the slice grows.
type entry struct {
	n       int
	r       *harness.Result
	profile string // the name of the one it was judged against; "" none
}

// Entries returns the entries so far, in the order of their numbers.
func (l *Log) Entries() []harness.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	sorted := slices.Clone(l.entries)
	// By number, not by ID: "OBS-10000" sorts before "OBS-9999".
	slices.SortStableFunc(sorted, func(a, b entry) int { return a.n - b.n })
	out := make([]harness.Result, len(sorted))
	for i, e := range sorted {
		out[i] = *e.r
	}
	return out
}

// Profile is the profile the log judged against: the one given, or the first an exchange was
// judged against (ok false when none was).
func (l *Log) Profile() (spec.Profile, bool) {
	if l.fixed != nil {
		return *l.fixed, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.used) == 0 {
		return spec.Profile{}, false
	}
	return l.used[0], true
}

func (l *Log) profileOf(ex Exchange) (spec.Profile, bool) {
	if l.fixed != nil {
		return *l.fixed, true
	}
	if ex.Request == nil || ex.Request.URL == nil {
		return spec.Profile{}, false
	}
	return ProfileOfURL(ex.Request.URL)
}

// ProfileOfURL tells the profile of a request URL: a path below a profile's base path, or a
// host of a profile.
func ProfileOfURL(u *url.URL) (spec.Profile, bool) {
	for _, p := range spec.Profiles() {
		if strings.Contains(u.Path+"/", p.BasePath+"/") || slices.Contains(p.Hosts, strings.ToLower(u.Hostname())) {
			return p, true
		}
	}
	return spec.Profile{}, false
}

// operationFor finds the operation a request is for: the longest path template its path ends
// with, and whether the method is the operation's.
func operationFor(c *spec.Contract, req *http.Request) (op *spec.Operation, methodOK bool) {
	for _, o := range c.Operations() {
		if _, ok := o.PathParams(req.URL.Path); !ok {
			continue
		}
		better := op == nil || len(o.PathTemplate) > len(op.PathTemplate) ||
			len(o.PathTemplate) == len(op.PathTemplate) && !methodOK && o.Method == req.Method
		if better {
			op, methodOK = o, o.Method == req.Method
		}
	}
	return op, methodOK
}

// Judge judges one exchange against a profile. The entry's ID is left to the caller.
func Judge(ctx context.Context, p spec.Profile, ex Exchange) harness.Result {
	if ex.Request == nil || ex.Request.URL == nil {
		return undocumented(ex, "no request")
	}
	c, err := p.Contract()
	if err != nil {
		r := undocumented(ex, err.Error())
		r.Outcome = harness.Errored
		return r
	}
	op, methodOK := operationFor(c, ex.Request)
	if op == nil {
		return undocumented(ex, fmt.Sprintf("the %s contract documents no operation at %s", p.Name, ex.Request.URL.Path))
	}
	if !methodOK {
		return undocumented(ex, fmt.Sprintf("the %s contract documents no %s on %s (only %s)", p.Name, ex.Request.Method, op.PathTemplate, op.Method))
	}
	r := harness.Result{
		Check:     info(ex, spec.Element{Operation: op.ID, Status: statusText(ex.Status)}, harness.Must),
		Exchanges: []*harness.Exchange{record(ex)},
		Duration:  ex.Duration,
	}
	if ex.Error != "" || ex.Status == 0 {
		r.Outcome, r.Message = harness.Errored, "not judged: "+orDefault(ex.Error, "no response recorded")
		return r
	}
	body, unzippedOver, opaque := decode(ex.Header, ex.Body)
	if opaque {
		ex.BodyUnknown = true
	}
	if ex.Request.Header.Get("Content-Encoding") != "" {
		requestBody, over, opaque := decode(ex.Request.Header, ex.RequestBody)
		ex.RequestBody, unzippedOver = requestBody, unzippedOver || over
		// An encoding the judge cannot undo hides the body, unless the body is JSON as it is
		// (a mislabelled body, "utf-8"): that one is judged, not let through unjudged.
		ex.RequestBodyUnknown = ex.RequestBodyUnknown || opaque && !json.Valid(ex.RequestBody)
	}
	if ex.RequestTruncated || ex.BodyTruncated || unzippedOver {
		r.Outcome, r.Message = harness.Skipped, fmt.Sprintf("a body longer than %d bytes: not judged", MaxBody)
		return r
	}
	var must, should []spec.Violation
	var requestViolations []spec.Violation
	if ex.RequestBodyUnknown {
		requestViolations = op.ValidateRequestHead(ctx, ex.Request)
	} else {
		requestViolations = op.ValidateRequest(ctx, ex.Request, ex.RequestBody)
		if isJSON(ex.Request.Header) && trailingText(ex.RequestBody) {
			// The validator reads the first JSON value and leaves what follows it.
			requestViolations = append(requestViolations, spec.Violation{Where: spec.InBody, Reason: "the body is not JSON: a JSON value followed by more text"})
		}
	}
	for _, v := range requestViolations {
		v.Reason = "request: " + v.Reason
		must = append(must, v)
	}
	if ex.BodyUnknown {
		must = append(must, op.ValidateResponseHead(ctx, ex.Request, ex.Status, ex.Header)...)
	} else {
		must = append(must, op.ValidateResponse(ctx, ex.Request, ex.Status, ex.Header, body)...)
		if ex.Status >= 400 && !op.Documents(ex.Status) {
			must = append(must, errorShape(body)...)
		}
	}
	if op.ID == spec.OperationID && ex.Status == http.StatusCreated && !ex.BodyUnknown {
		m, s := created(p, op, ex, body)
		must, should = append(must, m...), append(should, s...)
	}
	r.Violations = append(must, should...)
	switch {
	case len(r.Violations) == 0 && (ex.BodyUnknown || ex.RequestBodyUnknown):
		// Nothing wrong in what could be judged; but a body could not be: not a pass.
		r.Outcome, r.Message = harness.Skipped, "the rest conforms, but "+unknownBodies(ex)+": the exchange is not judged whole"
		return r
	case len(must) > 0:
		r.Outcome, r.Message = harness.Failed, fmt.Sprintf("%d violation(s) of the %s contract", len(r.Violations), p.Name)
	case len(should) > 0:
		r.Outcome, r.Message = harness.Failed, fmt.Sprintf("%d SHOULD violation(s) of the %s contract", len(should), p.Name)
		r.Check.Level = harness.Should
	default:
		r.Outcome = harness.Passed
	}
	return r
}

// created judges what a 201 of the collection says against its request: MUST and SHOULD
// violations apart.
func created(p spec.Profile, op *spec.Operation, ex Exchange, body []byte) (must, should []spec.Violation) {
	var action map[string]any
	if json.Unmarshal(body, &action) != nil {
		return nil, nil // the schema validation says so
	}
	var req map[string]any
	if json.Unmarshal(ex.RequestBody, &req) == nil {
		if comment, ok := req["Comment"].(string); ok {
			if got, _ := action["requestorComment"].(string); got != comment {
				must = append(must, spec.Violation{Where: spec.InBody, Pointer: "/requestorComment", Reason: fmt.Sprintf("%q, the request's Comment is %q", got, comment)})
			}
		}
	}
	if params, ok := op.PathParams(ex.Request.URL.Path); ok {
		if got, _ := action["machineId"].(string); !strings.EqualFold(got, params["id"]) {
			should = append(should, spec.Violation{Where: spec.InBody, Pointer: "/machineId", Reason: fmt.Sprintf("SHOULD be the machine of the path, %q; got %q", params["id"], got)})
		}
	}
	if got, _ := action["type"].(string); got != "CollectInvestigationPackage" {
		must = append(must, spec.Violation{Where: spec.InBody, Pointer: "/type", Reason: fmt.Sprintf("%q, want CollectInvestigationPackage", got)})
	}
	if got, _ := action["status"].(string); !slices.Contains(p.InitialStatuses, got) {
		must = append(must, spec.Violation{Where: spec.InBody, Pointer: "/status", Reason: fmt.Sprintf("%q is not the status of a new action (%s)", got, strings.Join(p.InitialStatuses, " or "))})
	}
	for _, name := range []string{"creationDateTimeUtc", p.UpdateTime} {
		s, _ := action[name].(string)
		t, err := spec.ParseTime(s)
		if _, offset := t.Zone(); err != nil || offset != 0 {
			must = append(must, spec.Violation{Where: spec.InBody, Pointer: "/" + name, Reason: fmt.Sprintf("%q is not an RFC 3339 time in UTC", s)})
		}
	}
	return must, should
}

// unknownBodies says which bodies of an exchange are not known, and why.
func unknownBodies(ex Exchange) string {
	var parts []string
	if ex.RequestBodyUnknown {
		parts = append(parts, "the request body is not known (not sent whole, not recorded, or in an encoding the judge cannot undo)")
	}
	if ex.BodyUnknown {
		parts = append(parts, "the response body is not known (not recorded, or in an encoding the judge cannot undo: "+orDefault(ex.Header.Get("Content-Encoding"), "none")+")")
	}
	return strings.Join(parts, ", and ")
}

// trailingText says whether body is a JSON value followed by more than whitespace (a body that
// is no JSON value at all is the validator's to report).
func trailingText(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v json.RawMessage
	if dec.Decode(&v) != nil {
		return false
	}
	_, err := dec.Token()
	return err != io.EOF
}

// isJSON says whether a header's Content-Type is JSON.
func isJSON(h http.Header) bool {
	mt, _, _ := strings.Cut(strings.ToLower(h.Get("Content-Type")), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// errorShape judges the body of an error whose status the operation does not document: it
// still has the error body's shape, {"error": {"code": "...", "message": "..."}}.
func errorShape(body []byte) []spec.Violation {
	var e struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil || e.Error.Code == nil || *e.Error.Code == "" || e.Error.Message == nil {
		return []spec.Violation{{Where: spec.InBody, Reason: `an error body is {"error": {"code": "...", "message": "..."}}`}}
	}
	return nil
}

// decoded is the body as the application sent it (gzip or deflate undone). over says it is
// longer than MaxBody (its start is returned). A body that does not unzip is returned as it
// is: its judgement says it is not JSON. opaque says it is in an encoding the judge cannot
// undo (br, zstd...): its content is not known.
func decoded(h http.Header, body []byte) (out []byte, over bool) {
	out, over, _ = decode(h, body)
	return out, over
}

func decode(h http.Header, body []byte) (out []byte, over, opaque bool) {
	var zr io.Reader
	var err error
	switch encoding := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); encoding {
	case "", "identity":
		return body, false, false
	case "gzip", "x-gzip":
		zr, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate": // zlib-wrapped (RFC 9110), though some servers send it raw
		if zr, err = zlib.NewReader(bytes.NewReader(body)); err != nil {
			zr, err = flate.NewReader(bytes.NewReader(body)), nil
		}
	default:
		return body, false, len(body) > 0
	}
	if err != nil {
		return body, false, false
	}
	out, err = io.ReadAll(io.LimitReader(zr, MaxBody+1))
	if err != nil {
		return body, false, false
	}
	if len(out) > MaxBody {
		return out[:MaxBody], true, false
	}
	return out, false, false
}

func undocumented(ex Exchange, why string) harness.Result {
	r := harness.Result{Check: info(ex, spec.Element{Operation: Undocumented}, harness.Should), Outcome: harness.Skipped, Message: "undocumented: " + why, Duration: ex.Duration}
	r.Exchanges = []*harness.Exchange{record(ex)}
	return r
}

func info(ex Exchange, el spec.Element, level harness.Level) harness.Info {
	title := "(no request)"
	if ex.Request != nil && ex.Request.URL != nil {
		title = fmt.Sprintf("%s %s -> %s", ex.Request.Method, ex.Request.URL.Path, orDefault(statusText(ex.Status), "no response"))
	}
	return harness.Info{Title: title, Element: el, Level: level, Safety: harness.Safety("observed"), Kind: Kind}
}

func statusText(status int) string {
	if status == 0 {
		return ""
	}
	return strconv.Itoa(status)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// record is the exchange as reports show it. The Authorization header shows its scheme only;
// every report is redacted besides.
func record(ex Exchange) *harness.Exchange {
	out := &harness.Exchange{Label: "observed", Status: ex.Status, Error: ex.Error, DurationMS: ex.Duration.Milliseconds()}
	if ex.Request != nil && ex.Request.URL != nil {
		out.Method, out.URL = ex.Request.Method, ex.Request.URL.String()
		out.RequestHeader = kept(ex.Request.Header)
		out.RequestBody = keptBody(ex.RequestBody, ex.RequestTruncated)
		out.Curl = curl(ex)
	}
	if ex.Status != 0 {
		out.ResponseHeader = kept(ex.Header)
		body, over := decoded(ex.Header, ex.Body)
		out.ResponseBody = keptBody(body, ex.BodyTruncated || over)
	}
	return out
}

// secretFields are the fields of an OAuth token request's form and of its answer that hold
// secrets (RFC 6749, and the client assertion of RFC 7523).
var secretFields = []string{"client_secret", "client_assertion", "assertion", "password", "refresh_token", "code", "access_token", "id_token", "code_verifier"}

// tokenSecrets are the secrets an exchange with a token endpoint carries: a client's recording
// holds its token request too, which is undocumented but kept in the reports as it is.
func tokenSecrets(ex Exchange) []string {
	var out []string
	if ex.Request != nil && strings.HasPrefix(strings.ToLower(ex.Request.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		out = append(out, formSecrets(string(ex.RequestBody))...)
	}
	if ex.Request != nil && ex.Request.URL != nil {
		out = append(out, formSecrets(ex.Request.URL.RawQuery)...) // access_token: RFC 6750 2.3
	}
	if location, err := url.Parse(ex.Header.Get("Location")); err == nil { // an authorization redirect
		out = append(out, formSecrets(location.RawQuery)...)
		out = append(out, formSecrets(location.Fragment)...)
	}
	body, _ := decoded(ex.Header, ex.Body) // the reports keep it decoded
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var answer map[string]any
	if bytes.Contains(body, []byte(`_token"`)) && json.Unmarshal(body, &answer) == nil {
		for _, name := range secretFields {
			if v, ok := answer[name].(string); ok {
				out = append(out, v)
			}
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return len(s) < 8 })
}

// formSecrets are the values of the secret fields of a form or query, pair by pair: one pair
// that does not unescape does not hide the others (url.ParseQuery would drop them all).
func formSecrets(form string) []string {
	var out []string
	for _, pair := range strings.FieldsFunc(form, func(r rune) bool { return r == '&' || r == ';' }) {
		name, value, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !slices.Contains(secretFields, name) {
			continue
		}
		out = append(out, value) // as written, and unescaped
		if v, err := url.QueryUnescape(value); err == nil && v != value {
			out = append(out, v)
		}
	}
	return out
}

// tokenRequest says whether an exchange asks an OAuth token endpoint for a token.
func tokenRequest(ex Exchange) bool {
	return ex.Request != nil && ex.Request.URL != nil && (strings.HasSuffix(ex.Request.URL.Path, "/token") ||
		strings.EqualFold(ex.Request.URL.Hostname(), "login.microsoftonline.com"))
}

// credentialHeaders are the request fields whose values are credentials.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization"}

// credentials are the secrets of a credentials field: what follows the scheme ("Bearer x",
// "Basic y"), whatever whitespace parts them, of each comma-separated credential; a bare value
// of 8 bytes or more is one too.
func credentials(field string) []string {
	var out []string
	for _, part := range strings.Split(field, ",") {
		f := strings.Fields(part)
		switch {
		case len(f) > 1:
			out = append(out, f[1:]...)
		case len(f) == 1 && len(f[0]) >= 8:
			out = append(out, f[0])
		}
	}
	return out
}

// kept is a header as reports keep it, bounded as the harness's own exchanges are, with each
// credentials field showing its schemes only and each cookie its name only.
func kept(h http.Header) map[string]string {
	cloned := false
	for name, mask := range maskedHeaders {
		values := h.Values(name)
		if len(values) == 0 {
			continue
		}
		if !cloned {
			h, cloned = h.Clone(), true
		}
		h.Del(name)
		for _, v := range values {
			h.Add(name, mask(v))
		}
	}
	return harness.KeptHeader(h, nil)
}

// maskedHeaders are the fields a report shows masked, and how.
var maskedHeaders = map[string]func(string) string{
	"Authorization":       schemesOnly,
	"Proxy-Authorization": schemesOnly,
	"Cookie":              cookieNamesOnly,
	"Set-Cookie":          cookieNamesOnly,
}

// schemesOnly is a credentials field with each credential's scheme ("Bearer [REDACTED]").
func schemesOnly(v string) string {
	var shown []string
	for _, part := range strings.Split(v, ",") {
		if f := strings.Fields(part); len(f) > 1 {
			shown = append(shown, f[0]+" "+redact.Redacted)
		} else if len(f) == 1 {
			shown = append(shown, redact.Redacted)
		}
	}
	return strings.Join(shown, ", ")
}

// cookieNamesOnly is a cookie field with each cookie's name, its attributes kept (Secure...).
func cookieNamesOnly(v string) string {
	var shown []string
	for _, c := range strings.Split(v, ";") {
		if n, _, ok := strings.Cut(strings.TrimSpace(c), "="); ok {
			shown = append(shown, n+"="+redact.Redacted)
		} else {
			shown = append(shown, strings.TrimSpace(c))
		}
	}
	return strings.Join(shown, "; ")
}

func curl(ex Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "curl -sS -X %s %s", ex.Request.Method, quote(ex.Request.URL.String()))
	if ex.Request.Header.Get("Authorization") != "" {
		b.WriteString(` -H "Authorization: Bearer $CIP_TOKEN"`)
	}
	if ct := ex.Request.Header.Get("Content-Type"); ct != "" {
		b.WriteString(" -H " + quote("Content-Type: "+ct))
	}
	switch {
	case len(ex.RequestBody) > harness.KeptBodyBytes || ex.RequestTruncated:
		b.WriteString(" --data-binary @body  # the body, longer than the 64 KiB an exchange keeps, is not kept")
	case len(ex.RequestBody) > 0:
		b.WriteString(" --data-binary " + quote(string(ex.RequestBody)))
	}
	return b.String()
}

// keptBody is a body as an exchange keeps it; truncated says that body is only its start.
func keptBody(body []byte, truncated bool) string {
	if !truncated {
		return harness.KeptBody(body, nil)
	}
	return harness.KeptBody(body[:min(len(body), harness.KeptBodyBytes)], nil) + fmt.Sprintf("… the rest not kept (more than %d bytes in all)", MaxBody)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
