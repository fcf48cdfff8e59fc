package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
	. "github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/steps/stepstest"
)

// productAnswers are answers files that take every product (and method)
// to the end; each needs at most three typed answers.
var productAnswers = map[string]string{
	"extraview":        "product: extraview\nextraview_url: https://ev.example.com/evj\nmailboxes: helpdesk@contoso.com\n",
	"email-this-issue": "product: email-this-issue\ncallback_url: https://jira.example.com/plugins/servlet/oauth2/callback\nmailboxes: helpdesk@contoso.com\n",
	"genesys":          "product: genesys\nmailboxes: helpdesk@contoso.com\ntest_password: Demo-Mail-2026!\n",
	"agiloft":          "product: agiloft\nmailboxes: helpdesk@contoso.com\nadditional_users: support@contoso.com\n",
	"monitor-erp/up":   "product: monitor-erp\nmethod: user-password\nmailboxes: helpdesk@contoso.com\ntest_password: Demo-Mail-2026!\n",
	"monitor-erp/cs":   "product: monitor-erp\nmethod: client-secret\nmailboxes: helpdesk@contoso.com\n",
	"generic/auth":     "product: generic\nmethod: auth-code\nredirect_uri: https://app.example.com/cb\nmailboxes: helpdesk@contoso.com\n",
	"generic/ropc":     "product: generic\nmethod: ropc\nmailboxes: helpdesk@contoso.com\ntest_password: x\n",
	"generic/cc":       "product: generic\nmethod: client-credentials\nprotocols: imap,pop,smtp,ews,graph-read,graph-send\nmailboxes: helpdesk@contoso.com\n",
	"generic/dc":       "product: generic\nmethod: device-code\nmailboxes: helpdesk@contoso.com\naudience: multi\n",
}

func runAnswers(t *testing.T, e *stepstest.Engine, file string) (Outcome, string, error) {
	t.Helper()
	a, err := ParseAnswers([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	o, err := RunUnattended(context.Background(), a, e, &log)
	return o, log.String(), err
}

func TestUnattendedEveryProduct(t *testing.T) {
	for name, file := range productAnswers {
		t.Run(name, func(t *testing.T) {
			e := stepstest.NewSignedIn()
			o, log, err := runAnswers(t, e, file)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if len(e.Applied) != 1 || len(e.Exported) != 1 {
				t.Fatalf("applied %d, exported %d; want 1 each", len(e.Applied), len(e.Exported))
			}
			d := e.Applied[0]
			// Every mailbox is tested (Agiloft: the inbound account and its
			// additional user), each over every protocol.
			if all := d.AllMailboxes(); len(e.Tested) != len(all) || len(o.Test.Rows) != len(all)*len(d.Protocols) {
				t.Fatalf("tested %d mailboxes (%d rows); want %d: %v", len(e.Tested), len(o.Test.Rows), len(all), all)
			}
			if d.AppName == "" || d.Flow == "" || len(d.Permissions) == 0 || len(d.Protocols) == 0 {
				t.Errorf("draft incomplete: %+v", d)
			}
			if d.Flow == catalog.ROPC && e.Tested[0].Password == "" {
				t.Error("ROPC test got no password")
			}
			if !o.Test.OK() || o.LoginFailed() {
				t.Errorf("test report %+v", o.Test)
			}
			js, _ := json.Marshal(o)
			if strings.Contains(string(js), "s3cr3t") || strings.Contains(log, "s3cr3t") {
				t.Error("the secret leaked into the JSON or the log")
			}
			if strings.Contains(log, "Demo-Mail-2026!") || strings.Contains(string(js), "Demo-Mail-2026!") {
				t.Error("the mailbox password leaked")
			}
			for _, want := range []string{"✓ Sign in", "Domains: contoso.com, contoso.onmicrosoft.com", "✓ Review: created", "✓ Export: 2 files"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
		})
	}
}

func TestUnattendedProductFacts(t *testing.T) {
	e := stepstest.NewSignedIn()
	if _, log, err := runAnswers(t, e, productAnswers["extraview"]); err != nil {
		t.Fatal(err, log)
	}
	d := e.Applied[0]
	want := "https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"
	if d.Platform != catalog.Web || len(d.RedirectURIs) != 1 || d.RedirectURIs[0] != want {
		t.Errorf("platform %s, redirect %v", d.Platform, d.RedirectURIs)
	}
	if !d.AssignUsers || !d.NeedsSecret || d.SecretMonths != DefaultSecretMonths || d.AppName != "ExtraView mail (OAuth2)" {
		t.Errorf("draft %+v", d)
	}

	e = stepstest.NewSignedIn()
	if _, log, err := runAnswers(t, e, productAnswers["monitor-erp/cs"]); err != nil {
		t.Fatal(err, log)
	}
	d = e.Applied[0]
	if d.Platform != catalog.PublicClient || d.RedirectURIs[0] != "https://login.microsoftonline.com/common/oauth2/nativeclient" || d.PublicClient {
		t.Errorf("monitor client-secret: platform %s redirect %v public %v", d.Platform, d.RedirectURIs, d.PublicClient)
	}
	if len(d.Permissions) != 1 || d.Permissions[0].Value != "full_access_as_app" {
		t.Errorf("permissions %v", d.Permissions)
	}
}

func TestUnattendedMissingAnswerNamesFlagAndKey(t *testing.T) {
	cases := map[string]struct{ file, flag, key string }{
		"product":   {"mailboxes: a@contoso.com\n", "--product", "product"},
		"callback":  {"product: email-this-issue\nmailboxes: helpdesk@contoso.com\n", "--callback-url", "callback_url"},
		"extraview": {"product: extraview\n", "--extraview-url", "extraview_url"},
		"method":    {"product: monitor-erp\n", "--method", "method"},
		"mailboxes": {"product: agiloft\n", "--mailboxes", "mailboxes"},
		"password":  {"product: genesys\nmailboxes: helpdesk@contoso.com\n", "MAILOAUTH_TEST_PASSWORD", "test_password"},
		"redirect":  {"product: generic\nmethod: auth-code\n", "--redirect-uri", "redirect_uri"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := stepstest.NewSignedIn()
			_, _, err := runAnswers(t, e, c.file)
			var miss *MissingError
			if !errors.As(err, &miss) || !errors.Is(err, ErrMissing) {
				t.Fatalf("error %v is not a MissingError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.flag+" required when not running interactively") || !strings.Contains(msg, c.key) {
				t.Errorf("error %q does not name %s / %s", msg, c.flag, c.key)
			}
			if len(e.Applied) != 0 || e.SignIns != 0 {
				t.Error("signed in or applied changes although an answer was missing")
			}
		})
	}
}

func TestUnattendedBadAnswersRefusedBeforeChanges(t *testing.T) {
	cases := map[string]struct{ file, want string }{
		"bad url":      {"product: extraview\nextraview_url: ftp://x\nmailboxes: helpdesk@contoso.com\n", "extraview_url"},
		"bad email":    {"product: agiloft\nmailboxes: helpdesk.contoso.com\n", "mailboxes"},
		"bad protocol": {"product: email-this-issue\ncallback_url: https://j.example.com/cb\nprotocols: pop\nmailboxes: helpdesk@contoso.com\n", "protocols"},
		"bad product":  {"product: outlook\n", "--product / product"},
		"bad method":   {"product: monitor-erp\nmethod: oauth\n", "--method / method"},
		"no mailbox":   {"product: agiloft\nmailboxes: nobody@contoso.com\n", "is not a user or shared mailbox"},
		"unlicensed":   {"product: agiloft\nmailboxes: unlicensed@contoso.com\n", "no Exchange Online licence"},
		"bad app id":   {"product: agiloft\napp_id: 123\nmailboxes: helpdesk@contoso.com\n", "--app-id / app_id"},
		"bad audience": {"product: agiloft\naudience: everyone\nmailboxes: helpdesk@contoso.com\n", "--audience / audience"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := stepstest.NewSignedIn()
			_, _, err := runAnswers(t, e, c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
			if len(e.Applied) != 0 {
				t.Error("changes were applied despite a bad answer")
			}
		})
	}
}

func TestUnattendedUpdatesAppWithSameName(t *testing.T) {
	e := stepstest.NewSignedIn()
	e.Apps = []ExistingApp{{AppID: "99999999-8888-7777-6666-555555555555", DisplayName: "Agiloft mail (OAuth2)"}}
	o, log, err := runAnswers(t, e, productAnswers["agiloft"])
	if err != nil {
		t.Fatal(err, log)
	}
	if e.Applied[0].AppID != e.Apps[0].AppID || o.Result.Created {
		t.Errorf("existing app not updated: draft app id %q", e.Applied[0].AppID)
	}

	e.Apps = append(e.Apps, ExistingApp{AppID: "aaaaaaaa-8888-7777-6666-555555555555", DisplayName: "Agiloft mail (OAuth2)"})
	e.Applied = nil
	_, _, err = runAnswers(t, e, "product: agiloft\napp_name: agiloft mail (oauth2)\nmailboxes: helpdesk@contoso.com\n")
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "--app-id") {
		t.Errorf("two namesakes: %v", err)
	}
}

func TestUnattendedBlockerStopsBeforeChanges(t *testing.T) {
	e := stepstest.NewSignedIn()
	e.Findings = []Finding{{Severity: Blocker, Text: "you are not an administrator", Fix: "sign in as a Global Administrator"}}
	_, _, err := runAnswers(t, e, productAnswers["agiloft"])
	if err == nil || !strings.Contains(err.Error(), "sign in as a Global Administrator") {
		t.Fatalf("error %v", err)
	}
	if len(e.Applied) != 0 {
		t.Error("applied despite a blocker")
	}
}

func TestUnattendedLoginFailure(t *testing.T) {
	e := stepstest.NewSignedIn()
	e.FailTest = map[catalog.Protocol]stepstest.Failure{catalog.SMTP: {Cause: "535 5.7.139 SmtpClientAuthentication is disabled", Fix: "run exchange-setup.ps1"}}
	o, _, err := runAnswers(t, e, productAnswers["extraview"])
	if err != nil {
		t.Fatal(err)
	}
	if !o.LoginFailed() {
		t.Error("a failed SMTP login is not reported as LoginFailed")
	}
	if o.Export == nil {
		t.Error("export skipped after a failed test; the settings are still useful")
	}
}

func TestUnattendedSkipTest(t *testing.T) {
	e := stepstest.NewSignedIn()
	o, _, err := runAnswers(t, e, "product: genesys\nmailboxes: helpdesk@contoso.com\ntest: false\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Tested) != 0 || o.Test != nil || o.LoginFailed() {
		t.Error("test ran although test: false")
	}
}

func TestValidators(t *testing.T) {
	for _, v := range []string{"a@b.co", "helpdesk@contoso.com"} {
		if ValidateAddress(v) != nil {
			t.Errorf("%q refused", v)
		}
	}
	for _, v := range []string{"", "a", "a@b", "<a@b.co>", "A <a@b.co>", "a@b.co."} {
		if ValidateAddress(v) == nil {
			t.Errorf("%q accepted", v)
		}
	}
	for _, v := range []string{"0", "25", "x", ""} {
		if ValidateSecretMonths(v) == nil {
			t.Errorf("secret months %q accepted", v)
		}
	}
	if ValidateSecretMonths("24") != nil || ValidateGUID("1b2c3d4e-0000-1111-2222-333344445555") != nil {
		t.Error("valid values refused")
	}
}

type brokenTestEngine struct{ *stepstest.Engine }

func (brokenTestEngine) Test(context.Context, Result, TestInput, func(Event)) (TestReport, error) {
	return TestReport{}, errors.New("imap: dial tcp: connection refused")
}

func TestUnattendedTestCannotRunStillExports(t *testing.T) {
	e := stepstest.NewSignedIn()
	a, _ := ParseAnswers([]byte(productAnswers["agiloft"]))
	o, err := RunUnattended(context.Background(), a, brokenTestEngine{e}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.LoginFailed() || !strings.Contains(o.TestError, "connection refused") || o.Export == nil {
		t.Errorf("outcome: LoginFailed %v, TestError %q, export %v", o.LoginFailed(), o.TestError, o.Export)
	}
}

func TestUnattendedAppNameFromAnswersFindsApp(t *testing.T) {
	e := stepstest.NewSignedIn()
	e.Apps = []ExistingApp{{AppID: "12345678-8888-7777-6666-555555555555", DisplayName: "Helpdesk mail"}}
	_, log, err := runAnswers(t, e, "product: agiloft\napp_name: Helpdesk mail\nmailboxes: helpdesk@contoso.com\n")
	if err != nil {
		t.Fatal(err, log)
	}
	if e.Applied[0].AppID != e.Apps[0].AppID || e.Applied[0].AppName != "Helpdesk mail" {
		t.Errorf("draft %+v", e.Applied[0])
	}
	if !strings.Contains(log, "update 12345678-8888-7777-6666-555555555555") {
		t.Errorf("log does not say update:\n%s", log)
	}
}

// A missing answer is reported before the administrator is asked to sign in.
func TestUnattendedMissingAnswerBeforeSignIn(t *testing.T) {
	for _, c := range []struct {
		yaml, flag, key string
	}{
		{"mailboxes: helpdesk@contoso.com\n", "--product", "product"},
		{"product: monitor-erp\nmailboxes: helpdesk@contoso.com\n", "--method", "method"},
		{"product: extraview\nmailboxes: helpdesk@contoso.com\n", "--extraview-url", "extraview_url"},
		{"product: email-this-issue\nmailboxes: helpdesk@contoso.com\n", "--callback-url", "callback_url"},
		{"product: agiloft\n", "--mailboxes", "mailboxes"},
	} {
		a, err := ParseAnswers([]byte(c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		e := stepstest.NewSignedIn()
		_, err = RunUnattended(context.Background(), a, e, io.Discard)
		var missing *MissingError
		if !errors.As(err, &missing) || missing.Key != c.key || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("%q: error %v, want one naming %s / %s", c.yaml, err, c.flag, c.key)
		}
		if e.SignIns != 0 {
			t.Errorf("%q: the admin was asked to sign in before the missing answer was reported", c.yaml)
		}
	}
}
