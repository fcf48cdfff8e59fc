# exchange-setup.ps1: the Exchange Online side of "Email This Issue mail (OAuth2)" for Email This Issue for Jira (written by mailoauth).
# Generated 2026-11-21 19:00 UTC. It holds no secret.
# Safe to run again: each step reads the current setting first and changes only what is not yet as needed.
# It never removes a permission or an allow-list entry, and it stops at the first error.
# Run it in PowerShell 7 or Windows PowerShell 5.1, as an Exchange administrator, with the ExchangeOnlineManagement module:
#   Install-Module ExchangeOnlineManagement -Scope CurrentUser     (once)
#   .\exchange-setup.ps1
#
# Application (client) ID:           8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84

$ErrorActionPreference = 'Stop'
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
    if ($cas.ImapEnabled -eq $true) {
        Write-Host '  IMAP: already allowed'
    } else {
        Set-CASMailbox -Identity $Mailbox -ImapEnabled $true
        Write-Host '  IMAP: turned on'
    }
    if ($cas.SmtpClientAuthenticationDisabled -eq $false) {
        Write-Host '  SMTP AUTH: already allowed'
    } else {
        Set-CASMailbox -Identity $Mailbox -SmtpClientAuthenticationDisabled $false
        Write-Host '  SMTP AUTH: turned on'
    }
}

Write-Host 'Done.'
# To check a mailbox's switches later:
#   Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled
# To sign out:  Disconnect-ExchangeOnline -Confirm:$false
