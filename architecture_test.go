package cipconform

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/cipconform/cipconform/"

// The one rule of the architecture: imports point down (runner -> suites -> fixtures -> spec),
// so the implementations under test (fixtures) share nothing with the checks that judge them
// (suites) but the spec.
func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
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
	packages := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from, ok := layer(fields[0])
		if !ok {
			continue
		}
		packages++
		for _, imp := range fields[1:] {
			if to, ours := layer(imp); ours && rank[to] > rank[from] {
				t.Errorf("%s imports %s: imports point down (runner -> suites -> fixtures -> spec)", fields[0], imp)
			}
		}
	}
	if packages < 10 {
		t.Errorf("go list found %d of our packages", packages)
	}
}
