package spec

import (
	"strings"
)

// Negative is a class of input a conformant target refuses. A check that sends such input
// names its class, so that coverage can say which classes a run exercised.
type Negative string

// The negative classes, as coverage lists them.
const (
	MissingProperty        Negative = "missing required property"
	WrongType              Negative = "wrong type"
	MalformedBody          Negative = "malformed or empty body"
	UnsupportedContentType Negative = "unsupported content type"
	BadAuthentication      Negative = "bad authentication"
	InsufficientPermission Negative = "insufficient permission"
	UnknownResource        Negative = "unknown resource"
	UnsupportedMethod      Negative = "unsupported method"
	ConflictingState       Negative = "conflicting state (already running)"
	RateLimitExceeded      Negative = "rate limit exceeded"
)

// Negatives lists every negative class, in the order reports show them.
func Negatives() []Negative {
	return []Negative{MissingProperty, WrongType, MalformedBody, UnsupportedContentType, BadAuthentication,
		InsufficientPermission, UnknownResource, UnsupportedMethod, ConflictingState, RateLimitExceeded}
}

// Element is the part of an operation a check verifies: the operation, a response status,
// and within it a JSON pointer, a header or another named part of the document, plus the
// negative class of input the check sends. Reports cite it as one line of text (String);
// coverage and regression read its fields.
type Element struct {
	Operation string
	Status    string // a response code; "" for the operation as a whole
	// Part is a JSON pointer ("/requestorComment", "#/components/schemas/X/required"), a
	// header ("Content-Type") or another part of the document ("x-error-codes").
	Part     string
	Header   bool     // Part names a header
	Negative Negative // the class of refused input the check sends; "" for a valid request
}

// Element names a part of the operation: a status and a pointer (or another named part).
func (o *Operation) Element(status string, part string) Element {
	return Element{Operation: o.ID, Status: status, Part: part}
}

// HeaderElement names a header of a response.
func (o *Operation) HeaderElement(status string, header string) Element {
	return Element{Operation: o.ID, Status: status, Part: header, Header: true}
}

// Refusing returns the element with the negative class of the input that exercises it.
func (e Element) Refusing(n Negative) Element {
	e.Negative = n
	return e
}

// String is how checks and reports cite the element:
// "collectInvestigationPackage 201 /requestorComment". Empty parts are left out.
func (e Element) String() string {
	parts := []string{e.Operation}
	if e.Status != "" {
		parts = append(parts, e.Status)
	}
	if e.Part != "" {
		parts = append(parts, e.Part)
	}
	return strings.Join(parts, " ")
}

// MarshalText writes the element as it is cited, so that results.json keeps one string per
// element.
func (e Element) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText reads an element as it is cited: the operation, a status if the second word
// is a number, and the rest as the part. What the text does not say (a header, a negative
// class) stays unset.
func (e *Element) UnmarshalText(text []byte) error {
	*e = Element{}
	op, rest, _ := strings.Cut(string(text), " ")
	e.Operation = op
	status, part, _ := strings.Cut(rest, " ")
	if isCode(status) {
		e.Status, e.Part = status, part
	} else {
		e.Part = rest
	}
	return nil
}

func isCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Pointer is the element's part when it is a JSON pointer into the schema.
func (e Element) Pointer() string {
	if e.Header || !(strings.HasPrefix(e.Part, "/") || strings.HasPrefix(e.Part, "#/")) {
		return ""
	}
	return e.Part
}
