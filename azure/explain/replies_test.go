package explain

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Greetings of real servers (docs/architecture.md for Exchange Online; the
// others as those servers send them).
const (
	exIMAP      = "* OK The Microsoft Exchange IMAP4 service is ready. [UABSADEANgBDAEEAMAAwADAANgAuAG4AYQBtAHAAcgBkADEANgAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]"
	exPOP       = "+OK The Microsoft Exchange POP3 service is ready. [UABSADEANgBDAEEAMAAwADAANgAuAG4AYQBtAHAAcgBkADEANgAuAHAAcgBvAGQA]"
	exSMTP      = "220 AM0PR02CA0012.outlook.office365.com Microsoft ESMTP MAIL Service ready at Tue, 1 Dec 2026 10:00:00 +0000"
	dovecotIMAP = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] Dovecot (Ubuntu) ready."
	dovecotPOP  = "+OK Dovecot (Ubuntu) ready."
	postfixSMTP = "220 mail.example.org ESMTP Postfix (Ubuntu)"
	gmailIMAP   = "* OK Gimap ready for requests from 203.0.113.5 a1mb123456"
	gmailSMTP   = "220 smtp.gmail.com ESMTP a1sm123456wrb.1 - gsmtp"
	otherIMAP   = "* OK IMAP4 server ready"
)

// TestReplies: replies of Exchange Online, of other servers (Dovecot,
// Postfix, Gmail, an unnamed one) and unknown text, each to the
// explanation it must get, and never an Exchange-only cause for another
// server's words.
func TestReplies(t *testing.T) {
	exchangeOnly := []string{"Set-CASMailbox", "New-ServicePrincipal", "Add-MailboxPermission", "turned off for", "POP3 disabled", "IMAP disabled"}
	tests := []struct {
		name     string
		p        catalog.Protocol
		greeting string
		reply    string
		ctx      MailContext
		code     string
		cause    []string
		exchange bool // Exchange-only causes allowed
	}{
		// Exchange Online's own lines, from Exchange and from a pasted line (no greeting).
		{"exchange imap not connected", catalog.IMAP, exIMAP, "A5 BAD User is authenticated but not connected.", userCtx(), CodeIMAPNotConnected, []string{"IMAP is turned off"}, true},
		{"exchange imap not connected pasted", catalog.IMAP, "", "A5 BAD User is authenticated but not connected.", appCtx(), CodeIMAPNotConnected, []string{"New-ServicePrincipal"}, true},
		{"exchange imap auth failed", catalog.IMAP, exIMAP, "A4 NO AUTHENTICATE failed.", userCtx(), CodeIMAPAuthFailed, []string{"mailbox probably does not exist"}, true},
		{"exchange imap basic", catalog.IMAP, exIMAP, "A1 NO LOGIN failed.", MailContext{}, CodeIMAPBasicAuth, []string{"only OAuth2"}, true},
		{"exchange pop auth failure", catalog.POP, exPOP, "-ERR Authentication failure: unknown user name or bad password.", userCtx(), CodePOPAuthFailed, []string{"POP3 is turned off"}, true},
		{"exchange pop one-line", catalog.POP, exPOP, "-ERR Protocol error. Connection is closed. 10", userCtx(), CodePOPProtocolError, []string{"two-line"}, true},
		{"exchange pop basic", catalog.POP, exPOP, "-ERR Logon failure: unknown user name or bad password.", MailContext{}, CodePOPBasicAuth, []string{"only OAuth2"}, true},
		{"exchange smtp 5.7.3", catalog.SMTP, exSMTP, "535 5.7.3 Authentication unsuccessful [AM0PR02CA0012.eurprd02.prod.outlook.com 2026-12-01T10:00:00.000Z 08DD]", appCtx(), CodeSMTPAuthFailed, []string{"FullAccess"}, true},
		{"exchange smtp tenant off", catalog.SMTP, exSMTP, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR02CA0012.eurprd02.prod.outlook.com]", userCtx(), CodeSMTPAuthTenantOff, []string{"whole organisation"}, true},
		{"exchange smtp mailbox off", catalog.SMTP, exSMTP, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.", userCtx(), CodeSMTPAuthMailboxOff, []string{"turned off for helpdesk"}, true},
		{"exchange smtp basic", catalog.SMTP, exSMTP, "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [host]", userCtx(), CodeSMTPBasicAuthOff, []string{"user name and password"}, true},
		{"exchange smtp basic 5.7.30", catalog.SMTP, exSMTP, "550 5.7.30 Basic authentication is not supported for Client Submission.", userCtx(), CodeSMTPBasicNotSupport, []string{"Basic authentication"}, true},
		{"exchange smtp security defaults", catalog.SMTP, exSMTP, "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.", userCtx(), CodeSMTPSecurityDefault, []string{"security defaults"}, true},
		{"exchange smtp 5.7.60 app", catalog.SMTP, exSMTP, "550 5.7.60 SMTP; Client does not have permissions to send as this sender [host]", appCtx(), CodeSMTPNoSendAs, []string{"FullAccess", "SendAs is needed in addition only"}, true},
		{"exchange smtp 504", catalog.SMTP, exSMTP, "504 5.7.4 Unrecognized authentication type [host]", userCtx(), CodeSMTPNoTLSAuth, []string{"STARTTLS"}, true},
		{"exchange smtp 530", catalog.SMTP, exSMTP, "530 5.7.57 Client not authenticated to send mail. [host]", userCtx(), CodeSMTPNotAuth, []string{"without logging in"}, true},
		{"exchange smtp storedrv", catalog.SMTP, exSMTP, "430 4.2.0 STOREDRV; mailbox logon failure; Cannot open mailbox", appCtx(), CodeMailboxLogonFailed, []string{"could not open"}, true},

		// The brief's example: Dovecot's temporary failure is not "POP3 disabled".
		{"pop sys/temp pasted", catalog.POP, "", "-ERR [SYS/TEMP] Temporary authentication failure.", userCtx(), CodeStdTemporary, []string{"RFC 3206 [SYS/TEMP]", "not the credentials"}, false},
		{"dovecot pop sys/temp", catalog.POP, dovecotPOP, "-ERR [SYS/TEMP] Temporary authentication failure.", appCtx(), CodeStdTemporary, []string{"Dovecot"}, false},
		{"dovecot pop auth", catalog.POP, dovecotPOP, "-ERR [AUTH] Authentication failed.", userCtx(), CodeStdAuthFailed, []string{"RFC 3206 [AUTH]", "not Exchange Online", "Dovecot (Ubuntu) ready."}, false},
		{"dovecot imap authenticationfailed", catalog.IMAP, dovecotIMAP, "A4 NO [AUTHENTICATIONFAILED] Authentication failed.", appCtx(), CodeStdAuthFailed, []string{"RFC 5530 AUTHENTICATIONFAILED", "not Exchange Online", "roles ["}, false},
		{"dovecot imap unavailable", catalog.IMAP, dovecotIMAP, "A4 NO [UNAVAILABLE] Temporary authentication failure. [mail:2026-12-01 10:00:00]", userCtx(), CodeStdTemporary, []string{"UNAVAILABLE"}, false},
		{"imap authorizationfailed", catalog.IMAP, dovecotIMAP, "A4 NO [AUTHORIZATIONFAILED] Authorization failed", userCtx(), CodeStdAuthorization, []string{"may not act as the user"}, false},
		{"imap expired", catalog.IMAP, "", "A4 NO [EXPIRED] Authentication failed.", userCtx(), CodeStdExpired, []string{"expired"}, false},
		{"imap privacyrequired", catalog.IMAP, "", "A4 NO [PRIVACYREQUIRED] Use TLS", userCtx(), CodeStdNeedsTLS, []string{"encrypted"}, false},
		{"pasted imap authenticationfailed", catalog.IMAP, "", "A4 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", MailContext{}, CodeStdAuthFailed, []string{"Exchange Online's own refusal reads"}, false},
		{"gmail imap", catalog.IMAP, gmailIMAP, "A4 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", userCtx(), CodeStdAuthFailed, []string{"Gmail"}, false},
		{"postfix smtp 5.7.8", catalog.SMTP, postfixSMTP, "535 5.7.8 Error: authentication failed: authentication failure", appCtx(), CodeStdAuthFailed, []string{"Postfix", "RFC 4954"}, false},
		{"gmail smtp multi-line", catalog.SMTP, gmailSMTP, "535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123456wrb.1 - gsmtp", userCtx(), CodeStdAuthFailed, []string{"Gmail"}, false},
		{"smtp 454", catalog.SMTP, postfixSMTP, "454 4.7.0 Temporary authentication failure", userCtx(), CodeStdTemporary, []string{"temporary"}, false},
		{"smtp 504 other", catalog.SMTP, postfixSMTP, "504 5.5.4 Unrecognized authentication type", userCtx(), CodeStdMechanism, []string{"login method"}, false},
		{"smtp 538", catalog.SMTP, "", "538 5.7.11 Encryption required for requested authentication mechanism", userCtx(), CodeStdNeedsTLS, []string{"encrypted"}, false},
		{"smtp 421", catalog.SMTP, "", "421 4.3.2 Service not available", userCtx(), CodeServerBusy, []string{"421"}, false},
		// Exchange's exact words from a server that is not Exchange: no Exchange cause.
		{"exchange words from another server", catalog.IMAP, otherIMAP, "A4 NO AUTHENTICATE failed.", userCtx(), CodeStdAuthFailed, []string{"not Exchange Online"}, false},
		{"exchange pop words from dovecot", catalog.POP, dovecotPOP, "-ERR Authentication failure: unknown user name or bad password.", appCtx(), CodeStdAuthFailed, []string{"Dovecot"}, false},
		{"exchange smtp words from postfix", catalog.SMTP, postfixSMTP, "550 5.7.60 SMTP; Client does not have permissions to send as this sender", appCtx(), CodeUnrecognised, []string{"550 5.7.60"}, false},
		// Unknown text: reported as unknown with its exact words.
		{"unknown imap", catalog.IMAP, exIMAP, "A4 NO [XYZ] something new", userCtx(), CodeUnrecognised, []string{"A4 NO [XYZ] something new"}, false},
		{"unknown pop", catalog.POP, "", "-ERR Something odd happened", userCtx(), CodeUnrecognised, []string{"-ERR Something odd happened"}, false},
		{"unknown smtp 550", catalog.SMTP, exSMTP, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", userCtx(), CodeUnrecognised, []string{"RESOLVER.ADR.RecipientNotFound"}, false},
		{"near-exchange wording", catalog.POP, exPOP, "-ERR Authentication failure: something else", userCtx(), CodeUnrecognised, []string{"something else"}, false},
		{"no xoauth2 offered", catalog.IMAP, dovecotIMAP, "server does not offer AUTH=XOAUTH2: * CAPABILITY IMAP4rev1 AUTH=PLAIN", userCtx(), CodeNoXOAUTH2, []string{"XOAUTH2", "not Exchange Online"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			ctx.Greeting = tc.greeting
			x := Mail(tc.p, tc.reply, ctx)
			if x.Code != tc.code {
				t.Fatalf("code %q, want %q\n%s", x.Code, tc.code, x)
			}
			all := x.Cause
			for _, s := range tc.cause {
				if !strings.Contains(all, s) && !strings.Contains(x.Fix+x.FixCommand, s) {
					t.Errorf("cause %q lacks %q", x.Cause, s)
				}
			}
			if tc.exchange {
				return
			}
			text := x.String()
			for _, a := range x.Alternatives {
				text += "\n" + a.String()
			}
			for _, bad := range exchangeOnly {
				if strings.Contains(text, bad) {
					t.Errorf("an Exchange-only cause for another server's words (%q):\n%s", bad, text)
				}
			}
		})
	}
}

func TestIdentifyServer(t *testing.T) {
	for _, tc := range []struct {
		p              catalog.Protocol
		greeting, host string
		family         string
	}{
		{catalog.IMAP, exIMAP, "", "exchange"},
		{catalog.POP, exPOP, "", "exchange"},
		{catalog.SMTP, exSMTP, "", "exchange"},
		{catalog.SMTP, "220 mail.contoso.com Microsoft ESMTP MAIL Service ready at Tue", "", "exchange"},
		{catalog.IMAP, dovecotIMAP, "", "dovecot"},
		{catalog.POP, dovecotPOP, "", "dovecot"},
		{catalog.SMTP, postfixSMTP, "", "postfix"},
		{catalog.IMAP, gmailIMAP, "", "gmail"},
		{catalog.SMTP, gmailSMTP, "", "gmail"},
		{catalog.IMAP, otherIMAP, "outlook.office365.com", "other"}, // the greeting outweighs the host
		{catalog.IMAP, "", "outlook.office365.com", "exchange"},
		{catalog.SMTP, "", "smtp.office365.com:587", "exchange"},
		{catalog.IMAP, "", "imap.example.org", ""},
		{catalog.IMAP, "", "", ""},
		{catalog.EWS, "", "127.0.0.1", "exchange"},
		{catalog.SMTP, "220 Microsoft ESMTP", "", "other"},
	} {
		if got := IdentifyServer(tc.p, tc.greeting, tc.host); got.Family != tc.family {
			t.Errorf("%s %q %q: family %q, want %q", tc.p, tc.greeting, tc.host, got.Family, tc.family)
		}
	}
}

func TestNewAADSTSCodes(t *testing.T) {
	for code, want := range map[int]string{28000: "more than one resource", 7000229: "missing service principal", 1002012: "/.default"} {
		x := AADSTS(code)
		if x.Title == "Sign-in failed" || !strings.Contains(x.Cause, want) || x.Fix == "" {
			t.Errorf("AADSTS%d: %+v", code, x)
		}
	}
	if AADSTS(7000229).FixAction != ActionCreateSP {
		t.Error("7000229 offers no service principal creation")
	}
	ctx := MailContext{Flow: catalog.ClientCredentials, AppID: appID, TenantID: tid}
	if x := AADSTSFor(7000229, ctx); !strings.Contains(x.Fix, appID) || !strings.Contains(x.Fix, tid) {
		t.Errorf("7000229 fix: %s", x.Fix)
	}
	if x := AADSTSFor(1002012, ctx); !strings.Contains(x.Fix, "https://outlook.office365.com/.default") {
		t.Errorf("1002012 fix: %s", x.Fix)
	}
}

func TestTLSMode(t *testing.T) {
	for _, tc := range []struct {
		port int
		ev   TLSEvidence
		want string
	}{
		{465, ImplicitTLSPort, "587"},
		{465, TLSProbeHandshake, "587"},
		{993, ImplicitTLSPort, "IMAP over implicit TLS"},
		{2525, TLSRecordForGreeting, "587"},
	} {
		x := TLSMode(catalog.SMTP, "127.0.0.1:"+strconv.Itoa(tc.port), tc.port, "greeting", tc.ev, "15 03 03")
		if x.Code != CodeTLSMode || !strings.Contains(x.Fix, tc.want) || !strings.Contains(x.Cause, "during greeting") {
			t.Errorf("%d %s: %+v", tc.port, tc.ev, x)
		}
	}
	if x := TLSMode(catalog.IMAP, "h:143", 143, "tls", PlainTextForHandshake, "* OK"); !strings.Contains(x.Fix, "993") {
		t.Errorf("plain text: %+v", x)
	}
}
