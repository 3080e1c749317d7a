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
	"strconv"
	"strings"
	"sync"
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
	Checks  []*results.CheckResult
	Failed  int
}

// groups orders the elements with failures first, then by name.
func groups(r *results.Results) []group {
	byElement := map[string]*group{}
	var order []string
	for i := range r.Checks {
		c := &r.Checks[i]
		element := c.Element.String()
		g, ok := byElement[element]
		if !ok {
			g = &group{Element: element}
			byElement[element] = g
			order = append(order, element)
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

// checksHTML is the "Checks by spec element" part of report.html: a heading per element and a
// <details> element per check, open when the check failed or errored, with its message, its
// violations and its exchanges. Written in Go rather than in the template: the template's
// contextual escaping and reflective calls for every field of every check were most of what
// rendering the report cost.
func checksHTML(groups []group) template.HTML {
	var b strings.Builder
	b.Grow(64 << 10)
	for _, g := range groups {
		b.WriteString("<h3><code>")
		escape(&b, g.Element)
		b.WriteString("</code></h3>\n")
		for _, c := range g.Checks {
			checkHTML(&b, c)
		}
	}
	return template.HTML(b.String())
}

func checkHTML(b *strings.Builder, c *results.CheckResult) {
	open := ""
	if c.Outcome == results.Failed || c.Outcome == results.Errored {
		open = " open"
	}
	b.WriteString(`<details id="`)
	escape(b, c.ID)
	b.WriteString(`" class="check `)
	escape(b, string(c.Outcome))
	b.WriteString(`"` + open + ">\n" + `<summary><span class="outcome">`)
	escape(b, strings.ToUpper(string(c.Outcome)))
	b.WriteString(`</span> <b>`)
	escape(b, c.ID)
	b.WriteString(`</b> `)
	escape(b, c.Title)
	b.WriteString(` <span class="meta">(`)
	escape(b, string(c.Level))
	b.WriteString(", ")
	escape(b, string(c.Safety))
	b.WriteString(", " + strconv.FormatInt(c.DurationMS, 10) + " ms")
	if c.Change != "" && c.Change != "unchanged" {
		b.WriteString(", ")
		escape(b, string(c.Change))
	}
	if c.KnownFailure != "" {
		b.WriteString(", known failure: ")
		escape(b, c.KnownFailure)
	}
	b.WriteString(")</span></summary>\n")
	if c.Message != "" {
		b.WriteString(`<pre class="message">`)
		escape(b, c.Message)
		b.WriteString("</pre>\n")
	}
	if len(c.Violations) > 0 {
		b.WriteString(`<p>Violations of the spec:</p><ul class="violations">`)
		for _, v := range c.Violations {
			b.WriteString("<li><code>")
			escape(b, string(v.Where))
			b.WriteString(" ")
			escape(b, v.Pointer)
			b.WriteString("</code> ")
			escape(b, v.Reason)
			if v.Keyword != "" {
				b.WriteString(" (")
				escape(b, v.Keyword)
				b.WriteString(")")
			}
			b.WriteString("</li>")
		}
		b.WriteString("</ul>\n")
	}
	for i := range c.Exchanges {
		b.WriteString("<p>")
		escape(b, c.Exchanges[i].Label)
		b.WriteString(`</p><pre class="exchange">`)
		escape(b, c.Exchanges[i].Summary())
		b.WriteString("</pre>")
	}
	b.WriteString("\n</details>\n")
}

// escape writes s to b as html.EscapeString would return it, without a copy of s.
func escape(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

var funcs = map[string]any{
	"checksHTML": checksHTML,
	"headline":   Headline,
	"firstLine":  func(s string) string { line, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return line },
	"upper":      func(v any) string { return strings.ToUpper(fmt.Sprint(v)) },
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
		if item.More > 0 {
			fmt.Fprintf(&b, "and %d more", item.More)
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

// The templates are parsed once, when first needed: parsing (and html/template's escaping
// analysis, done at the first execution) cost as much as rendering a run's report. A parsed
// template may be executed by several goroutines at once.
var (
	htmlReport      = sync.OnceValues(func() (*template.Template, error) { return template.New("report").Funcs(funcs).Parse(htmlTemplate) })
	markdownSummary = sync.OnceValues(func() (*ttemplate.Template, error) {
		return ttemplate.New("summary").Funcs(funcs).Parse(markdownTemplate)
	})
)

// HTML renders report.html: one file, readable offline, the verdict first, then what changed
// since the baseline (regressions first), the failures, every check by spec element, and the
// coverage of the contract. cmp may be nil.
func HTML(r *results.Results, cmp *regression.Report) ([]byte, error) {
	t, err := htmlReport()
	if err != nil {
		return nil, fmt.Errorf("html template: %w", err)
	}
	var b bytes.Buffer
	b.Grow(128 << 10)
	data := data(r, cmp)
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	return b.Bytes(), nil
}

// Markdown renders summary.md, short enough for a CI job summary. cmp may be nil.
func Markdown(r *results.Results, cmp *regression.Report) ([]byte, error) {
	t, err := markdownSummary()
	if err != nil {
		return nil, fmt.Errorf("markdown template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data(r, cmp)); err != nil {
		return nil, fmt.Errorf("render markdown: %w", err)
	}
	return b.Bytes(), nil
}
