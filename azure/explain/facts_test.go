package explain

import (
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

func bp(b bool) *bool { return &b }

// rightFacts is Exchange as a finished app-only setup leaves it.
func rightFacts() *ExchangeFacts {
	return &ExchangeFacts{
		ReadAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Registration: RegistrationRight, RegisteredObjectIDs: []string{spID}, RegistrationRef: spID,
		ExpectedObjectID: spID, OrgSMTPAuthDisabled: bp(true),
		EWS: &EWSFacts{Enabled: bp(true), AllowedAppIDs: []string{appID}},
		Mailboxes: []MailboxFacts{{Address: mbx, Read: true, Found: true, PrimarySMTPAddress: mbx, Type: "UserMailbox", CASRead: true,
			ImapEnabled: bp(true), PopEnabled: bp(true), EwsEnabled: bp(true), SMTPClientAuthDisabled: bp(false), FullAccess: bp(true), SendAs: bp(true)}},
	}
}

func withFacts(ctx MailContext, edit func(f *ExchangeFacts, m *MailboxFacts)) MailContext {
	f := rightFacts()
	edit(f, &f.Mailboxes[0])
	ctx.Exchange = f
	return ctx
}

func TestFactsStateTheCause(t *testing.T) {
	const notConnected = "A5 BAD User is authenticated but not connected."
	tests := []struct {
		name      string
		p         catalog.Protocol
		reply     string
		ctx       MailContext
		code      string
		cause     []string
		command   []string
		noCommand []string
		retry     bool
	}{
		{"imap off", catalog.IMAP, notConnected, withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.ImapEnabled = bp(false) }),
			CodeIMAPNotConnected, []string{"IMAP is off for this mailbox (ImapEnabled False)"}, []string{"Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true"}, []string{"New-ServicePrincipal", "Add-MailboxPermission"}, false},
		{"imap off delegated", catalog.IMAP, notConnected, withFacts(userCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.ImapEnabled = bp(false) }),
			CodeIMAPNotConnected, []string{"ImapEnabled False"}, []string{"-ImapEnabled $true"}, nil, false},
		{"not registered and no FullAccess", catalog.IMAP, notConnected, withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) {
			f.Registration, f.RegisteredObjectIDs, f.RegistrationRef, m.FullAccess = RegistrationNone, nil, "", bp(false)
		}), CodeIMAPNotConnected, []string{"no service principal for app " + appID, "no FullAccess"},
			[]string{"New-ServicePrincipal -AppId '" + appID + "' -ObjectId '" + spID + "'\nAdd-MailboxPermission -Identity 'helpdesk@contoso.com' -User '" + spID + "' -AccessRights FullAccess"}, []string{"SilentlyContinue", "Set-CASMailbox"}, false},
		{"wrong object id", catalog.POP, "-ERR Authentication failure: unknown user name or bad password.", withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) {
			f.Registration, f.RegisteredObjectIDs, f.RegistrationRef, m.FullAccess = RegistrationWrong, []string{objID}, "", bp(false)
		}), CodePOPAuthFailed, []string{"holds the object id " + objID + ", not the enterprise application's object id " + spID},
			[]string{"Remove-ServicePrincipal -Identity '" + objID + "' -Confirm:$false\nNew-ServicePrincipal -AppId '" + appID + "' -ObjectId '" + spID + "'", "-AccessRights FullAccess"}, nil, false},
		{"everything right: replication", catalog.IMAP, notConnected, withFacts(appCtx(), func(*ExchangeFacts, *MailboxFacts) {}),
			CodeIMAPNotConnected, []string{"show nothing that causes this", "ImapEnabled True", "FullAccess"}, nil, []string{"New-ServicePrincipal"}, true},
		{"smtp no FullAccess at AUTH", catalog.SMTP, "535 5.7.3 Authentication unsuccessful [host]", withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.FullAccess = bp(false) }),
			CodeSMTPAuthFailed, []string{"no FullAccess on helpdesk@contoso.com"}, []string{"Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '" + spID + "' -AccessRights FullAccess"}, []string{"SendAs", "New-ServicePrincipal"}, false},
		{"smtp 5.7.60 no FullAccess", catalog.SMTP, "550 5.7.60 SMTP; Client does not have permissions to send as this sender", withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.FullAccess = bp(false) }),
			CodeSMTPNoSendAs, []string{"no FullAccess"}, []string{"-AccessRights FullAccess"}, []string{"Add-RecipientPermission"}, false},
		{"smtp tenant off", catalog.SMTP, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
			withFacts(userCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.SMTPClientAuthDisabled = nil }),
			CodeSMTPAuthTenantOff, []string{"Get-TransportConfig SmtpClientAuthenticationDisabled True", "inherits"}, []string{"-SmtpClientAuthenticationDisabled $false"}, nil, false},
		{"ews not allow-listed", catalog.EWS, "HTTP 403 Forbidden", withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) {
			f.EWS.AllowedAppIDs = []string{"11111111-1111-1111-1111-111111111111"}
		}), CodeEWSForbidden, []string{"he app is not on the organisation's EWS allow-list (EwsEnabled True, EwsAllowedAppIDs 11111111-1111-1111-1111-111111111111)"},
			[]string{"Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs '11111111-1111-1111-1111-111111111111," + appID + "'"}, []string{"Set-CASMailbox"}, false},
		{"ews off for the organisation", catalog.EWS, "HTTP 403 Forbidden", withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) { f.EWS.Enabled = bp(false); f.EWS.AllowedAppIDs = nil }),
			CodeEWSForbidden, []string{"EWS is off for the whole organisation (EwsEnabled False)"}, []string{"-EwsAllowedAppIDs '" + appID + "'"}, nil, false},
		{"ews off for the mailbox", catalog.EWS, "HTTP 403 Forbidden", withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.EwsEnabled = bp(false) }),
			CodeEWSForbidden, []string{"EWS is off for this mailbox (EwsEnabled False)"}, []string{"Set-CASMailbox -Identity 'helpdesk@contoso.com' -EwsEnabled $true"}, []string{"Set-OrganizationConfig"}, false},
		{"no mailbox", catalog.IMAP, "A4 NO AUTHENTICATE failed.", withFacts(userCtx(), func(f *ExchangeFacts, m *MailboxFacts) { m.Found = false }),
			CodeIMAPAuthFailed, []string{"no mailbox for helpdesk@contoso.com (Get-Mailbox found none)"}, nil, nil, false},
		{"registration ref names the registration", catalog.IMAP, notConnected, withFacts(appCtx(), func(f *ExchangeFacts, m *MailboxFacts) {
			f.RegistrationRef, m.FullAccess = "ServicePrincipal_9a8b", bp(false)
		}), CodeIMAPNotConnected, []string{"no FullAccess"}, []string{"-User 'ServicePrincipal_9a8b' -AccessRights FullAccess"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := Mail(tc.p, tc.reply, tc.ctx)
			if x.Code != tc.code || x.Retryable != tc.retry {
				t.Fatalf("code %q retryable %v, want %q %v\n%s", x.Code, x.Retryable, tc.code, tc.retry, x)
			}
			for _, s := range tc.cause {
				if !strings.Contains(x.Cause, s) {
					t.Errorf("cause %q lacks %q", x.Cause, s)
				}
			}
			for _, s := range tc.command {
				if !strings.Contains(x.FixCommand, s) {
					t.Errorf("command %q lacks %q", x.FixCommand, s)
				}
			}
			for _, s := range tc.noCommand {
				if strings.Contains(x.FixCommand, s) {
					t.Errorf("command %q holds %q", x.FixCommand, s)
				}
			}
			if len(x.Facts) == 0 {
				t.Error("no facts named")
			}
			if !tc.retry && strings.Contains(x.Cause, "2026-12-01 10:00 UTC") == false {
				t.Errorf("cause does not say when Exchange was read: %s", x.Cause)
			}
		})
	}
}

// Facts that decide only part of it rule out the guesses they contradict.
func TestFactsPartial(t *testing.T) {
	ctx := appCtx()
	ctx.Exchange = &ExchangeFacts{Registration: RegistrationRight, RegistrationRef: spID} // mailboxes not read
	x := Mail(catalog.IMAP, "A5 BAD User is authenticated but not connected.", ctx)
	if x.Code != CodeIMAPNotConnected {
		t.Fatalf("code %q", x.Code)
	}
	for _, a := range append([]Explanation{x}, x.Alternatives...) {
		if a.Title == "Registered in Exchange with the wrong object id" || strings.Contains(a.FixCommand, "New-ServicePrincipal") {
			t.Errorf("a guess the facts rule out: %s", a)
		}
	}
	// Without facts: the ranked guesses, as before.
	if x := Mail(catalog.IMAP, "A5 BAD User is authenticated but not connected.", appCtx()); len(x.Alternatives) != 2 || len(x.Facts) != 0 {
		t.Fatalf("no facts: %+v", x)
	}
}

func TestFactsSharedMailbox(t *testing.T) {
	ctx := userCtx()
	ctx.TokenUser = "admin@contoso.onmicrosoft.com"
	ctx.Exchange = rightFacts()
	ctx.Exchange.Mailboxes[0].Type = "SharedMailbox"
	x := Mail(catalog.IMAP, "A4 NO AUTHENTICATE failed.", ctx)
	if x.Code != CodeTokenUser || !strings.Contains(x.Cause, "shared mailbox (Get-Mailbox: SharedMailbox)") || !strings.Contains(x.FixCommand, "-User 'admin@contoso.onmicrosoft.com' -AccessRights FullAccess") {
		t.Fatalf("%s", x)
	}
	ctx.Exchange.Mailboxes[0].Type = "UserMailbox"
	if x := Mail(catalog.IMAP, "A4 NO AUTHENTICATE failed.", ctx); x.FixCommand != "" || !strings.Contains(x.Fix, "Sign in as helpdesk@contoso.com") {
		t.Fatalf("%s", x)
	}
}

// Every value in a fix command is a PowerShell single-quoted literal:
// nothing in it runs.
func TestFixCommandQuoting(t *testing.T) {
	ctx := appCtx()
	ctx.Mailbox = "o'brien$(Start-Process calc)’@contoso.com"
	x := Mail(catalog.IMAP, "A5 BAD User is authenticated but not connected.", ctx)
	want := "-Identity 'o''brien$(Start-Process calc)’’@contoso.com'"
	if !strings.Contains(x.FixCommand, want) {
		t.Fatalf("command %q lacks %q", x.FixCommand, want)
	}
	ctx.Mailbox = "evil\n@contoso.com"
	x = Mail(catalog.IMAP, "A5 BAD User is authenticated but not connected.", ctx)
	if strings.Contains(x.FixCommand, "evil") || !strings.Contains(x.FixCommand, "<mailbox address: the value contains U+000A") {
		t.Fatalf("command %q", x.FixCommand)
	}
	// The EWS fix without facts reads the list and keeps every id.
	x = Mail(catalog.EWS, "HTTP 403", appCtx())
	if !strings.Contains(x.FixCommand, "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy") || strings.Contains(x.FixCommand, "-EwsAllowedAppIDs '"+appID+"'") {
		t.Fatalf("allow-list fix drops ids: %s", x.FixCommand)
	}
}
