package steps_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	. "github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/steps/stepstest"
)

// TestPrecheckRefusesBeforeSignIn: every bad answer is an *InvalidError
// naming the flag, the key and the accepted form, found before the
// administrator is asked to sign in (issue 10 item 7).
func TestPrecheckRefusesBeforeSignIn(t *testing.T) {
	cases := map[string]struct {
		file string
		want []string
	}{
		"product":             {"product: jira\nmailboxes: helpdesk@contoso.com\n", []string{"--product / product", `"jira"`, "extraview, email-this-issue"}},
		"method":              {"product: monitor-erp\nmethod: oauth\nmailboxes: helpdesk@contoso.com\n", []string{"--method / method", "user-password, client-secret"}},
		"method of one":       {"product: extraview\nmethod: ropc\nextraview_url: https://ev.example.com/evj\nmailboxes: helpdesk@contoso.com\n", []string{"--method / method", "auth-code"}},
		"audience":            {"product: agiloft\naudience: everyone\nmailboxes: helpdesk@contoso.com\n", []string{"--audience / audience", "single, multi"}},
		"app id":              {"product: agiloft\napp_id: 123\nmailboxes: helpdesk@contoso.com\n", []string{"--app-id / app_id", "8-4-4-4-12"}},
		"mailbox":             {"product: agiloft\nmailboxes: helpdesk.contoso.com\n", []string{"--mailboxes / mailboxes", "name@domain"}},
		"additional user":     {"product: agiloft\nmailboxes: helpdesk@contoso.com\nadditional_users: nope\n", []string{"--additional-users / additional_users", "name@domain"}},
		"extraview url":       {"product: extraview\nextraview_url: http://ev.example.com/evj\nmailboxes: helpdesk@contoso.com\n", []string{"--extraview-url / extraview_url", "https"}},
		"callback url":        {"product: email-this-issue\ncallback_url: https://j.example.com/cb#x\nmailboxes: helpdesk@contoso.com\n", []string{"--callback-url / callback_url", "fragment"}},
		"redirect uri":        {"product: generic\nmethod: auth-code\nredirect_uri: http://app.example.com/cb\nmailboxes: helpdesk@contoso.com\n", []string{"--redirect-uri / redirect_uri", "localhost"}},
		"unsupported proto":   {"product: email-this-issue\ncallback_url: https://j.example.com/cb\nprotocols: pop\nmailboxes: helpdesk@contoso.com\n", []string{"--protocols / protocols", "not supported"}},
		"unknown proto":       {"product: generic\nmethod: ropc\nprotocols: imap,carrier-pigeon\nmailboxes: helpdesk@contoso.com\ntest: false\n", []string{"--protocols / protocols", "carrier-pigeon"}},
		"agiloft protocols":   {"product: agiloft\nprotocols: smtp\nmailboxes: helpdesk@contoso.com\n", []string{"--protocols / protocols"}},
		"app name bidi":       {"product: agiloft\napp_name: \"Agiloft \\u202Eliam\"\nmailboxes: helpdesk@contoso.com\n", []string{"--app-name / app_name", "U+202E"}},
		"app name NEL":        {"product: agiloft\napp_name: \"Agiloft mail\\u0085\"\nmailboxes: helpdesk@contoso.com\n", []string{"--app-name / app_name", "U+0085"}},
		"app name long":       {"product: agiloft\napp_name: " + strings.Repeat("a", 121) + "\nmailboxes: helpdesk@contoso.com\n", []string{"--app-name / app_name", "121 characters", "1 to 120"}},
		"exchange":            {"product: agiloft\nexchange: later\nmailboxes: helpdesk@contoso.com\n", []string{"--exchange / exchange", "apply, script"}},
		"unused callback":     {"product: extraview\nextraview_url: https://ev.example.com/evj\ncallback_url: https://j.example.com/cb\nmailboxes: helpdesk@contoso.com\n", []string{"--callback-url / callback_url", "ExtraView does not use it", "Email This Issue"}},
		"unused add. users":   {"product: genesys\nmailboxes: helpdesk@contoso.com\nadditional_users: b@contoso.com\ntest: false\n", []string{"--additional-users / additional_users", "Agiloft"}},
		"unused secret":       {"product: genesys\nmailboxes: helpdesk@contoso.com\nsecret_months: 6\ntest: false\n", []string{"--secret-months / secret_months", "without a client secret"}},
		"unused assignment":   {"product: agiloft\nmailboxes: helpdesk@contoso.com\nrequire_assignment: true\n", []string{"--require-assignment / require_assignment", "does not assign users"}},
		"limit for delegated": {"product: extraview\nextraview_url: https://ev.example.com/evj\nmailboxes: helpdesk@contoso.com\nlimit_mailbox_access: true\n", []string{"--limit-mailbox-access / limit_mailbox_access", "app-only"}},
		"too many mailboxes":  {"product: agiloft\nmailboxes: a@contoso.com, b@contoso.com\n", []string{"--mailboxes / mailboxes", "at most 1"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a, err := ParseAnswers([]byte(c.file))
			if err != nil {
				t.Fatal(err)
			}
			e := stepstest.New()
			_, err = RunUnattended(context.Background(), a, e, io.Discard)
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error %v is not an InvalidError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if e.SignIns != 0 || len(e.Applied) != 0 {
				t.Error("signed in or applied before refusing the answer")
			}
			// The wizard's pass refuses the same value.
			if CheckAnswers(a) == nil {
				t.Error("CheckAnswers accepted it")
			}
		})
	}
}

// TestPrecheckAcceptsEveryProduct: the answers that take each product to
// the end pass, and the wizard's pass does not ask for what it will ask.
func TestPrecheckAcceptsEveryProduct(t *testing.T) {
	for name, file := range productAnswers {
		a, err := ParseAnswers([]byte(file))
		if err != nil {
			t.Fatal(err)
		}
		if err := Precheck(a); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, file := range []string{"", "product: monitor-erp\n", "product: extraview\n", "mailboxes: a@contoso.com\n", "product: genesys\nmailboxes: helpdesk@contoso.com\n"} {
		a, _ := ParseAnswers([]byte(file))
		if err := CheckAnswers(a); err != nil {
			t.Errorf("CheckAnswers(%q) asked ahead for what the wizard asks: %v", file, err)
		}
	}
	// Exchange and RBAC scoping are accepted where they apply.
	a, _ := ParseAnswers([]byte("product: agiloft\nmailboxes: helpdesk@contoso.com\nexchange: SCRIPT\nlimit_mailbox_access: true\n"))
	if err := Precheck(a); err != nil || a.Exchange != "script" {
		t.Errorf("agiloft with exchange script and scoping: %v (exchange %q)", err, a.Exchange)
	}
}

// TestPrecheckROPCPassword: an unattended ROPC run with the test on needs
// the password before anything happens (issue 15 item 1: the run used to
// change the tenant, write no settings and exit 2); with the test off it
// does not.
func TestPrecheckROPCPassword(t *testing.T) {
	a, _ := ParseAnswers([]byte("product: monitor-erp\nmethod: user-password\nmailboxes: helpdesk@contoso.com\n"))
	var miss *MissingError
	if err := Precheck(a); !errors.As(err, &miss) || miss.Key != "test_password" || !strings.Contains(err.Error(), "MAILOAUTH_TEST_PASSWORD") || !strings.Contains(err.Error(), "--test false") {
		t.Errorf("no password: %v", err)
	}
	off := false
	a.Test = &off
	if err := Precheck(a); err != nil {
		t.Errorf("test off: %v", err)
	}
	a.Test, a.TestPassword = nil, "pw"
	if err := Precheck(a); err != nil {
		t.Errorf("with a password: %v", err)
	}
	if CheckAnswers(Answers{Product: "genesys"}) != nil {
		t.Error("the wizard asks the password itself; CheckAnswers must not require it")
	}
}
