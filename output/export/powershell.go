package export

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/internal/pwsh"
)

// The Exchange Online script (microsoft.md §11, §15.2): the audit record of
// the Exchange side when mailoauth applied it, and the way to apply it when
// mailoauth could not (no Exchange sign-in, a missing role, or the admin's
// choice).
//
// It is real PowerShell for Windows PowerShell 5.1 and PowerShell 7: UTF-8
// with a byte order mark (5.1 reads a file without one in the ANSI code
// page and garbles non-ASCII names), $ErrorActionPreference = 'Stop' so the
// first failure stops it, and every change preceded by a read of the current
// state (Get-*), so a second run changes nothing and nothing needs
// -ErrorAction SilentlyContinue, which would hide a real failure. It never
// removes a permission or an allow-list entry. Every value it interpolates
// (app name, mailbox, IDs) goes through pwsh.Quote.

// utf8BOM starts the script so Windows PowerShell 5.1 reads it as UTF-8.
const utf8BOM = "\ufeff"

// ExchangeLeft says why the Exchange side is left to the admin.
type ExchangeLeft string

const (
	// ExchangeNotSignedIn: mailoauth did not sign in to Exchange Online.
	ExchangeNotSignedIn ExchangeLeft = "no-sign-in"
	// ExchangeMissingRole: the Exchange sign-in has no Exchange admin role.
	ExchangeMissingRole ExchangeLeft = "missing-role"
	// ExchangeScriptChosen: the admin chose the script (exchange: script).
	ExchangeScriptChosen ExchangeLeft = "script"
	// ExchangeFailed: applying it failed in this run.
	ExchangeFailed ExchangeLeft = "failed"
)

// Label is the reason in an admin's words.
func (l ExchangeLeft) Label() string {
	switch l {
	case ExchangeNotSignedIn:
		return "mailoauth did not sign in to Exchange Online in this run"
	case ExchangeMissingRole:
		return "the account that signed in to Exchange Online has no Exchange administrator role (Exchange Administrator, Global Administrator or the Organization Management role group)"
	case ExchangeScriptChosen:
		return "you chose to run the Exchange Online part yourself"
	case ExchangeFailed:
		return "applying it in this run failed"
	}
	return string(l)
}

// ExchangeStatus says who made the Exchange Online side of the setup. The
// zero value means it is left to the admin with no reason recorded.
type ExchangeStatus struct {
	// AppliedAt is when mailoauth applied the Exchange changes itself. The
	// script is then headed "applied by mailoauth on <date>", kept as the
	// record and for re-running, and is not listed as still to do (unless
	// Pending lists something). Zero = not applied by mailoauth.
	AppliedAt time.Time
	// Changes are what mailoauth changed in Exchange, one line each; they
	// are listed under "Created or changed in the tenant".
	Changes []string
	// Pending are changes still to make although others were applied (a
	// partial run), one line each; the script then is still to do, for them.
	Pending []string
	// Left says why the Exchange side is left to the admin (when AppliedAt
	// is zero); LeftDetail adds the specifics (the role missing, the error).
	Left       ExchangeLeft
	LeftDetail string
}

func (s ExchangeStatus) applied() bool { return !s.AppliedAt.IsZero() }

// leftReason is the sentence saying why the script is the admin's to run.
func (s ExchangeStatus) leftReason() string {
	if s.Left == "" {
		return ""
	}
	r := s.Left.Label()
	if s.LeftDetail != "" {
		r += " (" + strings.TrimRight(s.LeftDetail, ".") + ")"
	}
	return r
}

// scriptWriter builds the script; the first value that cannot be quoted
// stops it (newView checks every value before, so that is a bug).
type scriptWriter struct {
	b   bytes.Buffer
	err error
}

func (w *scriptWriter) line(format string, args ...any) { fmt.Fprintf(&w.b, format+"\n", args...) }

func (w *scriptWriter) comment(lines ...string) {
	for _, l := range lines {
		if _, err := pwsh.Comment(l); err != nil && w.err == nil {
			w.err = fmt.Errorf("%s: comment %q: %w", PowerShell, l, err)
		}
		w.line("%s", strings.TrimRight("# "+l, " "))
	}
}

func (w *scriptWriter) q(s string) string {
	out, err := pwsh.Quote(s)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("%s: value %q: %w", PowerShell, s, err)
	}
	return out
}

// connectOrganization is Connect-ExchangeOnline's -Organization: the
// tenant's initial domain as Graph reports it (verifiedDomains isInitial);
// the tenant domain for callers that do not give it yet; "" omits it (the
// sign-in then picks the admin's own organisation).
func (v *view) connectOrganization() string {
	if v.in.TenantInitialDomain != "" {
		return v.in.TenantInitialDomain
	}
	return v.in.TenantDomain
}

func (v *view) powerShell() ([]byte, error) {
	in := v.in
	w := &scriptWriter{}
	w.b.WriteString(utf8BOM)
	appOnly := v.m.Flow.AppOnly()
	ex := in.Exchange

	w.comment(
		fmt.Sprintf("exchange-setup.ps1: the Exchange Online side of %q for %s (written by mailoauth).", in.AppName, v.p.Name),
		"Generated "+v.generated().Format("2006-01-02 15:04 UTC")+". It holds no secret.")
	switch {
	case ex.applied() && len(ex.Pending) == 0:
		w.comment("Applied by mailoauth on " + ex.AppliedAt.UTC().Format("2006-01-02") + "; kept as the record and for re-running.")
	case ex.applied():
		w.comment("Partly applied by mailoauth on "+ex.AppliedAt.UTC().Format("2006-01-02")+"; run it to finish:",
			"  "+strings.Join(ex.Pending, "; "))
	case ex.Left != "":
		w.comment("Left for you to run: " + ex.leftReason() + ".")
	}
	w.comment(
		"Safe to run again: each step reads the current setting first and changes only what is not yet as needed.",
		"It never removes a permission or an allow-list entry, and it stops at the first error.",
		"Run it in PowerShell 7 or Windows PowerShell 5.1, as an Exchange administrator, with the ExchangeOnlineManagement module:",
		"  Install-Module ExchangeOnlineManagement -Scope CurrentUser     (once)",
		"  .\\"+PowerShell)
	if v.has(catalog.EWS) {
		w.comment("  .\\" + PowerShell + " -EnableEws   also turns EWS on for the organisation with its allow-list (see the EWS part).")
	}
	w.comment("", "Application (client) ID:           "+in.ClientID)
	if appOnly {
		w.comment("Enterprise application object ID:  " + in.ServicePrincipalID + "  (Enterprise applications -> this app -> Overview -> Object ID)")
		if in.AppObjectID != "" {
			w.comment("App registration object ID:        " + in.AppObjectID + "  (NOT used below: Exchange needs the enterprise application's)")
		}
	}
	w.line("")
	if v.has(catalog.EWS) {
		w.line("param(")
		w.line("    # Also set EwsEnabled to $true for the organisation. Then ONLY the apps on the EWS allow-list may use EWS.")
		w.line("    [switch]$EnableEws")
		w.line(")")
		w.line("")
	}
	w.line("$ErrorActionPreference = 'Stop'")
	if appOnly || v.has(catalog.EWS) {
		w.line("$AppId = %s", w.q(in.ClientID))
	}
	if appOnly {
		w.line("$ServicePrincipalId = %s", w.q(in.ServicePrincipalID))
		w.line("$AppName = %s", w.q(in.AppName))
	}
	var mbs []string
	for _, mb := range v.allMailboxes() {
		mbs = append(mbs, w.q(mb))
	}
	w.line("$Mailboxes = @(%s)", strings.Join(mbs, ", "))

	w.line("")
	w.comment("---- Sign in to Exchange Online (a browser window asks for the admin account) ----")
	connect := "Connect-ExchangeOnline -ShowBanner:$false"
	if org := v.connectOrganization(); org != "" {
		if in.TenantInitialDomain != "" {
			w.comment("-Organization is the tenant's initial domain (" + org + ").")
		}
		connect = "Connect-ExchangeOnline -Organization " + w.q(org) + " -ShowBanner:$false"
	}
	if env := in.Cloud.ExchangeEnvironment; env != "" {
		w.comment("-ExchangeEnvironmentName " + env + " points the module at the " + in.Cloud.Name + " cloud.")
		connect += " -ExchangeEnvironmentName " + env
	}
	w.line("%s", connect)

	if v.needsServicePrincipal() {
		v.servicePrincipalBlock(w)
	}
	v.mailboxBlock(w)
	if appOnly && (v.has(catalog.EWS) || v.hasGraph()) {
		v.rbacBlock(w)
	}
	if v.has(catalog.EWS) {
		v.ewsAllowListBlock(w)
	}
	w.line("")
	w.line("Write-Host 'Done.'")
	if appOnly {
		w.comment("To check the app's registration in Exchange later:",
			"  Get-ServicePrincipal | Format-List DisplayName,AppId,ObjectId")
	}
	w.comment("To check a mailbox's switches later:",
		"  Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled",
		"To sign out:  Disconnect-ExchangeOnline -Confirm:$false")
	if w.err != nil {
		return nil, w.err
	}
	return w.b.Bytes(), nil
}

// servicePrincipalBlock registers the app with Exchange Online, or finds it
// registered; a registration with another object ID (the classic hand-made
// mistake: the app registration's) is reported, never replaced.
func (v *view) servicePrincipalBlock(w *scriptWriter) {
	w.line("")
	w.comment("---- Register the app with Exchange Online, so app-only tokens can reach mailboxes ----",
		"-ObjectId is the ENTERPRISE APPLICATION's (service principal's) object ID, never the app registration's:",
		"Exchange accepts the wrong one, but every mailbox login then fails.")
	w.line("$registered = @(Get-ServicePrincipal | Where-Object { $_.AppId -eq $AppId })")
	w.line("if ($registered.Count -eq 0) {")
	w.line("    New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalId -DisplayName $AppName | Out-Null")
	w.line("    Write-Host 'Registered the app with Exchange Online.'")
	w.line("} elseif (@($registered | Where-Object { $_.ObjectId -eq $ServicePrincipalId }).Count -gt 0) {")
	w.line("    Write-Host 'The app is already registered with Exchange Online.'")
	w.line("} else {")
	w.line("    throw ('Exchange Online has this app registered with object ID ' + $registered[0].ObjectId + ', not the enterprise application''s ' + $ServicePrincipalId + ': mailbox logins would fail. Remove that registration (Remove-ServicePrincipal -Identity ' + $registered[0].ObjectId + ') and run this script again.')")
	w.line("}")
}

// mailboxBlock: FullAccess for app-only IMAP/POP and SMTP (Microsoft's
// client-credentials procedure), SendAs only for the addresses the app sends
// as besides its mailboxes, and the protocol switches on the product's
// mailboxes only (never the organisation's SMTP AUTH switch).
func (v *view) mailboxBlock(w *scriptWriter) {
	appOnly := v.m.Flow.AppOnly()
	fullAccess := appOnly && (v.has(catalog.IMAP) || v.has(catalog.POP) || v.has(catalog.SMTP))
	type sw struct {
		p          catalog.Protocol
		param, cmp string // Set-CASMailbox parameter; the test that it is already as needed
		value      string
		what       string
	}
	var switches []sw
	for _, s := range []sw{
		{catalog.IMAP, "ImapEnabled", "$cas.ImapEnabled -eq $true", "$true", "IMAP"},
		{catalog.POP, "PopEnabled", "$cas.PopEnabled -eq $true", "$true", "POP3"},
		{catalog.SMTP, "SmtpClientAuthenticationDisabled", "$cas.SmtpClientAuthenticationDisabled -eq $false", "$false", "SMTP AUTH"},
		{catalog.EWS, "EwsEnabled", "$cas.EwsEnabled -eq $true", "$true", "EWS"},
	} {
		if v.has(s.p) {
			switches = append(switches, s)
		}
	}
	if !fullAccess && len(switches) == 0 {
		return
	}
	w.line("")
	w.comment("---- Each mailbox: the app's rights and the protocol switches (these mailboxes only) ----")
	w.line("foreach ($Mailbox in $Mailboxes) {")
	w.line("    Write-Host \"Mailbox ${Mailbox}:\"")
	if fullAccess {
		w.line("    # FullAccess lets the app open this mailbox over %s with an app-only token (Microsoft's client credentials procedure).", fullAccessLabel(v))
		w.line("    $granted = @(Get-MailboxPermission -Identity $Mailbox -User $ServicePrincipalId | Where-Object { \"$($_.AccessRights)\" -match '\\bFullAccess\\b' -and -not $_.Deny })")
		w.line("    if ($granted.Count -gt 0) {")
		w.line("        Write-Host '  FullAccess for the app: already granted'")
		w.line("    } else {")
		w.line("        Add-MailboxPermission -Identity $Mailbox -User $ServicePrincipalId -AccessRights FullAccess | Out-Null")
		w.line("        Write-Host '  FullAccess for the app: granted'")
		w.line("    }")
	}
	if len(switches) > 0 {
		w.line("    # The protocol switches are on by default, but an admin may have turned them off. SMTP AUTH is allowed")
		w.line("    # for this mailbox only; the organisation-wide switch (Set-TransportConfig) is left as it is.")
		w.line("    $cas = Get-CASMailbox -Identity $Mailbox")
		for _, s := range switches {
			w.line("    if (%s) {", s.cmp)
			w.line("        Write-Host '  %s: already allowed'", s.what)
			w.line("    } else {")
			w.line("        Set-CASMailbox -Identity $Mailbox -%s %s", s.param, s.value)
			w.line("        Write-Host '  %s: turned on'", s.what)
			w.line("    }")
		}
	}
	w.line("}")
	if appOnly && v.has(catalog.SMTP) && len(v.in.SendAs) > 0 {
		var qs []string
		for _, a := range v.in.SendAs {
			qs = append(qs, w.q(a))
		}
		w.line("")
		w.comment("---- SendAs: the addresses the app sends as besides its own mailboxes ----")
		w.line("foreach ($Address in @(%s)) {", strings.Join(qs, ", "))
		w.line("    $granted = @(Get-RecipientPermission -Identity $Address -Trustee $ServicePrincipalId -AccessRights SendAs)")
		w.line("    if ($granted.Count -gt 0) {")
		w.line("        Write-Host \"SendAs on ${Address}: already granted\"")
		w.line("    } else {")
		w.line("        Add-RecipientPermission -Identity $Address -Trustee $ServicePrincipalId -AccessRights SendAs -Confirm:$false | Out-Null")
		w.line("        Write-Host \"SendAs on ${Address}: granted\"")
		w.line("    }")
		w.line("}")
	}
}

func fullAccessLabel(v *view) string {
	var ps []string
	for _, p := range []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP} {
		if v.has(p) {
			ps = append(ps, p.Label())
		}
	}
	switch len(ps) {
	case 1:
		return ps[0]
	case 2:
		return ps[0] + " and " + ps[1]
	}
	return strings.Join(ps[:len(ps)-1], ", ") + " and " + ps[len(ps)-1]
}

// rbacBlock is the optional, commented-out scoping with RBAC for
// Applications (microsoft.md §11): it needs a group the admin makes first.
func (v *view) rbacBlock(w *scriptWriter) {
	scope := "mailoauth " + Slug(v.in.AppName)
	type role struct{ name, perm string }
	var roles []role
	if v.has(catalog.EWS) {
		roles = append(roles, role{"Application EWS.AccessAsApp", "full_access_as_app"})
	}
	if v.has(catalog.GraphRead) {
		roles = append(roles, role{"Application Mail.Read", "Mail.Read (Application)"})
	}
	if v.has(catalog.GraphSend) {
		roles = append(roles, role{"Application Mail.Send", "Mail.Send (Application)"})
	}
	var perms []string
	for _, r := range roles {
		perms = append(perms, r.perm)
	}
	lines := []string{
		"---- Optional: limit the app to chosen mailboxes (RBAC for Applications) ----",
		"With " + strings.Join(perms, " and ") + " the app can reach EVERY mailbox in the organisation. To limit it:",
		" 1. Create a mail-enabled security group holding only the mailboxes the app may reach, and copy",
		"    its DistinguishedName:  Get-DistributionGroup '<group>' | Format-List DistinguishedName",
		" 2. Remove the '# ' in front of the cmdlet lines below and put the DistinguishedName in place of <group DN>.",
		" 3. In Entra ID remove " + strings.Join(perms, " and ") + " from the app (API permissions -> Remove permission):",
		"    RBAC role assignments add to what Entra consent grants, so the unscoped permission would still reach every mailbox.",
		"Application Access Policies (New-ApplicationAccessPolicy) are the older way; Microsoft no longer supports new ones.",
		"If Exchange answers that a role does not exist, list the application roles with:",
		"  Get-ManagementRole | Where-Object { $_.Name -like 'Application *' }",
		fmt.Sprintf("New-ManagementScope -Name %s -RecipientRestrictionFilter \"MemberOfGroup -eq '<group DN>'\"", w.q(scope)),
	}
	for _, r := range roles {
		lines = append(lines, fmt.Sprintf("New-ManagementRoleAssignment -Name %s -Role %s -App $ServicePrincipalId -CustomResourceScope %s",
			w.q(Slug(v.in.AppName)+" "+strings.TrimPrefix(r.name, "Application ")), w.q(r.name), w.q(scope)))
	}
	lines = append(lines, "Check that a mailbox is in scope (InScope = True) and one outside it is not:",
		"foreach ($Mailbox in $Mailboxes) { Test-ServicePrincipalAuthorization -Identity $ServicePrincipalId -Resource $Mailbox }")
	w.line("")
	w.comment(lines...)
}

// ewsAllowListBlock adds the app to the organisation's EWS allow-list as a
// read-modify-write: read the list (it shows only with
// -RetrieveEwsOperationAccessPolicy), keep every ID, add this app's, write
// the union, read it back and stop if any ID went missing. EwsEnabled is
// set only when the admin asks (-EnableEws): $true makes the list exclusive.
func (v *view) ewsAllowListBlock(w *scriptWriter) {
	w.line("")
	w.comment("---- EWS app allow-list ----",
		"Microsoft has announced that from 2026-10-01 Exchange Online turns EWS off tenant by tenant unless EWS is",
		"enabled for the organisation (EwsEnabled $true) with an allow-list of app IDs, and that EWS stops for good on 2027-04-01.",
		"-EwsAllowedAppIDs replaces the whole list, so this reads the list, keeps every ID on it and adds this app's.")
	w.line("function Get-EwsAllowList {")
	w.line("    $org = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy")
	w.line("    $ids = @($org.EwsAllowedAppIDs | ForEach-Object { \"$_\" -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })")
	w.line("    return @{ Enabled = $org.EwsEnabled; Ids = $ids }")
	w.line("}")
	w.line("$ews = Get-EwsAllowList")
	w.line("if ($ews.Ids -contains $AppId) {")
	w.line("    Write-Host 'EWS allow-list: this app is already on it.'")
	w.line("} else {")
	w.line("    $wanted = @($ews.Ids) + $AppId")
	w.line("    Set-OrganizationConfig -EwsAllowedAppIDs ($wanted -join ',')")
	w.line("    $after = Get-EwsAllowList")
	w.line("    foreach ($id in $wanted) {")
	w.line("        if ($after.Ids -notcontains $id) { throw ('The EWS allow-list lacks ' + $id + ' after the change; it now reads: ' + ($after.Ids -join ',')) }")
	w.line("    }")
	w.line("    Write-Host ('EWS allow-list: added this app and kept the ' + @($ews.Ids).Count + ' ID(s) already listed.')")
	w.line("}")
	w.line("if ($ews.Enabled -eq $true) {")
	w.line("    Write-Host 'EWS is enabled for the organisation with its allow-list: only the listed apps may use EWS.'")
	w.line("} elseif ($EnableEws) {")
	w.line("    Set-OrganizationConfig -EwsEnabled $true")
	w.line("    Write-Host 'EWS is now enabled for the organisation: only the apps on the allow-list may use EWS.'")
	w.line("} else {")
	w.line("    Write-Warning ('EwsEnabled for the organisation is ' + $(if ($null -eq $ews.Enabled) { 'not set' } else { $ews.Enabled }) + '. Once Exchange Online turns EWS off for your tenant, only an organisation with EwsEnabled set to True and the app on its allow-list can use EWS. Check that every app your organisation still needs is on the list (Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled,EwsAllowedAppIDs), then run this script again with -EnableEws.')")
	w.line("}")
}
