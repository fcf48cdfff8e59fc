package provision

import (
	"net/url"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

func TestValidateMessagesNameFieldAndForm(t *testing.T) {
	p := products()[0].plan(t, "")
	p.Tenant = "not a tenant"
	p.RedirectURIs = []string{"http://example.com/cb"}
	p.Mailboxes = []string{"nobody"}
	err := p.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{"tenant:", "GUID", "display name:", "1 to 120 characters", "redirect URI:", "https://", "mailbox:", "name@domain"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

// TestJudgeExchangeMissingAndUnknownPermission: without an Exchange Online
// service principal, or when the tenant's SP lacks a permission value, the
// plan is blocked with a clear message.
func TestJudgeExchangeMissingAndUnknownPermission(t *testing.T) {
	p := products()[0].plan(t, "x")
	p.normalise()
	in := &Inspection{resources: map[string]*servicePrincipal{catalog.MicrosoftGraph.AppID: {ID: "g", OAuth2PermissionScopes: []permissionScope{{ID: "1", Value: "offline_access"}}}}, grants: map[string]*permissionGrant{}, roleIDs: map[string]bool{}}
	judge(in, p)
	if !hasFinding(in, Blocker, "exchange-not-provisioned") {
		t.Errorf("findings = %+v", in.Findings)
	}
	in = &Inspection{resources: map[string]*servicePrincipal{
		// Graph publishes the IMAP/POP/SMTP twins too (catalog: registered on both APIs).
		catalog.MicrosoftGraph.AppID: {ID: "g", OAuth2PermissionScopes: []permissionScope{{ID: "1", Value: "offline_access"},
			{ID: "3", Value: "IMAP.AccessAsUser.All"}, {ID: "4", Value: "POP.AccessAsUser.All"}, {ID: "5", Value: "SMTP.Send"}}},
		catalog.ExchangeOnline.AppID: {ID: "x", OAuth2PermissionScopes: []permissionScope{{ID: "2", Value: "IMAP.AccessAsUser.All"}}},
	}, grants: map[string]*permissionGrant{}, roleIDs: map[string]bool{}}
	judge(in, p)
	n := 0
	for _, f := range in.Findings {
		if f.Code == "permission-not-found" {
			n++
			if !strings.Contains(f.Text, "Office 365 Exchange Online") {
				t.Errorf("message: %s", f.Text)
			}
		}
	}
	if n != 3 { // POP, SMTP.Send, EWS missing
		t.Errorf("%d permission-not-found findings: %+v", n, in.Findings)
	}
}

func hasFinding(in *Inspection, sev Severity, code string) bool {
	for _, f := range in.Findings {
		if f.Severity == sev && f.Code == code {
			return true
		}
	}
	return false
}

// FuzzValidators: no input panics, and whatever is accepted has the
// accepted form.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"contoso.onmicrosoft.com", "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50", "https://ev.contoso.com/evj/OAuth2?p_action=x", "http://localhost:8400/cb", "a@b.co", "http://127.0.0.1.evil.com/", "https://x/#frag", "helpdesk@contoso.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidRedirectURI(s) {
			u, err := url.Parse(s)
			if err != nil || u.Host == "" || u.Fragment != "" {
				t.Fatalf("accepted redirect %q", s)
			}
			if u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1")) {
				t.Fatalf("accepted non-https redirect %q", s)
			}
		}
		if ts := strings.TrimSpace(s); ValidTenant(s) && !IsGUID(ts) && (strings.ContainsAny(ts, " /@:") || !strings.Contains(ts, ".") || strings.Trim(ts[strings.LastIndex(ts, ".")+1:], "0123456789") == "") {
			t.Fatalf("accepted tenant %q", s)
		}
		if ValidEmail(s) && (strings.Count(s, "@") < 1 || strings.ContainsAny(s, " <>")) {
			t.Fatalf("accepted email %q", s)
		}
		p := Plan{Tenant: s, DisplayName: s, Flow: catalog.AuthCode, Platform: catalog.Web, RedirectURIs: []string{s}, Mailboxes: []string{s}, Permissions: []catalog.Permission{catalog.GraphUserRead}}
		_ = p.Validate()
	})
}
