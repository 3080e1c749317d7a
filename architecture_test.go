package cipconform

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/cipconform/cipconform/"

// testImportsAllowedUp are the imports of test files that point up a layer, each with its
// reason: "package (test kind) -> import". Anything else that points up fails the test, and an
// entry nothing uses any more fails it too.
var testImportsAllowedUp = map[string]string{
	// The seed's examples are the published contract's own request and response: the spec's
	// tests prove the document accepts them byte for byte. fixtures/seed imports nothing of
	// ours, and package spec itself never imports it.
	"spec (external test) -> fixtures/seed": "the published examples must validate against the spec",
}

// The one rule of the architecture: imports point down (runner -> suites -> fixtures -> spec),
// so the implementations under test (fixtures) share nothing with the checks that judge them
// (suites) but the spec. It holds for tests too: a package's own test files and its external
// test package (package x_test) may import its own layer and below, and only the allow-list
// above may point up.
func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	layer := func(pkg string) (string, bool) {
		rest, ok := strings.CutPrefix(pkg, module)
		if !ok {
			return "", false
		}
		top, _, _ := strings.Cut(rest, "/")
		return top, true
	}
	rank := map[string]int{"spec": 0, "fixtures": 1, "suites": 2, "runner": 3}
	used := map[string]bool{}
	packages, tests := 0, 0
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list: %v", err)
		}
		from, ok := layer(p.ImportPath)
		if _, layered := rank[from]; !ok || !layered {
			continue // the module root: this test
		}
		packages++
		tests += len(p.TestImports) + len(p.XTestImports)
		for _, set := range []struct {
			kind    string
			imports []string
		}{{"", p.Imports}, {"test", p.TestImports}, {"external test", p.XTestImports}} {
			for _, imp := range set.imports {
				to, ours := layer(imp)
				if !ours || rank[to] <= rank[from] {
					continue
				}
				if set.kind == "" {
					t.Errorf("%s imports %s: imports point down (runner -> suites -> fixtures -> spec)", p.ImportPath, imp)
					continue
				}
				key := strings.TrimPrefix(p.ImportPath, module) + " (" + set.kind + ") -> " + strings.TrimPrefix(imp, module)
				if _, ok := testImportsAllowedUp[key]; ok {
					used[key] = true
					continue
				}
				t.Errorf("%s's %s files import %s: a test imports its own layer and below (runner -> suites -> fixtures -> spec); if it must point up, add %q to testImportsAllowedUp with the reason", p.ImportPath, set.kind, imp, key)
			}
		}
	}
	for key := range testImportsAllowedUp {
		if !used[key] {
			t.Errorf("testImportsAllowedUp has %q, which no test imports any more: remove it", key)
		}
	}
	if packages < 10 || tests == 0 {
		t.Errorf("go list found %d of our packages and %d test imports", packages, tests)
	}
}
