package observe

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// The parts of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) that judging reads.
// Pointers tell a missing field from a zero one.
type harFile struct {
	Log *struct {
		Entries *[]harEntry `json:"entries"`
	} `json:"log"`
}

type harEntry struct {
	Time     *float64     `json:"time"`
	Request  *harRequest  `json:"request"`
	Response *harResponse `json:"response"`
}

type harRequest struct {
	Method   *string      `json:"method"`
	URL      *string      `json:"url"`
	Headers  *[]harHeader `json:"headers"`
	BodySize *int64       `json:"bodySize"`
	PostData *struct {
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
		Encoding string `json:"encoding"` // not in HAR 1.2, but some tools write it
	} `json:"postData"`
}

type harResponse struct {
	Status  *int         `json:"status"`
	Headers *[]harHeader `json:"headers"`
	Content *struct {
		Text     *string `json:"text"` // optional in HAR 1.2: left out when not recorded
		Encoding string  `json:"encoding"`
	} `json:"content"`
}

type harHeader struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

// ReadHAR reads the exchanges of a HAR 1.2 file. A file that is not valid HAR is an error
// that names where it breaks: "entries[3].response.status: missing". An entry without a
// response (status 0: the browser gave up) is left out; skipped counts them.
func ReadHAR(data []byte) (exchanges []Exchange, skipped int, err error) {
	skipped, err = EachHAR(data, func(ex Exchange) { exchanges = append(exchanges, ex) })
	if err != nil {
		return nil, 0, err
	}
	return exchanges, skipped, nil
}

// EachHAR is ReadHAR handing each exchange to f in turn, once the whole file is known to be
// valid: only one exchange's bodies are held at a time (a recording may be hundreds of MB).
func EachHAR(data []byte, f func(Exchange)) (skipped int, err error) {
	var file harFile
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // HAR 1.2: a reader ignores a byte order mark
	if err := json.Unmarshal(data, &file); err != nil {
		return 0, fmt.Errorf("not a HAR file: %w", decodeError(data, err))
	}
	if file.Log == nil {
		return 0, fmt.Errorf("log: missing")
	}
	if file.Log.Entries == nil {
		return 0, fmt.Errorf("log.entries: missing")
	}
	entries := *file.Log.Entries
	for i := range entries {
		if _, err := harExchange(entries[i]); err != nil {
			return 0, fmt.Errorf("entries[%d].%v", i, err)
		}
	}
	for i := range entries {
		ex, _ := harExchange(entries[i])
		entries[i] = harEntry{} // its text is garbage from here on
		if ex.Status == 0 {
			skipped++
			continue
		}
		f(ex)
	}
	return skipped, nil
}

func harExchange(e harEntry) (Exchange, error) {
	var ex Exchange
	if e.Request == nil {
		return ex, fmt.Errorf("request: missing")
	}
	if e.Response == nil {
		return ex, fmt.Errorf("response: missing")
	}
	rq, rs := e.Request, e.Response
	if rq.Method == nil || *rq.Method == "" {
		return ex, fmt.Errorf("request.method: missing")
	}
	if rq.URL == nil || *rq.URL == "" {
		return ex, fmt.Errorf("request.url: missing")
	}
	u, err := url.Parse(*rq.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ex, fmt.Errorf("request.url: %q is not an absolute URL", *rq.URL)
	}
	reqHeader, err := harHeaders("request.headers", rq.Headers)
	if err != nil {
		return ex, err
	}
	if rs.Status == nil {
		return ex, fmt.Errorf("response.status: missing")
	}
	if *rs.Status != 0 && (*rs.Status < 100 || *rs.Status > 599) {
		return ex, fmt.Errorf("response.status: %d is not an HTTP status", *rs.Status)
	}
	respHeader, err := harHeaders("response.headers", rs.Headers)
	if err != nil {
		return ex, err
	}
	req := &http.Request{Method: strings.ToUpper(*rq.Method), URL: u, Host: u.Host, Header: reqHeader, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	ex.Request, ex.Status, ex.Header = req, *rs.Status, respHeader
	if rq.PostData != nil {
		body, err := harText("request.postData", rq.PostData.Text, rq.PostData.Encoding)
		if err != nil {
			return ex, err
		}
		ex.RequestBody, ex.RequestTruncated = bounded(body)
		if reqHeader.Get("Content-Type") == "" && rq.PostData.MimeType != "" {
			reqHeader.Set("Content-Type", rq.PostData.MimeType)
		}
	} else if hasBody(*rq.Method) && !(rq.BodySize != nil && *rq.BodySize == 0 || reqHeader.Get("Content-Length") == "0") ||
		rq.BodySize != nil && *rq.BodySize > 0 {
		ex.RequestBodyUnknown = true // a body was (or may have been) sent, and not recorded
	}
	if rs.Content != nil && rs.Content.Text != nil {
		body, err := harText("response.content", *rs.Content.Text, rs.Content.Encoding)
		if err != nil {
			return ex, err
		}
		ex.Body, ex.BodyTruncated = bounded(body)
		// A HAR holds the content decoded: the encoding header no longer describes it.
		respHeader.Del("Content-Encoding")
	} else {
		ex.BodyUnknown = true // not recorded (a browser may leave bodies out)
	}
	if e.Time != nil && *e.Time > 0 {
		ex.Duration = time.Duration(*e.Time * float64(time.Millisecond))
	}
	return ex, nil
}

func harHeaders(where string, hs *[]harHeader) (http.Header, error) {
	h := http.Header{}
	if hs == nil {
		return nil, fmt.Errorf("%s: missing", where)
	}
	for i, x := range *hs {
		if x.Name == nil || *x.Name == "" {
			return nil, fmt.Errorf("%s[%d].name: missing", where, i)
		}
		if x.Value == nil {
			return nil, fmt.Errorf("%s[%d].value: missing", where, i)
		}
		if strings.HasPrefix(*x.Name, ":") { // HTTP/2 pseudo-headers
			continue
		}
		h.Add(*x.Name, *x.Value)
	}
	return h, nil
}

// hasBody says whether a request of this method carries a body as a rule.
func hasBody(method string) bool {
	switch strings.ToUpper(method) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

// bounded keeps the first MaxBody bytes of a body, as the proxy does.
func bounded(body []byte) ([]byte, bool) {
	if len(body) <= MaxBody {
		return body, false
	}
	return bytes.Clone(body[:MaxBody]), true
}

func harText(where, text, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "":
		return []byte(text), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("%s.text: not base64 as its encoding says: %v", where, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("%s.encoding: %q, want base64 or none", where, encoding)
	}
}

// decodeError says where JSON that is not a HAR file breaks, by line and column, in the terms
// of JSON rather than of the Go types it is read into.
func decodeError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var kind *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return errors.New("the file is empty")
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &syntax) && syntax.Error() == "unexpected end of JSON input":
		return errors.New("the JSON ends before it is complete")
	case errors.As(err, &syntax):
		return fmt.Errorf("not JSON at %s: %v", position(data, syntax.Offset), err)
	case errors.As(err, &kind):
		where := "the top level"
		if kind.Field != "" {
			where = kind.Field
		}
		return fmt.Errorf("%s at %s: %s, where HAR has %s", where, position(data, kind.Offset), jsonKind(kind.Value), goKind(kind.Type))
	}
	return err
}

// position is the line and column of the byte before offset: encoding/json's offsets count
// the bytes read, the one at fault included.
func position(data []byte, offset int64) string {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	column := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, column)
}

func jsonKind(value string) string {
	switch value {
	case "object", "array":
		return "an " + value
	case "string", "number":
		return "a " + value
	case "bool":
		return "a boolean"
	}
	if strings.HasPrefix(value, "number") {
		return "a number (" + value + ")"
	}
	return value
}

// goKind names the JSON a Go type is read from.
func goKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}
