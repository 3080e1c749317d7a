package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/config"
	"github.com/cipconform/cipconform/suites/redact"
)

// Auth is the Authorization header of a request: the value sent, and how reports and the curl
// command show it (a shell expression such as "Bearer $CIP_TOKEN_ADMIN", never the secret).
type Auth struct {
	Value string
	Shown string
}

// Request is what a check asks the client to send.
type Request struct {
	Label  string // what this request is for, in reports: "no Authorization header"
	Method string
	URL    string
	Auth   *Auth   // nil: no Authorization header
	Type   *string // the Content-Type; nil: application/json; a pointer to "": no header
	Body   []byte
	// NoRetry keeps a 429 as the answer (for checks of the rate limit itself); otherwise a
	// 429 is waited out as its Retry-After says and the request sent once more.
	NoRetry bool
	// Shared marks a request that changes nothing on a conformant target: within one run,
	// checks that send the same one (method, URL, Authorization, Content-Type and body) judge
	// one exchange, sent once.
	Shared bool
	// RetryWhile, when set, sends the request again (every 2 s, for at most the configured
	// busy wait) while the exchange it got says so: a creation on a machine still busy with a
	// collection of an earlier run waits for it instead of failing.
	RetryWhile func(*Exchange) bool
}

// key identifies what a request sends, for sharing: everything but its label.
func (r Request) key() string {
	var auth, ctype string
	if r.Auth != nil {
		auth = r.Auth.Shown // the identity, not its current token: a token fetched again is the same caller
	}
	ctype = "application/json"
	if r.Type != nil {
		ctype = *r.Type
	}
	return strings.Join([]string{r.Method, r.URL, auth, ctype, fmt.Sprint(r.Body == nil), string(r.Body)}, "\x00")
}

// Exchange is one request and its response as reports show them: secrets redacted, bodies
// as text. The raw response is kept (unexported) for validation.
type Exchange struct {
	Label          string            `json:"label"`
	Method         string            `json:"method"`
	URL            string            `json:"url"`
	RequestHeader  map[string]string `json:"requestHeader"`
	RequestBody    string            `json:"requestBody,omitempty"`
	Status         int               `json:"status,omitempty"`
	ResponseHeader map[string]string `json:"responseHeader,omitempty"`
	ResponseBody   string            `json:"responseBody,omitempty"`
	DurationMS     int64             `json:"durationMs"`
	// Error says why there is no (complete) response.
	Error string `json:"error,omitempty"`
	// Unusable is set when the target could not be used at all (refused, timed out): the
	// check's outcome is then an error, not a failure.
	Unusable bool   `json:"unusable,omitempty"`
	Curl     string `json:"curl"`
	// Note says what the client did beyond sending: a 429 waited out and retried.
	Note string `json:"note,omitempty"`
	// Violations are the ways the response departs from the spec, once ConformToOperation
	// has judged it.
	Violations []spec.Violation `json:"violations,omitempty"`

	judged   sync.Once // Violations are computed once, even when checks share the exchange
	timedOut bool      // no response within the request timeout
	redact   func(string) string
	sent     time.Time // when the request went out
	received time.Time // when the response (or the error) came
	request  *http.Request
	header   http.Header
	body     []byte
}

// Conformance judges the response against the operation once and returns its violations;
// an exchange shared by checks is judged by the first that asks.
// An exchange without a complete response has one violation, its error, which is not kept:
// the error is already the exchange's own.
func (e *Exchange) Conformance(op *spec.Operation) []spec.Violation {
	if e.Error != "" {
		return []spec.Violation{{Where: spec.InStatus, Reason: e.Error}}
	}
	e.judged.Do(func() {
		e.Violations = op.ValidateResponse(context.Background(), e.request, e.Status, e.header, e.body)
		// A reason may quote what the target sent (a header's value): redacted like the rest.
		for i := range e.Violations {
			e.Violations[i].Reason = e.redact(e.Violations[i].Reason)
		}
	})
	return e.Violations
}

// SentAt is when the request went out; ReceivedAt when its response was read.
func (e *Exchange) SentAt() time.Time     { return e.sent }
func (e *Exchange) ReceivedAt() time.Time { return e.received }

// Header returns the response header as received.
func (e *Exchange) Header() http.Header { return e.header }

// Body returns the response body as received (unredacted, for validation only).
func (e *Exchange) Body() []byte { return e.body }

// HTTPRequest returns the request that was sent.
func (e *Exchange) HTTPRequest() *http.Request { return e.request }

// Summary is a few lines that show a person what happened.
func (e *Exchange) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", e.Method, e.URL)
	for _, k := range sortedKeys(e.RequestHeader) {
		fmt.Fprintf(&b, "%s: %s\n", k, e.RequestHeader[k])
	}
	if e.RequestBody != "" {
		fmt.Fprintf(&b, "%s\n", clip(e.RequestBody, 512))
	}
	if e.Note != "" {
		fmt.Fprintf(&b, "(%s)\n", e.Note)
	}
	if e.Error != "" {
		fmt.Fprintf(&b, "-> %s\n", e.Error)
	} else {
		fmt.Fprintf(&b, "-> HTTP %d %s\n", e.Status, http.StatusText(e.Status))
		for _, k := range sortedKeys(e.ResponseHeader) {
			fmt.Fprintf(&b, "%s: %s\n", k, e.ResponseHeader[k])
		}
		fmt.Fprintf(&b, "%s\n", clip(e.ResponseBody, 2048))
	}
	fmt.Fprintf(&b, "reproduce: %s", e.Curl)
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d more bytes)", len(s)-n)
}

// Client sends the checks' requests: it never follows a redirect (a token must never reach
// another host), bounds every request by a timeout and every body by a size, and records each
// exchange with secrets redacted.
type Client struct {
	http     *http.Client
	timeout  time.Duration
	maxBody  int64
	redactor *redact.Redactor
	pace     *pacer // nil: no cap on the request rate
}

// MaxRetryWait is the longest Retry-After the client waits out; a longer one ends the check.
const MaxRetryWait = time.Minute

// NewClient builds the client of a configuration.
func NewClient(cfg config.Config) (*Client, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	tlsConfig.InsecureSkipVerify = cfg.Insecure
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment, // HTTPS_PROXY, NO_PROXY
		DialContext:           (&net.Dialer{Timeout: cfg.RequestTimeout}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   cfg.RequestTimeout,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		MaxIdleConnsPerHost:   max(cfg.Concurrency, 4),
		// Bounds against a hostile target: no header beyond MaxHeaderBytes, and no transparent
		// gzip (no Accept-Encoding sent, nothing decompressed), so MaxResponseBytes bounds the
		// bytes held, not the compressed bytes of a bomb.
		MaxResponseHeaderBytes: MaxHeaderBytes,
		DisableCompression:     true,
	}
	var pace *pacer
	if cfg.MaxRPS > 0 {
		pace = &pacer{interval: time.Duration(float64(time.Second) / cfg.MaxRPS)}
	}
	return &Client{
		pace: pace,
		http: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		timeout:  cfg.RequestTimeout,
		maxBody:  cfg.MaxResponseBytes,
		redactor: redact.Start(secretsOf(cfg)...),
	}, nil
}

// secretsOf are the secrets a run knows from its start: the configured ones and each token
// as a check alters it, so that the redactor is built once (a secret added later rebuilds it).
func secretsOf(cfg config.Config) []string {
	secrets := cfg.Secrets()
	for _, s := range secrets {
		if len(s) >= 8 {
			altered, _ := tamper(s)
			secrets = append(secrets, altered)
		}
	}
	return secrets
}

// Redact removes every secret the client knows from s.
func (c *Client) Redact(s string) string { return c.redactor.Replace(s) }

// Redactor is the client's redactor; add a secret to it when one is obtained during a run.
func (c *Client) Redactor() *redact.Redactor { return c.redactor }

// Do sends a request and records the exchange; a 429 is waited out (as its Retry-After says,
// up to MaxRetryWait) and the request sent once more, unless r.NoRetry. It never returns nil.
func (c *Client) Do(ctx context.Context, r Request) *Exchange {
	ex := c.send(ctx, r)
	if ex.Status != http.StatusTooManyRequests || r.NoRetry {
		return ex
	}
	wait, ok := retryAfter(ex.header.Get("Retry-After"), time.Now())
	if !ok || wait > MaxRetryWait {
		ex.Note = fmt.Sprintf("429 with Retry-After %q: not retried (the harness waits at most %s; lower CIP_MAX_RPS)", c.Redact(clip(ex.header.Get("Retry-After"), 64)), MaxRetryWait)
		return ex
	}
	if err := sleep(ctx, wait); err != nil {
		return ex
	}
	again := c.send(ctx, r)
	again.Note = fmt.Sprintf("the first attempt got 429; waited %s as its Retry-After said and retried once", wait)
	return again
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(value string, now time.Time) (time.Duration, bool) {
	if n, err := strconv.Atoi(strings.TrimSpace(value)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(value); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacer spaces requests at least interval apart.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	at := time.Now()
	if p.next.After(at) {
		at = p.next
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	return sleep(ctx, time.Until(at))
}

func (c *Client) send(ctx context.Context, r Request) *Exchange {
	ex := &Exchange{redact: c.Redact, Label: c.Redact(r.Label), Method: r.Method, URL: c.Redact(r.URL), RequestHeader: map[string]string{}, RequestBody: c.Redact(string(r.Body))}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		ex.Error = fmt.Sprintf("cannot build the request: %v", err)
		ex.Unusable = true
		ex.Curl = c.curl(r)
		return ex
	}
	if r.Body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	contentType := "application/json"
	if r.Type != nil {
		contentType = *r.Type
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
		ex.RequestHeader["Content-Type"] = contentType
	}
	req.Header.Set("Accept", "application/json")
	ex.RequestHeader["Accept"] = "application/json"
	if r.Auth != nil {
		req.Header.Set("Authorization", r.Auth.Value)
		ex.RequestHeader["Authorization"] = r.Auth.Shown
	}
	ex.request = req
	ex.Curl = c.curl(r)

	if c.pace != nil {
		if err := c.pace.wait(ctx); err != nil {
			ex.Error, ex.Unusable = c.describe(err), true
			return ex
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	ex.sent = start
	resp, err := c.http.Do(req.WithContext(ctx))
	defer func() { ex.received = time.Now(); ex.DurationMS = ex.received.Sub(start).Milliseconds() }()
	if err != nil {
		ex.Error, ex.Unusable = c.describe(err), true
		ex.timedOut = isTimeout(err)
		return ex
	}
	defer resp.Body.Close()
	ex.Status = resp.StatusCode
	ex.header = resp.Header
	ex.ResponseHeader = c.keptHeader(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	ex.body = body
	ex.ResponseBody = c.keptBody(body, resp.ContentLength, int64(len(body)) > c.maxBody)
	switch {
	case err != nil:
		ex.Error = fmt.Sprintf("reading the response body: %s", c.describe(err))
	case int64(len(body)) > c.maxBody:
		ex.body = body[:c.maxBody]
		ex.Error = fmt.Sprintf("the response body is longer than %d bytes (%sMAX_RESPONSE_BYTES); stopped reading", c.maxBody, config.EnvPrefix)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		ex.Error = fmt.Sprintf("redirected (HTTP %d to %q): not followed, so the token went nowhere else; the contract has no redirects", resp.StatusCode, c.Redact(clip(resp.Header.Get("Location"), 512)))
	}
	return ex
}

// isTimeout tells an error of a request that got no answer in time.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// What an exchange keeps of a response for reports (validation sees everything read). A
// target cannot make reports, or the memory that holds them, grow beyond these per exchange.
const (
	// KeptBodyBytes is the most of a response body an exchange keeps.
	KeptBodyBytes = 64 << 10
	// KeptHeaderBytes is the most of the response header (names and values) it keeps.
	KeptHeaderBytes = 16 << 10
	// KeptHeaders is the most response header fields it keeps.
	KeptHeaders = 64
	// MaxHeaderBytes is the most header bytes the client reads from a response; a longer
	// header ends the request with an error.
	MaxHeaderBytes = 256 << 10
)

func (c *Client) keptHeader(h http.Header) map[string]string { return KeptHeader(h, c.Redact) }

// KeptHeader is a header as an exchange keeps it: names and values redacted (a target may
// echo a token as a header name), in name order, at most KeptHeaders fields and
// KeptHeaderBytes bytes, and a last field "…" saying what was not kept. redact may be nil.
func KeptHeader(h http.Header, redact func(string) string) map[string]string {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	kept := map[string]string{}
	names := slices.Sorted(maps.Keys(h))
	size, dropped, droppedBytes := 0, 0, 0
	for _, k := range names {
		value := strings.Join(h.Values(k), ", ")
		if len(kept) >= KeptHeaders || size >= KeptHeaderBytes {
			dropped, droppedBytes = dropped+1, droppedBytes+len(k)+len(value)
			continue
		}
		name := redact(clip(k, 256))
		value = redact(clip(value, KeptHeaderBytes-size))
		if old, ok := kept[name]; ok { // two names redacted alike
			value = old + ", " + value
		}
		kept[name] = value
		size += len(name) + len(value)
	}
	if dropped > 0 {
		kept["…"] = fmt.Sprintf("%s more header fields (%s bytes) not kept", thousands(int64(dropped)), thousands(int64(droppedBytes)))
	}
	return kept
}

// keptBody is the response body as an exchange keeps it: redacted text, at most KeptBodyBytes
// of it, marked when cut. length is the Content-Length (-1 unknown); more says the client
// stopped reading before the end.
func (c *Client) keptBody(body []byte, length int64, more bool) string {
	if len(body) <= KeptBodyBytes || !more {
		return KeptBody(body, c.Redact)
	}
	kept := c.Redact(strings.ToValidUTF8(string(body[:KeptBodyBytes]), "\uFFFD"))
	switch {
	case more && length > int64(len(body)):
		return kept + fmt.Sprintf("… %s bytes not kept (of %s; the client stopped reading at %s%sMAX_RESPONSE_BYTES)", thousands(length-KeptBodyBytes), thousands(length), thousands(c.maxBody), config.EnvPrefix)
	default:
		return kept + fmt.Sprintf("… more than %s bytes not kept (the client stopped reading at %s%sMAX_RESPONSE_BYTES)", thousands(c.maxBody-KeptBodyBytes), thousands(c.maxBody), config.EnvPrefix)
	}
}

// KeptBody is a body as an exchange keeps it: text, redacted (redact may be nil), at most
// KeptBodyBytes of it, marked when cut.
func KeptBody(body []byte, redact func(string) string) string {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	if len(body) <= KeptBodyBytes {
		return redact(strings.ToValidUTF8(string(body), "\uFFFD"))
	}
	return redact(strings.ToValidUTF8(string(body[:KeptBodyBytes]), "\uFFFD")) + fmt.Sprintf("… %s bytes not kept", thousands(int64(len(body)-KeptBodyBytes)))
}

// thousands writes n with commas: 49,152,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (c *Client) describe(err error) string {
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("no response within %s (%sREQUEST_TIMEOUT): the target hangs or is too slow", c.timeout, config.EnvPrefix)
	case errors.Is(err, context.Canceled):
		return "the run was cancelled"
	case errors.As(err, &certErr):
		return fmt.Sprintf("TLS: the target's certificate is not trusted (%v); give its CA with %sCA_FILE", certErr.Err, config.EnvPrefix)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot reach target: no such host %q", dnsErr.Name)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("cannot reach target: %v", c.Redact(opErr.Err.Error()))
	default:
		return c.Redact(err.Error())
	}
}

// curl renders a command that reproduces the request; secrets appear as the shell variables
// that hold them.
func (c *Client) curl(r Request) string {
	parts := []string{"curl", "-i", "-X", r.Method}
	contentType := "application/json"
	if r.Type != nil {
		contentType = *r.Type
	}
	if contentType != "" {
		parts = append(parts, "-H", shellQuote("Content-Type: "+contentType))
	}
	if r.Auth != nil {
		// Double quotes, so that the shell expands the token variable.
		parts = append(parts, "-H", `"Authorization: `+r.Auth.Shown+`"`)
	}
	if r.Body != nil {
		parts = append(parts, "--data-binary", shellQuote(c.Redact(string(r.Body))))
	}
	parts = append(parts, shellQuote(r.URL))
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// String is how reports print an exchange: the redacted summary, never the raw response.
func (e *Exchange) String() string { return e.Summary() }

// GomegaString is how a failed assertion shows an exchange: the summary. Without it Gomega
// would print the struct by reflection, reading fields that a check sharing the exchange may
// be writing (its judgement) and the raw response.
func (e *Exchange) GomegaString() string { return e.Summary() }
