package explain

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Codes of mail-server explanations. Exchange's replies carry no stable code
// of their own for most conditions, so these keys are mailoauth's.
const (
	CodeIMAPAuthFailed      = "imap-authenticate-failed"
	CodeIMAPNotConnected    = "imap-not-connected"
	CodePOPAuthFailed       = "pop-authentication-failure"
	CodePOPProtocolError    = "pop-protocol-error"
	CodeSMTPAuthFailed      = "smtp-535-5.7.3"
	CodeSMTPAuthTenantOff   = "smtp-535-5.7.139-tenant"
	CodeSMTPAuthMailboxOff  = "smtp-535-5.7.139-mailbox"
	CodeSMTPBasicAuthOff    = "smtp-535-5.7.139-basic"
	CodeSMTPSecurityDefault = "smtp-535-5.7.139-security-defaults"
	CodeSMTPNoSendAs        = "smtp-550-5.7.60"
	CodeSMTPNoTLSAuth       = "smtp-504-5.7.4"
	CodeSMTPNotAuth         = "smtp-530-5.7.57"
	CodeMailboxLogonFailed  = "mailbox-logon-failed"
	CodeEWSUnauthorized     = "ews-401"
	CodeEWSForbidden        = "ews-403"
	CodeEWSNoImpersonation  = "ErrorInvalidExchangeImpersonationHeaderData"
	CodeEWSNoMailbox        = "ErrorNonExistentMailbox"
	CodeEWSImpersonateDeny  = "ErrorImpersonateUserDenied"
	CodeEWSAccessDenied     = "ErrorAccessDenied"
	CodeTokenExpired        = "token-expired"
	CodeTokenAudience       = "token-wrong-audience"
	CodeTokenTenant         = "token-wrong-tenant"
	CodeTokenPermission     = "token-missing-permission"
	CodeTokenUser           = "token-user-mismatch"
	CodeServerBusy          = "server-temporary-failure"
	CodeUnrecognised        = "unrecognised-reply"
)

// Mail explains a mail server's reply line for a protocol. reply is the
// server's exact line (for EWS: "HTTP 401 ..." with the x-ms-diagnostics
// header, or the SOAP ResponseCode); ctx fills the fix with real values.
// For Graph protocols use GraphMail with the parsed error; Mail handles a
// Graph reply given as text by its error code.
func Mail(p catalog.Protocol, reply string, ctx MailContext) Explanation {
	r := strings.TrimSpace(reply)
	low := strings.ToLower(r)
	var x Explanation
	switch p {
	case catalog.IMAP:
		x = imapReply(r, low, ctx)
	case catalog.POP:
		x = popReply(r, low, ctx)
	case catalog.SMTP:
		x = smtpReply(r, low, ctx)
	case catalog.EWS:
		x = ewsReply(r, low, ctx)
	case catalog.GraphRead, catalog.GraphSend:
		code := "Request_Unknown"
		for _, c := range []string{"ErrorAccessDenied", "MailboxNotEnabledForRESTAPI", "InvalidAuthenticationToken", "Authorization_RequestDenied", "ResourceNotFound", "ErrorItemNotFound"} {
			if strings.Contains(r, c) {
				code = c
				break
			}
		}
		x = GraphMail(p, &GraphError{Code: code, Message: r}, ctx)
	}
	if x.IsZero() {
		x = Explanation{
			Code:  CodeUnrecognised,
			Title: p.Label() + " login failed",
			Cause: fmt.Sprintf("%s answered: %s", serverName(ctx), r),
			Fix:   "mailoauth does not know this reply; search for its exact text, and check the mailbox, the protocol switch and the app's permissions.",
		}
	}
	return x
}

func serverName(ctx MailContext) string {
	if ctx.Host != "" {
		return "The server " + ctx.Host
	}
	return "The server"
}

// tokenProblem finds what is wrong with the token itself from its claims:
// the causes Exchange reports with the same generic failure reply.
func tokenProblem(p catalog.Protocol, ctx MailContext) (Explanation, bool) {
	perm := protocolPermission(p, ctx.Flow)
	switch {
	case ctx.TokenExpired:
		return Explanation{Code: CodeTokenExpired, Title: "Token expired", Cause: "The access token had expired when it was sent.", Fix: "Get a new token (products refresh it before expiry; check the computer's clock)."}, true
	case ctx.TokenAudience != "" && !exchangeAudience(ctx.TokenAudience) && p.IsExchange():
		want := "https://outlook.office.com/" + perm + " (delegated)"
		if ctx.AppOnly() {
			want = "https://outlook.office365.com/.default"
		}
		return Explanation{
			Code:      CodeTokenAudience,
			Title:     "Token for the wrong API",
			Cause:     fmt.Sprintf("The token's audience is %s, but %s accepts only Exchange Online tokens (https://outlook.office.com or https://outlook.office365.com). This happens when the scope names Microsoft Graph (e.g. https://graph.microsoft.com/%s) or Graph and Exchange scopes are mixed.", ctx.TokenAudience, p.Label(), perm),
			Fix:       fmt.Sprintf("Configure the product to request the scope %s, one resource per token request.", want),
			FixAction: "",
		}, true
	case ctx.TokenTenant != "" && ctx.TenantID != "" && !strings.EqualFold(ctx.TokenTenant, ctx.TenantID):
		return Explanation{Code: CodeTokenTenant, Title: "Token from another tenant", Cause: fmt.Sprintf("The token was issued by tenant %s, but the mailbox lives in tenant %s.", ctx.TokenTenant, ctx.TenantID), Fix: fmt.Sprintf("Use the authority https://login.microsoftonline.com/%s (tenant id, not common) in the product.", ctx.TenantID)}, true
	case ctx.AppOnly() && p.IsExchange() && (ctx.TokenRoles != nil || ctx.TokenAudience != "") && !hasFold(ctx.TokenRoles, perm):
		return Explanation{
			Code:      CodeTokenPermission,
			Title:     "App permission missing",
			Cause:     fmt.Sprintf("The app-only token carries the roles [%s] but not %s, which %s needs.", strings.Join(ctx.TokenRoles, ", "), perm, p.Label()),
			Fix:       fmt.Sprintf("Grant admin consent for the application permission %s of Office 365 Exchange Online on app %s (add it first under \"APIs my organization uses\" if it is not listed), then get a new token.", perm, orPlaceholder(ctx.AppID, "application (client) id")),
			FixAction: ActionAddPermission,
		}, true
	case !ctx.AppOnly() && p.IsExchange() && (ctx.TokenScopes != nil || ctx.TokenAudience != "") && !hasFold(ctx.TokenScopes, perm):
		return Explanation{
			Code:      CodeTokenPermission,
			Title:     "Delegated permission missing",
			Cause:     fmt.Sprintf("The token carries the scopes [%s] but not %s, which %s needs.", strings.Join(ctx.TokenScopes, " "), perm, p.Label()),
			Fix:       fmt.Sprintf("Grant consent for the delegated permission %s of Office 365 Exchange Online on app %s (add it first if it is not listed), and have the product request https://outlook.office.com/%s.", perm, orPlaceholder(ctx.AppID, "application (client) id"), perm),
			FixAction: ActionAddPermission,
		}, true
	case !ctx.AppOnly() && ctx.TokenUser != "" && ctx.Mailbox != "" && !strings.EqualFold(ctx.TokenUser, ctx.Mailbox):
		return Explanation{
			Code:       CodeTokenUser,
			Title:      "Token user and mailbox differ",
			Cause:      fmt.Sprintf("The token belongs to %s but the login named the mailbox %s.", ctx.TokenUser, ctx.Mailbox),
			Fix:        fmt.Sprintf("Sign in as %s, or, if %s is a shared mailbox, give %s FullAccess to it.", ctx.Mailbox, ctx.Mailbox, ctx.TokenUser),
			FixCommand: ctx.script(fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess", ctx.mailbox(), psQuote(ctx.TokenUser))),
		}, true
	}
	return Explanation{}, false
}

// exchangeAccess is "Exchange does not know the app or it has no rights on
// the mailbox": the app-only pitfall of microsoft.md §11.
func exchangeAccess(ctx MailContext, title string) Explanation {
	return Explanation{
		Code:  "exchange-service-principal",
		Title: title,
		Cause: fmt.Sprintf("The app-only token is fine, but Exchange Online does not let app %s into %s: New-ServicePrincipal was not run (or was run with the app registration's object id %s instead of the enterprise application's object id %s), or the service principal has no FullAccess on the mailbox.",
			orPlaceholder(ctx.AppID, "appId"), orPlaceholder(ctx.Mailbox, "the mailbox"), orPlaceholder(ctx.AppObjectID, "app registration object id"), orPlaceholder(ctx.ServicePrincipalID, "enterprise application object id")),
		Fix:        "In Exchange Online PowerShell (as an Exchange Administrator), register the app's service principal with the enterprise application's object id and give it FullAccess on the mailbox.",
		FixCommand: ctx.script(ctx.NewServicePrincipalCommand()+" -ErrorAction SilentlyContinue", ctx.FullAccessCommand()),
	}
}

// wrongObjectID is the documented New-ServicePrincipal pitfall: Exchange
// recorded the app under the app registration's object id, so it must be
// removed and registered again; grant is the mailbox right to give again.
func wrongObjectID(ctx MailContext, grant string) Explanation {
	return Explanation{
		Code:  "exchange-service-principal-wrong-id",
		Title: "Registered in Exchange with the wrong object id",
		Cause: fmt.Sprintf("If New-ServicePrincipal was run with the app registration's object id %s, Exchange does not match the app's tokens; it needs the enterprise application's object id %s.",
			orPlaceholder(ctx.AppObjectID, "app registration object id"), orPlaceholder(ctx.ServicePrincipalID, "enterprise application object id")),
		Fix: "Remove the wrong registration (Get-ServicePrincipal lists it) and register the app again with the enterprise application's object id.",
		FixCommand: ctx.script(
			fmt.Sprintf("Remove-ServicePrincipal -Identity %s -Confirm:$false", psQuote(orPlaceholder(ctx.AppObjectID, "app registration object id"))),
			ctx.NewServicePrincipalCommand(), grant),
	}
}

func noMailbox(ctx MailContext) Explanation {
	return Explanation{
		Code:  "no-mailbox",
		Title: "No mailbox",
		Cause: fmt.Sprintf("%s has no Exchange Online mailbox (no licence with Exchange Online, or the address is wrong).", orPlaceholder(ctx.Mailbox, "The user")),
		Fix:   "Check the address; assign a licence that includes Exchange Online and wait for the mailbox to be created.",
	}
}

func protocolDisabled(p catalog.Protocol, ctx MailContext) Explanation {
	sw := map[catalog.Protocol]string{catalog.IMAP: "-ImapEnabled $true", catalog.POP: "-PopEnabled $true", catalog.EWS: "-EwsEnabled $true"}[p]
	return Explanation{
		Code:       strings.ToLower(p.Label()) + "-disabled",
		Title:      p.Label() + " disabled for the mailbox",
		Cause:      fmt.Sprintf("%s is turned off for %s (Set-CASMailbox).", p.Label(), orPlaceholder(ctx.Mailbox, "the mailbox")),
		Fix:        fmt.Sprintf("Turn %s on for the mailbox; it can take a while to apply.", p.Label()),
		FixCommand: ctx.script(fmt.Sprintf("Set-CASMailbox -Identity %s %s", ctx.mailbox(), sw)),
	}
}

// withAlternatives makes the first explanation the main one and the rest its
// alternatives.
func withAlternatives(xs ...Explanation) Explanation {
	main := xs[0]
	main.Alternatives = append(main.Alternatives, xs[1:]...)
	return main
}

func imapReply(r, low string, ctx MailContext) Explanation {
	switch {
	case strings.Contains(low, "authenticated but not connected"):
		// Ambiguous (peers.md #3): order the causes by what the flow makes likely.
		if ctx.AppOnly() {
			main := exchangeAccess(ctx, "Mailbox not reachable for the app")
			main.Code = CodeIMAPNotConnected
			return withAlternatives(main, wrongObjectID(ctx, ctx.FullAccessCommand()), protocolDisabled(catalog.IMAP, ctx))
		}
		main := protocolDisabled(catalog.IMAP, ctx)
		main.Code = CodeIMAPNotConnected
		main.Cause = fmt.Sprintf("The login was accepted but the mailbox cannot be opened. Most likely IMAP is turned off for %s (Set-CASMailbox -ImapEnabled).", orPlaceholder(ctx.Mailbox, "the mailbox"))
		alt := Explanation{Code: "mailbox-not-ready", Title: "Mailbox not ready", Cause: "The mailbox was licensed or enabled recently and is not ready for IMAP yet (this can take up to 30 minutes).", Fix: "Wait and test again.", Retryable: true}
		return withAlternatives(main, alt)
	case strings.Contains(low, "authenticate failed"):
		if x, ok := tokenProblem(catalog.IMAP, ctx); ok {
			return x
		}
		x := Explanation{Code: CodeIMAPAuthFailed, Title: "IMAP login refused", Fix: ""}
		if ctx.AppOnly() {
			x.Cause = fmt.Sprintf("Exchange refused the app-only token for %s. The token's audience and roles look right, so the mailbox probably does not exist or has no licence, or the token is not valid for this tenant.", orPlaceholder(ctx.Mailbox, "the mailbox"))
			x.Fix = "Check the mailbox address and its Exchange licence; make sure the token was requested with https://outlook.office365.com/.default from the mailbox's tenant."
		} else {
			x.Cause = fmt.Sprintf("Exchange refused the token for %s. The token's audience and scopes look right, so the mailbox probably does not exist or has no licence, or the user named in the login is not the signed-in user.", orPlaceholder(ctx.Mailbox, "the mailbox"))
			x.Fix = "Check the mailbox address (it must be the signed-in user's, or a shared mailbox the user has FullAccess to) and its Exchange licence."
		}
		return withAlternatives(x, noMailbox(ctx))
	}
	return Explanation{}
}

func popReply(r, low string, ctx MailContext) Explanation {
	switch {
	case strings.Contains(low, "protocol error"):
		return Explanation{Code: CodePOPProtocolError, Title: "POP3 one-line AUTH refused", Cause: "The client sent AUTH XOAUTH2 with the token on the same line; Exchange Online accepts only the two-line form and closes the connection.", Fix: "Configure the client for the two-line form (send AUTH XOAUTH2, wait for +, then the token), e.g. mail.pop3.auth.xoauth2.two.line.authentication.format=true in Java products."}
	case strings.Contains(low, "authentication failure") || strings.Contains(low, "bad password"):
		if x, ok := tokenProblem(catalog.POP, ctx); ok {
			return x
		}
		if ctx.AppOnly() {
			main := exchangeAccess(ctx, "Mailbox not reachable for the app")
			main.Code = CodePOPAuthFailed
			return withAlternatives(main, wrongObjectID(ctx, ctx.FullAccessCommand()), protocolDisabled(catalog.POP, ctx), noMailbox(ctx))
		}
		main := protocolDisabled(catalog.POP, ctx)
		main.Code = CodePOPAuthFailed
		main.Cause = fmt.Sprintf("Exchange refused the login although the token looks right: most likely POP3 is turned off for %s.", orPlaceholder(ctx.Mailbox, "the mailbox"))
		return withAlternatives(main, noMailbox(ctx))
	}
	return Explanation{}
}

func smtpReply(r, low string, ctx MailContext) Explanation {
	mbx := orPlaceholder(ctx.Mailbox, "the mailbox")
	switch {
	case strings.Contains(low, "5.7.139") && strings.Contains(low, "disabled for the tenant"):
		tenant := Explanation{
			Code:       CodeSMTPAuthTenantOff,
			Title:      "SMTP AUTH disabled for the tenant",
			Cause:      "SMTP AUTH (client submission) is turned off for the whole organisation (Set-TransportConfig -SmtpClientAuthenticationDisabled $true, the default since January 2020) and not turned on for this mailbox.",
			Fix:        fmt.Sprintf("Turn SMTP AUTH on for %s only (recommended), or for the whole organisation (alternative below).", mbx),
			FixCommand: ctx.script(fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", ctx.mailbox())),
			Link:       "https://aka.ms/smtp_auth_disabled",
		}
		org := Explanation{
			Code:       CodeSMTPAuthTenantOff,
			Title:      "Enable SMTP AUTH for the whole organisation instead",
			Cause:      "Every mailbox that does not override it may then use SMTP AUTH.",
			Fix:        "Turn SMTP AUTH on tenant-wide.",
			FixCommand: ctx.script("Set-TransportConfig -SmtpClientAuthenticationDisabled $false"),
		}
		return withAlternatives(tenant, org)
	case strings.Contains(low, "5.7.139") && strings.Contains(low, "disabled for the mailbox"):
		return Explanation{
			Code:       CodeSMTPAuthMailboxOff,
			Title:      "SMTP AUTH disabled for the mailbox",
			Cause:      fmt.Sprintf("SMTP AUTH is turned off for %s (Set-CASMailbox -SmtpClientAuthenticationDisabled $true).", mbx),
			Fix:        fmt.Sprintf("Turn SMTP AUTH on for %s.", mbx),
			FixCommand: ctx.script(fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", ctx.mailbox())),
			Link:       "https://aka.ms/smtp_auth_disabled",
		}
	case strings.Contains(low, "5.7.139") && strings.Contains(low, "security defaults"):
		return Explanation{Code: CodeSMTPSecurityDefault, Title: "Blocked by security defaults", Cause: "The tenant's security defaults block this SMTP sign-in.", Fix: "Use OAuth (XOAUTH2) with an app, not a password; if a password is used, review the tenant's security defaults."}
	case strings.Contains(low, "5.7.139") && strings.Contains(low, "basic authentication"):
		return Explanation{Code: CodeSMTPBasicAuthOff, Title: "Basic authentication disabled", Cause: "The client logged in with a user name and password (AUTH LOGIN/PLAIN); Exchange Online accepts only OAuth.", Fix: "Configure the product for OAuth2 (XOAUTH2) with this app."}
	case strings.Contains(low, "5.7.60"):
		if ctx.AppOnly() {
			return Explanation{
				Code:       CodeSMTPNoSendAs,
				Title:      "App may not send as this mailbox",
				Cause:      fmt.Sprintf("The login worked, but the app's service principal has no SendAs (or FullAccess) right on %s.", mbx),
				Fix:        fmt.Sprintf("Give the app's service principal SendAs on %s.", mbx),
				FixCommand: ctx.script(ctx.SendAsCommand(ctx.spID())),
			}
		}
		trustee := psQuote(orPlaceholder(ctx.TokenUser, "signed-in user"))
		return Explanation{
			Code:       CodeSMTPNoSendAs,
			Title:      "User may not send as this sender",
			Cause:      fmt.Sprintf("The sender address %s is not the signed-in user %s, who has no SendAs right on it.", mbx, orPlaceholder(ctx.TokenUser, "")),
			Fix:        "Send from the signed-in user's own address, or give that user SendAs on the sender mailbox.",
			FixCommand: ctx.script(ctx.SendAsCommand(trustee)),
		}
	case strings.Contains(low, "5.7.4") || strings.HasPrefix(low, "504"):
		return Explanation{Code: CodeSMTPNoTLSAuth, Title: "XOAUTH2 not offered", Cause: "The server did not accept AUTH XOAUTH2: Exchange Online offers it only after STARTTLS on port 587.", Fix: "Use port 587 with STARTTLS (not implicit TLS on 465, not plain text) and EHLO again after STARTTLS."}
	case strings.Contains(low, "5.7.57"):
		return Explanation{Code: CodeSMTPNotAuth, Title: "Not authenticated", Cause: "The client tried to send without logging in.", Fix: "Configure the product to use SMTP AUTH with OAuth2."}
	case strings.Contains(low, "mapiexceptionlogonfailed") || strings.Contains(low, "storedrv"):
		x := Explanation{Code: CodeMailboxLogonFailed, Title: "Mailbox logon failed", Cause: fmt.Sprintf("Exchange accepted the login but could not open %s (%s).", mbx, r), Fix: "Wait a few minutes and test again; if it persists, check the mailbox permissions.", Retryable: true}
		if ctx.AppOnly() {
			x.FixCommand = ctx.script(ctx.FullAccessCommand())
		}
		return x
	case strings.Contains(low, "5.7.3") || strings.HasPrefix(low, "535"):
		if x, ok := tokenProblem(catalog.SMTP, ctx); ok {
			return x
		}
		if ctx.AppOnly() {
			main := exchangeAccess(ctx, "Exchange does not know the app")
			main.Code = CodeSMTPAuthFailed
			main.Cause = fmt.Sprintf("The app-only token looks right, but Exchange Online has no service principal for app %s (New-ServicePrincipal missing, or made with the app registration's object id %s instead of the enterprise application's object id %s).", orPlaceholder(ctx.AppID, "appId"), orPlaceholder(ctx.AppObjectID, "app registration object id"), orPlaceholder(ctx.ServicePrincipalID, "enterprise application object id"))
			main.Fix = "Register the app's service principal in Exchange Online and give it SendAs on the mailbox."
			main.FixCommand = ctx.script(ctx.NewServicePrincipalCommand()+" -ErrorAction SilentlyContinue", ctx.SendAsCommand(ctx.spID()))
			return withAlternatives(main, wrongObjectID(ctx, ctx.SendAsCommand(ctx.spID())), noMailbox(ctx))
		}
		x := Explanation{Code: CodeSMTPAuthFailed, Title: "SMTP login refused", Cause: fmt.Sprintf("Exchange refused the token for %s although its audience and scope look right: the mailbox may not exist or have no licence, or the user in the login is not the signed-in user.", mbx), Fix: "Check the mailbox address and its Exchange licence; log in as the signed-in user's own address."}
		return withAlternatives(x, noMailbox(ctx))
	case strings.HasPrefix(low, "4"):
		return Explanation{Code: CodeServerBusy, Title: "Temporary server failure", Cause: fmt.Sprintf("%s answered %s.", serverName(ctx), r), Fix: "Try again in a few minutes.", Retryable: true}
	}
	return Explanation{}
}

func ewsReply(r, low string, ctx MailContext) Explanation {
	switch {
	case strings.Contains(r, CodeEWSNoImpersonation) || strings.Contains(low, "exchangeimpersonation soap header must be present"):
		return Explanation{Code: CodeEWSNoImpersonation, Title: "Impersonation header missing", Cause: "App-only EWS requests must impersonate the mailbox, and this request did not.", Fix: fmt.Sprintf("Configure the product to send the ExchangeImpersonation SOAP header with SmtpAddress %s and the X-AnchorMailbox header with the same address.", orPlaceholder(ctx.Mailbox, "mailbox"))}
	case strings.Contains(r, CodeEWSNoMailbox):
		x := noMailbox(ctx)
		x.Code = CodeEWSNoMailbox
		return x
	case strings.Contains(r, CodeEWSImpersonateDeny):
		return Explanation{Code: CodeEWSImpersonateDeny, Title: "Impersonation not allowed", Cause: fmt.Sprintf("The app may not impersonate %s: full_access_as_app is missing or an RBAC scope excludes the mailbox.", orPlaceholder(ctx.Mailbox, "the mailbox")), Fix: fmt.Sprintf("Add the application permission full_access_as_app of Office 365 Exchange Online to app %s, grant admin consent, and check any RBAC for Applications scope.", orPlaceholder(ctx.AppID, "appId")), FixAction: ActionAddPermission}
	case strings.Contains(r, CodeEWSAccessDenied):
		return Explanation{Code: CodeEWSAccessDenied, Title: "Access denied", Cause: fmt.Sprintf("EWS denied access to %s.", orPlaceholder(ctx.Mailbox, "the mailbox")), Fix: "Check the app's EWS permission (full_access_as_app or EWS.AccessAsUser.All) and mailbox rights."}
	case strings.Contains(low, "http 401") || strings.Contains(low, "invalid_token") || strings.Contains(low, "2000001"):
		if x, ok := tokenProblem(catalog.EWS, ctx); ok {
			return x
		}
		return Explanation{Code: CodeEWSUnauthorized, Title: "EWS refused the token", Cause: fmt.Sprintf("EWS answered 401 (%s).", r), Fix: "Request the token with https://outlook.office365.com/.default (app-only) or https://outlook.office365.com/EWS.AccessAsUser.All (delegated) from the mailbox's tenant."}
	case strings.Contains(low, "http 403"):
		id := orPlaceholder(ctx.AppID, "application (client) id")
		return Explanation{
			Code:  CodeEWSForbidden,
			Title: "EWS blocked for this app or mailbox",
			Cause: fmt.Sprintf("EWS is turned off for %s or the organisation, or app %s is not in the organisation's EwsAllowedAppIDs list (EWS in Exchange Online is being retired: only listed apps keep access until April 2027).", orPlaceholder(ctx.Mailbox, "the mailbox"), id),
			Fix:   "Turn EWS on for the mailbox and add the app to EwsAllowedAppIDs, keeping the ids already listed. Prefer Microsoft Graph mail for new setups.",
			FixCommand: ctx.script(
				"# keep the ids already listed: (Get-OrganizationConfig).EwsAllowedAppIDs",
				fmt.Sprintf("Set-CASMailbox -Identity %s -EwsEnabled $true", ctx.mailbox()),
				fmt.Sprintf("Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs %s", psQuote(id)),
			),
		}
	case strings.Contains(low, "http 5"):
		return Explanation{Code: CodeServerBusy, Title: "EWS server error", Cause: fmt.Sprintf("EWS answered %s.", r), Fix: "Try again shortly; app-only requests need the X-AnchorMailbox header.", Retryable: true}
	}
	return Explanation{}
}
