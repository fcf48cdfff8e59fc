package export

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strings"
)

// renderMarkdown writes the sheet as Markdown. Values go into code spans so
// that nothing in them (a mailbox, an app name) is read as Markdown.
func renderMarkdown(s sheet) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", mdText(s.Title))
	if s.HoldsSecret {
		b.WriteString("This file holds the client secret: keep it private (mode 0600) and delete it once the values are entered.\n\n")
	}
	for _, f := range s.Summary {
		fmt.Fprintf(&b, "- **%s:** %s\n", mdText(f.Name), mdCode(f.Value))
	}
	if len(s.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\n")
		for _, w := range s.Warnings {
			fmt.Fprintf(&b, "- ⚠ %s\n", mdText(w))
		}
	}
	b.WriteString("\n## Enter these values, in this order\n")
	for i, sec := range s.Sections {
		fmt.Fprintf(&b, "\n### %d. %s\n\n", i+1, mdText(sec.Title))
		if sec.Intro != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(sec.Intro))
		}
		writeFields(&b, sec.Fields)
	}
	if len(s.Secret) > 0 {
		b.WriteString("\n## Client secret\n\n")
		writeFields(&b, s.Secret)
	}
	b.WriteString("\n## Still to do by hand\n\n")
	if len(s.Manual) == 0 {
		b.WriteString("Nothing.\n")
	}
	for i, m := range s.Manual {
		fmt.Fprintf(&b, "%d. %s\n", i+1, mdText(m))
	}
	b.WriteString("\n## Created or changed in the tenant\n\n")
	if len(s.Created) == 0 {
		b.WriteString("Nothing recorded.\n")
	}
	for _, c := range s.Created {
		fmt.Fprintf(&b, "- %s\n", mdText(c))
	}
	b.WriteString("\n## API permissions (admin consent granted)\n\n| API | Permission | Type | ID |\n|---|---|---|---|\n")
	for _, p := range s.Permissions {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdText(p.Resource.Name), mdCode(p.Value), p.Kind.Label(), mdCode(p.FallbackID))
	}
	if len(s.Tests) > 0 {
		b.WriteString("\n## Login tests\n")
		for _, a := range s.Tests {
			if a.Title != "" {
				fmt.Fprintf(&b, "\n### %s\n", mdText(a.Title))
			}
			b.WriteString("\n| Protocol | Mailbox | Result | Detail |\n|---|---|---|---|\n")
			for _, t := range a.Lines {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Protocol.Label(), mdCode(t.Mailbox), result(t.OK), mdText(t.Detail))
			}
			if a.Fix != "" {
				fmt.Fprintf(&b, "\nFix applied: %s\n", mdText(a.Fix))
			}
		}
	}
	if len(s.OtherTenants) > 0 {
		b.WriteString("\n## Another organisation's tenant\n\nThe app is multitenant: another organisation can use it once its administrator consents.\n\n")
		writeFields(&b, s.OtherTenants)
	}
	if len(s.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", mdText(n))
		}
	}
	if len(s.Fixes) > 0 {
		b.WriteString("\n## Notes on the vendor document\n\n")
		for _, f := range s.Fixes {
			fmt.Fprintf(&b, "- %s\n", mdText(f))
		}
	}
	if s.Doc != "" {
		fmt.Fprintf(&b, "\nVendor document: %s\n", mdText(s.Doc))
	}
	return b.Bytes()
}

// writeFields lists fields as "- **Name:** `value` (note)".
func writeFields(b *bytes.Buffer, fields []field) {
	for _, f := range fields {
		fmt.Fprintf(b, "- **%s:** %s", mdText(f.Name), mdCode(f.Value))
		if f.Note != "" {
			fmt.Fprintf(b, " (%s)", mdText(f.Note))
		}
		b.WriteByte('\n')
	}
}

func result(ok bool) string {
	if ok {
		return "OK"
	}
	return "FAILED"
}

// mdCode puts a value in a code span whose fence is longer than any run of
// backticks inside it; table pipes are escaped.
func mdCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	s = strings.ReplaceAll(s, "|", `\|`)
	if longest > 0 || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdText escapes the characters that would turn prose into markup.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", `&lt;`, ">", `&gt;`, "|", `\|`, "[", `\[`, "]", `\]`)

func mdText(s string) string { return mdEscaper.Replace(s) }

// guidInText finds GUIDs in a value or a sentence, so the page can keep
// each on one line (a GUID broken at its hyphens cannot be copied).
var guidInText = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// htmlText escapes s and wraps each GUID in <span class="id"> (no line
// break inside). The result is safe HTML: only the span is markup.
func htmlText(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	return template.HTML(guidInText.ReplaceAllString(esc, `<span class="id">$0</span>`))
}

// htmlAddress escapes a mail address and lets it wrap after "@" and "."
// (<wbr>, no character) when its column is narrow; it never breaks inside
// a name.
func htmlAddress(s string) template.HTML {
	esc := template.HTMLEscapeString(s)
	esc = strings.ReplaceAll(esc, "@", "@<wbr>")
	return template.HTML(strings.ReplaceAll(esc, ".", ".<wbr>"))
}

// The page is laid out for a 1200px screen and for A4 or Letter paper
// (15 mm margins: 180 mm, about 680 CSS px, of text width). Key/value
// tables have fixed columns and wrap long values (URLs) inside their cell;
// the permissions and test tables size their columns to their content, a
// GUID never breaks (.id), and prose cells wrap anywhere rather than widen
// the page. TestHTMLLayoutInBrowser checks this in Chromium.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"inc":    func(i int) int { return i + 1 },
	"result": result,
	"text":   htmlText,
	"addr":   htmlAddress,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#111;margin:2em auto;max-width:72em;padding:0 1.5em;overflow-wrap:break-word}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #bbb;margin-top:1.6em}h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;width:100%;margin:.4em 0}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}
table.kv{table-layout:fixed}table.kv th{width:30%}
table.grid th{white-space:nowrap}table.grid td.prose{overflow-wrap:anywhere}
code{font:13px/1.35 Consolas,"Liberation Mono",Menlo,monospace;white-space:pre-wrap}
.id,.id code{white-space:nowrap}
.note{color:#555;font-size:.9em}.warn{border-left:4px solid #c60;background:#fff6ea;padding:.4em .8em;margin:.4em 0}
.secret code{background:#fff3c4}.private{font-weight:bold;color:#a00}.ok{color:#070;font-weight:bold}.failed{color:#a00;font-weight:bold}
@page{margin:15mm}
@media print{body{margin:0;padding:0;max-width:none;font-size:10pt}code{font-size:9pt}h2,h3{break-after:avoid}tr,.warn{break-inside:avoid}}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .HoldsSecret}}<p class="private">This page holds the client secret: keep it private and destroy printed copies once the values are entered.</p>{{end}}
<table class="kv">{{range .Summary}}<tr><th>{{.Name}}</th><td><code>{{text .Value}}</code></td></tr>
{{end}}</table>
{{if .Warnings}}<h2>Warnings</h2>
{{range .Warnings}}<p class="warn">{{text .}}</p>
{{end}}{{end}}
<h2>Enter these values, in this order</h2>
{{range $i, $s := .Sections}}<h3>{{inc $i}}. {{$s.Title}}</h3>
{{if $s.Intro}}<p>{{$s.Intro}}</p>
{{end}}<table class="kv">{{range $s.Fields}}<tr{{if .Secret}} class="secret"{{end}}><th>{{.Name}}</th><td><code>{{text .Value}}</code>{{if .Note}}<br><span class="note">{{.Note}}</span>{{end}}</td></tr>
{{end}}</table>
{{end}}
{{if .Secret}}<h2>Client secret</h2>
<table class="kv">{{range .Secret}}<tr{{if .Secret}} class="secret"{{end}}><th>{{.Name}}</th><td><code>{{text .Value}}</code>{{if .Note}}<br><span class="note">{{.Note}}</span>{{end}}</td></tr>
{{end}}</table>
{{end}}
<h2>Still to do by hand</h2>
{{if .Manual}}<ol>{{range .Manual}}<li>{{text .}}</li>
{{end}}</ol>{{else}}<p>Nothing.</p>{{end}}
<h2>Created or changed in the tenant</h2>
{{if .Created}}<ul>{{range .Created}}<li>{{text .}}</li>
{{end}}</ul>{{else}}<p>Nothing recorded.</p>{{end}}
<h2>API permissions (admin consent granted)</h2>
<table class="grid"><tr><th>API</th><th>Permission</th><th>Type</th><th>ID</th></tr>
{{range .Permissions}}<tr><td>{{.Resource.Name}}</td><td><code>{{.Value}}</code></td><td>{{.Kind.Label}}</td><td class="id"><code>{{.FallbackID}}</code></td></tr>
{{end}}</table>
{{if .Tests}}<h2>Login tests</h2>
{{range .Tests}}{{if .Title}}<h3>{{.Title}}</h3>
{{end}}<table class="grid"><tr><th>Protocol</th><th>Mailbox</th><th>Result</th><th>Detail</th></tr>
{{range .Lines}}<tr><td>{{.Protocol.Label}}</td><td><code>{{addr .Mailbox}}</code></td><td class="{{if .OK}}ok{{else}}failed{{end}}">{{result .OK}}</td><td class="prose">{{text .Detail}}</td></tr>
{{end}}</table>
{{if .Fix}}<p>Fix applied: {{text .Fix}}</p>
{{end}}{{end}}{{end}}
{{if .OtherTenants}}<h2>Another organisation's tenant</h2>
<p>The app is multitenant: another organisation can use it once its administrator consents.</p>
<table class="kv">{{range .OtherTenants}}<tr><th>{{.Name}}</th><td><code>{{text .Value}}</code>{{if .Note}}<br><span class="note">{{.Note}}</span>{{end}}</td></tr>
{{end}}</table>
{{end}}
{{if .Notes}}<h2>Notes</h2>
<ul>{{range .Notes}}<li>{{text .}}</li>
{{end}}</ul>{{end}}
{{if .Fixes}}<h2>Notes on the vendor document</h2>
<ul>{{range .Fixes}}<li>{{text .}}</li>
{{end}}</ul>{{end}}
{{if .Doc}}<p class="note">Vendor document: {{.Doc}}</p>{{end}}
</body>
</html>
`))

// renderHTML writes the sheet as one self-contained, print-friendly page:
// inline CSS, no scripts, no external resources; html/template escapes
// every value.
func renderHTML(s sheet) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, s); err != nil {
		return nil, fmt.Errorf("settings.html: %w", err)
	}
	return b.Bytes(), nil
}
