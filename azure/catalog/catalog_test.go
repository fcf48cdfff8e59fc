package catalog

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// The names below are Microsoft's exact spellings (microsoft.md §3); a typo
// here is exactly the kind of error the vendor documents make.
func TestForProtocolUsesMicrosoftSpellings(t *testing.T) {
	cases := []struct {
		p    Protocol
		f    Flow
		want string
		res  Resource
		kind Kind
	}{
		{IMAP, AuthCode, "IMAP.AccessAsUser.All", ExchangeOnline, Delegated},
		{POP, ROPC, "POP.AccessAsUser.All", ExchangeOnline, Delegated},
		{SMTP, DeviceCode, "SMTP.Send", ExchangeOnline, Delegated},
		{EWS, AuthCode, "EWS.AccessAsUser.All", ExchangeOnline, Delegated},
		{GraphRead, AuthCode, "Mail.Read", MicrosoftGraph, Delegated},
		{GraphSend, AuthCode, "Mail.Send", MicrosoftGraph, Delegated},
		{IMAP, ClientCredentials, "IMAP.AccessAsApp", ExchangeOnline, Application},
		{POP, ClientCredentials, "POP.AccessAsApp", ExchangeOnline, Application},
		{SMTP, ClientCredentials, "SMTP.SendAsApp", ExchangeOnline, Application},
		{EWS, ClientCredentials, "full_access_as_app", ExchangeOnline, Application},
		{GraphRead, ClientCredentials, "Mail.Read", MicrosoftGraph, Application},
		{GraphSend, ClientCredentials, "Mail.Send", MicrosoftGraph, Application},
	}
	for _, c := range cases {
		got, err := ForProtocol(c.p, c.f)
		if err != nil {
			t.Fatalf("%s/%s: %v", c.p, c.f, err)
		}
		if got.Value != c.want || got.Resource != c.res || got.Kind != c.kind {
			t.Errorf("%s/%s = %s, want %s %s (%s)", c.p, c.f, got, c.res.Name, c.want, c.kind)
		}
	}
}

func TestFallbackIDsMatchReference(t *testing.T) {
	// microsoft.md §2b (verified ones) and §2a.
	want := map[string]string{
		"full_access_as_app":   "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
		"EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
		"offline_access":       "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
		"User.Read":            "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
		// PIDS (GDC concepts/includes/permissions-ids.md @0fcd5cbe)
		"Mail.Read.Shared": "7b9103a5-4610-446b-9670-80643382c1fa",
		"Mail.Send.Shared": "a367ab51-6b49-43bf-a716-a1fb06d2a174",
	}
	graphTwins := map[string]string{ // microsoft.md §2a: Graph's own IDs for the Exchange scopes
		"IMAP.AccessAsUser.All": "652390e4-393a-48de-9484-05f9b1212954",
		"POP.AccessAsUser.All":  "d7b7f2d9-0f45-4ea1-9d42-e50810c06991",
		"SMTP.Send":             "258f6531-6087-4cc4-bb90-092c5fb3ed3f",
	}
	for _, p := range Known() {
		if id, ok := graphTwins[p.Value]; ok && p.Resource == MicrosoftGraph && p.FallbackID != id {
			t.Errorf("%s: fallback id %s, want %s", p, p.FallbackID, id)
		}
		if id, ok := want[p.Value]; ok && p.FallbackID != id {
			t.Errorf("%s: fallback id %s, want %s", p, p.FallbackID, id)
		}
		if len(p.FallbackID) != 36 || strings.Count(p.FallbackID, "-") != 4 {
			t.Errorf("%s: fallback id %q is not a GUID", p, p.FallbackID)
		}
	}
}

func TestPermissionsAddsOfflineAccessOnlyForDelegated(t *testing.T) {
	del, err := Permissions(AuthCode, []Protocol{IMAP, SMTP}, GraphUserRead)
	if err != nil {
		t.Fatal(err)
	}
	got := names(del)
	want := []string{"Graph:IMAP.AccessAsUser.All", "Graph:offline_access", "Graph:SMTP.Send", "Graph:User.Read", "Exchange:IMAP.AccessAsUser.All", "Exchange:SMTP.Send"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delegated = %v, want %v", got, want)
	}
	app, err := Permissions(ClientCredentials, []Protocol{EWS}, GraphUserRead)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(app); !reflect.DeepEqual(got, []string{"Exchange:full_access_as_app"}) {
		t.Errorf("app-only = %v: delegated extras must be dropped", got)
	}
}

func TestCorrectFixesVendorMisspellings(t *testing.T) {
	for in, want := range map[string]string{
		"POP3.AccessAsUser.All": "POP.AccessAsUser.All", // Genesys document
		"POP.AccessUser.All":    "POP.AccessAsUser.All", // ExtraView document
		"SMTP.AccessAsApp":      "SMTP.SendAsApp",
	} {
		got, changed := Correct(in)
		if got != want || !changed {
			t.Errorf("Correct(%q) = %q,%v want %q,true", in, got, changed, want)
		}
	}
	if got, changed := Correct("IMAP.AccessAsUser.All"); changed || got != "IMAP.AccessAsUser.All" {
		t.Errorf("a correct name must stay: %q %v", got, changed)
	}
}

func TestTokenRequestsNeverMixResources(t *testing.T) {
	c := cloud.Global()
	trs, err := TokenRequests(c, AuthCode, []Protocol{IMAP, POP, SMTP, EWS, GraphRead, GraphSend})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tr := range trs {
		got[tr.Audience] = tr.Scopes
		for _, s := range tr.Scopes {
			if s != "offline_access" && !strings.HasPrefix(s, tr.Audience+"/") {
				t.Errorf("request for %s carries scope %s of another resource", tr.Audience, s)
			}
		}
	}
	want := map[string][]string{
		"https://outlook.office.com":    {"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"},
		"https://outlook.office365.com": {"https://outlook.office365.com/EWS.AccessAsUser.All", "offline_access"},
		"https://graph.microsoft.com":   {"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Mail.Send", "offline_access"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token requests:\n got %v\nwant %v", got, want)
	}
}

func TestTokenRequestsAppOnlyUseDefault(t *testing.T) {
	trs, err := TokenRequests(cloud.Global(), ClientCredentials, []Protocol{IMAP, SMTP, EWS, GraphRead})
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 2 {
		t.Fatalf("want 2 requests (Exchange, Graph), got %d: %+v", len(trs), trs)
	}
	if !reflect.DeepEqual(trs[0].Scopes, []string{"https://outlook.office365.com/.default"}) {
		t.Errorf("exchange app-only scopes = %v", trs[0].Scopes)
	}
	if !reflect.DeepEqual(trs[1].Scopes, []string{"https://graph.microsoft.com/.default"}) {
		t.Errorf("graph app-only scopes = %v", trs[1].Scopes)
	}
}

func TestParsersNameAcceptedForms(t *testing.T) {
	if _, err := ParseProtocols("imap, pop3 ,smtp"); err != nil {
		t.Fatal(err)
	}
	_, err := ParseProtocols("imap,exchange")
	if err == nil || !strings.Contains(err.Error(), "accepted: imap, pop, smtp, ews, graph-read, graph-send") {
		t.Errorf("unknown protocol error = %v", err)
	}
	if _, err := ParseFlow("magic"); err == nil || !strings.Contains(err.Error(), "accepted") {
		t.Errorf("unknown flow error = %v", err)
	}
	if _, err := ParseAudience("everyone"); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("unknown audience error = %v", err)
	}
}

func FuzzParseProtocols(f *testing.F) {
	for _, s := range []string{"imap", "imap,pop", "graph-read;graph-send", " ", ",,,", "pop3 smtp ews"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseProtocols(s)
		if err != nil {
			return
		}
		seen := map[Protocol]bool{}
		for _, p := range ps {
			if seen[p] {
				t.Fatalf("repeat %s in %v", p, ps)
			}
			seen[p] = true
			if _, err := ForProtocol(p, AuthCode); err != nil {
				t.Fatalf("parsed protocol %q has no permission", p)
			}
		}
	})
}

func names(ps []Permission) []string {
	var out []string
	for _, p := range ps {
		res := "Graph:"
		if p.Resource == ExchangeOnline {
			res = "Exchange:"
		}
		out = append(out, res+p.Value)
	}
	return out
}

// Delegated IMAP/POP/SMTP are registered on both APIs (the vendor documents
// put them under Microsoft Graph, Microsoft's token requests name Exchange
// Online); the token request still names one resource: Exchange Online.
func TestDelegatedMailScopesOnBothResources(t *testing.T) {
	for _, f := range []Flow{AuthCode, ROPC, DeviceCode} {
		got, err := Permissions(f, []Protocol{IMAP, POP, SMTP, EWS})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Graph:IMAP.AccessAsUser.All", "Graph:offline_access", "Graph:POP.AccessAsUser.All", "Graph:SMTP.Send",
			"Exchange:EWS.AccessAsUser.All", "Exchange:IMAP.AccessAsUser.All", "Exchange:POP.AccessAsUser.All", "Exchange:SMTP.Send"}
		if !reflect.DeepEqual(names(got), want) {
			t.Errorf("%s: %v\nwant %v", f, names(got), want)
		}
		trs, _ := TokenRequests(cloud.Global(), f, []Protocol{IMAP})
		if len(trs) != 1 || trs[0].Resource != ExchangeOnline {
			t.Errorf("%s: IMAP token request %+v, want one for Exchange Online", f, trs)
		}
	}
	app, _ := Permissions(ClientCredentials, []Protocol{IMAP, POP, SMTP})
	for _, p := range app {
		if p.Resource != ExchangeOnline {
			t.Errorf("app-only IMAP/POP/SMTP has %s", p)
		}
	}
}

// Delegated Graph access to another mailbox needs the .Shared permissions
// and requests the .Shared scope; the own-mailbox ones stay registered.
func TestOtherMailboxesOverGraph(t *testing.T) {
	o := Options{OtherMailboxes: true}
	got, err := PermissionsWith(AuthCode, []Protocol{GraphRead, GraphSend, IMAP}, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Graph:IMAP.AccessAsUser.All", "Graph:Mail.Read", "Graph:Mail.Read.Shared", "Graph:Mail.Send", "Graph:Mail.Send.Shared", "Graph:offline_access", "Exchange:IMAP.AccessAsUser.All"}
	if !reflect.DeepEqual(names(got), want) {
		t.Errorf("got %v\nwant %v", names(got), want)
	}
	trs, _ := TokenRequestsWith(cloud.Global(), AuthCode, []Protocol{GraphRead, GraphSend}, o)
	if len(trs) != 1 || !reflect.DeepEqual(trs[0].Scopes, []string{"https://graph.microsoft.com/Mail.Read.Shared", "https://graph.microsoft.com/Mail.Send.Shared", "offline_access"}) {
		t.Errorf("token requests %+v", trs)
	}
	// App-only Graph reaches every mailbox already: no .Shared (they are delegated only).
	app, _ := PermissionsWith(ClientCredentials, []Protocol{GraphRead}, o)
	if !reflect.DeepEqual(names(app), []string{"Graph:Mail.Read"}) {
		t.Errorf("app-only %v", names(app))
	}
	// Without the option nothing changes.
	own, _ := Permissions(AuthCode, []Protocol{GraphRead})
	if !reflect.DeepEqual(names(own), []string{"Graph:Mail.Read", "Graph:offline_access"}) {
		t.Errorf("own mailbox %v", names(own))
	}
}

// Only the Graph twins are best effort: every permission a token request
// names must exist, or the setup stops.
func TestOnlyGraphTwinsAreBestEffort(t *testing.T) {
	for _, p := range Known() {
		twin := p == GraphIMAPUser || p == GraphPOPUser || p == GraphSMTPSend
		if p.BestEffort != twin {
			t.Errorf("%s: BestEffort %v", p, p.BestEffort)
		}
	}
	for _, pr := range Protocols {
		for _, f := range Flows {
			if perm, err := ForProtocol(pr, f); err != nil || perm.BestEffort {
				t.Errorf("%s/%s: the token's own permission %s is best effort", pr, f, perm)
			}
		}
	}
}
