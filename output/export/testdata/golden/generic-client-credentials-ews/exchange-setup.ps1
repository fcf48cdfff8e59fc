# exchange-setup.ps1: the Exchange Online side of "Mail client (OAuth2, client-credentials)" for Generic mail client (written by mailoauth).
# Generated 2026-11-21 19:00 UTC. It holds no secret.
# Safe to run again: each step reads the current setting first and changes only what is not yet as needed.
# It never removes a permission or an allow-list entry, and it stops at the first error.
# Run it in PowerShell 7 or Windows PowerShell 5.1, as an Exchange administrator, with the ExchangeOnlineManagement module:
#   Install-Module ExchangeOnlineManagement -Scope CurrentUser     (once)
#   .\exchange-setup.ps1
#   .\exchange-setup.ps1 -EnableEws   also turns EWS on for the organisation with its allow-list (see the EWS part).
#
# Application (client) ID:           8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84
# Enterprise application object ID:  f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268  (Enterprise applications -> this app -> Overview -> Object ID)
# App registration object ID:        c2a7e913-5b0d-4f6e-8a14-3d9b72e6f051  (NOT used below: Exchange needs the enterprise application's)

param(
    # Also set EwsEnabled to $true for the organisation. Then ONLY the apps on the EWS allow-list may use EWS.
    [switch]$EnableEws
)

$ErrorActionPreference = 'Stop'
$AppId = '8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84'
$ServicePrincipalId = 'f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268'
$AppName = 'Mail client (OAuth2, client-credentials)'
$Mailboxes = @('helpdesk@contoso.com', 'support@contoso.com')

# ---- Sign in to Exchange Online (a browser window asks for the admin account) ----
# -Organization is the tenant's initial domain (contoso.onmicrosoft.com).
Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false

# ---- Register the app with Exchange Online, so app-only tokens can reach mailboxes ----
# -ObjectId is the ENTERPRISE APPLICATION's (service principal's) object ID, never the app registration's:
# Exchange accepts the wrong one, but every mailbox login then fails.
$registered = @(Get-ServicePrincipal | Where-Object { $_.AppId -eq $AppId })
if ($registered.Count -eq 0) {
    New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalId -DisplayName $AppName | Out-Null
    Write-Host 'Registered the app with Exchange Online.'
} elseif (@($registered | Where-Object { $_.ObjectId -eq $ServicePrincipalId }).Count -gt 0) {
    Write-Host 'The app is already registered with Exchange Online.'
} else {
    throw ('Exchange Online has this app registered with object ID ' + $registered[0].ObjectId + ', not the enterprise application''s ' + $ServicePrincipalId + ': mailbox logins would fail. Remove that registration (Remove-ServicePrincipal -Identity ' + $registered[0].ObjectId + ') and run this script again.')
}

# ---- Each mailbox: the app's rights and the protocol switches (these mailboxes only) ----
foreach ($Mailbox in $Mailboxes) {
    Write-Host "Mailbox ${Mailbox}:"
    # The protocol switches are on by default, but an admin may have turned them off. SMTP AUTH is allowed
    # for this mailbox only; the organisation-wide switch (Set-TransportConfig) is left as it is.
    $cas = Get-CASMailbox -Identity $Mailbox
    if ($cas.EwsEnabled -eq $true) {
        Write-Host '  EWS: already allowed'
    } else {
        Set-CASMailbox -Identity $Mailbox -EwsEnabled $true
        Write-Host '  EWS: turned on'
    }
}

# ---- Optional: limit the app to chosen mailboxes (RBAC for Applications) ----
# With full_access_as_app the app can reach EVERY mailbox in the organisation. To limit it:
#  1. Create a mail-enabled security group holding only the mailboxes the app may reach, and copy
#     its DistinguishedName:  Get-DistributionGroup '<group>' | Format-List DistinguishedName
#  2. Remove the '# ' in front of the cmdlet lines below and put the DistinguishedName in place of <group DN>.
#  3. In Entra ID remove full_access_as_app from the app (API permissions -> Remove permission):
#     RBAC role assignments add to what Entra consent grants, so the unscoped permission would still reach every mailbox.
# Application Access Policies (New-ApplicationAccessPolicy) are the older way; Microsoft no longer supports new ones.
# If Exchange answers that a role does not exist, list the application roles with:
#   Get-ManagementRole | Where-Object { $_.Name -like 'Application *' }
# New-ManagementScope -Name 'mailoauth mail-client-oauth2-client-credentials' -RecipientRestrictionFilter "MemberOfGroup -eq '<group DN>'"
# New-ManagementRoleAssignment -Name 'mail-client-oauth2-client-credentials EWS.AccessAsApp' -Role 'Application EWS.AccessAsApp' -App $ServicePrincipalId -CustomResourceScope 'mailoauth mail-client-oauth2-client-credentials'
# Check that a mailbox is in scope (InScope = True) and one outside it is not:
# foreach ($Mailbox in $Mailboxes) { Test-ServicePrincipalAuthorization -Identity $ServicePrincipalId -Resource $Mailbox }

# ---- EWS app allow-list ----
# Microsoft has announced that from 2026-10-01 Exchange Online turns EWS off tenant by tenant unless EWS is
# enabled for the organisation (EwsEnabled $true) with an allow-list of app IDs, and that EWS stops for good on 2027-04-01.
# -EwsAllowedAppIDs replaces the whole list, so this reads the list, keeps every ID on it and adds this app's.
function Get-EwsAllowList {
    $org = Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy
    $ids = @($org.EwsAllowedAppIDs | ForEach-Object { "$_" -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
    return @{ Enabled = $org.EwsEnabled; Ids = $ids }
}
$ews = Get-EwsAllowList
if ($ews.Ids -contains $AppId) {
    Write-Host 'EWS allow-list: this app is already on it.'
} else {
    $wanted = @($ews.Ids) + $AppId
    Set-OrganizationConfig -EwsAllowedAppIDs ($wanted -join ',')
    $after = Get-EwsAllowList
    foreach ($id in $wanted) {
        if ($after.Ids -notcontains $id) { throw ('The EWS allow-list lacks ' + $id + ' after the change; it now reads: ' + ($after.Ids -join ',')) }
    }
    Write-Host ('EWS allow-list: added this app and kept the ' + @($ews.Ids).Count + ' ID(s) already listed.')
}
if ($ews.Enabled -eq $true) {
    Write-Host 'EWS is enabled for the organisation with its allow-list: only the listed apps may use EWS.'
} elseif ($EnableEws) {
    Set-OrganizationConfig -EwsEnabled $true
    Write-Host 'EWS is now enabled for the organisation: only the apps on the allow-list may use EWS.'
} else {
    Write-Warning ('EwsEnabled for the organisation is ' + $(if ($null -eq $ews.Enabled) { 'not set' } else { $ews.Enabled }) + '. Once Exchange Online turns EWS off for your tenant, only an organisation with EwsEnabled set to True and the app on its allow-list can use EWS. Check that every app your organisation still needs is on the list (Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy | Format-List EwsEnabled,EwsAllowedAppIDs), then run this script again with -EnableEws.')
}

Write-Host 'Done.'
# To check the app's registration in Exchange later:
#   Get-ServicePrincipal | Format-List DisplayName,AppId,ObjectId
# To check a mailbox's switches later:
#   Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled
# To sign out:  Disconnect-ExchangeOnline -Confirm:$false
