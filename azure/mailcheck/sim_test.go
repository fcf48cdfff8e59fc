package mailcheck

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/sim/exchange"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dump(t *testing.T, rep Report) {
	t.Helper()
	b, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("%s", b)
}

// only returns the single check of a one-protocol run.
func only(t *testing.T, rep Report) Check {
	t.Helper()
	if len(rep.Checks) != 1 {
		dump(t, rep)
		t.Fatalf("want 1 check, got %d", len(rep.Checks))
	}
	return rep.Checks[0]
}

// expectFail asserts the failed step, the reply, the explanation code and
// that cause and fix (text or command) name the given values.
func expectFail(t *testing.T, c Check, step, reply, code string, cause []string, fix []string) *explain.Explanation {
	t.Helper()
	if c.OK || c.Explanation == nil {
		t.Fatalf("%s: want failure, got %+v", c.Protocol, c)
	}
	x := c.Explanation
	if c.Step != step || !strings.Contains(c.Reply, reply) || x.Code != code {
		t.Fatalf("%s: step %q reply %q code %q; want %q %q %q\n%s", c.Protocol, c.Step, c.Reply, x.Code, step, reply, code, x)
	}
	for _, s := range cause {
		if !strings.Contains(x.Cause, s) {
			t.Errorf("%s: cause %q lacks %q", c.Protocol, x.Cause, s)
		}
	}
	for _, s := range fix {
		if !strings.Contains(x.Fix+"\n"+x.FixCommand, s) {
			t.Errorf("%s: fix %q / %q lacks %q", c.Protocol, x.Fix, x.FixCommand, s)
		}
	}
	return x
}

// alternative finds an alternative cause by code.
func alternative(t *testing.T, x *explain.Explanation, code string) *explain.Explanation {
	t.Helper()
	for i := range x.Alternatives {
		if x.Alternatives[i].Code == code {
			return &x.Alternatives[i]
		}
	}
	t.Fatalf("no alternative %q in %+v", code, x.Alternatives)
	return nil
}

// applyFix runs a fix command through the sim's Exchange PowerShell, as the
// admin would paste it.
func applyFix(t *testing.T, s *sim.Server, x *explain.Explanation) {
	t.Helper()
	if x.FixCommand == "" {
		t.Fatalf("no fix command in %+v", x)
	}
	if _, err := s.RunPowerShell(x.FixCommand); err != nil {
		t.Fatalf("fix command failed: %v\n%s", err, x.FixCommand)
	}
}

var (
	allExchange = []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS}
	everything  = []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS, catalog.GraphRead, catalog.GraphSend}
)

// ---- client credentials (app-only) ----

func TestSimClientCredentials(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: everything, exchange: true})

	t.Run("success", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.ClientCredentials, everything...)
		cfg.SendTo = "admin@contoso.onmicrosoft.com"
		rep := Run(ctxT(t, time.Minute), cfg)
		if !rep.OK() || len(rep.Checks) != len(everything) {
			dump(t, rep)
			t.Fatal("not OK")
		}
		for _, ch := range rep.Checks {
			if ch.Detail == "" || ch.Token == nil || len(ch.Mismatches) > 0 || ch.Reply == "" {
				t.Errorf("%s: %+v", ch.Protocol, ch)
			}
		}
		var text strings.Builder
		_ = rep.WriteText(&text)
		b, _ := json.Marshal(rep)
		for _, out := range []string{string(b), text.String()} {
			// A JWT starts with base64url of '{"': eyJ.
			if strings.Contains(out, ap.secret) || strings.Contains(out, "eyJ") {
				t.Fatalf("the report holds the secret or a token:\n%s", out)
			}
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP)
		cfg.Secret = "not-the-secret-value~0123456789abcdef"
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		expectFail(t, ch, "token", "AADSTS7000215", "AADSTS7000215", []string{"secret ID"}, []string{"value", ap.appID})
	})

	t.Run("SMTP AUTH disabled for the tenant", func(t *testing.T) {
		// Seed: tenant off, helpdesk on. Inherit the tenant's setting.
		if err := s.SetSMTPAuth(helpdesk, exchange.SMTPAuthInherit); err != nil {
			t.Fatal(err)
		}
		cfg := config(s, c, ap, catalog.ClientCredentials, catalog.SMTP)
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		x := expectFail(t, ch, "auth", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant", explain.CodeSMTPAuthTenantOff,
			[]string{"whole organisation"}, []string{`Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false`})
		if len(x.Alternatives) != 1 || !strings.Contains(x.Alternatives[0].FixCommand, "Set-TransportConfig -SmtpClientAuthenticationDisabled $false") {
			t.Errorf("tenant-wide alternative missing: %+v", x.Alternatives)
		}
		applyFix(t, s, x)
		if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
			dump(t, rep)
			t.Fatal("fix did not work")
		}
	})

	t.Run("SMTP AUTH disabled for the mailbox", func(t *testing.T) {
		if err := s.SetSMTPAuth(helpdesk, exchange.SMTPAuthDisabled); err != nil {
			t.Fatal(err)
		}
		cfg := config(s, c, ap, catalog.ClientCredentials, catalog.SMTP)
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		x := expectFail(t, ch, "auth", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox", explain.CodeSMTPAuthMailboxOff,
			[]string{"helpdesk@contoso.com"}, []string{`Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false`})
		if !strings.Contains(ch.CauseText(), "(server: 535 5.7.139") || !strings.Contains(ch.FixText(), "\nConnect-ExchangeOnline") {
			t.Errorf("texts: %q / %q", ch.CauseText(), ch.FixText())
		}
		applyFix(t, s, x)
		if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
			dump(t, rep)
			t.Fatal("fix did not work")
		}
	})

	t.Run("IMAP disabled", func(t *testing.T) {
		if err := s.SetIMAPEnabled(helpdesk, false); err != nil {
			t.Fatal(err)
		}
		defer s.SetIMAPEnabled(helpdesk, true)
		cfg := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP)
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		x := expectFail(t, ch, "select", "BAD User is authenticated but not connected.", explain.CodeIMAPNotConnected, nil, nil)
		// App-only: the Exchange service principal is the likelier cause;
		// IMAP being off is the alternative, with its exact fix.
		alt := alternative(t, x, "imap-disabled")
		if !strings.Contains(alt.FixCommand, `Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true`) {
			t.Fatalf("alternative: %+v", alt)
		}
		// When the product also uses POP3 and that works, IMAP being off
		// is certain and becomes the main cause.
		both := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP, catalog.POP)
		rep := Run(ctxT(t, time.Minute), both)
		x = expectFail(t, rep.Checks[0], "select", "not connected", explain.CodeIMAPNotConnected, []string{"POP3 works", "IMAP is turned off"},
			[]string{`Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true`})
		if !rep.Checks[1].OK || len(x.Alternatives) == 0 || x.Alternatives[0].Code != explain.CodeIMAPNotConnected {
			t.Fatalf("refined: %+v", x)
		}
		applyFix(t, s, x)
		if rep := Run(ctxT(t, time.Minute), both); !rep.OK() {
			dump(t, rep)
			t.Fatal("fix did not work")
		}
	})

	t.Run("expired secret", func(t *testing.T) {
		s.ExpireSecrets(ap.appID)
		cfg := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP, catalog.GraphRead)
		rep := Run(ctxT(t, time.Minute), cfg)
		if len(rep.Checks) != 2 {
			t.Fatalf("checks: %d", len(rep.Checks))
		}
		for _, ch := range rep.Checks {
			x := expectFail(t, ch, "token", "AADSTS7000222", "AADSTS7000222", []string{"past its expiry"}, []string{"new client secret", ap.appID})
			if x.FixAction != explain.ActionNewSecret {
				t.Errorf("action %q", x.FixAction)
			}
		}
	})
}

func TestSimClientCredentialsNoExchangeServicePrincipal(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	for _, wrongID := range []bool{false, true} {
		name := "New-ServicePrincipal missing"
		if wrongID {
			name = "New-ServicePrincipal with the app registration's object id"
		}
		t.Run(name, func(t *testing.T) {
			ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: allExchange, exchange: wrongID, wrongObjectID: wrongID})
			cfg := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS)
			rep := Run(ctxT(t, time.Minute), cfg)
			newSP := `New-ServicePrincipal -AppId '` + ap.appID + `' -ObjectId '` + ap.spID + `'`
			imap := expectFail(t, rep.Checks[0], "select", "BAD User is authenticated but not connected.", explain.CodeIMAPNotConnected,
				[]string{ap.objectID, ap.spID}, []string{newSP, `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + ap.spID + `' -AccessRights FullAccess`})
			expectFail(t, rep.Checks[1], "auth", "-ERR Authentication failure: unknown user name or bad password.", explain.CodePOPAuthFailed,
				[]string{"New-ServicePrincipal"}, []string{newSP})
			// App-only SMTP: Microsoft's procedure is the registration and
			// FullAccess (SendAs only to send as another address).
			smtp := expectFail(t, rep.Checks[2], "auth", "535 5.7.3 Authentication unsuccessful", explain.CodeSMTPAuthFailed,
				[]string{"not registered in Exchange", ap.spID, "FullAccess on each mailbox"}, []string{newSP, `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + ap.spID + `' -AccessRights FullAccess`})
			if strings.Contains(smtp.FixCommand, "SendAs") {
				t.Errorf("SMTP fix grants SendAs: %s", smtp.FixCommand)
			}
			// EWS with full_access_as_app needs no Exchange-side grant.
			if !rep.Checks[3].OK {
				t.Errorf("EWS: %+v", rep.Checks[3])
			}
			if wrongID {
				// The wrong registration must be removed first: the
				// alternative names the exact ids.
				alt := alternative(t, imap, "exchange-service-principal-wrong-id")
				if !strings.Contains(alt.FixCommand, `Remove-ServicePrincipal -Identity '`+ap.objectID+`' -Confirm:$false`+"\n"+newSP) {
					t.Fatalf("wrong-id fix: %s", alt.FixCommand)
				}
				// The admin runs it (and the mailbox grant); IMAP then works.
				if out, err := s.RunPowerShell(alt.FixCommand + "\n" + `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + ap.spID + `' -AccessRights FullAccess`); err != nil {
					t.Fatalf("wrong-id fix failed: %v\n%s", err, out)
				}
				if rep := Run(ctxT(t, time.Minute), config(s, c, ap, catalog.ClientCredentials, catalog.IMAP)); !rep.OK() {
					dump(t, rep)
					t.Fatal("the wrong-id fix did not work")
				}
				return
			}
			var out strings.Builder
			if err := rep.WriteText(&out); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, want := range []string{"IMAP  ", "FAILED", "Server said: A5 BAD User is authenticated but not connected.", "    " + newSP, "Other possible cause"} {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, ap.secret) {
				t.Fatal("text holds the secret")
			}
			// The admin runs the printed fixes; everything then passes.
			applyFix(t, s, imap)
			applyFix(t, s, rep.Checks[2].Explanation)
			if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
				dump(t, rep)
				t.Fatal("fixes did not work")
			}
		})
	}
}

// Right after an app-only setup, before anyone ran the Exchange script, a
// refusal only that script cures is reported at once: waiting it out as
// replication delay would only make the admin wait minutes for the fix.
func TestSimExchangeSetupPendingFailsFast(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: allExchange})
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP)
	cfg.ChangedAt = time.Now()
	cfg.Retry.Budget = 3 * time.Minute
	cfg.ExchangeSetupPending = true
	start := time.Now()
	c := only(t, Run(ctxT(t, time.Minute), cfg))
	expectFail(t, c, "select", "BAD User is authenticated but not connected.", explain.CodeIMAPNotConnected, nil,
		[]string{`New-ServicePrincipal -AppId '` + ap.appID + `' -ObjectId '` + ap.spID + `'`})
	if c.Attempts != 1 || time.Since(start) > 20*time.Second {
		t.Fatalf("waited: %d attempts in %s", c.Attempts, time.Since(start))
	}
}

func TestSimClientCredentialsNoConsent(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP, catalog.GraphRead}, exchange: true, noConsent: true})
	rep := Run(ctxT(t, time.Minute), config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP, catalog.GraphRead))
	// Without consent the token carries no roles: Exchange refuses it.
	expectFail(t, rep.Checks[0], "auth", "NO AUTHENTICATE failed.", explain.CodeTokenPermission, []string{"IMAP.AccessAsApp"}, []string{"admin consent", ap.appID})
	if ms := rep.Checks[0].Mismatches; len(ms) != 1 || ms[0].Field != "roles" || ms[0].Want != "IMAP.AccessAsApp" {
		t.Errorf("mismatches: %+v", ms)
	}
	expectFail(t, rep.Checks[1], "inbox", "ErrorAccessDenied", "ErrorAccessDenied", []string{"Graph Mail application permission"}, []string{"Mail.Read", "admin consent"})
}

// A token for Graph sent to IMAP: the wrong-audience pitfall of peers.md #1.
func TestSimWrongAudience(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP, catalog.GraphRead}, exchange: true})
	acq := token.Acquirer{Cloud: c, TenantID: simTenant, ClientID: ap.appID, Secret: ap.secret, HTTPClient: s.HTTPClient(), Retry: token.Retry{Budget: -1}}
	tok, err := acq.ClientCredentials(ctxT(t, time.Minute), catalog.TokenRequest{Scopes: []string{c.GraphAppScope()}})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, _ := c.TLSConfig()
	res := checkIMAP(ctxT(t, time.Minute), c.IMAP, tlsCfg, testTimeout, helpdesk, tok.Value())
	if !res.refused || res.reply != "A4 NO AUTHENTICATE failed." {
		t.Fatalf("got %+v", res)
	}
	x := explain.Mail(catalog.IMAP, res.reply, explain.MailContext{Flow: catalog.ClientCredentials, Mailbox: helpdesk, TokenAudience: tok.Claims.Audience, TokenRoles: tok.Claims.Roles})
	if x.Code != explain.CodeTokenAudience || !strings.Contains(x.Cause, "https://graph.microsoft.com") || !strings.Contains(x.Fix, "https://outlook.office365.com/.default") {
		t.Fatalf("%+v", x)
	}
	want, _ := token.WantFor(c, catalog.ClientCredentials, catalog.IMAP, simTenant, ap.appID, "")
	if ms := token.Compare(tok.Claims, want, time.Now()); len(ms) == 0 || ms[0].Field != "aud" {
		t.Fatalf("compare: %+v", ms)
	}
}

// ---- ROPC (delegated, password) ----

func TestSimROPC(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	ap := a.register(appOptions{flow: catalog.ROPC, protocols: everything})

	t.Run("success", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.ROPC, everything...)
		cfg.SendTo = "admin@contoso.onmicrosoft.com"
		rep := Run(ctxT(t, time.Minute), cfg)
		if !rep.OK() {
			dump(t, rep)
			t.Fatal("not OK")
		}
		for _, ch := range rep.Checks {
			if ch.Token == nil || ch.Token.UPN != helpdesk || len(ch.Mismatches) > 0 {
				t.Errorf("%s: token %+v mismatches %v", ch.Protocol, ch.Token, ch.Mismatches)
			}
		}
		if b, _ := json.Marshal(rep); strings.Contains(string(b), helpdeskPW) {
			t.Fatal("the report holds the password")
		}
	})

	t.Run("MFA user", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.ROPC, catalog.IMAP)
		cfg.Mailboxes = []string{mfaUser}
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		expectFail(t, ch, "token", "AADSTS50076", "AADSTS50076", []string{mfaUser, "multi-factor"}, []string{"device code"})
	})

	t.Run("wrong secret (confidential app)", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.ROPC, catalog.IMAP)
		cfg.Secret = "wrong~secret-0123456789abcdefghij"
		expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "token", "AADSTS7000215", "AADSTS7000215", []string{"secret"}, []string{"value"})
	})

	t.Run("IMAP disabled", func(t *testing.T) {
		if err := s.SetIMAPEnabled(helpdesk, false); err != nil {
			t.Fatal(err)
		}
		cfg := config(s, c, ap, catalog.ROPC, catalog.IMAP)
		x := expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "select", "BAD User is authenticated but not connected.", explain.CodeIMAPNotConnected,
			[]string{"IMAP is turned off for helpdesk@contoso.com"}, []string{`Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true`})
		applyFix(t, s, x)
		if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
			dump(t, rep)
			t.Fatal("fix did not work")
		}
	})

	t.Run("SMTP AUTH disabled for the tenant and the mailbox", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.ROPC, catalog.SMTP)
		_ = s.SetSMTPAuth(helpdesk, exchange.SMTPAuthInherit)
		expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "auth", "disabled for the Tenant", explain.CodeSMTPAuthTenantOff, nil, []string{"-SmtpClientAuthenticationDisabled $false"})
		_ = s.SetSMTPAuth(helpdesk, exchange.SMTPAuthDisabled)
		x := expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "auth", "disabled for the Mailbox", explain.CodeSMTPAuthMailboxOff, nil, []string{`Set-CASMailbox -Identity 'helpdesk@contoso.com' -SmtpClientAuthenticationDisabled $false`})
		applyFix(t, s, x)
		if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
			dump(t, rep)
			t.Fatal("fix did not work")
		}
	})

	t.Run("expired secret (confidential app)", func(t *testing.T) {
		s.ExpireSecrets(ap.appID)
		cfg := config(s, c, ap, catalog.ROPC, catalog.IMAP)
		cfg.Secret = ap.secret
		expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "token", "AADSTS7000222", "AADSTS7000222", []string{"past its expiry"}, []string{"new client secret"})
	})
}

func TestSimROPCNoConsent(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ROPC, protocols: []catalog.Protocol{catalog.IMAP}, noConsent: true})
	x := expectFail(t, only(t, Run(ctxT(t, time.Minute), config(s, simCloud(t, s), ap, catalog.ROPC, catalog.IMAP))),
		"token", "AADSTS65001", "AADSTS65001", []string{"consented"}, []string{"oauth2PermissionGrant", "Office 365 Exchange Online", ap.appID})
	if x.FixAction != explain.ActionGrantConsent {
		t.Errorf("action %q", x.FixAction)
	}
}

// ---- device code and auth code (delegated, interactive) ----

// publicFlowsTweak turns "Allow public client flows" on and off through Graph.
type publicFlowsTweak struct {
	a        *admin
	objectID string
	added    bool
}

func (p *publicFlowsTweak) Describe() string {
	return `"Allow public client flows" (isFallbackPublicClient)`
}
func (p *publicFlowsTweak) Add(context.Context) error {
	p.a.must("PATCH", "/applications/"+p.objectID, map[string]any{"isFallbackPublicClient": true}, 204)
	p.added = true
	return nil
}
func (p *publicFlowsTweak) Remove(context.Context) error {
	p.a.must("PATCH", "/applications/"+p.objectID, map[string]any{"isFallbackPublicClient": false}, 204)
	return nil
}

func TestSimDeviceCode(t *testing.T) {
	s := startSim(t, sim.Options{})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	protos := []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.GraphRead}
	ap := a.register(appOptions{flow: catalog.DeviceCode, protocols: protos})

	t.Run("success", func(t *testing.T) {
		var prompts []token.DeviceCodePrompt
		cfg := config(s, c, ap, catalog.DeviceCode, protos...)
		cfg.DeviceCode.OnCode = func(p token.DeviceCodePrompt) {
			prompts = append(prompts, p)
			if err := s.ApproveDeviceCode(p.UserCode, helpdesk); err != nil {
				t.Error(err)
			}
		}
		rep := Run(ctxT(t, time.Minute), cfg)
		if !rep.OK() {
			dump(t, rep)
			t.Fatal("not OK")
		}
		// One sign-in per resource: Exchange and Graph.
		if len(prompts) != 2 || prompts[0].UserCode == "" || !strings.Contains(prompts[0].VerificationURL, "/devicelogin") {
			t.Fatalf("prompts: %+v", prompts)
		}
	})

	t.Run("public client flows off, turned on for the test only", func(t *testing.T) {
		a.must("PATCH", "/applications/"+ap.objectID, map[string]any{"isFallbackPublicClient": false}, 204)
		cfg := config(s, c, ap, catalog.DeviceCode, catalog.IMAP)
		expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "token", "AADSTS7000218", "AADSTS7000218", nil, []string{"Allow public client flows", ap.appID})
		tw := &publicFlowsTweak{a: a, objectID: ap.objectID}
		cfg.DeviceCode.Tweak = tw
		rep := Run(ctxT(t, time.Minute), cfg)
		if !rep.OK() || !tw.added {
			dump(t, rep)
			t.Fatal("not OK with the tweak")
		}
		if len(rep.Changes) != 2 || !strings.HasPrefix(rep.Changes[0], "added") || !strings.HasPrefix(rep.Changes[1], "removed") {
			t.Fatalf("changes: %q", rep.Changes)
		}
		if _, out := a.call("GET", "/applications/"+ap.objectID, nil); out["isFallbackPublicClient"] != false {
			t.Fatalf("tweak not removed: %v", out["isFallbackPublicClient"])
		}
		a.must("PATCH", "/applications/"+ap.objectID, map[string]any{"isFallbackPublicClient": true}, 204)
	})

	t.Run("IMAP disabled", func(t *testing.T) {
		_ = s.SetIMAPEnabled(helpdesk, false)
		defer s.SetIMAPEnabled(helpdesk, true)
		expectFail(t, only(t, Run(ctxT(t, time.Minute), config(s, c, ap, catalog.DeviceCode, catalog.IMAP))), "select", "not connected", explain.CodeIMAPNotConnected,
			[]string{"IMAP is turned off"}, []string{"-ImapEnabled $true"})
	})

	t.Run("no consent", func(t *testing.T) {
		nc := a.register(appOptions{flow: catalog.DeviceCode, protocols: []catalog.Protocol{catalog.IMAP}, noConsent: true})
		expectFail(t, only(t, Run(ctxT(t, time.Minute), config(s, c, nc, catalog.DeviceCode, catalog.IMAP))), "token", "AADSTS65001", "AADSTS65001", nil, []string{"consent", nc.appID})
	})
}

// browserAs plays the browser: it posts the sign-in form as upn and follows
// the redirect to the loopback listener (127.0.0.1 only).
func browserAs(t *testing.T, s *sim.Server, upn, password string) func(string) error {
	return func(raw string) error {
		u, err := url.Parse(raw)
		if err != nil {
			return err
		}
		form := u.Query()
		form.Set("upn", upn)
		form.Set("password", password)
		hc := s.HTTPClient()
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := hc.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
		if err != nil {
			return err
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode/100 != 3 {
			t.Errorf("authorize: %d %v", resp.StatusCode, err)
			return nil
		}
		loc.Host = "127.0.0.1:" + loc.Port()
		go func() {
			if r, err := http.Get(loc.String()); err == nil {
				r.Body.Close()
			}
		}()
		return nil
	}
}

// webRedirectTweak registers a test-only Web redirect URI through Graph.
type webRedirectTweak struct {
	a        *admin
	objectID string
	uri      string
	mu       sync.Mutex
	log      []string
}

func (w *webRedirectTweak) Describe() string { return "Web redirect URI " + w.uri }
func (w *webRedirectTweak) Add(context.Context) error {
	w.a.must("PATCH", "/applications/"+w.objectID, map[string]any{"web": map[string]any{"redirectUris": []string{"https://product.example/callback", w.uri}}}, 204)
	w.mu.Lock()
	w.log = append(w.log, "add")
	w.mu.Unlock()
	return nil
}
func (w *webRedirectTweak) Remove(context.Context) error {
	w.a.must("PATCH", "/applications/"+w.objectID, map[string]any{"web": map[string]any{"redirectUris": []string{"https://product.example/callback"}}}, 204)
	w.mu.Lock()
	w.log = append(w.log, "remove")
	w.mu.Unlock()
	return nil
}

func TestSimAuthCode(t *testing.T) {
	s := startSim(t, sim.Options{})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	protos := []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS}
	ap := a.register(appOptions{flow: catalog.AuthCode, protocols: protos})

	t.Run("public client, loopback redirect", func(t *testing.T) {
		cfg := config(s, c, ap, catalog.AuthCode, protos...)
		cfg.AuthCode = token.AuthCodeOptions{RedirectURI: "http://localhost", OpenURL: browserAs(t, s, helpdesk, helpdeskPW), Timeout: 10 * time.Second}
		rep := Run(ctxT(t, time.Minute), cfg)
		if !rep.OK() || len(rep.Changes) != 0 {
			dump(t, rep)
			t.Fatal("not OK")
		}
	})

	t.Run("web app, test-only redirect added and removed", func(t *testing.T) {
		a.must("PATCH", "/applications/"+ap.objectID, map[string]any{"isFallbackPublicClient": false, "publicClient": map[string]any{"redirectUris": []string{}},
			"web": map[string]any{"redirectUris": []string{"https://product.example/callback"}}}, 204)
		var tw *webRedirectTweak
		cfg := config(s, c, ap, catalog.AuthCode, catalog.IMAP)
		cfg.Secret = ap.secret
		cfg.AuthCode = token.AuthCodeOptions{RedirectURI: "https://product.example/callback", OpenURL: browserAs(t, s, helpdesk, helpdeskPW), Timeout: 10 * time.Second,
			Tweak: func(uri string) token.AppTweak {
				tw = &webRedirectTweak{a: a, objectID: ap.objectID, uri: uri}
				return tw
			}}
		rep := Run(ctxT(t, time.Minute), cfg)
		if !rep.OK() || tw == nil || strings.Join(tw.log, ",") != "add,remove" {
			dump(t, rep)
			t.Fatalf("not OK; tweak %+v", tw)
		}
		if len(rep.Changes) != 2 || !strings.Contains(rep.Changes[0], tw.uri) || !strings.HasPrefix(rep.Changes[1], "removed") {
			t.Fatalf("changes: %q", rep.Changes)
		}
		var out strings.Builder
		if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "Note: removed Web redirect URI "+tw.uri) {
			t.Fatalf("text: %v\n%s", err, out.String())
		}
	})
}

// ---- replication delay ----

func TestSimReplicationDelayWaitedOut(t *testing.T) {
	t.Parallel() // mostly waiting
	const delay = 3 * time.Second
	for _, flow := range []catalog.Flow{catalog.ClientCredentials, catalog.ROPC} {
		t.Run(string(flow), func(t *testing.T) {
			t.Parallel()
			s := startSim(t, sim.Options{AutoApprove: adminUPN, Delays: sim.Delays{SecretToToken: delay, Consent: delay}})
			a := signInAdmin(t, s)
			ap := a.register(appOptions{flow: flow, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
			var mu sync.Mutex
			var events []token.Event
			cfg := config(s, simCloud(t, s), ap, flow, catalog.IMAP)
			if flow == catalog.ROPC {
				cfg.Secret = ap.secret // a confidential app: the new secret is also refused at first
			}
			cfg.ChangedAt = ap.secretAt
			cfg.Retry = token.Retry{Budget: 30 * time.Second, Interval: 500 * time.Millisecond, Tick: 250 * time.Millisecond,
				OnEvent: func(e token.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }}
			start := time.Now()
			rep := Run(ctxT(t, time.Minute), cfg)
			took := time.Since(start)
			if !rep.OK() {
				dump(t, rep)
				t.Fatal("not OK after the delay")
			}
			if took < delay-time.Second || took > delay+10*time.Second {
				t.Fatalf("took %v for a %v delay", took, delay)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) < 3 {
				t.Fatalf("no countdown: %d events", len(events))
			}
			e := events[0]
			if !strings.HasPrefix(e.Action, "token for https://outlook.office") || (e.Code != "AADSTS7000215" && e.Code != "AADSTS65001") || e.Left <= 0 || e.Left > 30*time.Second {
				t.Fatalf("first event: %+v", e)
			}
			if ch := rep.Checks[0]; ch.WaitedMS < 1000 {
				t.Errorf("waited %d ms", ch.WaitedMS)
			}
		})
	}
}

// Without a recent change nothing is waited for: the refusal is final.
func TestSimOldSetupDoesNotWait(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN, Delays: sim.Delays{SecretToToken: time.Hour}})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP)
	start := time.Now()
	ch := only(t, Run(ctxT(t, time.Minute), cfg))
	if time.Since(start) > 5*time.Second || ch.Attempts != 1 {
		t.Fatalf("waited %v, attempts %d", time.Since(start), ch.Attempts)
	}
	expectFail(t, ch, "token", "AADSTS7000215", "AADSTS7000215", nil, nil)
}

// Cancelling the context stops the countdown at once.
func TestSimReplicationWaitCancellable(t *testing.T) {
	t.Parallel() // mostly waiting
	s := startSim(t, sim.Options{AutoApprove: adminUPN, Delays: sim.Delays{SecretToToken: time.Hour}})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP)
	cfg.ChangedAt = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel)
	start := time.Now()
	ch := only(t, Run(ctx, cfg))
	if time.Since(start) > 3*time.Second || ch.OK {
		t.Fatalf("cancel took %v: %+v", time.Since(start), ch)
	}
}

// ---- servers that misbehave, through Run ----

func TestSimServerMisbehaves(t *testing.T) {
	t.Parallel() // mostly waiting
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
	srvTLS, clientTLS := testTLS(t)
	silent := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) { time.Sleep(30 * time.Second) })
	closer := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("* OK The Microsoft Exchange IMAP4 service is ready.\r\n"))
		readLn(rd, rec)
		c.Write([]byte("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\r\n"))
		c.Close()
	})
	for _, tc := range []struct {
		name  string
		srv   *rawServer
		roots *x509.CertPool
		step  string
		code  string
	}{
		{"never answers", silent, clientTLS.RootCAs, "tls", explain.CodeTimeout},
		{"closes mid-dialogue", closer, clientTLS.RootCAs, "capability", explain.CodeClosed},
		{"untrusted certificate", nil, x509.NewCertPool(), "tls", explain.CodeTLSUntrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := simCloud(t, s)
			if tc.srv != nil {
				c.IMAP = tc.srv.endpoint(cloud.ImplicitTLS)
			}
			c.RootCAs = tc.roots
			cfg := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP)
			cfg.Timeout = time.Second
			start := time.Now()
			ch := only(t, Run(ctxT(t, time.Minute), cfg))
			if took := time.Since(start); took > cfg.Timeout+2*time.Second {
				t.Fatalf("took %v", took)
			}
			x := expectFail(t, ch, tc.step, "", tc.code, []string{"IMAP at 127.0.0.1:", "during " + tc.step}, nil)
			if x.Fix == "" {
				t.Fatal("no fix")
			}
		})
	}
}

// ---- azure/token directly against the simulator ----

func TestSimTokenAcquirer(t *testing.T) {
	t.Parallel() // mostly waiting
	s := startSim(t, sim.Options{AutoApprove: adminUPN, Delays: sim.Delays{AppToToken: 2 * time.Second}})
	a := signInAdmin(t, s)
	c := simCloud(t, s)
	ap := a.register(appOptions{flow: catalog.ROPC, protocols: []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.GraphRead}})
	created := time.Now()
	exo, _ := catalog.TokenRequests(c, catalog.ROPC, []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.GraphRead})
	if len(exo) != 2 {
		t.Fatalf("want one request per resource, got %+v", exo)
	}
	var events []token.Event
	acq := token.Acquirer{Cloud: c, TenantID: simTenant, ClientID: ap.appID, HTTPClient: s.HTTPClient(),
		Retry: token.Retry{Budget: 20 * time.Second, Interval: 300 * time.Millisecond, Tick: 100 * time.Millisecond, OnEvent: func(e token.Event) { events = append(events, e) }}}

	// A new app is unknown to the token endpoint for 2 s (AADSTS700016).
	tok, err := acq.Password(ctxT(t, time.Minute), exo[0], helpdesk, helpdeskPW)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(created) < 1500*time.Millisecond || tok.Outcome.Attempts < 2 || len(events) == 0 || events[0].Code != "AADSTS700016" {
		t.Fatalf("replication not waited out: %v, outcome %+v, events %d", time.Since(created), tok.Outcome, len(events))
	}
	want, _ := token.WantFor(c, catalog.ROPC, catalog.SMTP, simTenant, ap.appID, helpdesk)
	if tok.Claims.Audience != "https://outlook.office.com" || tok.Claims.UPN != helpdesk || len(token.Compare(tok.Claims, want, time.Now())) != 0 {
		t.Fatalf("claims %+v", tok.Claims)
	}
	// The Graph token is a separate request.
	gt, err := acq.Password(ctxT(t, time.Minute), exo[1], helpdesk, helpdeskPW)
	if err != nil || gt.Claims.Audience != "https://graph.microsoft.com" || !strings.Contains(strings.Join(gt.Claims.Scopes, " "), "Mail.Read") {
		t.Fatalf("graph token: %v %+v", err, gt.Claims)
	}
	// A wrong password is not replication delay: no waiting.
	events = nil
	_, err = acq.Password(ctxT(t, time.Minute), exo[0], helpdesk, "wrong")
	if ae, ok := explain.ParseAAD(err); !ok || ae.Code() != 50126 || len(events) != 0 {
		t.Fatalf("wrong password: %v (%d events)", err, len(events))
	}
	// MSAL needs https; a custom authority is refused before any request.
	bad := acq
	bad.Cloud.AuthorityHost = strings.Replace(c.AuthorityHost, "https://", "http://", 1)
	if _, err := bad.Password(ctxT(t, time.Minute), exo[0], helpdesk, helpdeskPW); err == nil || !strings.HasPrefix(err.Error(), "authority") {
		t.Fatalf("http authority: %v", err)
	}
}

// App-only SMTP with the registration but no mailbox right: Exchange (and
// the stricter sim) refuse it at AUTH with 535 5.7.3, older behaviour at
// MAIL FROM with 550 5.7.60. Either way the fix is Microsoft's documented
// FullAccess, and it works.
func TestSimSMTPNoMailboxRights(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.SMTP}, exchange: true, spOnly: true})
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.SMTP)
	ch := only(t, Run(ctxT(t, time.Minute), cfg))
	fullAccess := `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User '` + ap.spID + `' -AccessRights FullAccess`
	var x *explain.Explanation
	if ch.Step == "auth" {
		x = expectFail(t, ch, "auth", "535 5.7.3 Authentication unsuccessful", explain.CodeSMTPAuthFailed, []string{"FullAccess"}, []string{fullAccess})
	} else {
		x = expectFail(t, ch, "mail-from", "550 5.7.60 SMTP; Client does not have permissions to send as this sender", explain.CodeSMTPNoSendAs,
			[]string{"FullAccess", helpdesk, "SendAs is needed in addition only to send as another address"}, []string{fullAccess})
	}
	if strings.Contains(x.FixCommand, "SendAs") {
		t.Errorf("the main fix grants SendAs: %s", x.FixCommand)
	}
	applyFix(t, s, x)
	if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
		dump(t, rep)
		t.Fatal("fix did not work")
	}
}

// A delegated token of one user used for another user's mailbox.
func TestSimDelegatedUserMismatch(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ROPC, protocols: []catalog.Protocol{catalog.IMAP}})
	cfg := config(s, simCloud(t, s), ap, catalog.ROPC, catalog.IMAP)
	cfg.Users = map[string]string{helpdesk: adminUPN}
	cfg.Passwords = map[string]string{adminUPN: "Demo-Admin-2026!"}
	ch := only(t, Run(ctxT(t, time.Minute), cfg))
	expectFail(t, ch, "auth", "NO AUTHENTICATE failed.", explain.CodeTokenUser, []string{adminUPN, helpdesk},
		[]string{"Sign in as helpdesk@contoso.com", `Add-MailboxPermission -Identity 'helpdesk@contoso.com' -User 'admin@contoso.onmicrosoft.com' -AccessRights FullAccess`})
	// The token itself is what the product asked for: the mailbox right
	// is what is missing.
	if len(ch.Mismatches) != 0 {
		t.Errorf("mismatches %+v", ch.Mismatches)
	}
}

func TestSimNoMailbox(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ROPC, protocols: []catalog.Protocol{catalog.IMAP, catalog.GraphRead}})
	const unlicensed = "unlicensed@contoso.com"
	cfg := config(s, simCloud(t, s), ap, catalog.ROPC, catalog.IMAP, catalog.GraphRead)
	cfg.Mailboxes = []string{unlicensed}
	cfg.Passwords = map[string]string{unlicensed: "Demo-Nolic-2026!"}
	rep := Run(ctxT(t, time.Minute), cfg)
	x := expectFail(t, rep.Checks[0], "auth", "NO AUTHENTICATE failed.", explain.CodeIMAPAuthFailed, []string{"does not exist or has no licence"}, []string{"licence"})
	alternative(t, x, "no-mailbox")
	expectFail(t, rep.Checks[1], "inbox", "MailboxNotEnabledForRESTAPI", "MailboxNotEnabledForRESTAPI", []string{unlicensed, "no active Exchange Online mailbox"}, []string{"Exchange Online"})
}

func TestSimEWSNotAllowed(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.EWS}})
	const other = "11111111-1111-1111-1111-111111111111"
	if _, err := s.RunPowerShell(`Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs "` + other + `"`); err != nil {
		t.Fatal(err)
	}
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.EWS)
	// Without Exchange's state: the fix reads the list and writes it back
	// with this app added, so no listed id is dropped.
	x := expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "request", "HTTP 403", explain.CodeEWSForbidden, []string{"EwsAllowedAppIDs", ap.appID},
		[]string{"Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy", "if ($ids -notcontains '" + ap.appID + "')", "-EwsAllowedAppIDs ($ids -join ',')", "exclusive"})
	if strings.Contains(x.FixCommand, "-EwsAllowedAppIDs '") {
		t.Fatalf("a fix that replaces the list: %s", x.FixCommand)
	}
	// With Exchange's state as this test set it (what exchangesetup reads):
	// the cause is a fact and the fix names the whole list.
	cfg.Exchange = &explain.ExchangeFacts{ReadAt: time.Now(), EWS: &explain.EWSFacts{Enabled: ptr(true), AllowedAppIDs: []string{other}},
		Mailboxes: []explain.MailboxFacts{{Address: helpdesk, Read: true, Found: true, CASRead: true, EwsEnabled: ptr(true)}}}
	x = expectFail(t, only(t, Run(ctxT(t, time.Minute), cfg)), "request", "HTTP 403", explain.CodeEWSForbidden,
		[]string{"not on the organisation's EWS allow-list (EwsEnabled True, EwsAllowedAppIDs " + other + ")"},
		[]string{"Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs '" + other + "," + ap.appID + "'"})
	if len(x.Facts) == 0 {
		t.Error("no facts named")
	}
	applyFix(t, s, x)
	if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
		dump(t, rep)
		t.Fatal("fix did not work")
	}
}

func ptr[T any](v T) *T { return &v }

// An EWS endpoint that accepts the connection and never answers.
func TestSimEWSNeverAnswers(t *testing.T) {
	t.Parallel() // mostly waiting
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.EWS}})
	silent := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) { time.Sleep(30 * time.Second) })
	c := simCloud(t, s)
	c.EWSURL = "https://" + silent.ln.Addr().String() + "/EWS/Exchange.asmx"
	cfg := config(s, c, ap, catalog.ClientCredentials, catalog.EWS)
	cfg.Timeout = time.Second
	start := time.Now()
	ch := only(t, Run(ctxT(t, time.Minute), cfg))
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("took %v", took)
	}
	expectFail(t, ch, "request", "", explain.CodeTimeout, []string{"did not answer in time", "EWS at https://127.0.0.1:"}, []string{"--timeout"})
}

// Right after setup Exchange may refuse the first logins while a change
// propagates; with a recent ChangedAt the check waits that out too.
func TestSimFirstLoginsRefusedThenPass(t *testing.T) {
	t.Parallel() // mostly waiting
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
	if err := s.SetIMAPEnabled(helpdesk, false); err != nil {
		t.Fatal(err)
	}
	// Exchange "propagates" the mailbox setting 2 s later.
	time.AfterFunc(2*time.Second, func() { _ = s.SetIMAPEnabled(helpdesk, true) })
	var mu sync.Mutex
	var events []token.Event
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP)
	cfg.ChangedAt = time.Now()
	cfg.Retry = token.Retry{Budget: 20 * time.Second, Interval: 300 * time.Millisecond, Tick: 100 * time.Millisecond,
		OnEvent: func(e token.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }}
	ch := only(t, Run(ctxT(t, time.Minute), cfg))
	if !ch.OK || ch.Attempts < 2 || ch.WaitedMS < 1000 {
		t.Fatalf("%+v", ch)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) == 0 || events[0].Action != "IMAP login helpdesk@contoso.com" || events[0].Code != explain.CodeIMAPNotConnected {
		t.Fatalf("events: %+v", events)
	}
}

func TestSimDeviceCodeConsentDelay(t *testing.T) {
	t.Parallel() // mostly waiting
	s := startSim(t, sim.Options{Delays: sim.Delays{Consent: 2 * time.Second}})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.DeviceCode, protocols: []catalog.Protocol{catalog.IMAP}})
	prompts := 0
	cfg := config(s, simCloud(t, s), ap, catalog.DeviceCode, catalog.IMAP)
	cfg.DeviceCode.OnCode = func(p token.DeviceCodePrompt) {
		prompts++
		_ = s.ApproveDeviceCode(p.UserCode, helpdesk)
	}
	cfg.ChangedAt = time.Now()
	cfg.Retry = token.Retry{Budget: 30 * time.Second, Interval: 500 * time.Millisecond}
	rep := Run(ctxT(t, time.Minute), cfg)
	if !rep.OK() {
		dump(t, rep)
		t.Fatal("not OK")
	}
	// The same code is polled again while consent replicates: one sign-in.
	if prompts != 1 {
		t.Fatalf("the user had to sign in %d times", prompts)
	}
}
