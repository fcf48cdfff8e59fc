# exchange-setup.ps1: the Exchange Online side of "Mail client (OAuth2, client-credentials)" for Generic mail client (written by mailoauth).
# Generated 2026-11-21 19:00 UTC. It holds no secret.
# Safe to run again: Set-CASMailbox only sets what is already set, and the cmdlets that would say
# "already exists" on a second run are told to carry on quietly (-ErrorAction SilentlyContinue).
# Run it in PowerShell with the ExchangeOnlineManagement module, signed in as an Exchange administrator.
# Install the module once if needed:  Install-Module ExchangeOnlineManagement -Scope CurrentUser
#
# Application (client) ID:           8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84
# Enterprise application object ID: f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268  (Enterprise applications -> this app -> Overview -> Object ID)
# App registration object ID:       c2a7e913-5b0d-4f6e-8a14-3d9b72e6f051  (NOT used below: Exchange needs the enterprise application's)

# Sign in to Exchange Online for this organisation (a browser window asks for the admin account).
Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false

# Register the app with Exchange Online so app-only tokens can reach mailboxes.
# -ObjectId is the ENTERPRISE APPLICATION's (service principal's) object ID, never the app registration's:
# the wrong one is accepted here but every mailbox login then fails.
# On a second run it reports that the service principal exists and carries on.
New-ServicePrincipal -AppId 8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84 -ObjectId f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268 -DisplayName 'Mail client (OAuth2, client-credentials)' -ErrorAction SilentlyContinue

# ---- Mailbox helpdesk@contoso.com ----
# Let the app send as helpdesk@contoso.com over SMTP (SendAs on this mailbox only). Carries on if already granted.
Add-RecipientPermission -Identity 'helpdesk@contoso.com' -AccessRights SendAs -Trustee f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268 -Confirm:$false -ErrorAction SilentlyContinue
# Allow SMTP AUTH for helpdesk@contoso.com only; the organisation-wide switch (Set-TransportConfig) is left as it is.
Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false

# ---- Mailbox support@contoso.com ----
# Let the app send as support@contoso.com over SMTP (SendAs on this mailbox only). Carries on if already granted.
Add-RecipientPermission -Identity 'support@contoso.com' -AccessRights SendAs -Trustee f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268 -Confirm:$false -ErrorAction SilentlyContinue
# Allow SMTP AUTH for support@contoso.com only; the organisation-wide switch (Set-TransportConfig) is left as it is.
Set-CASMailbox -Identity 'support@contoso.com' -SmtpClientAuthenticationDisabled $false

# Done. To check the app's registration in Exchange later:
#   Get-ServicePrincipal | Format-List DisplayName,AppId,ObjectId
# To sign out:  Disconnect-ExchangeOnline -Confirm:$false
