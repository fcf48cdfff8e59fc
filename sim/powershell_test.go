package sim

import (
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

func TestPowerShellCmdlets(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"displayName": "PS app"})
	b := s.Backend()
	script := `# Exchange Online set-up, as the wizard exports it
Connect-ExchangeOnline -Organization ` + TenantID + ` -ShowBanner:$false
New-ServicePrincipal -AppId ` + app.appID + ` -ObjectId "` + app.spID + `" -DisplayName 'PS app'
Add-MailboxPermission -Identity helpdesk@contoso.com -User ` + app.spID + ` -AccessRights FullAccess -InheritanceType All
Add-RecipientPermission helpdesk@contoso.com -AccessRights SendAs -Trustee ` + app.appID + ` -Confirm:$false
Set-CASMailbox -Identity helpdesk@contoso.com -ImapEnabled $false -PopEnabled $false -EwsEnabled $true -SmtpClientAuthenticationDisabled $null
Set-TransportConfig -SmtpClientAuthenticationDisabled $false
Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "` + app.appID + `,00000000-0000-0000-0000-000000000001"
New-ManagementScope -Name "RBAC Scope" -RecipientRestrictionFilter "MemberOfGroup -eq 'CN=mail'"
New-ManagementRoleAssignment -Name X -Role 'Application Mail.Read' -App ` + app.spID + ` -CustomResourceScope 'RBAC Scope'
Test-ServicePrincipalAuthorization -Identity ` + app.spID + `
`
	out, err := s.RunPowerShell(strings.Replace(script, " -ShowBanner:$false", "", 1))
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	if !strings.Contains(out, app.spID) {
		t.Errorf("output does not show the service principal: %q", out)
	}
	acc := b.AppAccess(app.appID, "helpdesk@contoso.com")
	if !acc.Registered || !acc.FullAccess || !acc.SendAs {
		t.Errorf("app access %+v", acc)
	}
	if acc := b.AppAccess(app.appID, "support@contoso.com"); acc.FullAccess || !acc.Registered {
		t.Errorf("support@ access %+v", acc)
	}
	mb, _ := b.Mailbox("helpdesk@contoso.com")
	if mb.IMAPEnabled || mb.POPEnabled || !mb.EWSEnabled || mb.SMTPAuth != exchange.SMTPAuthInherit {
		t.Errorf("CAS mailbox %+v", mb)
	}
	if b.TenantSMTPAuthDisabled() {
		t.Error("Set-TransportConfig did not apply")
	}
	if !b.EWSAllowed(app.appID) || b.EWSAllowed("99999999-0000-0000-0000-000000000000") {
		t.Error("EWS allow-list not applied")
	}
	if _, err := s.RunPowerShell("Set-OrganizationConfig -EwsEnabled $false"); err != nil || b.EWSAllowed(app.appID) {
		t.Errorf("EwsEnabled $false: %v", err)
	}

	// Re-running New-ServicePrincipal is an error unless SilentlyContinue.
	again := "New-ServicePrincipal -AppId " + app.appID + " -ObjectId " + app.spID
	if _, err := s.RunPowerShell(again); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("duplicate New-ServicePrincipal: %v", err)
	}
	if _, err := s.RunPowerShell(again + " -ErrorAction SilentlyContinue"); err != nil {
		t.Errorf("SilentlyContinue: %v", err)
	}
	// Unknown cmdlets and parameters name their line.
	_, err = s.RunPowerShell("# comment\n\nGet-Mailbox helpdesk@contoso.com")
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "Get-Mailbox") {
		t.Errorf("unknown cmdlet: %v", err)
	}
	if _, err := s.RunPowerShell("Set-CASMailbox -Identity helpdesk@contoso.com -FrobEnabled $true"); err == nil || !strings.Contains(err.Error(), "FrobEnabled") {
		t.Errorf("unknown parameter: %v", err)
	}
	if _, err := s.RunPowerShell("Set-CASMailbox -Identity nobody@contoso.com -ImapEnabled $true"); err == nil {
		t.Error("unknown mailbox accepted")
	}
	if _, err := s.RunPowerShell(`Set-CASMailbox -Identity "helpdesk@contoso.com -ImapEnabled $true`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

// TestPowerShellWrongObjectId is the documented pitfall: New-ServicePrincipal
// with the app registration's object id is accepted but registers nothing.
func TestPowerShellWrongObjectId(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	out, err := s.RunPowerShell("New-ServicePrincipal -AppId " + app.appID + " -ObjectId " + app.id + "\nAdd-MailboxPermission -Identity helpdesk@contoso.com -User " + app.id + " -AccessRights FullAccess")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); acc.Registered || acc.FullAccess {
		t.Errorf("wrong ObjectId registered the app: %+v", acc)
	}
	// The fix: remove the wrong registration, register with the SP's id.
	out, err = s.RunPowerShell("Get-ServicePrincipal\nRemove-ServicePrincipal -Identity " + app.id + " -Confirm:$false\nNew-ServicePrincipal -AppId " + app.appID + " -ObjectId " + app.spID +
		"\nAdd-MailboxPermission -Identity helpdesk@contoso.com -User " + app.spID + " -AccessRights FullAccess")
	if err != nil || !strings.Contains(out, app.id) {
		t.Fatalf("fix: %v\n%s", err, out)
	}
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); !acc.Registered || !acc.FullAccess {
		t.Errorf("after the fix: %+v", acc)
	}
	if _, err := s.RunPowerShell("Remove-ServicePrincipal -Identity " + app.id); err == nil {
		t.Error("removing a missing registration succeeded")
	}
	s = startSim(t, Options{})
	g = adminGraph(t, s)
	app = newApp(t, g, map[string]any{})
	// The mailbox permission for an unregistered SP is refused: Exchange has no such principal.
	if _, err := s.RunPowerShell("Add-MailboxPermission -Identity helpdesk@contoso.com -User " + app.spID + " -AccessRights FullAccess"); err == nil {
		t.Error("permission for an unregistered SP accepted")
	}
}

func TestExchangeKnobs(t *testing.T) {
	s := startSim(t, Options{})
	b := s.Backend()
	if err := s.SetIMAPEnabled("helpdesk@contoso.com", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPOPEnabled("helpdesk@contoso.com", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSMTPAuth("helpdesk@contoso.com", exchange.SMTPAuthDisabled); err != nil {
		t.Fatal(err)
	}
	s.SetTenantSMTPAuthDisabled(false)
	mb, ok := b.Mailbox("HELPDESK@contoso.com")
	if !ok || mb.IMAPEnabled || mb.POPEnabled || mb.SMTPAuth != exchange.SMTPAuthDisabled || b.TenantSMTPAuthDisabled() {
		t.Errorf("mailbox %+v", mb)
	}
	if err := s.SetIMAPEnabled("unlicensed@contoso.com", true); err == nil {
		t.Error("a user without a mailbox accepted a CAS setting")
	}
	if mb, ok := b.Mailbox("unlicensed@contoso.com"); !ok || mb.Enabled {
		t.Errorf("unlicensed mailbox %+v", mb)
	}
	if mb, ok := b.Mailbox("support@contoso.com"); !ok || !mb.Shared || !mb.Enabled {
		t.Errorf("shared mailbox %+v", mb)
	}
	if mb, ok := b.Mailbox(seedID("user/helpdesk")); !ok || mb.Address != "helpdesk@contoso.com" {
		t.Errorf("lookup by object id: %+v", mb)
	}
	msgs := b.Messages("helpdesk@contoso.com")
	if len(msgs) != 3 || msgs[0].Read {
		t.Fatalf("seed messages %d", len(msgs))
	}
	b.MarkRead("helpdesk@contoso.com", msgs[0].ID, true)
	if !b.Messages("helpdesk@contoso.com")[0].Read {
		t.Error("MarkRead did not stick")
	}
	if err := b.Deliver("x@fabrikam.com", []string{"helpdesk@contoso.com", "outside@fabrikam.com", "unlicensed@contoso.com"}, []byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if n := len(b.Messages("helpdesk@contoso.com")); n != 4 {
		t.Errorf("after Deliver: %d", n)
	}
	if b.TenantID() != TenantID {
		t.Error("tenant id")
	}
	if _, err := b.VerifyToken("not.a.token"); err == nil {
		t.Error("garbage token verified")
	}
}
