package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cipconform/cipconform/spec"
)

// Each verb's --help prints its usage to stdout and exits 0, listing exactly the exit codes
// that verb can return; an unknown flag exits 2 and names the flag on stderr.
func TestVerbHelpAndUsageErrors(t *testing.T) {
	cases := []struct {
		verb  string
		exits []int
		says  string // a line of the verb's own help
	}{
		{"run", []int{0, 1, 2, 3}, "every MUST check passed"},
		{"plan", []int{0, 2, 3}, "no check matches --label-filter"},
		{"checks", []int{0, 2, 3}, "the catalogue could not be loaded"},
		{"settings", []int{0, 2}, "the settings were printed"},
		{"diff", []int{0, 1, 2, 3}, "the CURRENT run could not be done"},
		{"spec-diff", []int{0, 1, 2}, "a change is breaking"},
		{"selftest", []int{0, 1, 2, 3}, "a mutant survived"},
		{"serve", []int{0, 2, 3}, "could not listen on --addr"},
		{"proxy", []int{0, 1, 2, 3}, "could not listen on --listen"},
		{"observe", []int{0, 1, 2, 3}, "a file that is not valid HAR"},
		{"version", []int{0, 2, 3}, "the embedded spec is invalid"},
	}
	listed := map[string]bool{}
	for _, v := range verbs() {
		listed[v.name] = true
	}
	for _, tc := range cases {
		delete(listed, tc.verb)
		t.Run(tc.verb, func(t *testing.T) {
			for _, help := range []string{"--help", "-h"} {
				stdout, stderr, code := runCLI(tc.verb, help)
				if code != exitOK || stderr != "" {
					t.Errorf("%s %s: exit %d, want 0; stderr:\n%s", tc.verb, help, code, stderr)
				}
				if !strings.HasPrefix(stdout, "Usage: cipconform "+tc.verb) || !strings.Contains(stdout, tc.says) {
					t.Errorf("%s %s: want its usage and %q on stdout, got\n%s", tc.verb, help, tc.says, stdout)
				}
				if got := exitCodesOf(stdout); !slices.Equal(got, tc.exits) {
					t.Errorf("%s %s lists exit codes %v, want %v:\n%s", tc.verb, help, got, tc.exits, stdout)
				}
			}
			stdout, stderr, code := runCLI(tc.verb, "--no-such-flag")
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, "-no-such-flag") || !strings.Contains(stderr, "cipconform "+tc.verb+" --help") {
				t.Errorf("%s --no-such-flag: exit %d, want 2 and the flag named on stderr; stdout:\n%s\nstderr:\n%s", tc.verb, code, stdout, stderr)
			}
		})
	}
	for verb := range listed {
		t.Errorf("verb %s has no case here", verb)
	}
}

func TestPositionalArguments(t *testing.T) {
	for _, args := range [][]string{{"run", "extra"}, {"checks", "extra"}, {"version", "extra"}, {"diff", "one.json"}, {"spec-diff", "a", "b", "c"}} {
		_, stderr, code := runCLI(args...)
		if code != exitUsage || !strings.Contains(stderr, args[0]+":") {
			t.Errorf("%v: exit %d, want 2 and a message; stderr:\n%s", args, code, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, _, code := runCLI(args...)
		if code != exitOK || !strings.HasPrefix(stdout, "cipconform ") || !strings.Contains(stdout, "sha256:") {
			t.Errorf("%v: exit %d\n%s", args, code, stdout)
		}
	}
}

// A configuration error names the setting as it was given: the flag, the variable or the key
// of the file.
func TestConfigErrorsNameTheirSource(t *testing.T) {
	stdout, stderr, code := runCLI("plan", "--target", "not a url")
	if code != exitUsage || !strings.Contains(stderr, "--target") || strings.Contains(stderr, "CIP_TARGET") {
		t.Errorf("plan --target 'not a url': exit %d, want 2 and --target named\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI("plan", "--request-timeout", "soon")
	if code != exitUsage || !strings.Contains(stderr, "--request-timeout") {
		t.Errorf("plan --request-timeout soon: exit %d, want 2 and --request-timeout named\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI("plan", "--concurrency", "0")
	if code != exitUsage || !strings.Contains(stderr, "--concurrency") || strings.Contains(stderr, "CIP_CONCURRENCY") {
		t.Errorf("plan --concurrency 0: exit %d, want 2 and --concurrency named\n%s%s", code, stdout, stderr)
	}
}

func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errs bytes.Buffer
	code = run(context.Background(), args, &out, &errs)
	return out.String(), errs.String(), code
}

var exitLine = regexp.MustCompile(`(?m)^  (\d)  `)

// exitCodesOf reads the codes listed after "Exit codes:" in a help text.
func exitCodesOf(help string) []int {
	_, section, ok := strings.Cut(help, "\nExit codes:\n")
	if !ok {
		return nil
	}
	var codes []int
	for _, m := range exitLine.FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		codes = append(codes, n)
	}
	return codes
}

// Removing the operation is breaking, even though the embedded spec deprecates it (oasdiff
// alone calls the removal of a deprecated operation a change, not a breaking one).
func TestSpecDiffReportsARemovedOperationAsBreaking(t *testing.T) {
	doc := string(spec.Preview2017.Document())
	start := strings.Index(doc, "\npaths:\n")
	end := start + len("\npaths:\n") + regexp.MustCompile(`(?m)^\S`).FindStringIndex(doc[start+len("\npaths:\n"):])[0]
	dir := t.TempDir()
	oldDoc, newDoc := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	if err := os.WriteFile(oldDoc, spec.Preview2017.Document(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newDoc, []byte(doc[:start]+"\npaths: {}\n"+doc[end:]), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI("spec-diff", oldDoc, newDoc)
	if code != exitFailed || !strings.Contains(stdout, "BREAKING") || !strings.Contains(stdout, spec.OperationID) || !strings.Contains(stdout, "1 breaking") {
		t.Errorf("spec-diff to paths: {}: exit %d, want 1 and the removed %s named as breaking\n%s%s", code, spec.OperationID, stdout, stderr)
	}
	stdout, stderr, code = runCLI("spec-diff", oldDoc, oldDoc)
	if code != exitOK || !strings.Contains(stdout, "0 breaking") {
		t.Errorf("spec-diff of a document with itself: exit %d\n%s%s", code, stdout, stderr)
	}
}
