package steps

import (
	"strings"
	"testing"
)

func TestParseAnswersAllKeys(t *testing.T) {
	a, err := ParseAnswers([]byte(`
product: generic
method: auth-code
app_name: Helpdesk mail
app_id: 1b2c3d4e-0000-1111-2222-333344445555
audience: multi
protocols: [imap, "smtp,graph-send"]
extraview_url: https://ev.example.com/evj
callback_url: https://jira.example.com/cb
redirect_uri: http://localhost:8400/cb
mailboxes: helpdesk@contoso.com; support@contoso.com
additional_users: [a@contoso.com]
secret_months: 6
require_assignment: true
test: false
test_password: pw
`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Protocols, ",") != "imap,smtp,graph-send" {
		t.Errorf("protocols = %v", a.Protocols)
	}
	if strings.Join(a.Mailboxes, ",") != "helpdesk@contoso.com,support@contoso.com" {
		t.Errorf("mailboxes = %v", a.Mailboxes)
	}
	if *a.SecretMonths != 6 || !*a.RequireAssignment || *a.Test {
		t.Errorf("scalars wrong: %+v", a)
	}
	for _, k := range Keys {
		if _, ok := a.Get(k.Key); !ok {
			t.Errorf("key %s not read", k.Key)
		}
	}
}

func TestParseAnswersRefusesUnknownKey(t *testing.T) {
	_, err := ParseAnswers([]byte("product: agiloft\ncallback: https://x\n"))
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	for _, want := range []string{`"callback"`, "line 2", "callback_url", "secret_months"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestParseAnswersRefusesBadValues(t *testing.T) {
	for _, in := range []string{
		"secret_months: 30",
		"secret_months: twelve",
		"test: maybe",
		"protocols: {a: b}",
		"- product",
		"product: a\nproduct: b",
	} {
		if _, err := ParseAnswers([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestAnswersSetMatchesFile(t *testing.T) {
	var a Answers
	for _, kv := range [][2]string{{"protocols", "imap, smtp"}, {"secret_months", "3"}, {"test", "false"}, {"callback_url", "https://j/cb"}} {
		if err := a.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := a.Get("protocols"); v != "imap,smtp" {
		t.Errorf("protocols = %q", v)
	}
	if err := a.Set("secret_months", "0"); err == nil || !strings.Contains(err.Error(), "1..24") {
		t.Errorf("secret_months 0: %v", err)
	}
	if err := a.Set("nope", "x"); err == nil || !strings.Contains(err.Error(), "accepted keys") {
		t.Errorf("unknown key: %v", err)
	}
	if err := a.Set("test", "perhaps"); err == nil || !strings.Contains(err.Error(), "--test") {
		t.Errorf("bad bool: %v", err)
	}
}

func FuzzParseAnswers(f *testing.F) {
	for _, seed := range []string{
		"product: extraview\nextraview_url: https://ev.example.com/evj\nmailboxes: helpdesk@contoso.com\n",
		"protocols: [imap, smtp]\nsecret_months: 12\n",
		"protocols: imap,smtp\ntest: true\n",
		"unknown: 1\n",
		"- a\n- b\n",
		"secret_months: -1\n",
		"mailboxes: {a: 1}\n",
		"product: &a x\napp_name: *a\n",
		"",
		"\t\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(data)
		if err != nil {
			return
		}
		// Whatever was accepted must be within range and readable back.
		if a.SecretMonths != nil && (*a.SecretMonths < 1 || *a.SecretMonths > 24) {
			t.Fatalf("accepted secret_months %d", *a.SecretMonths)
		}
		for _, k := range Keys {
			if v, ok := a.Get(k.Key); ok && k.Key != "secret_months" && k.Key != "test" && k.Key != "require_assignment" {
				var b Answers
				if err := b.Set(k.Key, v); err != nil {
					t.Fatalf("value of %s read back from the file is refused by Set: %v", k.Key, err)
				}
			}
		}
	})
}
