package explain

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Codes of mail-server explanations. Exchange's replies carry no stable code
// of their own for most conditions, so these keys are mailoauth's.
const (
	CodeIMAPAuthFailed      = "imap-authenticate-failed"
	CodeIMAPNotConnected    = "imap-not-connected"
	CodeIMAPBasicAuth       = "imap-login-failed"
	CodePOPAuthFailed       = "pop-authentication-failure"
	CodePOPProtocolError    = "pop-protocol-error"
	CodePOPBasicAuth        = "pop-logon-failure"
	CodeSMTPAuthFailed      = "smtp-535-5.7.3"
	CodeSMTPAuthTenantOff   = "smtp-535-5.7.139-tenant"
	CodeSMTPAuthMailboxOff  = "smtp-535-5.7.139-mailbox"
	CodeSMTPBasicAuthOff    = "smtp-535-5.7.139-basic"
	CodeSMTPSecurityDefault = "smtp-535-5.7.139-security-defaults"
	CodeSMTPBasicNotSupport = "smtp-550-5.7.30"
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
	CodeNoXOAUTH2           = "xoauth2-not-offered"
	CodeUnrecognised        = "unrecognised-reply"

	// Standard replies of any server: RFC 5530 (IMAP response codes),
	// RFC 3206 (POP3 response codes), RFC 4954 (SMTP AUTH).
	CodeStdAuthFailed    = "standard-authentication-failed" // IMAP [AUTHENTICATIONFAILED], POP3 [AUTH], SMTP 535
	CodeStdAuthorization = "standard-authorization-failed"  // IMAP [AUTHORIZATIONFAILED]
	CodeStdExpired       = "standard-credentials-expired"   // IMAP [EXPIRED]
	CodeStdTemporary     = "standard-temporary-failure"     // IMAP [UNAVAILABLE], POP3 [SYS/TEMP] [IN-USE] [LOGIN-DELAY], SMTP 454
	CodeStdServerProblem = "standard-server-problem"        // IMAP [SERVERBUG] [CONTACTADMIN], POP3 [SYS/PERM]
	CodeStdNeedsTLS      = "standard-encryption-required"   // IMAP [PRIVACYREQUIRED], SMTP 538 5.7.11
	CodeStdMechanism     = "standard-mechanism-refused"     // SMTP 504, 534 5.7.9
	CodeStdAuthRequired  = "standard-authentication-required"
)

// NoXOAUTH2Prefix starts the reply the mail checks record when a server's
// capabilities do not list XOAUTH2 (the rest is the capability text).
const NoXOAUTH2Prefix = "server does not offer AUTH"

// Mail explains a mail server's reply line for a protocol. reply is the
// server's exact line (for EWS: "HTTP 401 ..." with the x-ms-diagnostics
// header, or the SOAP ResponseCode); ctx fills the fix with real values and
// says which server answered (ctx.Greeting). For Graph protocols use
// GraphMail with the parsed error; Mail handles a Graph reply given as text
// by its error code.
//
// Exchange Online's causes are given only for Exchange's own full replies
// (docs/architecture.md "Exchange behaviour") from a server that is, or may
// be, Exchange Online. Standard replies (RFC 5530, 3206, 4954) get what the
// standard says and what the token carried. Anything else is reported as
// not recognised, with its exact text.
func Mail(p catalog.Protocol, reply string, ctx MailContext) Explanation {
	r := strings.TrimSpace(reply)
	srv := ctx.Server(p)
	var x Explanation
	switch {
	case strings.HasPrefix(r, NoXOAUTH2Prefix):
		x = noXOAUTH2(p, r, srv, ctx)
	case p == catalog.IMAP:
		x = imapReply(r, srv, ctx)
	case p == catalog.POP:
		x = popReply(r, srv, ctx)
	case p == catalog.SMTP:
		x = smtpReply(r, srv, ctx)
	case p == catalog.EWS:
		x = ewsReply(r, strings.ToLower(r), ctx)
	case p == catalog.GraphRead || p == catalog.GraphSend:
		code := ""
		for _, c := range []string{"ErrorAccessDenied", "MailboxNotEnabledForRESTAPI", "InvalidAuthenticationToken", "Authorization_RequestDenied", "ResourceNotFound", "ErrorItemNotFound"} {
			if strings.Contains(r, c) {
				code = c
				break
			}
		}
		if code != "" {
			x = GraphMail(p, &GraphError{Code: code, Message: r}, ctx)
		}
	}
	if x.IsZero() {
		x = unrecognised(p, r, srv, ctx)
	}
	return x
}

// unrecognised is a reply the tables do not know: its exact text, no guess.
func unrecognised(p catalog.Protocol, r string, srv Server, ctx MailContext) Explanation {
	who := serverName(ctx)
	if srv.NotExchange() {
		who += " (" + srv.Name + ")"
	}
	return Explanation{
		Code:  CodeUnrecognised,
		Title: p.Label() + " login failed: reply not recognised",
		Cause: fmt.Sprintf("%s answered: %s", who, r),
		Fix:   "mailoauth does not know this reply, so it does not guess a cause; search for its exact text, and check the mailbox, the protocol switch and the app's permissions.",
	}
}

func serverName(ctx MailContext) string {
	if ctx.Host != "" {
		return "The server " + ctx.Host
	}
	return "The server"
}

// whoIs names the server in a sentence: "The server x (Dovecot)".
func whoIs(srv Server, ctx MailContext) string {
	s := serverName(ctx)
	if srv.Known() {
		s += " (" + srv.Name + ")"
	}
	return s
}

// tokenProblem finds what is wrong with the token itself from its claims:
// the causes Exchange reports with the same generic failure reply. For a
// server known not to be Exchange only expiry is judged: what it accepts
// is its own business.
func tokenProblem(p catalog.Protocol, ctx MailContext) (Explanation, bool) {
	perm := protocolPermission(p, ctx.Flow)
	if ctx.TokenExpired {
		return Explanation{Code: CodeTokenExpired, Title: "Token expired", Cause: "The access token had expired when it was sent.", Fix: "Get a new token (products refresh it before expiry; check the computer's clock)."}, true
	}
	if ctx.Server(p).NotExchange() {
		return Explanation{}, false
	}
	switch {
	case ctx.TokenAudience != "" && !exchangeAudience(ctx.TokenAudience) && p.IsExchange():
		want := "https://outlook.office.com/" + perm + " (delegated)"
		if ctx.AppOnly() {
			want = "https://outlook.office365.com/.default"
		}
		return Explanation{
			Code:  CodeTokenAudience,
			Title: "Token for the wrong API",
			Cause: fmt.Sprintf("The token's audience is %s, but %s accepts only Exchange Online tokens (https://outlook.office.com or https://outlook.office365.com). This happens when the scope names Microsoft Graph (e.g. https://graph.microsoft.com/%s) or Graph and Exchange scopes are mixed.", ctx.TokenAudience, p.Label(), perm),
			Fix:   fmt.Sprintf("Configure the product to request the scope %s, one resource per token request.", want),
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
		x := Explanation{
			Code:       CodeTokenUser,
			Title:      "Token user and mailbox differ",
			Cause:      fmt.Sprintf("The token belongs to %s but the login named the mailbox %s.", ctx.TokenUser, ctx.Mailbox),
			Fix:        fmt.Sprintf("Sign in as %s, or, if %s is a shared mailbox, give %s FullAccess to it.", ctx.Mailbox, ctx.Mailbox, ctx.TokenUser),
			FixCommand: ctx.script(fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess", ctx.mailbox(), psArg(ctx.TokenUser, "signed-in user"))),
		}
		if shared, known := ctx.shared(); known {
			if shared {
				x.Cause += fmt.Sprintf(" %s is a shared mailbox (Get-Mailbox: SharedMailbox), which has no sign-in of its own: %s needs FullAccess on it.", ctx.Mailbox, ctx.TokenUser)
				x.Fix = fmt.Sprintf("Give %s FullAccess on %s (or sign in as a user who has it).", ctx.TokenUser, ctx.Mailbox)
			} else {
				x.Cause += fmt.Sprintf(" %s is a user mailbox (Get-Mailbox: UserMailbox): its own user must sign in.", ctx.Mailbox)
				x.Fix = fmt.Sprintf("Sign in as %s.", ctx.Mailbox)
				x.FixCommand = ""
			}
			x.Facts = []string{"Get-Mailbox " + ctx.Mailbox + ": " + map[bool]string{true: "SharedMailbox", false: "UserMailbox"}[shared]}
		}
		return x, true
	}
	return Explanation{}, false
}

// exchangeAccess is "Exchange does not know the app or it has no rights on
// the mailbox": the app-only pitfall of microsoft.md §11 and §15.2.
func exchangeAccess(ctx MailContext, title string) Explanation {
	if ctx.Exchange != nil && ctx.Exchange.Registration == RegistrationRight {
		// Exchange was read: the registration is right, so the mailbox
		// right is what is left.
		return Explanation{
			Code:       "exchange-no-fullaccess",
			Title:      title,
			Cause:      fmt.Sprintf("The app-only token is fine and Exchange Online knows the app (Get-ServicePrincipal shows it registered with the enterprise application's object id), so it most likely has no FullAccess on %s.", orPlaceholder(ctx.Mailbox, "the mailbox")),
			Fix:        "Give the app's registration FullAccess on the mailbox.",
			FixCommand: ctx.script(ctx.FullAccessCommand()),
		}
	}
	return Explanation{
		Code:  "exchange-service-principal",
		Title: title,
		Cause: fmt.Sprintf("The app-only token is fine, but Exchange Online does not let app %s into %s: New-ServicePrincipal was not run (or was run with the app registration's object id %s instead of the enterprise application's object id %s), or the service principal has no FullAccess on the mailbox.",
			orPlaceholder(ctx.AppID, "appId"), orPlaceholder(ctx.Mailbox, "the mailbox"), orPlaceholder(ctx.AppObjectID, "app registration object id"), orPlaceholder(ctx.ServicePrincipalID, "enterprise application object id")),
		Fix:        "In Exchange Online PowerShell (as an Exchange Administrator), register the app's service principal with the enterprise application's object id and give it FullAccess on the mailbox.",
		FixCommand: ctx.script(ctx.registerCommand(), ctx.FullAccessCommand()),
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
			fmt.Sprintf("Remove-ServicePrincipal -Identity %s -Confirm:$false", psArg(ctx.AppObjectID, "app registration object id")),
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

// factsOr is the explanation of an Exchange reply: from Exchange's state
// when it was read, else the guess.
//
// The guess's own Code names its cause (so that facts can rule it out);
// the result carries the reply's code.
func (c MailContext) factsOr(p catalog.Protocol, code string, guess Explanation, issues ...issue) Explanation {
	if fc, ok := c.checkFacts(p, issues...); ok {
		return c.withFacts(code, fc, guess)
	}
	guess.Code = code
	return guess
}

// sameLine compares a reply (tag or code already removed) with Exchange's
// exact words, ignoring case and surrounding blanks.
func sameLine(rest, want string) bool { return strings.EqualFold(strings.TrimSpace(rest), want) }

// startsLine reports whether the reply begins with Exchange's exact words.
func startsLine(r, want string) bool {
	return len(r) >= len(want) && strings.EqualFold(r[:len(want)], want)
}

// imapTagged splits an IMAP reply into its tag and the rest.
func imapTagged(r string) (tag, rest string) {
	tag, rest, _ = strings.Cut(r, " ")
	return tag, strings.TrimSpace(rest)
}

// respCode is the bracketed response code after a status word: "NO
// [AUTHENTICATIONFAILED] text" gives "NO", "AUTHENTICATIONFAILED", "text".
var respCode = regexp.MustCompile(`^(?i)(OK|NO|BAD|-ERR)\s+\[([A-Za-z0-9/_.-]+)[^\]]*\]\s*(.*)$`)

func imapReply(r string, srv Server, ctx MailContext) Explanation {
	_, rest := imapTagged(r)
	exch := !srv.NotExchange()
	switch {
	case exch && sameLine(rest, "BAD User is authenticated but not connected."):
		var guess Explanation
		if ctx.AppOnly() {
			// Ambiguous (peers.md #3): order the causes by what the flow makes likely.
			guess = exchangeAccess(ctx, "Mailbox not reachable for the app")
			guess = withAlternatives(guess, wrongObjectID(ctx, ctx.FullAccessCommand()), protocolDisabled(catalog.IMAP, ctx))
			return ctx.factsOr(catalog.IMAP, CodeIMAPNotConnected, guess, issueRegistration, issueFullAccess, issueProtocol, issueMailbox)
		}
		guess = protocolDisabled(catalog.IMAP, ctx)
		guess.Cause = fmt.Sprintf("The login was accepted but the mailbox cannot be opened. Most likely IMAP is turned off for %s (Set-CASMailbox -ImapEnabled).", orPlaceholder(ctx.Mailbox, "the mailbox"))
		alt := Explanation{Code: "mailbox-not-ready", Title: "Mailbox not ready", Cause: "The mailbox was licensed or enabled recently and is not ready for IMAP yet (this can take up to 30 minutes).", Fix: "Wait and test again.", Retryable: true}
		return ctx.factsOr(catalog.IMAP, CodeIMAPNotConnected, withAlternatives(guess, alt), issueProtocol, issueMailbox)
	case exch && sameLine(rest, "NO AUTHENTICATE failed."):
		if x, ok := tokenProblem(catalog.IMAP, ctx); ok {
			return x
		}
		x := Explanation{Code: "token-looks-right", Title: "IMAP login refused"}
		if ctx.AppOnly() {
			x.Cause = fmt.Sprintf("Exchange refused the app-only token for %s. The token's audience and roles look right, so the mailbox probably does not exist or has no licence, or the token is not valid for this tenant.", orPlaceholder(ctx.Mailbox, "the mailbox"))
			x.Fix = "Check the mailbox address and its Exchange licence; make sure the token was requested with https://outlook.office365.com/.default from the mailbox's tenant."
		} else {
			x.Cause = fmt.Sprintf("Exchange refused the token for %s. The token's audience and scopes look right, so the mailbox probably does not exist or has no licence, or the user named in the login is not the signed-in user.", orPlaceholder(ctx.Mailbox, "the mailbox"))
			x.Fix = "Check the mailbox address (it must be the signed-in user's, or a shared mailbox the user has FullAccess to) and its Exchange licence."
		}
		return ctx.factsOr(catalog.IMAP, CodeIMAPAuthFailed, withAlternatives(x, noMailbox(ctx)), issueMailbox)
	case exch && sameLine(rest, "NO LOGIN failed."):
		return basicAuth(catalog.IMAP, CodeIMAPBasicAuth, r)
	}
	if m := respCode.FindStringSubmatch(rest); m != nil && !strings.EqualFold(m[1], "OK") {
		switch strings.ToUpper(m[2]) {
		case "AUTHENTICATIONFAILED":
			return standardRefusal(catalog.IMAP, r, srv, ctx, "RFC 5530 AUTHENTICATIONFAILED: authentication failed for a reason the server does not give", "NO AUTHENTICATE failed.")
		case "AUTHORIZATIONFAILED":
			x := standardRefusal(catalog.IMAP, r, srv, ctx, "RFC 5530 AUTHORIZATIONFAILED: the credentials were accepted, but they may not act as the user named in the login", "NO AUTHENTICATE failed.")
			x.Code, x.Title = CodeStdAuthorization, "Login accepted, but not for this mailbox"
			x.Fix = fmt.Sprintf("The user in the login (XOAUTH2 user=%s) must be the token's own user, or one it may act for (a shared mailbox it has full access to). %s", orPlaceholder(ctx.Mailbox, "mailbox"), x.Fix)
			return x
		case "EXPIRED":
			return Explanation{Code: CodeStdExpired, Title: "Credentials expired", Cause: fmt.Sprintf("%s answered %q: RFC 5530 EXPIRED, the credentials have expired.", whoIs(srv, ctx), r), Fix: "Get a new access token (the product should refresh it before it expires; check the computer's clock)."}
		case "UNAVAILABLE":
			return temporary(catalog.IMAP, r, srv, ctx, "RFC 5530 UNAVAILABLE: a temporary failure on the server's side, not the credentials")
		case "PRIVACYREQUIRED":
			return Explanation{Code: CodeStdNeedsTLS, Title: "Encryption required", Cause: fmt.Sprintf("%s answered %q: RFC 5530 PRIVACYREQUIRED, the login needs an encrypted connection.", whoIs(srv, ctx), r), Fix: "Use TLS (IMAP 993 implicit TLS, or STARTTLS before logging in)."}
		case "SERVERBUG", "CONTACTADMIN":
			return serverProblem(catalog.IMAP, r, srv, ctx, "RFC 5530 "+strings.ToUpper(m[2]))
		}
		return Explanation{}
	}
	if srv.NotExchange() && strings.HasPrefix(strings.ToUpper(rest), "NO ") && looksLikeLoginRefusal(rest) {
		return standardRefusal(catalog.IMAP, r, srv, ctx, "a NO reply to the login", "NO AUTHENTICATE failed.")
	}
	return Explanation{}
}

// looksLikeLoginRefusal: another server's own words for a refused login.
func looksLikeLoginRefusal(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "authenticat") || strings.Contains(l, "login") || strings.Contains(l, "logon") || strings.Contains(l, "credential")
}

// basicAuth is Exchange's refusal of a user name and password.
func basicAuth(p catalog.Protocol, code, r string) Explanation {
	return Explanation{Code: code, Title: "Password login refused", Cause: fmt.Sprintf("Exchange Online answered %q to a user name and password login: it accepts only OAuth2 for %s.", r, p.Label()), Fix: "Configure the product for OAuth2 (XOAUTH2) with this app."}
}

// standardRefusal explains a standard "credentials refused" reply: what the
// standard says, what the token carried and what it lacks, and, for a
// server that is not Exchange Online, that it is not. exchangeWords is
// Exchange Online's own refusal, to say this is not it.
func standardRefusal(p catalog.Protocol, r string, srv Server, ctx MailContext, meaning, exchangeWords string) Explanation {
	if x, ok := tokenProblem(p, ctx); ok {
		x.Cause = fmt.Sprintf("%s answered %q (%s). %s", whoIs(srv, ctx), r, meaning, x.Cause)
		return x
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s refused the login: %q (%s).", whoIs(srv, ctx), r, meaning)
	if t := tokenCarried(ctx); t != "" {
		b.WriteString(" " + t)
	}
	switch {
	case srv.NotExchange():
		fmt.Fprintf(&b, " This server is not Exchange Online (its greeting: %q); it accepts a Microsoft Entra token only if it is set up to.", srv.Greeting)
	case !srv.Known():
		fmt.Fprintf(&b, " Exchange Online's own refusal reads %q, so this reply comes from another server or a proxy in front of it.", exchangeWords)
	}
	perm := protocolPermission(p, ctx.Flow)
	want := "delegated: https://outlook.office.com/" + perm + " in scp"
	if ctx.AppOnly() {
		want = "app-only: https://outlook.office365.com/.default with " + perm + " in roles"
	} else if ctx.Flow == "" {
		want = "delegated: https://outlook.office.com/" + perm + " in scp; app-only: " + protocolPermission(p, catalog.ClientCredentials) + " in roles"
	}
	fix := fmt.Sprintf("Check that the product talks to the server it should (Exchange Online: %s) and sends a token that server accepts: for Exchange Online an Entra token for the Exchange resource (%s), from the mailbox's tenant, for the user named in the login, not expired. mailoauth test shows what the token carries.", exchangeEndpoint(p), want)
	return Explanation{Code: CodeStdAuthFailed, Title: p.Label() + " login refused", Cause: b.String(), Fix: fix}
}

func exchangeEndpoint(p catalog.Protocol) string {
	switch p {
	case catalog.IMAP:
		return "outlook.office365.com:993, TLS"
	case catalog.POP:
		return "outlook.office365.com:995, TLS"
	case catalog.SMTP:
		return "smtp.office365.com:587, STARTTLS"
	}
	return "outlook.office365.com"
}

// tokenCarried says what the token carried, when its claims are known.
func tokenCarried(ctx MailContext) string {
	if ctx.TokenAudience == "" && ctx.TokenScopes == nil && ctx.TokenRoles == nil && ctx.TokenTenant == "" {
		return ""
	}
	parts := []string{}
	if ctx.TokenAudience != "" {
		parts = append(parts, "audience "+ctx.TokenAudience)
	}
	if ctx.TokenRoles != nil || ctx.AppOnly() {
		parts = append(parts, "roles ["+strings.Join(ctx.TokenRoles, ", ")+"]")
	}
	if ctx.TokenScopes != nil || (!ctx.AppOnly() && ctx.Flow != "") {
		parts = append(parts, "scopes ["+strings.Join(ctx.TokenScopes, " ")+"]")
	}
	if ctx.TokenTenant != "" {
		parts = append(parts, "tenant "+ctx.TokenTenant)
	}
	if ctx.TokenUser != "" {
		parts = append(parts, "user "+ctx.TokenUser)
	}
	return "The token carried " + strings.Join(parts, ", ") + "."
}

func temporary(p catalog.Protocol, r string, srv Server, ctx MailContext, meaning string) Explanation {
	return Explanation{Code: CodeStdTemporary, Title: "Temporary server failure", Cause: fmt.Sprintf("%s answered %q (%s).", whoIs(srv, ctx), r, meaning), Fix: "Try again in a few minutes; if it persists, ask the server's administrator.", Retryable: true}
}

func serverProblem(p catalog.Protocol, r string, srv Server, ctx MailContext, meaning string) Explanation {
	return Explanation{Code: CodeStdServerProblem, Title: "Server problem", Cause: fmt.Sprintf("%s answered %q (%s): a problem on the server's side, not the token.", whoIs(srv, ctx), r, meaning), Fix: "Ask the server's administrator; the reply's text says more."}
}

func noXOAUTH2(p catalog.Protocol, r string, srv Server, ctx MailContext) Explanation {
	x := Explanation{Code: CodeNoXOAUTH2, Title: "XOAUTH2 not offered", Cause: fmt.Sprintf("%s does not list XOAUTH2 among its login methods (%s).", whoIs(srv, ctx), r)}
	switch {
	case srv.NotExchange():
		x.Cause += " It is not Exchange Online, which offers XOAUTH2."
		x.Fix = fmt.Sprintf("Point the product at Exchange Online (%s), or set this server up for OAuth2.", exchangeEndpoint(p))
	case p == catalog.SMTP:
		x.Fix = "Exchange Online offers AUTH XOAUTH2 only after STARTTLS on port 587: use smtp.office365.com:587 with STARTTLS and EHLO again after it."
	default:
		x.Fix = fmt.Sprintf("Exchange Online offers AUTH=XOAUTH2 on %s; check the host and port.", exchangeEndpoint(p))
	}
	return x
}

func popReply(r string, srv Server, ctx MailContext) Explanation {
	exch := !srv.NotExchange()
	switch {
	case exch && startsLine(r, "-ERR Protocol error. Connection is closed."):
		return Explanation{Code: CodePOPProtocolError, Title: "POP3 one-line AUTH refused", Cause: "The client sent AUTH XOAUTH2 with the token on the same line; Exchange Online accepts only the two-line form and closes the connection.", Fix: "Configure the client for the two-line form (send AUTH XOAUTH2, wait for +, then the token), e.g. mail.pop3.auth.xoauth2.two.line.authentication.format=true in Java products."}
	case exch && sameLine(r, "-ERR Authentication failure: unknown user name or bad password."):
		if x, ok := tokenProblem(catalog.POP, ctx); ok {
			return x
		}
		if ctx.AppOnly() {
			main := exchangeAccess(ctx, "Mailbox not reachable for the app")
			guess := withAlternatives(main, wrongObjectID(ctx, ctx.FullAccessCommand()), protocolDisabled(catalog.POP, ctx), noMailbox(ctx))
			return ctx.factsOr(catalog.POP, CodePOPAuthFailed, guess, issueRegistration, issueFullAccess, issueProtocol, issueMailbox)
		}
		main := protocolDisabled(catalog.POP, ctx)
		main.Cause = fmt.Sprintf("Exchange refused the login although the token looks right: most likely POP3 is turned off for %s.", orPlaceholder(ctx.Mailbox, "the mailbox"))
		return ctx.factsOr(catalog.POP, CodePOPAuthFailed, withAlternatives(main, noMailbox(ctx)), issueProtocol, issueMailbox)
	case exch && sameLine(r, "-ERR Logon failure: unknown user name or bad password."):
		return basicAuth(catalog.POP, CodePOPBasicAuth, r)
	}
	if m := respCode.FindStringSubmatch(r); m != nil && strings.EqualFold(m[1], "-ERR") {
		switch strings.ToUpper(m[2]) {
		case "AUTH":
			return standardRefusal(catalog.POP, r, srv, ctx, "RFC 3206 [AUTH]: a problem with the credentials", "-ERR Authentication failure: unknown user name or bad password.")
		case "SYS/TEMP":
			return temporary(catalog.POP, r, srv, ctx, "RFC 3206 [SYS/TEMP]: a temporary problem on the server's side, not the credentials")
		case "SYS/PERM":
			return serverProblem(catalog.POP, r, srv, ctx, "RFC 3206 [SYS/PERM]")
		case "IN-USE":
			return temporary(catalog.POP, r, srv, ctx, "RFC 2449 [IN-USE]: another session holds the mailbox")
		case "LOGIN-DELAY":
			return temporary(catalog.POP, r, srv, ctx, "RFC 2449 [LOGIN-DELAY]: logins come too often for this server")
		}
		return Explanation{}
	}
	if srv.NotExchange() && startsLine(r, "-ERR") && looksLikeLoginRefusal(r) {
		return standardRefusal(catalog.POP, r, srv, ctx, "an -ERR reply to the login", "-ERR Authentication failure: unknown user name or bad password.")
	}
	return Explanation{}
}

// smtpLine is the last line of a (possibly multi-line) SMTP reply: its
// code, enhanced status code and text; the texts of every line are joined.
type smtpLine struct {
	code, status, text string
}

var smtpRe = regexp.MustCompile(`^([2-5]\d\d)(?:[ -]|$)\s*(?:([245]\.\d{1,3}\.\d{1,3})\s*)?(.*)$`)

func parseSMTP(r string) (smtpLine, bool) {
	var out smtpLine
	var texts []string
	ok := false
	for _, l := range strings.Split(r, "\n") {
		m := smtpRe.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		ok = true
		out.code, out.status = m[1], m[2]
		if t := strings.TrimSpace(m[3]); t != "" {
			texts = append(texts, t)
		}
	}
	out.text = strings.Join(texts, " ")
	return out, ok
}

func smtpReply(r string, srv Server, ctx MailContext) Explanation {
	mbx := orPlaceholder(ctx.Mailbox, "the mailbox")
	exch := !srv.NotExchange()
	last := r
	if i := strings.LastIndex(r, "\n"); i >= 0 {
		last = strings.TrimSpace(r[i+1:])
	}
	switch {
	case exch && startsLine(last, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."):
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
		x := withAlternatives(tenant, org)
		if fc, ok := ctx.checkFacts(catalog.SMTP, issueSMTPAuth); ok && len(fc.found) > 0 {
			f := ctx.withFacts(CodeSMTPAuthTenantOff, fc, x)
			f.Alternatives, f.Link = []Explanation{org}, tenant.Link
			return f
		}
		return x
	case exch && startsLine(last, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox."):
		x := Explanation{
			Code:       CodeSMTPAuthMailboxOff,
			Title:      "SMTP AUTH disabled for the mailbox",
			Cause:      fmt.Sprintf("SMTP AUTH is turned off for %s (Set-CASMailbox -SmtpClientAuthenticationDisabled $true).", mbx),
			Fix:        fmt.Sprintf("Turn SMTP AUTH on for %s.", mbx),
			FixCommand: ctx.script(fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", ctx.mailbox())),
			Link:       "https://aka.ms/smtp_auth_disabled",
		}
		if fc, ok := ctx.checkFacts(catalog.SMTP, issueSMTPAuth); ok && len(fc.found) > 0 {
			f := ctx.withFacts(CodeSMTPAuthMailboxOff, fc, x)
			f.Link = x.Link
			return f
		}
		return x
	case exch && startsLine(last, "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy"):
		return Explanation{Code: CodeSMTPSecurityDefault, Title: "Blocked by security defaults", Cause: "The tenant's security defaults block this SMTP sign-in.", Fix: "Use OAuth (XOAUTH2) with an app, not a password; if a password is used, review the tenant's security defaults."}
	case exch && startsLine(last, "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."):
		return Explanation{Code: CodeSMTPBasicAuthOff, Title: "Basic authentication disabled", Cause: "The client logged in with a user name and password (AUTH LOGIN/PLAIN); Exchange Online accepts only OAuth.", Fix: "Configure the product for OAuth2 (XOAUTH2) with this app."}
	case exch && startsLine(last, "550 5.7.30 Basic authentication is not supported for Client Submission"):
		return Explanation{Code: CodeSMTPBasicNotSupport, Title: "Basic authentication not supported", Cause: "The client logged in with a user name and password; Exchange Online no longer accepts Basic authentication for client submission.", Fix: "Configure the product for OAuth2 (XOAUTH2) with this app."}
	case exch && startsLine(last, "550 5.7.60 SMTP; Client does not have permissions to send as this sender"):
		return smtpNoSendAs(ctx, mbx)
	case exch && startsLine(last, "504 5.7.4 Unrecognized authentication type"):
		return Explanation{Code: CodeSMTPNoTLSAuth, Title: "XOAUTH2 not offered", Cause: "The server did not accept AUTH XOAUTH2: Exchange Online offers it only after STARTTLS on port 587.", Fix: "Use port 587 with STARTTLS (not implicit TLS on 465, not plain text) and EHLO again after STARTTLS."}
	case exch && (startsLine(last, "530 5.7.57 Client not authenticated to send mail") || startsLine(last, "530 5.7.57 SMTP; Client was not authenticated to send anonymous mail")):
		return Explanation{Code: CodeSMTPNotAuth, Title: "Not authenticated", Cause: "The client tried to send without logging in.", Fix: "Configure the product to use SMTP AUTH with OAuth2."}
	case exch && storedrv.MatchString(last):
		x := Explanation{Code: CodeMailboxLogonFailed, Title: "Mailbox logon failed", Cause: fmt.Sprintf("Exchange accepted the login but could not open %s (%s).", mbx, r), Fix: "Wait a few minutes and test again; if it persists, check the mailbox permissions.", Retryable: true}
		if ctx.AppOnly() {
			x.FixCommand = ctx.script(ctx.FullAccessCommand())
		}
		return x
	case exch && exchange535.MatchString(last):
		return smtpAuthFailed(ctx, mbx)
	}
	s, ok := parseSMTP(r)
	if !ok {
		return Explanation{}
	}
	std := func(meaning string) Explanation {
		return standardRefusal(catalog.SMTP, r, srv, ctx, meaning, "535 5.7.3 Authentication unsuccessful")
	}
	switch {
	case s.code == "535":
		return std("RFC 4954 535 5.7.8: the credentials were not accepted")
	case s.code == "454":
		return temporary(catalog.SMTP, r, srv, ctx, "RFC 4954 454 4.7.0: a temporary authentication failure")
	case s.code == "538":
		return Explanation{Code: CodeStdNeedsTLS, Title: "Encryption required", Cause: fmt.Sprintf("%s answered %q: RFC 4954 538 5.7.11, this login method needs an encrypted connection.", whoIs(srv, ctx), r), Fix: "Use STARTTLS (port 587) before AUTH."}
	case s.code == "534" || s.code == "504":
		x := Explanation{Code: CodeStdMechanism, Title: "Login method refused", Cause: fmt.Sprintf("%s answered %q: it does not accept this login method (RFC 4954 %s) for XOAUTH2.", whoIs(srv, ctx), r, s.code)}
		x.Fix = "Use a server that offers AUTH XOAUTH2: Exchange Online offers it on smtp.office365.com:587 after STARTTLS."
		return x
	case s.code == "530" && s.status == "5.7.0":
		return Explanation{Code: CodeStdAuthRequired, Title: "Login required", Cause: fmt.Sprintf("%s answered %q (RFC 4954 530 5.7.0: authentication required).", whoIs(srv, ctx), r), Fix: "Configure the product to log in (SMTP AUTH with OAuth2) before sending."}
	case s.code[0] == '4':
		x := temporary(catalog.SMTP, r, srv, ctx, "an SMTP 4xx reply: a transient failure (RFC 5321)")
		x.Code = CodeServerBusy
		return x
	}
	return Explanation{}
}

var (
	// exchange535 is Exchange Online's generic AUTH refusal.
	exchange535 = regexp.MustCompile(`^(?i)535 5\.7\.3 Authentication unsuccessful(?: \[[^\]]*\])?\.?$`)
	// storedrv is Exchange's store driver failing to open the mailbox.
	storedrv = regexp.MustCompile(`^(?i)[45]\d\d [45]\.\d{1,3}\.\d{1,3} STOREDRV[.;]`)
)

// smtpAuthFailed is Exchange's 535 5.7.3. For app-only SMTP Microsoft's
// documented client-credentials procedure registers the app's service
// principal and gives it FullAccess on each mailbox (microsoft.md §15.2);
// Exchange refuses AUTH without them (field reports), so the fix grants
// FullAccess. SendAs is only for sending as another address.
func smtpAuthFailed(ctx MailContext, mbx string) Explanation {
	if x, ok := tokenProblem(catalog.SMTP, ctx); ok {
		return x
	}
	if ctx.AppOnly() {
		main := exchangeAccess(ctx, "Exchange does not let the app log in to the mailbox")
		if main.Code == "exchange-service-principal" {
			main.Cause = fmt.Sprintf("The app-only token looks right, but Exchange Online refused it for %s: the app's service principal is not registered in Exchange (New-ServicePrincipal missing, or run with the app registration's object id %s instead of the enterprise application's object id %s), or it has no FullAccess on the mailbox. Microsoft's procedure for client-credentials SMTP is New-ServicePrincipal, then Add-MailboxPermission FullAccess on each mailbox; SendAs is needed in addition only to send as another address.",
				mbx, orPlaceholder(ctx.AppObjectID, "app registration object id"), orPlaceholder(ctx.ServicePrincipalID, "enterprise application object id"))
			main.Fix = "Register the app's service principal in Exchange Online and give it FullAccess on the mailbox."
		}
		guess := withAlternatives(main, wrongObjectID(ctx, ctx.FullAccessCommand()), noMailbox(ctx))
		return ctx.factsOr(catalog.SMTP, CodeSMTPAuthFailed, guess, issueRegistration, issueFullAccess, issueMailbox)
	}
	x := Explanation{Code: "token-looks-right", Title: "SMTP login refused", Cause: fmt.Sprintf("Exchange refused the token for %s although its audience and scope look right: the mailbox may not exist or have no licence, or the user in the login is not the signed-in user.", mbx), Fix: "Check the mailbox address and its Exchange licence; log in as the signed-in user's own address."}
	return ctx.factsOr(catalog.SMTP, CodeSMTPAuthFailed, withAlternatives(x, noMailbox(ctx)), issueMailbox)
}

// smtpNoSendAs is Exchange's 550 5.7.60 at MAIL FROM.
func smtpNoSendAs(ctx MailContext, mbx string) Explanation {
	if ctx.AppOnly() {
		main := Explanation{
			Code:       CodeSMTPNoSendAs,
			Title:      "App may not send as this mailbox",
			Cause:      fmt.Sprintf("The login worked, but Exchange does not let the app send as %s: its service principal has no FullAccess on the mailbox, the right Microsoft's procedure for client-credentials SMTP grants (SendAs is needed in addition only to send as another address).", mbx),
			Fix:        fmt.Sprintf("Give the app's service principal FullAccess on %s.", mbx),
			FixCommand: ctx.script(ctx.FullAccessCommand()),
		}
		sendAs := Explanation{
			Code:       CodeSMTPNoSendAs,
			Title:      "Sending as another address",
			Cause:      fmt.Sprintf("If the product sends as an address other than the mailbox it logs in to, the app needs SendAs on that address (%s here).", mbx),
			Fix:        "Give the app's service principal SendAs on the address it sends as.",
			FixCommand: ctx.script(ctx.appSendAsCommand()),
		}
		return ctx.factsOr(catalog.SMTP, CodeSMTPNoSendAs, withAlternatives(main, sendAs), issueRegistration, issueFullAccess)
	}
	x := Explanation{
		Code:       CodeSMTPNoSendAs,
		Title:      "User may not send as this sender",
		Cause:      fmt.Sprintf("The sender address %s is not the signed-in user %s, who has no SendAs right on it.", mbx, orPlaceholder(ctx.TokenUser, "")),
		Fix:        "Send from the signed-in user's own address, or give that user SendAs on the sender mailbox.",
		FixCommand: ctx.script(ctx.SendAsCommand(orPlaceholder(ctx.TokenUser, "signed-in user"))),
	}
	return ctx.factsOr(catalog.SMTP, CodeSMTPNoSendAs, x, issueSendAs)
}

func ewsReply(r, low string, ctx MailContext) Explanation {
	switch {
	case strings.Contains(r, CodeEWSNoImpersonation) || strings.Contains(low, "exchangeimpersonation soap header must be present"):
		return Explanation{Code: CodeEWSNoImpersonation, Title: "Impersonation header missing", Cause: "App-only EWS requests must impersonate the mailbox, and this request did not.", Fix: fmt.Sprintf("Configure the product to send the ExchangeImpersonation SOAP header with SmtpAddress %s and the X-AnchorMailbox header with the same address.", orPlaceholder(ctx.Mailbox, "mailbox"))}
	case strings.Contains(r, CodeEWSNoMailbox):
		x := noMailbox(ctx)
		return ctx.factsOr(catalog.EWS, CodeEWSNoMailbox, x, issueMailbox)
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
		guess := Explanation{
			Code:  CodeEWSForbidden,
			Title: "EWS blocked for this app or mailbox",
			Cause: fmt.Sprintf("EWS is turned off for %s or the organisation, or app %s is not in the organisation's EwsAllowedAppIDs list (since 2026-10-01 Exchange Online switches EWS off tenant by tenant unless the organisation allow-lists its apps; EWS ends for good on 2027-04-01).", orPlaceholder(ctx.Mailbox, "the mailbox"), id),
			Fix:   "Turn EWS on for the mailbox and add the app to EwsAllowedAppIDs; the script keeps every id already listed. EwsEnabled $true makes the list exclusive: every app the organisation uses EWS with must be on it. Prefer Microsoft Graph mail for new setups.",
			FixCommand: ctx.script(append([]string{
				fmt.Sprintf("Set-CASMailbox -Identity %s -EwsEnabled $true", ctx.mailbox()),
				"# keep the ids already listed: read the list, add this app's id, write the union",
			}, allowListAddScript(ctx.AppID)...)...),
		}
		return ctx.factsOr(catalog.EWS, CodeEWSForbidden, guess, issueProtocol, issueEWSPolicy)
	case strings.Contains(low, "http 5"):
		return Explanation{Code: CodeServerBusy, Title: "EWS server error", Cause: fmt.Sprintf("EWS answered %s.", r), Fix: "Try again shortly; app-only requests need the X-AnchorMailbox header.", Retryable: true}
	}
	return Explanation{}
}
