package checks

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/cipconform/cipconform/spec"
	"github.com/cipconform/cipconform/suites/harness"
)

// jsonSamples are a value of each JSON type, to put where another type is declared.
var jsonSamples = []struct {
	name, jsonType, value string
}{
	{"NULL", "null", `null`},
	{"NUMBER", "number", `1234`},
	{"BOOLEAN", "boolean", `true`},
	{"OBJECT", "object", `{"text":"Collect forensics"}`},
	{"ARRAY", "array", `["Collect forensics"]`},
	{"STRING", "string", `"Collect forensics"`},
}

// bodyChecks are derived from the request schema: for each required property, leaving it out,
// giving it a value of each other JSON type, and spelling its name in another case; then the
// body shapes and content types that are not a JSON object.
func bodyChecks(op *spec.Operation) []harness.Check {
	schema := "#/components/schemas/CollectInvestigationPackageRequest"
	var checks []harness.Check
	bodyCheck := func(id, title, element string, negative spec.Negative, r refusal) {
		r.auth, r.status = admin, 400
		checks = append(checks, harness.Check{
			Info: harness.Info{ID: id, Title: title, Element: op.Element("400", element).Refusing(negative), Level: harness.Must, Safety: harness.ReadOnly, Kind: harness.KindBody},
			Run:  func(g Gomega, env *harness.Env) { expectRefused(g, env, env.ProbeMachine, r) },
		})
	}
	props := op.RequestBodyProperties()
	valid := map[string]string{}
	for _, p := range props {
		if p.Required {
			valid[p.Name] = sampleOf(p.Type)
		}
	}
	for _, p := range props {
		if !p.Required {
			continue
		}
		id := "CIP-BODY-" + strings.ToUpper(p.Name)
		bodyCheck(id+"-MISSING", fmt.Sprintf("A body without the required %s gets 400", p.Name), schema+"/required", spec.MissingProperty,
			refusal{label: "no " + p.Name, body: objectWith(valid, p.Name, `"cipconformNote":"`+p.Name+` left out"`)})
		for _, sample := range jsonSamples {
			if sample.jsonType == p.Type || (sample.jsonType == "number" && p.Type == "integer") {
				continue
			}
			bodyCheck(id+"-"+sample.name, fmt.Sprintf("%s as %s (not %s) gets 400", p.Name, sample.jsonType, p.Type), schema+"/properties/"+p.Name+"/type", spec.WrongType,
				refusal{label: p.Name + " as " + sample.jsonType, body: objectWith(valid, p.Name, `"`+p.Name+`":`+sample.value)})
		}
		other := strings.ToLower(p.Name)
		if other == p.Name {
			other = strings.ToUpper(p.Name)
		}
		bodyCheck(id+"-CASE", fmt.Sprintf("%q instead of %q gets 400: names are case-sensitive", other, p.Name), schema+"/properties/"+p.Name, spec.MissingProperty,
			refusal{label: other + " instead of " + p.Name, body: objectWith(valid, p.Name, `"`+other+`":`+valid[p.Name])})
	}
	bodyCheck("CIP-BODY-001", "An empty object {} gets 400", schema+"/required", spec.MissingProperty, missingComment)
	bodyCheck("CIP-BODY-002", "An array [] gets 400", schema+"/type", spec.WrongType, refusal{label: "an array", body: []byte(`[]`)})
	bodyCheck("CIP-BODY-003", "A JSON string gets 400", schema+"/type", spec.WrongType, refusal{label: "a JSON string", body: []byte(`"Collect forensics due to alert 1234"`)})
	bodyCheck("CIP-BODY-004", "Malformed JSON gets 400", schema, spec.MalformedBody, malformedJSON)
	bodyCheck("CIP-BODY-005", "An empty body gets 400", "requestBody/required", spec.MalformedBody, refusal{label: "an empty body", body: []byte{}})
	bodyCheck("CIP-BODY-006", "No Content-Type gets 400", "requestBody/content", spec.UnsupportedContentType, refusal{label: "no Content-Type", ctype: text(""), body: validBody})
	bodyCheck("CIP-BODY-007", "Content-Type text/plain gets 400", "requestBody/content", spec.UnsupportedContentType, plainText)
	return checks
}

// objectWith renders the valid object without the property skip, plus the extra member.
func objectWith(valid map[string]string, skip string, extra string) []byte {
	var members []string
	for _, name := range slices.Sorted(maps.Keys(valid)) {
		if name != skip {
			members = append(members, `"`+name+`":`+valid[name])
		}
	}
	members = append(members, extra)
	return []byte("{" + strings.Join(members, ",") + "}")
}

func sampleOf(jsonType string) string {
	for _, s := range jsonSamples {
		if s.jsonType == jsonType {
			return s.value
		}
	}
	return `"Collect forensics"`
}
