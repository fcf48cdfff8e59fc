package export

import (
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

func TestSummaryNeverShowsTheSecret(t *testing.T) {
	for _, c := range goldenCases() {
		in := c.input(t)
		sum, err := Summarize(in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(sum.Settings) == 0 {
			t.Errorf("%s: no settings", c.name)
		}
		for _, s := range sum.Settings {
			if in.Secret != "" && strings.Contains(s.Value, in.Secret) {
				t.Errorf("%s: %s shows the secret", c.name, s.Name)
			}
		}
	}
}

// Agiloft takes the EWS host and port in separate fields: a lab's (or the
// simulator's) port goes to "Custom port", not into the address.
func TestAgiloftSplitsEWSHostAndPort(t *testing.T) {
	in := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}.input(t)
	in.Cloud.EWSURL = "https://127.0.0.1:8443/EWS/Exchange.asmx"
	sum, err := Summarize(in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range sum.Settings {
		got[s.Name] = s.Value
	}
	if got["Address"] != "EWS:127.0.0.1/ews/Exchange.asmx" || got["Custom port"] != "8443" {
		t.Errorf("address %q, port %q", got["Address"], got["Custom port"])
	}
}

// Genesys' smtp-client and pop-client sections share field names: the
// summary keeps each under its heading (issue 12 item 13), and marks the
// secret's row so a screen that shows the value does not show both.
func TestSummaryKeepsSectionHeadings(t *testing.T) {
	in := goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.POP, catalog.SMTP}}.input(t)
	sum, err := Summarize(in)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	n := 0
	for _, sec := range sum.Sections {
		titles = append(titles, sec.Title)
		n += len(sec.Settings)
		for _, s := range sec.Settings {
			if s.Section != sec.Title {
				t.Errorf("%s listed under %s", s.Name, sec.Title)
			}
		}
	}
	if n != len(sum.Settings) {
		t.Errorf("sections hold %d settings, the flat list %d", n, len(sum.Settings))
	}
	joined := strings.Join(titles, "|")
	for _, want := range []string{"E-mail Server: smtp-client section options", "E-mail Server: pop-client section options"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no section %q in %v", want, titles)
		}
	}
	a := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}.input(t)
	sum, _ = Summarize(a)
	secrets := 0
	for _, s := range sum.Settings {
		if s.Secret {
			secrets++
			if s.Value != SecretPointer {
				t.Errorf("secret row %q = %q", s.Name, s.Value)
			}
		} else if s.Value == SecretPointer {
			t.Errorf("%s holds the pointer but is not marked Secret", s.Name)
		}
	}
	if secrets != 1 {
		t.Errorf("%d secret rows, want 1", secrets)
	}
}
