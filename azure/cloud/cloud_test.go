package cloud

import (
	"strings"
	"testing"
)

func TestPresetsMatchReference(t *testing.T) {
	// microsoft.md §12.
	cases := map[string][2]string{
		"global":     {"https://login.microsoftonline.com", "https://graph.microsoft.com"},
		"usgov-high": {"https://login.microsoftonline.us", "https://graph.microsoft.us"},
		"usgov-dod":  {"https://login.microsoftonline.us", "https://dod-graph.microsoft.us"},
		"china":      {"https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn"},
	}
	for name, want := range cases {
		c, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.AuthorityHost != want[0] || c.GraphURL != want[1] || c.GraphResource != want[1] {
			t.Errorf("%s: authority %s graph %s", name, c.AuthorityHost, c.GraphURL)
		}
	}
	if g := Global(); g.ExchangeEnvironment != "" || g.IMAP.Addr() != "outlook.office365.com:993" || g.SMTP.TLS != StartTLS {
		t.Errorf("global exchange endpoints wrong: %+v", g)
	}
	if h := USGovHigh(); h.ExchangeEnvironment != "O365USGovGCCHigh" || len(h.Unverified) == 0 {
		t.Errorf("GCC High must name its environment and its unverified endpoints: %+v", h)
	}
}

func TestScopes(t *testing.T) {
	g := Global()
	if got := g.ExchangeDelegatedScope("IMAP.AccessAsUser.All"); got != "https://outlook.office.com/IMAP.AccessAsUser.All" {
		t.Error(got)
	}
	if got := g.ExchangeDelegatedScope("EWS.AccessAsUser.All"); got != "https://outlook.office365.com/EWS.AccessAsUser.All" {
		t.Error(got)
	}
	if got := g.ExchangeAppScope(); got != "https://outlook.office365.com/.default" {
		t.Error(got)
	}
	// A lab's Graph endpoint moves; the token resource does not.
	lab, err := g.Apply(Overrides{GraphURL: "https://127.0.0.1:8443/v1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if lab.GraphV1() != "https://127.0.0.1:8443/v1.0" || lab.GraphScope("Mail.Read") != "https://graph.microsoft.com/Mail.Read" {
		t.Errorf("lab graph: %s %s", lab.GraphV1(), lab.GraphScope("Mail.Read"))
	}
	if got := g.TokenEndpoint("contoso.com"); got != "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token" {
		t.Error(got)
	}
}

func TestOverridesNameTheFlag(t *testing.T) {
	bad := []struct {
		o    Overrides
		flag string
	}{
		{Overrides{Authority: "login.example.com"}, "--authority"},
		{Overrides{Authority: "http://login.example.com"}, "--authority"},
		{Overrides{GraphURL: "ftp://x"}, "--graph-url"},
		{Overrides{IMAP: "mail.example.com"}, "--imap"},
		{Overrides{POP: "mail.example.com:99999"}, "--pop"},
		{Overrides{SMTP: ":587"}, "--smtp"},
		{Overrides{EWSURL: "outlook/ews"}, "--ews-url"},
		{Overrides{CAFile: "/does/not/exist.pem"}, "--ca-file"},
	}
	for _, b := range bad {
		_, err := Global().Apply(b.o)
		if err == nil || !strings.HasPrefix(err.Error(), b.flag+":") || !strings.Contains(err.Error(), "accepted form") {
			t.Errorf("%+v: error %v does not name %s and the accepted form", b.o, err, b.flag)
		}
	}
	ok, err := Global().Apply(Overrides{Authority: "http://127.0.0.1:9000", IMAP: "127.0.0.1:1993"})
	if err != nil {
		t.Fatal(err)
	}
	if ok.AuthorityHost != "http://127.0.0.1:9000" || ok.IMAP.Port != 1993 || ok.IMAP.TLS != ImplicitTLS {
		t.Errorf("overrides not applied: %+v", ok)
	}
	if _, err := Lookup("mars"); err == nil || !strings.Contains(err.Error(), "--cloud") {
		t.Errorf("unknown cloud: %v", err)
	}
}

func TestHostsAreTheAllowList(t *testing.T) {
	got := strings.Join(Global().Hosts(), ",")
	if got != "graph.microsoft.com,login.microsoftonline.com,outlook.office365.com" {
		t.Errorf("hosts = %s", got)
	}
}

func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{"a:1", "[::1]:993", ":0", "host:", "x:65536", "outlook.office365.com:993"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, p, err := ParseHostPort(s)
		if err == nil && (h == "" || p < 1 || p > 65535) {
			t.Fatalf("accepted %q as %q:%d", s, h, p)
		}
	})
}

func TestFlagsSelectTheCloudAgain(t *testing.T) {
	if f := Global().Flags(); f != nil {
		t.Errorf("global: %v", f)
	}
	if f := strings.Join(USGovHigh().Flags(), " "); f != "--cloud usgov-high" {
		t.Errorf("usgov-high: %s", f)
	}
	lab, err := Global().Apply(Overrides{Authority: "https://127.0.0.1:9443", GraphURL: "https://127.0.0.1:9444", IMAP: "127.0.0.1:1993"})
	if err != nil {
		t.Fatal(err)
	}
	lab.Name = "custom"
	f := strings.Join(lab.Flags(), " ")
	if !strings.Contains(f, "--cloud custom --authority https://127.0.0.1:9443 --graph-url https://127.0.0.1:9444 --imap 127.0.0.1:1993") {
		t.Errorf("custom: %s", f)
	}
	// The flags parse back into the same endpoints.
	back, err := Global().Apply(Overrides{Authority: lab.AuthorityHost, GraphURL: lab.GraphURL, IMAP: lab.IMAP.Addr(), POP: lab.POP.Addr(), SMTP: lab.SMTP.Addr(), EWSURL: lab.EWSURL})
	if err != nil || back.IMAP != lab.IMAP || back.AuthorityHost != lab.AuthorityHost {
		t.Errorf("round trip: %+v %v", back, err)
	}
}
