package product

import (
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
)

func mustMethod(t *testing.T, product, method string) (Profile, Method) {
	t.Helper()
	p, err := Lookup(product)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Method(method)
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

func values(ps []catalog.Permission) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Resource.Name+":"+p.Value+":"+string(p.Kind))
	}
	return strings.Join(out, " ")
}

// TestPermissionsPerProduct pins each product's permissions to products.md.
func TestPermissionsPerProduct(t *testing.T) {
	const g, x = "Microsoft Graph:", "Office 365 Exchange Online:"
	cases := []struct {
		product, method, protocols, want string
	}{
		{"extraview", "", "ews,imap,pop,smtp", g + "IMAP.AccessAsUser.All:Scope " + g + "offline_access:Scope " + g + "POP.AccessAsUser.All:Scope " + g + "SMTP.Send:Scope " + x + "EWS.AccessAsUser.All:Scope " + x + "IMAP.AccessAsUser.All:Scope " + x + "POP.AccessAsUser.All:Scope " + x + "SMTP.Send:Scope"},
		{"email-this-issue", "", "imap,smtp", g + "IMAP.AccessAsUser.All:Scope " + g + "offline_access:Scope " + g + "openid:Scope " + g + "SMTP.Send:Scope " + g + "User.Read:Scope " + x + "IMAP.AccessAsUser.All:Scope " + x + "SMTP.Send:Scope"},
		{"email-this-issue", "", "graph-read,graph-send", g + "Mail.Read:Scope " + g + "Mail.Send:Scope " + g + "offline_access:Scope " + g + "openid:Scope " + g + "User.Read:Scope"},
		{"genesys", "", "smtp", g + "offline_access:Scope " + g + "SMTP.Send:Scope " + x + "SMTP.Send:Scope"},
		{"genesys", "", "pop,smtp", g + "offline_access:Scope " + g + "POP.AccessAsUser.All:Scope " + g + "SMTP.Send:Scope " + g + "User.Read:Scope " + x + "POP.AccessAsUser.All:Scope " + x + "SMTP.Send:Scope"},
		{"agiloft", "", "ews", x + "full_access_as_app:Role"},
		{"monitor-erp", "user-password", "ews", g + "offline_access:Scope " + x + "EWS.AccessAsUser.All:Scope"},
		{"monitor-erp", "client-secret", "ews", x + "full_access_as_app:Role"},
		{"generic", "client-credentials", "imap,pop,smtp", x + "IMAP.AccessAsApp:Role " + x + "POP.AccessAsApp:Role " + x + "SMTP.SendAsApp:Role"},
	}
	for _, c := range cases {
		_, m := mustMethod(t, c.product, c.method)
		ps, err := m.ParseProtocols(c.protocols)
		if err != nil {
			t.Fatalf("%s: %v", c.product, err)
		}
		perms, err := m.Permissions(ps)
		if err != nil {
			t.Fatal(err)
		}
		if got := values(perms); got != c.want {
			t.Errorf("%s/%s %s:\n got %s\nwant %s", c.product, c.method, c.protocols, got, c.want)
		}
	}
}

func TestProfileShape(t *testing.T) {
	type shape struct {
		flow         catalog.Flow
		platform     catalog.Platform
		public, sec  bool
		assign       bool
		audience     catalog.Audience
		redirectKind RedirectKind
	}
	want := map[string]shape{
		"extraview/auth-code":        {catalog.AuthCode, catalog.Web, false, true, true, catalog.SingleTenant, FromAnswer},
		"email-this-issue/auth-code": {catalog.AuthCode, catalog.Web, false, true, false, catalog.SingleTenant, FromAnswer},
		"genesys/ropc":               {catalog.ROPC, catalog.NoPlatform, true, false, false, catalog.MultiTenant, NoRedirect},
		"agiloft/client-credentials": {catalog.ClientCredentials, catalog.NoPlatform, false, true, false, catalog.SingleTenant, NoRedirect},
		"monitor-erp/user-password":  {catalog.ROPC, catalog.NoPlatform, true, false, false, catalog.SingleTenant, NoRedirect},
		"monitor-erp/client-secret":  {catalog.ClientCredentials, catalog.PublicClient, false, true, false, catalog.SingleTenant, NativeClient},
		"generic/auth-code":          {catalog.AuthCode, catalog.Web, false, true, false, catalog.SingleTenant, FromAnswer},
		"generic/ropc":               {catalog.ROPC, catalog.NoPlatform, true, false, false, catalog.SingleTenant, NoRedirect},
		"generic/client-credentials": {catalog.ClientCredentials, catalog.NoPlatform, false, true, false, catalog.SingleTenant, NoRedirect},
		"generic/device-code":        {catalog.DeviceCode, catalog.NoPlatform, true, false, false, catalog.SingleTenant, NoRedirect},
	}
	seen := 0
	for _, p := range All() {
		for _, m := range p.Methods {
			k := p.ID + "/" + m.ID
			w, ok := want[k]
			if !ok {
				t.Errorf("unexpected method %s", k)
				continue
			}
			seen++
			got := shape{m.Flow, m.Platform, m.PublicClient, m.NeedsSecret, m.AssignUsers, m.DefaultAudience, m.Redirect.Kind}
			if got != w {
				t.Errorf("%s: got %+v want %+v", k, got, w)
			}
			if len(m.DefaultProtocols) == 0 {
				t.Errorf("%s: no default protocols", k)
			}
			for _, d := range m.DefaultProtocols {
				if !m.Supports(d) {
					t.Errorf("%s: default %s not supported", k, d)
				}
			}
			// Typical products need at most three typed answers.
			typed := 0
			for _, q := range m.Questions {
				if q.Default == "" && !q.Optional {
					typed++
				}
			}
			if typed > 3 {
				t.Errorf("%s: %d answers without default", k, typed)
			}
			if DefaultAppName(p, m) == "" {
				t.Errorf("%s: empty default app name", k)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d methods, want %d", seen, len(want))
	}
}

func TestFixesMatchCatalog(t *testing.T) {
	for _, p := range All() {
		for _, f := range p.Fixes {
			if strings.Contains(f.Document, ".AccessAsUser.All") || strings.Contains(f.Document, ".AccessUser.All") {
				if got, changed := catalog.Correct(f.Document); !changed || got != f.Correct {
					t.Errorf("%s fix %q: catalog.Correct = %q, %v; profile says %q", p.ID, f.Document, got, changed, f.Correct)
				}
			}
		}
	}
}

func TestRedirectURIs(t *testing.T) {
	gov := cloud.USGovHigh()
	cases := []struct {
		product, method string
		a               Answers
		c               cloud.Cloud
		want            string
	}{
		{"extraview", "", Answers{KeyExtraViewURL: "https://ev.example.com/evj/"}, cloud.Global(),
			"https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"},
		{"extraview", "", Answers{KeyExtraViewURL: "https://EV.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"}, cloud.Global(),
			"https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"},
		{"email-this-issue", "", Answers{KeyCallbackURL: "https://jira.example.com/plugins/servlet/oauth/callback"}, cloud.Global(),
			"https://jira.example.com/plugins/servlet/oauth/callback"},
		{"monitor-erp", "client-secret", nil, cloud.Global(), "https://login.microsoftonline.com/common/oauth2/nativeclient"},
		{"monitor-erp", "client-secret", nil, gov, "https://login.microsoftonline.us/common/oauth2/nativeclient"},
		{"genesys", "", nil, cloud.Global(), ""},
		{"generic", "auth-code", Answers{KeyRedirectURI: "http://localhost:8080/cb"}, cloud.Global(), "http://localhost:8080/cb"},
	}
	for _, c := range cases {
		_, m := mustMethod(t, c.product, c.method)
		got, err := m.RedirectURIs(c.a, c.c)
		if err != nil {
			t.Fatalf("%s: %v", c.product, err)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %v want %s", c.product, got, c.want)
		}
	}
}

// TestBadAnswers: every refusal names the field and the accepted form.
func TestBadAnswers(t *testing.T) {
	cases := []struct {
		product, method, key, value string
		mention                     []string
	}{
		{"extraview", "", KeyExtraViewURL, "http://ev.example.com/evj", []string{"extraview_url", "https", "accepted form"}},
		{"extraview", "", KeyExtraViewURL, "https://ev.example.com", []string{"extraview_url", "instance path", "accepted form"}},
		{"extraview", "", KeyExtraViewURL, "https://ev.example.com/", []string{"extraview_url", "instance path"}},
		{"extraview", "", KeyExtraViewURL, "ev.example.com/evj", []string{"extraview_url", "absolute URL"}},
		{"extraview", "", KeyExtraViewURL, "https://ev.example.com/evj?x=1", []string{"extraview_url", "query"}},
		{"extraview", "", KeyExtraViewURL, "", []string{"extraview_url", "required"}},
		{"email-this-issue", "", KeyCallbackURL, "/plugins/servlet/callback", []string{"callback_url", "absolute URL", "accepted form"}},
		{"email-this-issue", "", KeyCallbackURL, "http://jira.example.com/cb", []string{"callback_url", "http only for localhost"}},
		{"email-this-issue", "", KeyCallbackURL, "https://jira.example.com/cb#x", []string{"callback_url", "fragment"}},
		{"email-this-issue", "", KeyCallbackURL, "https://jira.example.com/" + strings.Repeat("a", 260), []string{"callback_url", "256"}},
		{"email-this-issue", "", KeyAudience, "everyone", []string{"audience", "accepted: single, multi"}},
		{"genesys", "", KeyMailboxes, "helpdesk", []string{"mailboxes", "not an email address", "accepted form"}},
		{"genesys", "", KeyMailboxes, "Help Desk <helpdesk@contoso.com>", []string{"mailboxes", "not an email address"}},
		{"genesys", "", KeyMailboxes, "a@contoso", []string{"mailboxes", "not an email address"}},
		{"genesys", "", KeyProtocols, "imap,graph-read", []string{"protocols", "Graph mail (read) is not supported", "accepted: ews (EWS), imap (IMAP), pop (POP3), smtp (SMTP)"}},
		{"genesys", "", KeyProtocols, "carrier-pigeon", []string{"protocols", "accepted: imap, pop"}},
		{"agiloft", "", KeyMailboxes, "a@contoso.com; b@contoso.com", []string{"mailboxes", "at most 1"}},
		{"agiloft", "", KeyAdditionalUsers, "a@contoso.com; nope", []string{"additional_users", "not an email address"}},
		{"agiloft", "", KeyProtocols, "imap", nil}, // not asked for Agiloft: no question, no error
		{"monitor-erp", "client-secret", KeyMailboxes, "x@y..com", []string{"mailboxes"}},
		{"generic", "auth-code", KeyRedirectURI, "ftp://x.example.com/cb", []string{"redirect_uri", "absolute URL"}},
	}
	for _, c := range cases {
		_, m := mustMethod(t, c.product, c.method)
		q, ok := m.Question(c.key)
		if c.mention == nil {
			if ok {
				t.Errorf("%s: unexpected question %s", c.product, c.key)
			}
			continue
		}
		if !ok {
			t.Fatalf("%s has no question %s", c.product, c.key)
		}
		err := q.Validate(c.value)
		if err == nil {
			t.Errorf("%s %s=%q: accepted, want refused", c.product, c.key, c.value)
			continue
		}
		for _, s := range c.mention {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s %s=%q: error %q does not mention %q", c.product, c.key, c.value, err, s)
			}
		}
	}
}

func TestCheckNormalisesAndNotes(t *testing.T) {
	_, m := mustMethod(t, "extraview", "")
	a, notes, err := m.Check(Answers{
		KeyExtraViewURL: " https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility ",
		KeyMailboxes:    "evmail@contoso.com, batch@contoso.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	if a[KeyExtraViewURL] != "https://ev.example.com/evj" || a[KeyProtocols] != "imap,smtp" || a[KeyMailboxes] != "evmail@contoso.com; batch@contoso.com" {
		t.Errorf("normalised answers: %v", a)
	}
	if got := strings.Join(a.List(KeyMailboxes), "|"); got != "evmail@contoso.com|batch@contoso.com" {
		t.Errorf("List: %s", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "full redirect URI") {
		t.Errorf("notes: %v", notes)
	}
	// Several bad answers are reported together.
	_, _, err = m.Check(Answers{KeyExtraViewURL: "https://x.example.com", KeyMailboxes: "nope", KeyProtocols: "graph-send"})
	for _, s := range []string{"extraview_url", "mailboxes", "protocols"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("combined error %v does not name %s", err, s)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	if _, err := Lookup("outlook"); err == nil || !strings.Contains(err.Error(), "extraview, email-this-issue, genesys, agiloft, monitor-erp, generic") {
		t.Errorf("Lookup: %v", err)
	}
	p, _ := Lookup("monitor-erp")
	if _, err := p.Method("oauth"); err == nil || !strings.Contains(err.Error(), "user-password, client-secret") {
		t.Errorf("Method: %v", err)
	}
	q, ok := p.MethodQuestion()
	if !ok || q.Validate("client-secret") != nil || q.Validate("x") == nil {
		t.Errorf("method question: %v %v", ok, q)
	}
	if _, ok := (Profile{Methods: []Method{{}}}).MethodQuestion(); ok {
		t.Error("single-method profile must not ask for a method")
	}
}

func TestWarnings(t *testing.T) {
	p, m := mustMethod(t, "agiloft", "")
	w := strings.Join(p.Warnings(m, []catalog.Protocol{catalog.EWS}), "\n")
	for _, s := range []string{"2027-04-01", "2026-10-01", "Microsoft has announced", "none documented by Agiloft", "EVERY mailbox"} {
		if !strings.Contains(w, s) {
			t.Errorf("agiloft warnings lack %q:\n%s", s, w)
		}
	}
	p, m = mustMethod(t, "genesys", "")
	w = strings.Join(p.Warnings(m, []catalog.Protocol{catalog.IMAP}), "\n")
	if strings.Contains(w, "EWS") || !strings.Contains(w, "AADSTS50076") {
		t.Errorf("genesys IMAP warnings: %s", w)
	}
}

// The review shows only what applies to the choice, each note once, and
// warnings apart from information.
func TestReviewNotesOnlyWhatApplies(t *testing.T) {
	text := func(ns []Note) string {
		var out []string
		for _, n := range ns {
			out = append(out, string(n.Kind)+": "+n.Text)
		}
		return strings.Join(out, "\n")
	}
	p, m := mustMethod(t, "extraview", "")
	got := text(p.ReviewNotes(m, []catalog.Protocol{catalog.IMAP, catalog.SMTP}))
	if strings.Contains(got, "POP.AccessUser.All") {
		t.Errorf("ExtraView IMAP+SMTP shows the POP correction:\n%s", got)
	}
	if !strings.Contains(got, "info: The vendor document adds IMAP.AccessAsUser.All, SMTP.Send under Microsoft Graph") {
		t.Errorf("ExtraView: no note on the two APIs:\n%s", got)
	}
	if got := text(p.ReviewNotes(m, []catalog.Protocol{catalog.POP})); !strings.Contains(got, "POP.AccessUser.All") {
		t.Errorf("ExtraView POP lacks the POP correction:\n%s", got)
	}
	p, m = mustMethod(t, "monitor-erp", "user-password")
	got = text(p.ReviewNotes(m, []catalog.Protocol{catalog.EWS}))
	if strings.Contains(got, "ApplicationAccessPolicy") {
		t.Errorf("Monitor ERP user/password shows the Application Access Policy correction:\n%s", got)
	}
	if !strings.Contains(got, "warning: EWS in Exchange Online is being retired") || !strings.Contains(got, "offline_access, which the vendor document does not list") {
		t.Errorf("Monitor ERP user/password:\n%s", got)
	}
	p, m = mustMethod(t, "monitor-erp", "client-secret")
	if got := text(p.ReviewNotes(m, []catalog.Protocol{catalog.EWS})); !strings.Contains(got, "ApplicationAccessPolicy") || strings.Contains(got, "offline_access") {
		t.Errorf("Monitor ERP client secret:\n%s", got)
	}
	for _, p := range All() {
		for _, m := range p.Methods {
			seen := map[string]bool{}
			for _, n := range p.ReviewNotes(m, m.Protocols) {
				if seen[n.Text] {
					t.Errorf("%s/%s: note twice: %s", p.ID, m.ID, n.Text)
				}
				seen[n.Text] = true
				if n.Kind != Warning && n.Kind != Info {
					t.Errorf("%s/%s: note without a kind: %s", p.ID, m.ID, n.Text)
				}
			}
		}
	}
}

// Words for admins: no developer caveats in anything a customer reads.
func TestNoDeveloperWordsInProfiles(t *testing.T) {
	bad := []string{"UNVERIFIED", "the document's example", "pick the one configured", "TODO"}
	for _, p := range All() {
		for _, m := range p.Methods {
			var texts []string
			for _, n := range p.ReviewNotes(m, m.Protocols) {
				texts = append(texts, n.Text)
			}
			for _, q := range m.Questions {
				texts = append(texts, q.Prompt, q.Help)
			}
			texts = append(texts, m.Label, p.EWSAlternative)
			for _, s := range texts {
				for _, b := range bad {
					if strings.Contains(s, b) {
						t.Errorf("%s/%s: %q in %q", p.ID, m.ID, b, s)
					}
				}
			}
		}
	}
}
