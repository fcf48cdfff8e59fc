# exchange-setup.ps1: the Exchange Online side of "Mail client (OAuth2, auth-code)" for Generic mail client (written by mailoauth).
# Generated 2026-11-21 19:00 UTC. It holds no secret.
# Safe to run again: Set-CASMailbox only sets what is already set, and the cmdlets that would say
# "already exists" on a second run are told to carry on quietly (-ErrorAction SilentlyContinue).
# Run it in PowerShell with the ExchangeOnlineManagement module, signed in as an Exchange administrator.
# Install the module once if needed:  Install-Module ExchangeOnlineManagement -Scope CurrentUser
#
# Application (client) ID:           8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84

# Sign in to Exchange Online for this organisation (a browser window asks for the admin account).
Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false

# ---- Mailbox helpdesk@contoso.com ----
# Turn IMAP on for helpdesk@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true
# Allow SMTP AUTH for helpdesk@contoso.com only; the organisation-wide switch (Set-TransportConfig) is left as it is.
Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false

# ---- Mailbox support@contoso.com ----
# Turn IMAP on for support@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'support@contoso.com' -ImapEnabled $true
# Allow SMTP AUTH for support@contoso.com only; the organisation-wide switch (Set-TransportConfig) is left as it is.
Set-CASMailbox -Identity 'support@contoso.com' -SmtpClientAuthenticationDisabled $false

# Done. To check a mailbox's switches later:
#   Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled
# To sign out:  Disconnect-ExchangeOnline -Confirm:$false
