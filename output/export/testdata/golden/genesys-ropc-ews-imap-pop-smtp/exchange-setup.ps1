# exchange-setup.ps1: the Exchange Online side of "Genesys E-mail Server mail (OAuth2)" for Genesys E-mail Server (written by mailoauth).
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
# Turn POP3 on for helpdesk@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'helpdesk@contoso.com' -PopEnabled $true
# Allow SMTP AUTH for helpdesk@contoso.com only; the organisation-wide switch (Set-TransportConfig) is left as it is.
Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false
# Turn EWS on for helpdesk@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'helpdesk@contoso.com' -EwsEnabled $true

# ---- Mailbox support@contoso.com ----
# Turn IMAP on for support@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'support@contoso.com' -ImapEnabled $true
# Turn POP3 on for support@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'support@contoso.com' -PopEnabled $true
# Allow SMTP AUTH for support@contoso.com only; the organisation-wide switch (Set-TransportConfig) is left as it is.
Set-CASMailbox -Identity 'support@contoso.com' -SmtpClientAuthenticationDisabled $false
# Turn EWS on for support@contoso.com (on by default, but an admin may have turned it off).
Set-CASMailbox -Identity 'support@contoso.com' -EwsEnabled $true

# ---- EWS app allow-list (read before enabling) ----
# From October 2026 Exchange Online turns EWS off tenant by tenant unless EWS is enabled with an allow-list
# of app IDs; on 2027-04-01 EWS is shut off for good (dates UNVERIFIED against Microsoft's blog).
# -EwsAllowedAppIDs REPLACES the whole list, so first read the current one:
#   Get-OrganizationConfig | Format-List EwsEnabled,EwsApplicationAccessPolicy,EwsAllowedAppIDs
# then write every ID already listed plus this app's ID (8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84), comma-separated, and remove the '# ':
# Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "<IDs already listed>,8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84"
# With EwsEnabled $true only the listed apps may use EWS: leave out no app your organisation still needs.

# Done. To check a mailbox's switches later:
#   Get-CASMailbox -Identity <mailbox> | Format-List ImapEnabled,PopEnabled,EwsEnabled,SmtpClientAuthenticationDisabled
# To sign out:  Disconnect-ExchangeOnline -Confirm:$false
