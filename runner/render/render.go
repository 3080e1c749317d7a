// Package render turns results into the reports people read: a self-contained HTML page and
// a short Markdown summary for a CI job.
package render

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	ttemplate "text/template"

	"github.com/cipconform/cipconform/runner/regression"
	"github.com/cipconform/cipconform/runner/results"
)

//go:embed report.html.tmpl
var htmlTemplate string

//go:embed summary.md.tmpl
var markdownTemplate string

// group is the checks of one spec element.
type group struct {
	Element string
	Checks  []results.CheckResult
	Failed  int
}

// groups orders the elements with failures first, then by name.
func groups(r *results.Results) []group {
	byElement := map[string]*group{}
	var order []string
	for _, c := range r.Checks {
		g, ok := byElement[c.Element.String()]
		if !ok {
			g = &group{Element: c.Element.String()}
			byElement[c.Element.String()] = g
			order = append(order, c.Element.String())
		}
		g.Checks = append(g.Checks, c)
		if c.Outcome == results.Failed || c.Outcome == results.Errored {
			g.Failed++
		}
	}
	out := make([]group, 0, len(order))
	for _, e := range order {
		out = append(out, *byElement[e])
	}
	slices.SortStableFunc(out, func(a, b group) int {
		if (a.Failed > 0) != (b.Failed > 0) {
			if a.Failed > 0 {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Element, b.Element)
	})
	return out
}

func problems(r *results.Results) []results.CheckResult {
	var out []results.CheckResult
	for _, c := range r.Checks {
		if c.Outcome == results.Failed || c.Outcome == results.Errored {
			out = append(out, c)
		}
	}
	return out
}

// Headline is what happened to a check, in one line: its first violation of the spec, else the
// first line of its message without the check ID.
func Headline(c results.CheckResult) string {
	if len(c.Violations) > 0 {
		line := c.Violations[0].String()
		if n := len(c.Violations) - 1; n > 0 {
			line += fmt.Sprintf(" (and %d more)", n)
		}
		return line
	}
	for line := range strings.SplitSeq(c.Message, "\n") {
		if line = strings.TrimSpace(strings.TrimPrefix(line, c.ID+": ")); line != "" {
			return line
		}
	}
	return ""
}

// checkHTML is one check's section of report.html: a <details> element, open when the check
// failed or errored, with its message, its violations and its exchanges. Written in Go rather
// than in the template: the template's contextual escaping of every field of every check was
// most of what rendering the report cost.
func checkHTML(c results.CheckResult) template.HTML {
	e := html.EscapeString
	var b strings.Builder
	open := ""
	if c.Outcome == results.Failed || c.Outcome == results.Errored {
		open = " open"
	}
	fmt.Fprintf(&b, `<details id="%s" class="check %s"%s>`+"\n", e(c.ID), e(string(c.Outcome)), open)
	fmt.Fprintf(&b, `<summary><span class="outcome">%s</span> <b>%s</b> %s <span class="meta">(%s, %s, %d ms`,
		e(strings.ToUpper(string(c.Outcome))), e(c.ID), e(c.Title), e(string(c.Level)), e(string(c.Safety)), c.DurationMS)
	if c.Change != "" && c.Change != "unchanged" {
		fmt.Fprintf(&b, ", %s", e(c.Change))
	}
	if c.KnownFailure != "" {
		fmt.Fprintf(&b, ", known failure: %s", e(c.KnownFailure))
	}
	b.WriteString(")</span></summary>\n")
	if c.Message != "" {
		fmt.Fprintf(&b, `<pre class="message">%s</pre>`+"\n", e(c.Message))
	}
	if len(c.Violations) > 0 {
		b.WriteString(`<p>Violations of the spec:</p><ul class="violations">`)
		for _, v := range c.Violations {
			fmt.Fprintf(&b, `<li><code>%s %s</code> %s`, e(string(v.Where)), e(v.Pointer), e(v.Reason))
			if v.Keyword != "" {
				fmt.Fprintf(&b, " (%s)", e(v.Keyword))
			}
			b.WriteString("</li>")
		}
		b.WriteString("</ul>\n")
	}
	for _, ex := range c.Exchanges {
		fmt.Fprintf(&b, `<p>%s</p><pre class="exchange">%s</pre>`, e(ex.Label), e(ex.Summary()))
	}
	b.WriteString("\n</details>\n")
	return template.HTML(b.String())
}

var funcs = map[string]any{
	"checkHTML": checkHTML,
	"headline":  Headline,
	"firstLine": func(s string) string { line, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return line },
	"upper":     func(v any) string { return strings.ToUpper(fmt.Sprint(v)) },
	// coverageCell writes a coverage item's checks in Go: the template's escaping of
	// hundreds of links was most of the report's rendering.
	"coverageCell": func(item results.CoverageItem) template.HTML {
		if !item.Covered() {
			return "<b>uncovered</b>"
		}
		var b strings.Builder
		for _, c := range item.Checks {
			id := html.EscapeString(c.ID)
			fmt.Fprintf(&b, `<a href="#%s">%s</a> %s; `, id, id, html.EscapeString(string(c.Outcome)))
		}
		return template.HTML(b.String())
	},
	"pipeSafe": func(v any) string { return strings.ReplaceAll(fmt.Sprint(v), "|", `\|`) },
}

// changes are the deltas worth a person's attention: all but the unchanged.
func changes(cmp *regression.Report) []regression.Delta {
	if cmp == nil {
		return nil
	}
	var out []regression.Delta
	for _, d := range cmp.Deltas {
		if d.Class != regression.Unchanged && d.Class != regression.NotRun {
			out = append(out, d)
		}
	}
	return out
}

func data(r *results.Results, cmp *regression.Report) map[string]any {
	return map[string]any{"R": r, "Groups": groups(r), "Problems": problems(r), "Cmp": cmp, "Changes": changes(cmp), "Uncovered": results.Uncovered(r.Coverage)}
}

// HTML renders report.html: one file, readable offline, the verdict first, then what changed
// since the baseline (regressions first), the failures, every check by spec element, and the
// coverage of the contract. cmp may be nil.
func HTML(r *results.Results, cmp *regression.Report) ([]byte, error) {
	t, err := template.New("report").Funcs(funcs).Parse(htmlTemplate)
	if err != nil {
		return nil, fmt.Errorf("html template: %w", err)
	}
	var b bytes.Buffer
	data := data(r, cmp)
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return b.Bytes(), nil
}

// Markdown renders summary.md, short enough for a CI job summary. cmp may be nil.
func Markdown(r *results.Results, cmp *regression.Report) ([]byte, error) {
	t, err := ttemplate.New("summary").Funcs(funcs).Parse(markdownTemplate)
	if err != nil {
		return nil, fmt.Errorf("markdown template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data(r, cmp)); err != nil {
		return nil, fmt.Errorf("render markdown: %w", err)
	}
	return b.Bytes(), nil
}
