# exchange-setup.ps1: the Exchange Online side of "Mail client (OAuth2, ropc)" for Generic mail client (written by mailoauth).
# Generated 2026-11-21 19:00 UTC. It holds no secret.
# Safe to run again: each step reads the current setting first and changes only what is not yet as needed.
# It never removes a permission or an allow-list entry, and it stops at the first error.
# Run it in PowerShell 7 or Windows PowerShell 5.1, as an Exchange administrator, with the ExchangeOnlineManagement module:
#   Install-Module ExchangeOnlineManagement -Scope CurrentUser     (once)
#   .\exchange-setup.ps1
#   .\exchange-setup.ps1 -EnableEws   also turns EWS on for the organisation with its allow-list (see the EWS part).
#
# Application (client) ID:           8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84

param(
    # Also set EwsEnabled to $true for the organisation. Then ONLY the apps on the EWS allow-list may use EWS.
    [switch]$EnableEws
)

$ErrorActionPreference = 'Stop'
$AppId = '8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84'
$Mailboxes = @('helpdesk@contoso.com', 'support@contoso.com')

# ---- Sign in to Exchange Online (a browser window asks for the admin account) ----
# -Organization is the tenant's initial domain (contoso.onmicrosoft.com).
Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false

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
# To check a mailbox's switches later:
#   Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled
# To sign out:  Disconnect-ExchangeOnline -Confirm:$false
