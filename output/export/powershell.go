package export

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// The Exchange Online script (microsoft.md §11). Every change is a plain
// one-line cmdlet call (the simulator runs the script line by line and knows
// no variables, pipelines or control flow), preceded by a comment saying
// what it does. Re-running is safe: Set-CASMailbox is idempotent, and the
// cmdlets that fail with "already exists" on a second run carry
// -ErrorAction SilentlyContinue. The script never holds the secret.

// psQuote single-quotes a value for PowerShell, doubling any quote inside.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// psComment keeps a value on its comment line.
func psComment(s string) string { return strings.Map(printable, s) }

func (v *view) powerShell() []byte {
	in := v.in
	var b bytes.Buffer
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	comment := func(lines ...string) {
		for _, l := range lines {
			line("%s", strings.TrimRight("# "+l, " "))
		}
	}
	sp := in.ServicePrincipalID
	appOnly := v.m.Flow.AppOnly()

	comment(
		fmt.Sprintf("exchange-setup.ps1: the Exchange Online side of %q for %s (written by mailoauth).", psComment(in.AppName), v.p.Name),
		"Generated "+v.generated().Format("2006-01-02 15:04 UTC")+". It holds no secret.",
		"Safe to run again: Set-CASMailbox only sets what is already set, and the cmdlets that would say",
		"\"already exists\" on a second run are told to carry on quietly (-ErrorAction SilentlyContinue).",
		"Run it in PowerShell with the ExchangeOnlineManagement module, signed in as an Exchange administrator.",
		"Install the module once if needed:  Install-Module ExchangeOnlineManagement -Scope CurrentUser",
		"",
		"Application (client) ID:           "+in.ClientID,
	)
	if appOnly {
		comment("Enterprise application object ID: " + sp + "  (Enterprise applications -> this app -> Overview -> Object ID)")
	}
	if appOnly && in.AppObjectID != "" {
		comment("App registration object ID:       " + in.AppObjectID + "  (NOT used below: Exchange needs the enterprise application's)")
	}
	line("")

	org := in.TenantDomain
	if org == "" {
		org = in.TenantID
	}
	comment("Sign in to Exchange Online for this organisation (a browser window asks for the admin account).")
	connect := "Connect-ExchangeOnline -Organization " + psQuote(org) + " -ShowBanner:$false"
	if env := in.Cloud.ExchangeEnvironment; env != "" {
		comment("-ExchangeEnvironmentName " + env + " points the module at the " + in.Cloud.Name + " cloud.")
		connect += " -ExchangeEnvironmentName " + env
	}
	line("%s", connect)

	if appOnly {
		line("")
		comment("Register the app with Exchange Online so app-only tokens can reach mailboxes.",
			"-ObjectId is the ENTERPRISE APPLICATION's (service principal's) object ID, never the app registration's:",
			"the wrong one is accepted here but every mailbox login then fails.",
			"On a second run it reports that the service principal exists and carries on.")
		line("New-ServicePrincipal -AppId %s -ObjectId %s -DisplayName %s -ErrorAction SilentlyContinue", in.ClientID, sp, psQuote(in.AppName))
	}

	for _, mb := range v.allMailboxes() {
		q := psQuote(mb)
		var body bytes.Buffer
		add := func(c, cmd string) { fmt.Fprintf(&body, "# %s\n%s\n", c, cmd) }
		if appOnly && (v.has(catalog.IMAP) || v.has(catalog.POP)) {
			add("Give the app FullAccess to "+psComment(mb)+" so it can open it over "+imapPopLabel(v)+" (this mailbox only). Carries on if already granted.",
				fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess -ErrorAction SilentlyContinue", q, sp))
		}
		if appOnly && v.has(catalog.SMTP) {
			add("Let the app send as "+psComment(mb)+" over SMTP (SendAs on this mailbox only). Carries on if already granted.",
				fmt.Sprintf("Add-RecipientPermission -Identity %s -AccessRights SendAs -Trustee %s -Confirm:$false -ErrorAction SilentlyContinue", q, sp))
		}
		if v.has(catalog.IMAP) {
			add("Turn IMAP on for "+psComment(mb)+" (on by default, but an admin may have turned it off).",
				fmt.Sprintf("Set-CASMailbox -Identity %s -ImapEnabled $true", q))
		}
		if v.has(catalog.POP) {
			add("Turn POP3 on for "+psComment(mb)+" (on by default, but an admin may have turned it off).",
				fmt.Sprintf("Set-CASMailbox -Identity %s -PopEnabled $true", q))
		}
		if v.has(catalog.SMTP) {
			add("Allow SMTP AUTH for "+psComment(mb)+" only; the organisation-wide switch (Set-TransportConfig) is left as it is.",
				fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", q))
		}
		if v.has(catalog.EWS) {
			add("Turn EWS on for "+psComment(mb)+" (on by default, but an admin may have turned it off).",
				fmt.Sprintf("Set-CASMailbox -Identity %s -EwsEnabled $true", q))
		}
		if body.Len() > 0 {
			line("")
			comment("---- Mailbox " + psComment(mb) + " ----")
			b.Write(body.Bytes())
		}
	}

	if appOnly && (v.has(catalog.EWS) || v.hasGraph()) {
		v.rbacBlock(&b)
	}
	if v.has(catalog.EWS) {
		v.ewsAllowListBlock(&b)
	}
	line("")
	if appOnly {
		comment("Done. To check the app's registration in Exchange later:",
			"  Get-ServicePrincipal | Format-List DisplayName,AppId,ObjectId")
	} else {
		comment("Done. To check a mailbox's switches later:",
			"  Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled")
	}
	comment("To sign out:  Disconnect-ExchangeOnline -Confirm:$false")
	return b.Bytes()
}

func imapPopLabel(v *view) string {
	switch {
	case v.has(catalog.IMAP) && v.has(catalog.POP):
		return "IMAP and POP3"
	case v.has(catalog.POP):
		return "POP3"
	}
	return "IMAP"
}

// rbacBlock is the optional, commented-out scoping with RBAC for
// Applications (microsoft.md §11).
func (v *view) rbacBlock(b *bytes.Buffer) {
	in := v.in
	scope := "mailoauth " + Slug(in.AppName)
	type role struct{ name, perm, note string }
	var roles []role
	if v.has(catalog.EWS) {
		roles = append(roles, role{"Application EWS.AccessAsApp", "full_access_as_app", "Role name UNVERIFIED, seen only in 3rd-party copies of the role list"})
	}
	if v.has(catalog.GraphRead) {
		roles = append(roles, role{"Application Mail.Read", "Mail.Read (Application)", "Role name as in Microsoft's documentation"})
	}
	if v.has(catalog.GraphSend) {
		roles = append(roles, role{"Application Mail.Send", "Mail.Send (Application)", "Role name UNVERIFIED, seen only in 3rd-party copies of the role list"})
	}
	var perms []string
	for _, r := range roles {
		perms = append(perms, r.perm)
	}
	fmt.Fprintf(b, "\n")
	lines := []string{
		"---- Optional: limit the app to chosen mailboxes (RBAC for Applications) ----",
		"With " + strings.Join(perms, " and ") + " the app can reach EVERY mailbox in the organisation. To limit it:",
		" 1. Create a mail-enabled security group holding only the mailboxes the app may reach, and copy",
		"    its DistinguishedName:  Get-DistributionGroup '<group>' | Format-List DistinguishedName",
		" 2. Remove the '# ' in front of the cmdlet lines below and put the DistinguishedName in place of <group DN>.",
		" 3. In Entra ID remove " + strings.Join(perms, " and ") + " from the app (API permissions -> Remove permission):",
		"    RBAC role assignments add to what Entra consent grants, so the unscoped permission would still reach every mailbox.",
		"Application Access Policies (New-ApplicationAccessPolicy) are the older way; RBAC for Applications replaces them.",
		fmt.Sprintf("New-ManagementScope -Name %s -RecipientRestrictionFilter \"MemberOfGroup -eq '<group DN>'\"", psQuote(scope)),
	}
	for _, r := range roles {
		lines = append(lines, r.note+":",
			fmt.Sprintf("New-ManagementRoleAssignment -Name %s -Role %s -App %s -CustomResourceScope %s",
				psQuote(Slug(in.AppName)+" "+strings.TrimPrefix(r.name, "Application ")), psQuote(r.name), in.ServicePrincipalID, psQuote(scope)))
	}
	lines = append(lines, "Check that a mailbox is in scope (InScope = True) and one outside it is not:")
	for _, mb := range v.allMailboxes() {
		lines = append(lines, fmt.Sprintf("Test-ServicePrincipalAuthorization -Identity %s -Resource %s", in.ServicePrincipalID, psQuote(mb)))
	}
	for _, l := range lines {
		fmt.Fprintf(b, "# %s\n", l)
	}
}

// ewsAllowListBlock explains the EWS allow-list; commented out because
// -EwsAllowedAppIDs replaces the whole list and a script without variables
// cannot append to it safely.
func (v *view) ewsAllowListBlock(b *bytes.Buffer) {
	id := v.in.ClientID
	lines := []string{
		"---- EWS app allow-list (read before enabling) ----",
		"From October 2026 Exchange Online turns EWS off tenant by tenant unless EWS is enabled with an allow-list",
		"of app IDs; on 2027-04-01 EWS is shut off for good (dates UNVERIFIED against Microsoft's blog).",
		"-EwsAllowedAppIDs REPLACES the whole list, so first read the current one:",
		"  Get-OrganizationConfig | Format-List EwsEnabled,EwsApplicationAccessPolicy,EwsAllowedAppIDs",
		"then write every ID already listed plus this app's ID (" + id + "), comma-separated, and remove the '# ':",
		fmt.Sprintf("Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"<IDs already listed>,%s\"", id),
		"With EwsEnabled $true only the listed apps may use EWS: leave out no app your organisation still needs.",
	}
	b.WriteString("\n")
	for _, l := range lines {
		fmt.Fprintf(b, "# %s\n", l)
	}
}
