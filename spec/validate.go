package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Where says which part of a message a violation is about.
type Where string

const (
	InStatus Where = "status"
	InHeader Where = "header"
	InPath   Where = "path"
	InBody   Where = "body"
)

// Violation is one way a request or response departs from the contract.
type Violation struct {
	Where Where `json:"where"`
	// Pointer is a JSON pointer into the body ("/status"), or "/Header-Name" for a header; empty
	// for the status or the body as a whole.
	Pointer string `json:"pointer,omitempty"`
	// Keyword is the schema keyword that failed (required, enum, format, type...), when known.
	Keyword string `json:"keyword,omitempty"`
	Reason  string `json:"reason"`
}

func (v Violation) String() string {
	where := string(v.Where)
	if v.Pointer != "" {
		where += " " + v.Pointer
	}
	if v.Keyword != "" {
		return fmt.Sprintf("%s: %s (%s)", where, v.Reason, v.Keyword)
	}
	return fmt.Sprintf("%s: %s", where, v.Reason)
}

// route is the operation's route for any target: the spec's server is never matched, so a
// target URL need not resemble it.
func (o *Operation) route() *routers.Route {
	return &routers.Route{Spec: o.contract.doc, Path: o.PathTemplate, PathItem: o.item, Method: o.Method, Operation: o.op}
}

// ValidateRequest checks a request (sent to any base URL) against the operation and returns
// every violation; none means it conforms. body is the request body (req.Body is not read).
func (o *Operation) ValidateRequest(ctx context.Context, req *http.Request, body []byte) []Violation {
	return o.validateRequest(ctx, req, body, false)
}

func (o *Operation) validateRequest(ctx context.Context, req *http.Request, body []byte, headOnly bool) []Violation {
	var out []Violation
	if req.Method != o.Method {
		out = append(out, Violation{Where: InStatus, Reason: fmt.Sprintf("method %s, the operation is %s", req.Method, o.Method)})
	}
	params, ok := o.PathParams(req.URL.Path)
	if !ok {
		return append(out, Violation{Where: InPath, Reason: fmt.Sprintf("path %q does not end with %s", req.URL.Path, o.PathTemplate)})
	}
	// A shallow copy for the body: with defaults not set, the validator only reads the request.
	clone := req.WithContext(ctx)
	clone.Body = io.NopCloser(bytes.NewReader(body))
	input := &openapi3filter.RequestValidationInput{
		Request:    clone,
		PathParams: params,
		Route:      o.route(),
		Options: &openapi3filter.Options{
			MultiError:              true,
			SkipSettingDefaults:     true,
			ExcludeRequestBody:      headOnly,
			AuthenticationFunc:      requireBearer,
			SchemaValidationOptions: schemaOptions(),
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
		out = appendViolations(out, InBody, err)
	}
	return sortViolations(out)
}

// ValidateRequestHead is ValidateRequest of a request whose body was never sent (the client
// waited for 100 Continue, the server answered without it): all but the body.
func (o *Operation) ValidateRequestHead(ctx context.Context, req *http.Request) []Violation {
	return o.validateRequest(ctx, req, nil, true)
}

// requireBearer accepts any request with an "Authorization: Bearer <something>" header: the
// spec cannot judge a token, only that one is presented.
func requireBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not supported by this harness", in.SecuritySchemeName)
	}
	auth := in.RequestValidationInput.Request.Header.Get("Authorization")
	kind, token, found := strings.Cut(auth, " ")
	if !found || !strings.EqualFold(kind, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("an Authorization header with a Bearer token is required")
	}
	return nil
}

// ValidateResponse checks a response against the operation and returns every violation: an
// undocumented status, each header, the content type and every schema violation of the body.
// req may be nil. kin-openapi stops at the first header error and skips some statuses (3xx),
// so the status and the body are judged here with its schema validator, headers through
// openapi3filter.
func (o *Operation) ValidateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) []Violation {
	return o.validateResponse(ctx, req, status, header, body, false)
}

// ValidateResponseHead is ValidateResponse of a response whose body is not known (a recording
// left it out): its status and headers.
func (o *Operation) ValidateResponseHead(ctx context.Context, req *http.Request, status int, header http.Header) []Violation {
	return o.validateResponse(ctx, req, status, header, nil, true)
}

func (o *Operation) validateResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte, headOnly bool) []Violation {
	header = joinFieldLines(header)
	ref := o.op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return []Violation{{Where: InStatus, Reason: fmt.Sprintf("status %d is not documented for %s (documented: %s)", status, o.ID, joinInts(o.Statuses()))}}
	}
	if req == nil {
		req, _ = http.NewRequestWithContext(ctx, o.Method, "http://target.invalid"+o.PathTemplate, nil)
	}
	var out []Violation
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: o.route()},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			MultiError:              true,
			ExcludeResponseBody:     true,
			IncludeResponseStatus:   true,
			SchemaValidationOptions: schemaOptions(),
		},
	}
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		out = appendViolations(out, InHeader, err)
	}
	if headOnly {
		return sortViolations(out)
	}
	return sortViolations(append(out, o.validateResponseBody(ref.Value, header, body)...))
}

// joinFieldLines has each field sent on several lines as one value, its lines joined by
// commas, as RFC 9110 (5.3) reads them (Allow: OPTIONS and Allow: POST are "OPTIONS, POST"):
// the validator reads a field's first line only. Set-Cookie is no list and stays as it is.
func joinFieldLines(h http.Header) http.Header {
	var joined http.Header // a copy, made when a field needs joining
	for name, values := range h {
		if len(values) < 2 || name == "Set-Cookie" {
			continue
		}
		if joined == nil {
			joined = h.Clone()
		}
		joined[name] = []string{strings.Join(values, ", ")}
	}
	if joined == nil {
		return h
	}
	return joined
}

// sortViolations orders violations by where (status, header, path, body) then pointer, so that
// reports are stable whatever order the validator found them in.
func sortViolations(vs []Violation) []Violation {
	rank := map[Where]int{InStatus: 0, InHeader: 1, InPath: 2, InBody: 3}
	slices.SortStableFunc(vs, func(a, b Violation) int {
		if c := rank[a.Where] - rank[b.Where]; c != 0 {
			return c
		}
		return strings.Compare(a.Pointer, b.Pointer)
	})
	return vs
}

func (o *Operation) validateResponseBody(resp *openapi3.Response, header http.Header, body []byte) []Violation {
	if len(resp.Content) == 0 {
		return nil
	}
	mime := header.Get("Content-Type")
	media := resp.Content.Get(mime)
	if media == nil {
		return []Violation{{Where: InHeader, Pointer: "/Content-Type", Reason: fmt.Sprintf("content type %q is not one of %s", mime, strings.Join(slices.Sorted(maps.Keys(resp.Content)), ", "))}}
	}
	if media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return []Violation{{Where: InBody, Reason: fmt.Sprintf("not JSON: %v (%d bytes)", err, len(body))}}
	}
	err := media.Schema.Value.VisitJSON(value, schemaOptions(openapi3.VisitAsResponse())...)
	if err == nil {
		return nil
	}
	return appendViolations(nil, InBody, err)
}

// appendViolations flattens kin-openapi's error tree into violations.
func appendViolations(out []Violation, where Where, err error) []Violation {
	var multi openapi3.MultiError
	if errors.As(err, &multi) && !isSchemaError(err) {
		for _, e := range multi {
			out = appendViolations(out, where, e)
		}
		return out
	}
	var reqErr *openapi3filter.RequestError
	var respErr *openapi3filter.ResponseError
	var secErr *openapi3filter.SecurityRequirementsError
	var schemaErr *openapi3.SchemaError
	switch {
	case errors.As(err, &secErr):
		return append(out, Violation{Where: InHeader, Pointer: "/Authorization", Reason: "no Bearer token presented"})
	case errors.As(err, &reqErr) && reqErr.Parameter != nil:
		v := Violation{Where: Where(reqErr.Parameter.In), Pointer: "/" + reqErr.Parameter.Name, Reason: reqErr.Reason}
		if reqErr.Err != nil {
			v.Reason = strings.TrimPrefix(strings.TrimSpace(v.Reason+": "+firstLine(reqErr.Err.Error())), ": ")
		}
		return append(out, v)
	case errors.As(err, &reqErr) && reqErr.Err != nil && (isSchemaError(reqErr.Err) || isMulti(reqErr.Err)):
		return appendViolations(out, InBody, reqErr.Err)
	case errors.As(err, &reqErr):
		reason := reqErr.Reason
		if reqErr.Err != nil {
			reason = strings.TrimPrefix(reason+": "+firstLine(reqErr.Err.Error()), ": ")
		}
		if strings.Contains(reason, "header Content-Type") {
			return append(out, Violation{Where: InHeader, Pointer: "/Content-Type", Reason: reason})
		}
		return append(out, Violation{Where: InBody, Reason: reason})
	case errors.As(err, &respErr) && respErr.Err != nil:
		return appendViolations(out, where, respErr.Err)
	case errors.As(err, &respErr):
		return append(out, Violation{Where: where, Reason: respErr.Reason})
	case errors.As(err, &schemaErr):
		return append(out, schemaViolation(where, schemaErr))
	default:
		return append(out, Violation{Where: where, Reason: firstLine(err.Error())})
	}
}

func isSchemaError(err error) bool {
	var s *openapi3.SchemaError
	return errors.As(err, &s) && !isMulti(err)
}

func isMulti(err error) bool {
	_, ok := err.(openapi3.MultiError)
	return ok
}

func schemaViolation(where Where, e *openapi3.SchemaError) Violation {
	pointer := ""
	for _, part := range e.JSONPointer() {
		pointer += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(part)
	}
	reason := e.Reason
	if e.Origin != nil && reason == "" {
		reason = firstLine(e.Origin.Error())
	}
	return Violation{Where: where, Pointer: pointer, Keyword: e.SchemaField, Reason: reason}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}
