// Package regression compares a run with a baseline: it classifies every check (regression,
// fixed, still failing...), tells a delta that follows from a change of the spec from a
// regression of the implementation (with oasdiff), and applies the ratchet of known failures.
package regression

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"

	"github.com/cipconform/cipconform/runner/results"
	"github.com/cipconform/cipconform/spec"
)

// SpecChange is one change between two versions of the spec, as oasdiff names it.
type SpecChange = results.SpecChange

// removals are oasdiff's rules for a path or an operation that is gone. oasdiff does not call
// the removal of a deprecated one breaking; here it is: a client (and every check of the
// operation) loses it all the same, and the embedded spec's one operation is deprecated.
var removals = []string{
	checker.APIPathRemovedWithDeprecationId, checker.APIPathRemovedWithoutDeprecationId, checker.APIPathRemovedBeforeSunsetId,
	checker.APIRemovedWithDeprecationId, checker.APIRemovedWithoutDeprecationId, checker.APIRemovedBeforeSunsetId,
}

// SpecDiff lists the changes from the old document to the new one that matter to
// implementers, breaking ones first. Both documents are loaded and validated by spec.Parse.
func SpecDiff(oldDoc, newDoc []byte) ([]SpecChange, error) {
	load1 := func(data []byte, name string) (*load.SpecInfo, error) {
		c, err := spec.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s spec: %w", name, err)
		}
		return &load.SpecInfo{Url: name, Spec: c.OpenAPI()}, nil
	}
	s1, err := load1(oldDoc, "baseline")
	if err != nil {
		return nil, err
	}
	s2, err := load1(newDoc, "current")
	if err != nil {
		return nil, err
	}
	d, sources, err := diff.GetPathsDiff(diff.NewConfig(), []*load.SpecInfo{s1}, []*load.SpecInfo{s2})
	if err != nil {
		return nil, fmt.Errorf("spec diff: %w", err)
	}
	localize := checker.NewDefaultLocalizer()
	var changes []SpecChange
	for _, c := range checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.INFO) {
		change := SpecChange{
			Rule:        c.GetId(),
			Level:       c.GetLevel().String(),
			Breaking:    c.IsBreaking(),
			OperationID: c.GetOperationId(),
			Text:        strings.TrimSpace(c.GetUncolorizedText(localize)),
		}
		if slices.Contains(removals, change.Rule) {
			change.Breaking, change.Level = true, checker.ERR.String()
			change.Text += fmt.Sprintf(": %s %s", c.GetOperation(), c.GetPath())
			if change.OperationID != "" {
				change.Text += " (" + change.OperationID + ")"
			}
		}
		changes = append(changes, change)
	}
	slices.SortStableFunc(changes, func(a, b SpecChange) int {
		if a.Breaking != b.Breaking {
			if a.Breaking {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return changes, nil
}

// explains reports whether a spec change concerns what a check verifies, read from its spec
// element ("collectInvestigationPackage 201 /status"): the same operation; the same response
// status when the element names one; and then, by the element's last part: a property of the
// body (/status, #/.../properties/Comment/type) named in the change, a whole schema (#/...)
// and any change of a property or body, or the status alone and a change of statuses. Anything
// else is not explained: when in doubt, a delta stays a regression.
func explains(change SpecChange, element string) bool {
	fields := strings.Fields(element)
	if len(fields) == 0 || (change.OperationID != "" && change.OperationID != fields[0]) {
		return false
	}
	rest := fields[1:]
	if len(rest) > 0 && isStatus(rest[0]) {
		if !strings.Contains(change.Text, "`"+rest[0]+"`") && !strings.Contains(change.Text, " "+rest[0]) {
			return false
		}
		rest = rest[1:]
	}
	switch {
	case len(rest) == 0:
		return strings.Contains(change.Rule, "status") && !strings.Contains(change.Rule, "property")
	case strings.HasPrefix(rest[0], "/"):
		return mentions(change.Text, lastSegment(rest[0]))
	case strings.HasPrefix(rest[0], "#/"):
		if _, prop, ok := strings.Cut(rest[0], "/properties/"); ok {
			name, _, _ := strings.Cut(prop, "/")
			return mentions(change.Text, name)
		}
		return strings.Contains(change.Rule, "property") || strings.Contains(change.Rule, "body") || strings.Contains(change.Rule, "media-type")
	default:
		return false
	}
}

func lastSegment(pointer string) string {
	parts := strings.Split(pointer, "/")
	return parts[len(parts)-1]
}

// mentions finds a name in oasdiff's text, where names are quoted `like this`.
func mentions(text, name string) bool {
	return name != "" && strings.Contains(text, "`"+name+"`")
}

func isStatus(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.Trim(s, "0123456789") == ""
}
