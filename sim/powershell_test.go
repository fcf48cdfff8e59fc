package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

func TestPowerShellCmdlets(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"displayName": "PS app"})
	b := s.Backend()
	script := `# Exchange Online set-up, as the wizard exports it
Connect-ExchangeOnline -Organization ` + InitialDomain + ` -ShowBanner:$false
New-ServicePrincipal -AppId ` + app.appID + ` -ObjectId "` + app.spID + `" -DisplayName 'PS app'
Add-MailboxPermission -Identity helpdesk@contoso.com -User ` + app.spID + ` -AccessRights FullAccess -InheritanceType All -AutoMapping $false
Add-RecipientPermission helpdesk@contoso.com -AccessRights SendAs -Trustee ` + app.appID + ` -Confirm:$false
Set-CASMailbox -Identity helpdesk@contoso.com -ImapEnabled $false -PopEnabled $false -EwsEnabled $true -SmtpClientAuthenticationDisabled $null
Set-TransportConfig -SmtpClientAuthenticationDisabled $false
Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "` + SeedEWSAppID + `,` + app.appID + `"
New-ManagementScope -Name "Help desk only" -RecipientRestrictionFilter "PrimarySmtpAddress -eq 'helpdesk@contoso.com'"
New-ManagementRoleAssignment -Name X -Role 'Application Mail.Read' -App ` + app.spID + ` -CustomResourceScope 'Help desk only'
Test-ServicePrincipalAuthorization -Identity ` + app.spID + ` -Resource helpdesk@contoso.com | Format-Table
`
	out, err := s.RunPowerShell(script)
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	for _, want := range []string{app.spID, "Application Mail.Read", "InScope              : True", "{FullAccess}", "{SendAs}"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	acc := b.AppAccess(app.appID, "helpdesk@contoso.com")
	if !acc.Registered || !acc.FullAccess || !acc.SendAs || len(acc.RBAC) != 1 || acc.RBAC[0] != "Mail.Read" {
		t.Errorf("app access %+v", acc)
	}
	if acc := b.AppAccess(app.appID, "support@contoso.com"); acc.FullAccess || !acc.Registered || len(acc.RBAC) != 0 {
		t.Errorf("support@ access %+v (the scope holds helpdesk@ only)", acc)
	}
	mb, _ := b.Mailbox("helpdesk@contoso.com")
	if mb.IMAPEnabled || mb.POPEnabled || !mb.EWSEnabled || mb.SMTPAuth != exchange.SMTPAuthInherit {
		t.Errorf("CAS mailbox %+v", mb)
	}
	if orgSMTPOff(b) {
		t.Error("Set-TransportConfig did not apply")
	}
	if !b.EWSAllowed(TenantID, app.appID) || !b.EWSAllowed(TenantID, SeedEWSAppID) || b.EWSAllowed(TenantID, "99999999-0000-0000-0000-000000000000") {
		t.Error("EWS allow-list not applied")
	}
	out, err = s.RunPowerShell("Get-OrganizationConfig\nGet-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled,EwsAllowedAppIDs")
	if err != nil || strings.Count(out, SeedEWSAppID+","+app.appID) != 1 {
		t.Errorf("the allow-list reads only with -RetrieveEwsOperationAccessPolicy: %v\n%s", err, out)
	}
	if _, err := s.RunPowerShell("Set-OrganizationConfig -EwsEnabled $false"); err != nil || b.EWSAllowed(TenantID, app.appID) {
		t.Errorf("EwsEnabled $false: %v", err)
	}

	// Re-running New-ServicePrincipal is an error unless SilentlyContinue;
	// a Set- that changes nothing warns.
	again := "New-ServicePrincipal -AppId " + app.appID + " -ObjectId " + app.spID
	if _, err := s.RunPowerShell(again); err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate New-ServicePrincipal: %v", err)
	}
	if _, err := s.RunPowerShell(again + " -ErrorAction SilentlyContinue"); err != nil {
		t.Errorf("SilentlyContinue: %v", err)
	}
	if out, err := s.RunPowerShell("Set-TransportConfig -SmtpClientAuthenticationDisabled $false"); err != nil || !strings.Contains(out, "WARNING: The command completed successfully but no settings of 'Transport Settings' have been modified.") {
		t.Errorf("no-op Set-TransportConfig: %v %q", err, out)
	}
	if out, err := s.RunPowerShell("Add-MailboxPermission helpdesk@contoso.com -User '" + app.appID + "' -AccessRights FullAccess"); err != nil || !strings.Contains(out, "WARNING: The appropriate access control entry is already present") {
		t.Errorf("duplicate FullAccess: %v %q", err, out)
	}
	// PowerShell's own binding errors, and Exchange's.
	for script, want := range map[string]string{
		"# comment\n\nFrob-Mailbox helpdesk@contoso.com":                                       "line 3: Frob-Mailbox: The term 'Frob-Mailbox' is not recognized",
		"Set-CASMailbox -Identity helpdesk@contoso.com -FrobEnabled $true":                     "A parameter cannot be found that matches parameter name 'FrobEnabled'.",
		"Set-CASMailbox -Identity nobody@contoso.com -ImapEnabled $true":                       "The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on",
		"Set-CASMailbox -Identity helpdesk@contoso.com -ImapEnabled yes":                       "Cannot convert value \"System.String\" to type \"System.Boolean\"",
		"Add-MailboxPermission helpdesk@contoso.com -User nobody -AccessRights All":            "Unable to match the identifier name All to a valid enumerator name",
		"Add-MailboxPermission -User x -AccessRights FullAccess":                               "missing mandatory parameters: Identity.",
		`Set-CASMailbox -Identity "helpdesk@contoso.com -ImapEnabled $true`:                    "the string is missing the terminator",
		"$ids = (Get-OrganizationConfig).EwsAllowedAppIDs":                                     "variable or expression",
		"Get-Mailbox | Where-Object Name -eq x":                                                "pipeline",
		"New-ManagementRoleAssignment -Role 'Application Frob.Read' -App " + app.spID:          "couldn't be found",
		"New-ManagementScope -Name g -RecipientRestrictionFilter \"MemberOfGroup -eq 'CN=x'\"": "no groups",
		"New-ManagementScope -Name bad -RecipientRestrictionFilter \"Alias -eq\"":              "Invalid filter syntax",
	} {
		if _, err := s.RunPowerShell(script); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", script, err, want)
		}
	}
	// -WhatIf changes nothing.
	if out, err := s.RunPowerShell("Set-TransportConfig -SmtpClientAuthenticationDisabled $true -WhatIf"); err != nil || !strings.Contains(out, "What if") || orgSMTPOff(b) {
		t.Errorf("WhatIf: %v %q", err, out)
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
	// Get-ServicePrincipal -Identity of something unknown lists them all, as documented.
	if out, err := s.RunPowerShell("Get-ServicePrincipal -Identity 00000000-0000-0000-0000-00000000dead"); err != nil || !strings.Contains(out, app.id) {
		t.Errorf("Get-ServicePrincipal with an unknown identity: %v %q", err, out)
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
	if out, _ := s.RunPowerShell("Get-MailboxPermission helpdesk@contoso.com"); strings.Count(out, app.spID) != 1 || !strings.Contains(out, `NT AUTHORITY\SELF`) {
		t.Errorf("Get-MailboxPermission after the fix:\n%s", out)
	}
	if _, err := s.RunPowerShell("Remove-ServicePrincipal -Identity " + app.id); err == nil {
		t.Error("removing a missing registration succeeded")
	}
	s = startSim(t, Options{})
	g = adminGraph(t, s)
	app = newApp(t, g, map[string]any{})
	// The mailbox permission for an unregistered SP is refused: Exchange has no such principal.
	if _, err := s.RunPowerShell("Add-MailboxPermission -Identity helpdesk@contoso.com -User " + app.spID + " -AccessRights FullAccess"); err == nil || !strings.Contains(err.Error(), "wasn't found") {
		t.Errorf("permission for an unregistered SP: %v", err)
	}
}

// Secondary proxy addresses resolve to their mailbox; Get-Mailbox shows
// the type and every address.
func TestPowerShellMailboxesAndAddresses(t *testing.T) {
	s := startSim(t, Options{})
	out, err := s.RunPowerShell("Get-Mailbox support-desk@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PrimarySmtpAddress        : helpdesk@contoso.com", "SMTP:helpdesk@contoso.com", "smtp:support-desk@contoso.com", "smtp:helpdesk@contoso.onmicrosoft.com", "RecipientTypeDetails      : UserMailbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("Get-Mailbox by a secondary address lacks %q:\n%s", want, out)
		}
	}
	out, err = s.RunPowerShell("Get-Mailbox -RecipientTypeDetails SharedMailbox")
	if err != nil || !strings.Contains(out, "support@contoso.com") || strings.Contains(out, "helpdesk@") {
		t.Errorf("shared mailboxes: %v\n%s", err, out)
	}
	if _, err := s.RunPowerShell("Get-Mailbox unlicensed@contoso.com"); err == nil {
		t.Error("a user without a mailbox is a mailbox")
	}
	if mb, ok := s.Backend().Mailbox("support-desk@contoso.com"); !ok || mb.Address != "helpdesk@contoso.com" {
		t.Errorf("Backend.Mailbox by a secondary address: %+v %v", mb, ok)
	}
	out, err = s.RunPowerShell("Get-CASMailbox helpdesk")
	if err != nil || !strings.Contains(out, "SmtpClientAuthenticationDisabled : False") {
		t.Errorf("Get-CASMailbox: %v\n%s", err, out)
	}
	if out, _ := s.RunPowerShell("Get-CASMailbox mfa.user@contoso.com"); !strings.Contains(out, "SmtpClientAuthenticationDisabled : \n") {
		t.Errorf("an inheriting mailbox shows $null:\n%s", out)
	}
	if out, _ := s.RunPowerShell("Get-TransportConfig"); !strings.Contains(out, "SmtpClientAuthenticationDisabled : True") {
		t.Errorf("Get-TransportConfig:\n%s", out)
	}
}

// Mailbox permissions take effect Delays.MailboxPermission after they are
// added, while Get-MailboxPermission shows them at once.
func TestPowerShellPermissionReplication(t *testing.T) {
	s := startSim(t, Options{Delays: Delays{MailboxPermission: 400 * time.Millisecond}})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	if _, err := s.RunPowerShell("New-ServicePrincipal -AppId " + app.appID + " -ObjectId " + app.spID + "\nAdd-MailboxPermission helpdesk@contoso.com -User " + app.spID + " -AccessRights FullAccess\nAdd-RecipientPermission helpdesk@contoso.com -Trustee " + app.spID + " -AccessRights SendAs -Confirm:$false\nAdd-MailboxPermission support@contoso.com -User helpdesk@contoso.com -AccessRights FullAccess"); err != nil {
		t.Fatal(err)
	}
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); acc.FullAccess || acc.SendAs || !acc.Registered {
		t.Errorf("before replication: %+v", acc)
	}
	if full, _ := s.Backend().UserAccess("helpdesk@contoso.com", "support@contoso.com"); full {
		t.Error("a user's FullAccess before replication")
	}
	if out, _ := s.RunPowerShell("Get-MailboxPermission helpdesk@contoso.com -User " + app.appID); !strings.Contains(out, app.spID) {
		t.Errorf("Get-MailboxPermission shows the entry at once:\n%s", out)
	}
	time.Sleep(450 * time.Millisecond)
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); !acc.FullAccess || !acc.SendAs {
		t.Errorf("after replication: %+v", acc)
	}
	if full, _ := s.Backend().UserAccess("helpdesk@contoso.com", "support@contoso.com"); !full {
		t.Error("a user's FullAccess after replication")
	}
	// Removing is immediate and warns when there is nothing to remove.
	if out, err := s.RunPowerShell("Remove-MailboxPermission helpdesk@contoso.com -User " + app.spID + " -AccessRights FullAccess -Confirm:$false\nRemove-MailboxPermission helpdesk@contoso.com -User " + app.spID + " -AccessRights FullAccess -Confirm:$false"); err != nil || !strings.Contains(out, "because the ACE doesn't exist on the object") {
		t.Errorf("Remove-MailboxPermission: %v %q", err, out)
	}
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); acc.FullAccess {
		t.Error("FullAccess after Remove-MailboxPermission")
	}
}

// RBAC for Applications: scopes, role names and the cmdlets that read them.
func TestPowerShellRBACForApplications(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	setup := "New-ServicePrincipal -AppId " + app.appID + " -ObjectId " + app.spID + " -DisplayName 'RBAC app'\n" +
		"New-ManagementScope 'Shared only' -RecipientRestrictionFilter \"RecipientTypeDetails -eq 'SharedMailbox' -and -not (Alias -like 'x*')\"\n" +
		"New-ManagementRoleAssignment -Role 'Application SMTP.SendAsApp' -App 'RBAC app' -CustomResourceScope 'Shared only'\n" +
		"New-ManagementRoleAssignment -Name 'EWS all' -Role 'application ews.accessasapp' -App " + app.appID
	if out, err := s.RunPowerShell(setup); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b := s.Backend()
	if acc := b.AppAccess(app.appID, "support@contoso.com"); len(acc.RBAC) != 2 {
		t.Errorf("support@: %+v", acc)
	}
	if acc := b.AppAccess(app.appID, "helpdesk@contoso.com"); len(acc.RBAC) != 1 || acc.RBAC[0] != "EWS.AccessAsApp" {
		t.Errorf("helpdesk@: %+v", acc)
	}
	out, err := s.RunPowerShell("Get-ManagementRoleAssignment -RoleAssignee " + app.appID + "\nTest-ServicePrincipalAuthorization " + app.spID)
	if err != nil || !strings.Contains(out, "Application SMTP.SendAsApp-"+app.spID) || !strings.Contains(out, "CustomRecipientScope") || !strings.Contains(out, "Not Run") || !strings.Contains(out, "Application EWS.AccessAsApp") {
		t.Errorf("reads: %v\n%s", err, out)
	}
	if _, err := s.RunPowerShell("Remove-ManagementScope 'Shared only' -Confirm:$false"); err == nil || !strings.Contains(err.Error(), "being used") {
		t.Errorf("removing a scope in use: %v", err)
	}
	if _, err := s.RunPowerShell("Remove-ManagementRoleAssignment 'Application SMTP.SendAsApp-" + app.spID + "' -Confirm:$false\nRemove-ManagementScope 'Shared only' -Confirm:$false"); err != nil {
		t.Errorf("removal: %v", err)
	}
	if _, err := s.RunPowerShell("New-ManagementRoleAssignment -Role 'Mail Recipients' -App " + app.spID); err == nil || !strings.Contains(err.Error(), "couldn't be found") {
		t.Errorf("a user role with -App: %v", err)
	}
	// Organization Management membership by name.
	if out, err := s.RunPowerShell("Add-RoleGroupMember 'Organization Management' -Member cloudadmin@contoso.com\nGet-RoleGroupMember 'Organization Management'"); err != nil || !strings.Contains(out, "Casey Cloud") {
		t.Errorf("role group: %v\n%s", err, out)
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
	if !ok || mb.IMAPEnabled || mb.POPEnabled || mb.SMTPAuth != exchange.SMTPAuthDisabled || orgSMTPOff(b) {
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
	if err := b.Deliver("x@fabrikam.com", []string{"support-desk@contoso.com", "outside@fabrikam.com", "unlicensed@contoso.com"}, []byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if n := len(b.Messages("helpdesk@contoso.com")); n != 4 {
		t.Errorf("after Deliver to a secondary address: %d", n)
	}
	if !b.KnownTenant(TenantID) || !b.KnownTenant(SecondTenantID) || b.KnownTenant("72f988bf-86f1-41af-91ab-2d7cd011db47") {
		t.Error("known tenants")
	}
	if _, err := b.VerifyToken("not.a.token"); err == nil {
		t.Error("garbage token verified")
	}
	// The seeded EWS allow-list: only its app.
	if !b.EWSAllowed(TenantID, SeedEWSAppID) || b.EWSAllowed(TenantID, GraphCLIClientID) {
		t.Error("seeded EWS allow-list")
	}
}

// orgSMTPOff is the seed tenant's Set-TransportConfig value as Exchange's
// front ends see it.
func orgSMTPOff(b exchange.Backend) bool {
	mb, _ := b.Mailbox("helpdesk@contoso.com")
	return mb.OrgSMTPAuthDisabled
}
