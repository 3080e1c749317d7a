package results

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzIndent holds indent to json.Indent's output for whatever json.Marshal writes.
func FuzzIndent(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":[],"b":{},"c":[1,2,{"d":"x\"y\\z"}],"e":null,"f":true,"g":-1.5e3}`,
		`"a \"quoted\" {string} [with] , and :"`, `[[[]],{"":""}]`, `{"k":"\u003chtml\u003e \\"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v any
		if json.Unmarshal([]byte(in), &v) != nil {
			return
		}
		compact, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indent(compact); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("indent(%s):\n%s\nwant\n%s", compact, got, want.Bytes())
		}
	})
}

func TestJSONIsMarshalIndent(t *testing.T) {
	r := &Results{SchemaVersion: SchemaVersion, Reason: `a "reason" with {braces}, [brackets]: and \ backslash`, Warnings: []string{}}
	got, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(r, "", "  ")
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
