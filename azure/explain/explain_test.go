package explain

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// msalText is the error text MSAL Go's comm package builds for a non-200
// token reply (apps/internal/oauth/ops/internal/comm/comm.go).
func msalText(status int, body string) error {
	return fmt.Errorf("http call(https://login.microsoftonline.com/t/oauth2/v2.0/token)(POST) error: reply status code was %d:\n%s", status, body)
}

const secretBody = `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2026-11-21 10:00:00Z","error_codes":[7000215],"timestamp":"2026-11-21 10:00:00Z","trace_id":"tr-1","correlation_id":"co-2","error_uri":"https://login.microsoftonline.com/error?code=7000215"}`

func TestParseAAD(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		ok       bool
		code     int
		status   int
		errStr   string
		trace    string
		retryNow bool
	}{
		{"msal text", msalText(401, secretBody), true, 7000215, 401, "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.", "tr-1", true},
		{"wrapped", fmt.Errorf("acquire token: %w", msalText(400, `{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication.","error_codes":[50076],"suberror":"basic_action"}`)), true, 50076, 400, "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication.", "", false},
		{"json before the error", msalText(400, `{"x":{"y":1}} then {"error":"invalid_client","error_codes":[700016],"error_description":"AADSTS700016: Application with identifier 'a' was not found"}`), true, 700016, 400, "AADSTS700016: Application with identifier 'a' was not found", "", true},
		{"no codes array", msalText(400, `{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented"}`), true, 65001, 400, "AADSTS65001: The user or administrator has not consented", "", true},
		{"plain text code", errors.New("something AADSTS50126: Error validating credentials"), true, 50126, 0, "AADSTS50126: Error validating credentials", "", false},
		{"oauth error only", msalText(400, `{"error":"authorization_declined","error_description":"The user declined"}`), true, 0, 400, "The user declined", "", false},
		{"not aad", errors.New("dial tcp: connection refused"), false, 0, 0, "", "", false},
		{"nil", nil, false, 0, 0, "", "", false},
		{"broken json", msalText(400, `{"error":"invalid_client",`), false, 0, 0, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := ParseAAD(tc.err)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if e.Code() != tc.code || e.Status != tc.status || e.Error() != tc.errStr || e.TraceID != tc.trace {
				t.Fatalf("got code %d status %d trace %q error %q", e.Code(), e.Status, e.TraceID, e.Error())
			}
			if got := e.Explain().Retryable; got != tc.retryNow {
				t.Errorf("Retryable = %v, want %v", got, tc.retryNow)
			}
		})
	}
}

func TestParseAADKeepsTypedError(t *testing.T) {
	orig := &AADError{Codes: []int{50076}, Err: "invalid_grant", Description: "AADSTS50076: MFA"}
	got, ok := ParseAAD(fmt.Errorf("x: %w", orig))
	if !ok || got != orig {
		t.Fatalf("ParseAAD did not return the wrapped *AADError")
	}
}

// Every code of microsoft.md §8, incl. "Others worth mapping", has its own
// entry (not the generic fallback).
func TestAADSTSTable(t *testing.T) {
	codes := []int{7000215, 7000222, 7000218, 700016, 700024, 65001, 50076, 50079, 50126, 50034, 50020, 53003, 90002, 500011, 9002313, 70011,
		50105, 650056, 650057, 65004, 700025, 700022, 9001023, 90124, 90130, 50194, 54005, 700082, 50173, 530035, 65002}
	for _, c := range codes {
		x := AADSTS(c)
		if x.Title == "Sign-in failed" || x.Cause == "" || x.Fix == "" {
			t.Errorf("AADSTS%d has no specific explanation: %+v", c, x)
		}
		if x.Code != fmt.Sprintf("AADSTS%d", c) || x.Link != fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", c) {
			t.Errorf("AADSTS%d: code %q link %q", c, x.Code, x.Link)
		}
	}
	unknown := AADSTS(123456)
	if unknown.Title != "Sign-in failed" || !strings.Contains(unknown.Fix, "https://login.microsoftonline.com/error?code=123456") {
		t.Errorf("unknown code: %+v", unknown)
	}
	for code, want := range map[int]Action{65001: ActionGrantConsent, 7000222: ActionNewSecret, 7000218: ActionAllowPublicClient, 50105: ActionAssignUser, 50011: ActionAddRedirectURI} {
		if got := AADSTS(code).FixAction; got != want {
			t.Errorf("AADSTS%d action %q, want %q", code, got, want)
		}
	}
	for code, want := range map[int]bool{7000215: true, 700016: true, 65001: true, 7000222: false, 50076: false} {
		if AADSTS(code).Retryable != want {
			t.Errorf("AADSTS%d retryable != %v", code, want)
		}
	}
}

func TestAADSTSForFillsValues(t *testing.T) {
	ctx := MailContext{Flow: catalog.ClientCredentials, AppID: "11111111-2222-3333-4444-555555555555", TenantID: "tid-1", Mailbox: "helpdesk@contoso.com"}
	if x := AADSTSFor(65001, ctx); !strings.Contains(x.Fix, ctx.AppID) || !strings.Contains(x.Fix, "app role assignment") {
		t.Errorf("65001 app-only fix: %s", x.Fix)
	}
	ctx.Flow = catalog.ROPC
	if x := AADSTSFor(65001, ctx); !strings.Contains(x.Fix, "oauth2PermissionGrant") {
		t.Errorf("65001 delegated fix: %s", x.Fix)
	}
	if x := AADSTSFor(50076, ctx); !strings.Contains(x.Cause, "helpdesk@contoso.com") || !strings.Contains(x.Fix, "device code") {
		t.Errorf("50076: %+v", x)
	}
	if x := AADSTSFor(700016, ctx); !strings.Contains(x.Fix, "tid-1") {
		t.Errorf("700016: %s", x.Fix)
	}
}

func TestGraph(t *testing.T) {
	body := func(code, msg, detail string) []byte {
		d := ""
		if detail != "" {
			d = fmt.Sprintf(`,"details":[{"code":%q,"message":"m","target":"appId"}]`, detail)
		}
		return []byte(fmt.Sprintf(`{"error":{"code":%q,"message":%q%s,"innerError":{"date":"2026-11-21T10:00:00","request-id":"req-1","client-request-id":"c"}}}`, code, msg, d))
	}
	tests := []struct {
		name      string
		status    int
		body      []byte
		op        Operation
		ctx       MailContext
		code      string
		retryable bool
		inFix     string
		action    Action
	}{
		{"denied graph app role", 403, body("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", ""), OpGrantGraphAppRole, MailContext{}, "Authorization_RequestDenied", false, "Privileged Role Administrator", ""},
		{"denied exo app role", 403, body("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", ""), OpGrantExchangeAppRole, MailContext{}, "Authorization_RequestDenied", false, "Cloud Application Administrator", ""},
		{"no backing app", 400, body("Request_BadRequest", "The appId 'x' of the service principal does not reference a valid application object.", "NoBackingApplicationObject"), OpCreateSP, MailContext{}, "NoBackingApplicationObject", true, "retry", ActionRetry},
		{"not found", 404, body("Request_ResourceNotFound", "Resource 'x' does not exist or one of its queried reference-property objects are not present.", ""), "", MailContext{}, "Request_ResourceNotFound", true, "retry", ""},
		{"throttled", 429, body("TooManyRequests", "Too many requests", ""), "", MailContext{}, "TooManyRequests", true, "Retry-After", ""},
		{"unavailable", 503, []byte("<html>busy</html>"), "", MailContext{}, "Service Unavailable", true, "again", ""},
		{"gateway timeout", 504, body("UnknownError", "", ""), "", MailContext{}, "UnknownError", true, "again", ""},
		{"bad token", 401, body("InvalidAuthenticationToken", "Access token validation failure. Invalid audience.", ""), "", MailContext{}, "InvalidAuthenticationToken", false, "https://graph.microsoft.com", ""},
		{"mail denied app-only", 403, body("ErrorAccessDenied", "Access is denied. Check credentials and try again.", ""), OpMail, MailContext{Flow: catalog.ClientCredentials, Mailbox: "helpdesk@contoso.com", ServicePrincipalID: "sp-1"}, "ErrorAccessDenied", false, "helpdesk@contoso.com", ActionAddPermission},
		{"mail denied delegated", 403, body("ErrorAccessDenied", "Access is denied. Check credentials and try again.", ""), OpMail, MailContext{Flow: catalog.AuthCode}, "ErrorAccessDenied", false, "signed-in user's mailbox", ActionAddPermission},
		{"no mailbox", 404, body("MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.", ""), OpMail, MailContext{Mailbox: "unlicensed@contoso.com"}, "MailboxNotEnabledForRESTAPI", false, "licence", ""},
		{"lifetime policy", 400, body("Request_BadRequest", "Credential lifetime exceeds the max value allowed as per assigned policy 'abc'.", ""), OpAddSecret, MailContext{}, "CredentialLifetimePolicy", false, "shorter", ActionNewSecret},
		{"claim invalid", 400, body("Request_BadRequest", "Claim is invalid: 5e5addcd-3e8d-4e90-baf5-964efab2b20a does not exist on resource application 00000002-0000-0ff1-ce00-000000000000", ""), OpCreateApp, MailContext{}, "PermissionNotPublished", false, "service principal", ""},
		{"unsupported query", 400, body("Request_UnsupportedQuery", "Unsupported query.", ""), "", MailContext{}, "Request_UnsupportedQuery", false, "defect", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ge, _ := ParseGraphBody(tc.status, tc.body)
			x := GraphFor(ge, tc.op, tc.ctx)
			if x.Code != tc.code || x.Retryable != tc.retryable || !strings.Contains(x.Fix+x.Cause, tc.inFix) || x.FixAction != tc.action {
				t.Fatalf("got %+v", x)
			}
		})
	}
	ge, ok := ParseGraphBody(403, body("Authorization_RequestDenied", "Insufficient privileges to complete the operation.\nmore", ""))
	if !ok || ge.RequestID != "req-1" || ge.Date != "2026-11-21T10:00:00" {
		t.Fatalf("parse: %+v", ge)
	}
	if got, want := ge.Error(), "Graph 403 Authorization_RequestDenied: Insufficient privileges to complete the operation. [request-id req-1]"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if x := GraphMail(catalog.GraphSend, &GraphError{Status: 403, Code: "ErrorAccessDenied"}, MailContext{Flow: catalog.ClientCredentials}); !strings.Contains(x.Fix, "Mail.Send") {
		t.Errorf("GraphMail send fix: %s", x.Fix)
	}
}

const (
	appID = "5f0e0a54-3b7e-4b7e-9a2a-1f1b2c3d4e5f"
	spID  = "9a8b7c6d-1111-2222-3333-444455556666"
	objID = "0badc0de-1111-2222-3333-444455556666"
	tid   = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	mbx   = "helpdesk@contoso.com"
)

func appCtx() MailContext {
	return MailContext{Flow: catalog.ClientCredentials, Mailbox: mbx, AppID: appID, ServicePrincipalID: spID, AppObjectID: objID, TenantID: tid,
		TokenAudience: "https://outlook.office365.com", TokenRoles: []string{"IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp", "full_access_as_app"}, TokenTenant: tid}
}

func userCtx() MailContext {
	return MailContext{Flow: catalog.ROPC, Mailbox: mbx, AppID: appID, TenantID: tid, TokenAudience: "https://outlook.office.com",
		TokenScopes: []string{"IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send", "EWS.AccessAsUser.All"}, TokenTenant: tid, TokenUser: mbx}
}

func TestMail(t *testing.T) {
	wrongAud := appCtx()
	wrongAud.TokenAudience = "https://graph.microsoft.com"
	noRole := appCtx()
	noRole.TokenRoles = []string{"POP.AccessAsApp"}
	noScope := userCtx()
	noScope.TokenScopes = []string{"SMTP.Send"}
	otherUser := userCtx()
	otherUser.TokenUser = "admin@contoso.onmicrosoft.com"
	otherTenant := userCtx()
	otherTenant.TokenTenant = "00000000-0000-0000-0000-000000000001"
	expired := userCtx()
	expired.TokenExpired = true
	gcc := appCtx()
	gcc.ExchangeEnvironment = "O365USGovGCCHigh"

	connect := `Connect-ExchangeOnline -Organization '` + tid + `'`
	tests := []struct {
		name  string
		p     catalog.Protocol
		reply string
		ctx   MailContext
		code  string
		cause string // substring of Cause
		fix   string // substring of Fix + FixCommand
		alts  []string
	}{
		{"imap not connected app-only", catalog.IMAP, "A2 BAD User is authenticated but not connected.", appCtx(), CodeIMAPNotConnected, objID, `New-ServicePrincipal -AppId '` + appID + `' -ObjectId '` + spID + `'`, []string{"exchange-service-principal-wrong-id", "imap-disabled"}},
		{"imap not connected app-only fullaccess", catalog.IMAP, "A2 BAD User is authenticated but not connected.", appCtx(), CodeIMAPNotConnected, "FullAccess", `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + spID + `' -AccessRights FullAccess`, nil},
		{"imap not connected delegated", catalog.IMAP, "A2 BAD User is authenticated but not connected.", userCtx(), CodeIMAPNotConnected, "IMAP is turned off", connect + "\n" + `Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true`, []string{"mailbox-not-ready"}},
		{"imap wrong audience", catalog.IMAP, "A1 NO AUTHENTICATE failed.", wrongAud, CodeTokenAudience, "https://graph.microsoft.com", "https://outlook.office365.com/.default", nil},
		{"imap missing role", catalog.IMAP, "A1 NO AUTHENTICATE failed.", noRole, CodeTokenPermission, "IMAP.AccessAsApp", "Office 365 Exchange Online", nil},
		{"imap missing scope", catalog.IMAP, "A1 NO AUTHENTICATE failed.", noScope, CodeTokenPermission, "IMAP.AccessAsUser.All", "https://outlook.office.com/IMAP.AccessAsUser.All", nil},
		{"imap user mismatch", catalog.IMAP, "A1 NO AUTHENTICATE failed.", otherUser, CodeTokenUser, "admin@contoso.onmicrosoft.com", `-User 'admin@contoso.onmicrosoft.com' -AccessRights FullAccess`, nil},
		{"imap other tenant", catalog.IMAP, "A1 NO AUTHENTICATE failed.", otherTenant, CodeTokenTenant, "00000000-0000-0000-0000-000000000001", tid, nil},
		{"imap expired", catalog.IMAP, "A1 NO AUTHENTICATE failed.", expired, CodeTokenExpired, "expired", "new token", nil},
		{"imap no mailbox", catalog.IMAP, "A1 NO AUTHENTICATE failed.", userCtx(), CodeIMAPAuthFailed, "licence", "licence", []string{"no-mailbox"}},
		{"pop one-line", catalog.POP, "-ERR Protocol error. Connection is closed. 10", userCtx(), CodePOPProtocolError, "two-line", "two.line", nil},
		{"pop app-only", catalog.POP, "-ERR Authentication failure: unknown user name or bad password.", appCtx(), CodePOPAuthFailed, "New-ServicePrincipal", "Add-MailboxPermission", []string{"exchange-service-principal-wrong-id", "pop3-disabled", "no-mailbox"}},
		{"pop delegated", catalog.POP, "-ERR Authentication failure: unknown user name or bad password.", userCtx(), CodePOPAuthFailed, "POP3 is turned off", "-PopEnabled $true", []string{"no-mailbox"}},
		{"smtp tenant off", catalog.SMTP, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", userCtx(), CodeSMTPAuthTenantOff, "whole organisation", `Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false`, []string{CodeSMTPAuthTenantOff}},
		{"smtp mailbox off", catalog.SMTP, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.", userCtx(), CodeSMTPAuthMailboxOff, "helpdesk@contoso.com", `Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false`, nil},
		{"smtp basic", catalog.SMTP, "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.", userCtx(), CodeSMTPBasicAuthOff, "user name and password", "XOAUTH2", nil},
		{"smtp 5.7.60 app: FullAccess", catalog.SMTP, "550 5.7.60 SMTP; Client does not have permissions to send as this sender", appCtx(), CodeSMTPNoSendAs, "FullAccess", `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + spID + `' -AccessRights FullAccess`, []string{CodeSMTPNoSendAs}},
		{"smtp sendas delegated", catalog.SMTP, "550 5.7.60 SMTP; Client does not have permissions to send as this sender", otherUser, CodeSMTPNoSendAs, "admin@contoso.onmicrosoft.com", `-Trustee 'admin@contoso.onmicrosoft.com'`, nil},
		{"smtp 5.7.3 app-only", catalog.SMTP, "535 5.7.3 Authentication unsuccessful [127.0.0.1]", appCtx(), CodeSMTPAuthFailed, "not registered in Exchange", "New-ServicePrincipal", []string{"exchange-service-principal-wrong-id", "no-mailbox"}},
		{"smtp 5.7.3 app-only needs FullAccess, not SendAs", catalog.SMTP, "535 5.7.3 Authentication unsuccessful [127.0.0.1]", appCtx(), CodeSMTPAuthFailed, "FullAccess on each mailbox", `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + spID + `' -AccessRights FullAccess`, nil},
		{"smtp 5.7.3 wrong audience", catalog.SMTP, "535 5.7.3 Authentication unsuccessful [127.0.0.1]", wrongAud, CodeTokenAudience, "Exchange Online tokens", ".default", nil},
		{"smtp before starttls", catalog.SMTP, "504 5.7.4 Unrecognized authentication type", userCtx(), CodeSMTPNoTLSAuth, "STARTTLS", "587", nil},
		{"smtp storedrv", catalog.SMTP, "430 4.2.0 STOREDRV; mailbox logon failure; MapiExceptionLogonFailed", appCtx(), CodeMailboxLogonFailed, "could not open", "FullAccess", nil},
		{"smtp 421", catalog.SMTP, "421 4.3.2 Service not available", userCtx(), CodeServerBusy, "421", "again", nil},
		{"ews impersonation", catalog.EWS, "HTTP 500 ErrorInvalidExchangeImpersonationHeaderData: ExchangeImpersonation SOAP header must be present for this type of OAuth token.", appCtx(), CodeEWSNoImpersonation, "impersonate", "X-AnchorMailbox", nil},
		{"ews no mailbox", catalog.EWS, "ErrorNonExistentMailbox: The SMTP address has no mailbox associated with it.", userCtx(), CodeEWSNoMailbox, "no Exchange Online mailbox", "licence", nil},
		{"ews 403", catalog.EWS, "HTTP 403 Forbidden", appCtx(), CodeEWSForbidden, "EwsAllowedAppIDs", `if ($ids -notcontains '` + appID + `') { $ids += '` + appID + `' }` + "\nSet-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs ($ids -join ',')", nil},
		{"ews 401 audience", catalog.EWS, `HTTP 401 x-ms-diagnostics: 2000001;reason="The token has an invalid audience"`, wrongAud, CodeTokenAudience, "graph", ".default", nil},
		{"ews 401", catalog.EWS, `HTTP 401 x-ms-diagnostics: 2000001;reason="signature"`, userCtx(), CodeEWSUnauthorized, "401", "EWS.AccessAsUser.All", nil},
		{"graph text", catalog.GraphRead, "403 ErrorAccessDenied Access is denied.", appCtx(), "ErrorAccessDenied", "application access policy", "Mail.Read", nil},
		{"gcc high connect", catalog.IMAP, "A2 BAD User is authenticated but not connected.", gcc, CodeIMAPNotConnected, "", "-ExchangeEnvironmentName 'O365USGovGCCHigh'", nil},
		{"unknown", catalog.IMAP, "A1 NO [XYZ] something new", userCtx(), CodeUnrecognised, "something new", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := Mail(tc.p, tc.reply, tc.ctx)
			if x.Code != tc.code {
				t.Fatalf("code %q, want %q: %+v", x.Code, tc.code, x)
			}
			if !strings.Contains(x.Cause, tc.cause) {
				t.Errorf("cause %q lacks %q", x.Cause, tc.cause)
			}
			if !strings.Contains(x.Fix+"\n"+x.FixCommand, tc.fix) {
				t.Errorf("fix %q / command %q lacks %q", x.Fix, x.FixCommand, tc.fix)
			}
			if x.FixCommand != "" && !strings.HasPrefix(x.FixCommand, "Connect-ExchangeOnline") {
				t.Errorf("command does not connect first: %q", x.FixCommand)
			}
			if len(tc.alts) != len(x.Alternatives) && tc.alts != nil {
				t.Fatalf("alternatives %d, want %d: %+v", len(x.Alternatives), len(tc.alts), x.Alternatives)
			}
			for i, c := range tc.alts {
				if x.Alternatives[i].Code != c {
					t.Errorf("alternative %d = %q, want %q", i, x.Alternatives[i].Code, c)
				}
			}
		})
	}
}

// Without values the fix shows placeholders, never empty quotes.
func TestMailWrongObjectIDAlternative(t *testing.T) {
	x := Mail(catalog.IMAP, "A5 BAD User is authenticated but not connected.", appCtx())
	alt := x.Alternatives[0]
	want := "Connect-ExchangeOnline -Organization '" + tid + "'\nRemove-ServicePrincipal -Identity '" + objID + "' -Confirm:$false\nNew-ServicePrincipal -AppId '" + appID + "' -ObjectId '" + spID + "'\nAdd-MailboxPermission -Identity 'helpdesk@contoso.com' -User '" + spID + "' -AccessRights FullAccess"
	if alt.FixCommand != want {
		t.Fatalf("got\n%s\nwant\n%s", alt.FixCommand, want)
	}
}

func TestMailPlaceholders(t *testing.T) {
	x := Mail(catalog.IMAP, "A2 BAD User is authenticated but not connected.", MailContext{Flow: catalog.ClientCredentials})
	if !strings.Contains(x.FixCommand, "-ObjectId <enterprise application object id>") || strings.Contains(x.FixCommand, `""`) {
		t.Fatalf("command: %s", x.FixCommand)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestNetwork(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{&net.OpError{Op: "read", Err: timeoutErr{}}, CodeTimeout},
		{context.DeadlineExceeded, CodeTimeout},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), CodeTimeout},
		{io.EOF, CodeClosed},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, CodeClosed},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, CodeRefused},
		{&net.DNSError{Name: "nohost.example", Err: "no such host"}, CodeDNS},
		{fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), CodeTLSUntrusted},
		{context.Canceled, CodeCanceled},
		{errors.New("tls: first record does not look like a TLS handshake"), CodeTLSHandshake},
		{errors.New("weird"), CodeNetwork},
	}
	for _, tc := range tests {
		x := Network("IMAP", "127.0.0.1:993", "greeting", tc.err)
		if x.Code != tc.code || x.Cause == "" || x.Fix == "" {
			t.Errorf("%v: got %q, want %q", tc.err, x.Code, tc.code)
		}
		if tc.code == CodeTimeout && !strings.Contains(x.Cause, "IMAP at 127.0.0.1:993 during greeting") {
			t.Errorf("timeout cause lacks where: %s", x.Cause)
		}
	}
}

func FuzzParseAAD(f *testing.F) {
	f.Add(msalText(401, secretBody).Error())
	f.Add(`{"error":"x","error_codes":"bad"}`)
	f.Add(`{{{{"error":1}`)
	f.Add("AADSTS99999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := ParseAAD(errors.New(s))
		if ok {
			_ = e.Error()
			_ = e.Explain()
		}
		if e2, ok := ParseAADBody([]byte(s)); ok && e2.Err == "" {
			t.Fatal("ParseAADBody accepted a body without error")
		}
	})
}

func FuzzParseGraphBody(f *testing.F) {
	f.Add(403, []byte(`{"error":{"code":"ErrorAccessDenied","message":"Access is denied.","innerError":{"request-id":"r"}}}`))
	f.Add(400, []byte(`{"error":{"code":"Request_BadRequest","details":[{"code":"NoBackingApplicationObject"}]}}`))
	f.Add(500, []byte(`{"error":"x"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		ge, _ := ParseGraphBody(status, body)
		if ge == nil {
			t.Fatal("nil GraphError")
		}
		_ = ge.Error()
		_ = Graph(ge)
	})
}

func FuzzMail(f *testing.F) {
	f.Add("imap", "A2 BAD User is authenticated but not connected.")
	f.Add("smtp", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.")
	f.Add("ews", "HTTP 403")
	f.Fuzz(func(t *testing.T, proto, reply string) {
		p, err := catalog.ParseProtocol(proto)
		if err != nil {
			p = catalog.IMAP
		}
		for _, ctx := range []MailContext{{}, appCtx(), userCtx()} {
			if x := Mail(p, reply, ctx); x.Code == "" || x.Cause == "" && x.Fix == "" {
				t.Fatalf("empty explanation for %q: %+v", reply, x)
			}
		}
	})
}
