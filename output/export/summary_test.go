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
