// Package spec holds the contract of the Collect investigation package API as an embedded
// OpenAPI 3.0.3 document, and is the one place that validates requests and responses against it.
//
// The document is parsed and validated once per process (Load); the returned Contract is
// read-only and safe for concurrent use.
package spec

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// OperationID is the operation this harness is about.
const OperationID = "collectInvestigationPackage"

// Contract is the loaded and validated OpenAPI document.
type Contract struct {
	doc    *openapi3.T
	data   []byte
	digest string
	ops    map[string]*Operation
	sorted []*Operation // ops by operationId: the observing proxy lists them for every exchange
}

// Parse loads and validates an OpenAPI document: every $ref resolved, every example checked
// against its schema. The embedded profiles parse theirs once (Profile.Contract); Parse exists
// for other documents (a user's --spec, the baselines of regression reports).
func Parse(data []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate spec: %w", err)
	}
	if err := validateExampleFormats(doc); err != nil {
		return nil, fmt.Errorf("validate spec examples: %w", err)
	}
	sum := sha256.Sum256(data)
	c := &Contract{doc: doc, data: slices.Clone(data), digest: "sha256:" + hex.EncodeToString(sum[:]), ops: map[string]*Operation{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				continue
			}
			c.ops[op.OperationID] = &Operation{ID: op.OperationID, Method: method, PathTemplate: path,
				segments: strings.Split(strings.Trim(path, "/"), "/"), contract: c, item: item, op: op}
		}
	}
	c.sorted = slices.SortedFunc(maps.Values(c.ops), func(a, b *Operation) int { return strings.Compare(a.ID, b.ID) })
	return c, nil
}

// Operations lists the document's operations, by operationId.
func (c *Contract) Operations() []*Operation {
	return slices.Clone(c.sorted)
}

// Document returns the document as written.
func (c *Contract) Document() []byte { return slices.Clone(c.data) }

// Digest identifies the document: "sha256:" and the hex digest of its bytes.
func (c *Contract) Digest() string { return c.digest }

// OpenAPI returns the parsed document. Callers must not modify it.
func (c *Contract) OpenAPI() *openapi3.T { return c.doc }

// Operation finds an operation by its operationId.
func (c *Contract) Operation(id string) (*Operation, error) {
	op, ok := c.ops[id]
	if !ok {
		return nil, fmt.Errorf("spec has no operation %q", id)
	}
	return op, nil
}

// Operation is one operation of the contract, with what checks need to know about it.
type Operation struct {
	ID           string
	Method       string
	PathTemplate string

	segments []string // of PathTemplate, for PathParams
	contract *Contract
	item     *openapi3.PathItem
	op       *openapi3.Operation
}

// OpenAPI returns the parsed operation. Callers must not modify it.
func (o *Operation) OpenAPI() *openapi3.Operation { return o.op }

// Statuses lists the documented response codes, in ascending order.
func (o *Operation) Statuses() []int {
	var codes []int
	for key := range o.op.Responses.Map() {
		if n, err := strconv.Atoi(key); err == nil {
			codes = append(codes, n)
		}
	}
	slices.Sort(codes)
	return codes
}

// Documents reports whether the operation documents a response with this status.
func (o *Operation) Documents(status int) bool {
	return o.op.Responses.Status(status) != nil
}

// ErrorCodes returns the error codes that fit a status (the response's x-error-codes), or nil.
func (o *Operation) ErrorCodes(status int) []string {
	ref := o.op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	raw, ok := ref.Value.Extensions["x-error-codes"].([]any)
	if !ok {
		return nil
	}
	codes := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok {
			codes = append(codes, s)
		}
	}
	return codes
}

// BodyProperty is one property of the JSON request body, as the spec declares it.
type BodyProperty struct {
	Name     string
	Type     string // the JSON Schema type: string, number, integer, boolean, object, array
	Required bool
}

// RequestBodyProperties lists the declared properties of the application/json request body,
// sorted by name, so that negative checks can be derived from the spec.
func (o *Operation) RequestBodyProperties() []BodyProperty {
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		return nil
	}
	media := o.op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	schema := media.Schema.Value
	var props []BodyProperty
	for name, ref := range schema.Properties {
		p := BodyProperty{Name: name, Required: slices.Contains(schema.Required, name)}
		if ref.Value != nil && ref.Value.Type != nil && len(ref.Value.Type.Slice()) > 0 {
			p.Type = ref.Value.Type.Slice()[0]
		}
		props = append(props, p)
	}
	slices.SortFunc(props, func(a, b BodyProperty) int { return strings.Compare(a.Name, b.Name) })
	return props
}

// URL builds the operation's URL below a target base URL (which replaces the spec's server).
// Path parameters are escaped.
func (o *Operation) URL(base string, params map[string]string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("target base URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("target base URL %q: want an absolute http or https URL", base)
	}
	path := o.PathTemplate
	for name, value := range params {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(value))
	}
	if strings.Contains(path, "{") {
		return "", fmt.Errorf("operation %s: path parameters missing in %s", o.ID, path)
	}
	return strings.TrimSuffix(base, "/") + path, nil
}

// PathParams extracts the path parameters from a request path that ends with the operation's
// path template, whatever base path precedes it. ok is false when the path does not match.
// It walks the path from its end, without splitting it: the observing proxy asks it of every
// operation for every exchange.
func (o *Operation) PathParams(requestPath string) (params map[string]string, ok bool) {
	rest, more := strings.Trim(requestPath, "/"), true
	for i := len(o.segments) - 1; i >= 0; i-- {
		if !more {
			return nil, false
		}
		seg := rest
		if j := strings.LastIndexByte(rest, '/'); j >= 0 {
			seg, rest = rest[j+1:], rest[:j]
		} else {
			more = false
		}
		t := o.segments[i]
		if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
			if t != seg {
				return nil, false
			}
			continue
		}
		v, err := url.PathUnescape(seg)
		if err != nil || v == "" {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[t[1:len(t)-1]] = v
	}
	if params == nil {
		params = map[string]string{}
	}
	return params, true
}

// validateExampleFormats checks the examples against the formats that kin-openapi leaves
// unchecked by default (uuid), which doc.Validate does not do.
func validateExampleFormats(doc *openapi3.T) error {
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, ref := range op.Responses.Map() {
				if ref.Value == nil {
					continue
				}
				for mime, media := range ref.Value.Content {
					examples := map[string]any{}
					if media.Example != nil {
						examples["example"] = media.Example
					}
					for name, ex := range media.Examples {
						if ex.Value != nil {
							examples[name] = ex.Value.Value
						}
					}
					for name, value := range examples {
						if err := media.Schema.Value.VisitJSON(value, schemaOptions(openapi3.VisitAsResponse())...); err != nil {
							return fmt.Errorf("%s %s %s %s example %s: %w", method, path, status, mime, name, err)
						}
					}
				}
			}
		}
	}
	return nil
}

// schemaOptions are the schema validation options of every validation: all errors, not the
// first, and the uuid format, which kin-openapi does not check by default. Passed per call so
// that nothing is registered process-wide.
func schemaOptions(extra ...openapi3.SchemaValidationOption) []openapi3.SchemaValidationOption {
	return append([]openapi3.SchemaValidationOption{
		openapi3.MultiErrors(),
		openapi3.WithStringFormatValidator("uuid", uuidFormat),
		openapi3.WithStringFormatValidator("date-time", dateTimeFormat),
	}, extra...)
}

// uuidFormat is compiled once: compiling its pattern per validation was most of a
// validation's cost (BenchmarkValidateResponse).
var uuidFormat = openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)

// ParseTime reads an RFC 3339 date-time as RFC 3339 allows it and Go's time.Parse does not:
// "t" and "z" in lower case, and a leap second (read as the second before it).
func ParseTime(s string) (time.Time, error) {
	s = strings.ToUpper(s)
	if date, rest, ok := strings.Cut(s, "T"); ok && len(rest) >= 8 && rest[5:8] == ":60" {
		s = date + "T" + rest[:6] + "59" + rest[8:]
	}
	return time.Parse(time.RFC3339Nano, s)
}

// dateTimeFormat is RFC 3339's date-time as RFC 3339 writes it (5.6): kin-openapi's own is
// the same but for "t" and "z", which RFC 3339 allows in lower case too.
var dateTimeFormat = openapi3.NewRegexpFormatValidator(`^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])[Tt]([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|(\+|-)([0-1][0-9]|2[0-3]):[0-5][0-9])$`)
