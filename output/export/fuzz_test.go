package export

import (
	"bytes"
	"html"
	"slices"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// FuzzRenderAppName: any app name either is refused naming AppName, or
// renders a script whose cmdlet lines stay in the simulator's forms, an HTML
// page with no live markup from the name, and no secret outside its files.
func FuzzRenderAppName(f *testing.F) {
	for _, s := range []string{"ExtraView mail (OAuth2)", `<script>alert(1)</script>`, "O'Brien's app", "a\nb", "$(rm -rf /)", "`x`|y", "\u202eevil", "", "Evil’;Start-Process calc;#", "Bob’s helpdesk", "a\u0085b"} {
		f.Add(s)
	}
	c := goldenCase{product: "generic", method: "client-credentials",
		protocols: []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.EWS, catalog.GraphRead}}
	plainTags := -1
	plain := c.input(f)
	plain.AppName = "Plain name"
	arts, err := Render(plain)
	if err != nil {
		f.Fatal(err)
	}
	var plainScript string
	for _, a := range arts {
		switch a.Name {
		case SettingsHTML:
			plainTags = bytes.Count(a.Content, []byte("<"))
		case PowerShell:
			plainScript, _ = psSkeleton(f, string(a.Content))
		}
	}
	f.Fuzz(func(t *testing.T, name string) {
		in := c.input(t)
		in.AppName = name
		arts, err := Render(in)
		if err != nil {
			if !strings.Contains(err.Error(), "AppName") {
				t.Fatalf("refusal does not name AppName: %v", err)
			}
			return
		}
		for _, a := range arts {
			if a.HoldsSecret != secretFiles[a.Name] {
				t.Fatalf("%s HoldsSecret %v", a.Name, a.HoldsSecret)
			}
			switch a.Name {
			case PowerShell:
				code, lits := psSkeleton(t, string(a.Content))
				if code != plainScript {
					t.Fatalf("app name %q changed the script's code", name)
				}
				if !slices.Contains(lits, name) {
					t.Fatalf("app name %q does not read back from its literal", name)
				}
			case SettingsHTML:
				if guidInText.MatchString(name) {
					break // a GUID in the name is kept on one line by a <span class="id"> of the page's own
				}
				// The name is there as text: read back through HTML's character references.
				if !strings.Contains(html.UnescapeString(string(a.Content)), "<code>"+name+"</code>") {
					t.Fatalf("app name %q does not appear as text in settings.html", name)
				}
				// The name adds no markup: the page has as many '<' as with a plain name.
				if n := bytes.Count(a.Content, []byte("<")); n != plainTags {
					t.Fatalf("app name %q changed the page's markup (%d '<', want %d)", name, n, plainTags)
				}
			}
		}
	})
}
