package steps

import (
	"errors"
	"flag"
	"os"
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
exchange: script
limit_mailbox_access: true
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
	if err := a.Set("secret_months", "0"); err == nil || !strings.Contains(err.Error(), "1 to 24") {
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

// TestParseAnswersNothingSilentlyDropped: a value YAML types as something
// else, a second document, a nested value or an oversized file is an
// error naming the line and the key (issue 10: 3.7 months became 3).
func TestParseAnswersNothingSilentlyDropped(t *testing.T) {
	for in, want := range map[string][]string{
		"secret_months: 3.7\n":  {"line 1", "secret_months", `"3.7" is not a whole number`, "1 to 24"},
		"secret_months: true\n": {"secret_months", "not a whole number"},
		"test: yes\n":           {"test", `"yes" is not accepted`, "true or false"},
		"test: 1\n":             {"test", "true or false"},
		"product: agiloft\n---\nproduct: genesys\n":                      {"line 2", "second YAML document"},
		"app_name: [a, b]\n":                                             {"app_name", "expected one value, not a list"},
		"mailboxes: {a: b}\n":                                            {"mailboxes", "not key: value pairs"},
		"protocols: [imap, [smtp]]\n":                                    {"protocols", "plain value in the list"},
		"product: agiloft\nsecret_months:\n  - 3\n":                      {"line 3", "secret_months", "expected one value"},
		"mailboxes: " + strings.Repeat("a@b.co,", MaxListItems+1) + "\n": {"mailboxes", "more than 500"},
		"app_name: " + strings.Repeat("x", MaxValueLen+1) + "\n":         {"app_name", "longer than"},
	} {
		_, err := ParseAnswers([]byte(in))
		if err == nil {
			t.Errorf("%.60q accepted", in)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%.60q: error %q lacks %q", in, err, w)
			}
		}
		if len(err.Error()) > 600 {
			t.Errorf("%.60q: the message repeats the value (%d bytes)", in, len(err.Error()))
		}
	}
	big := append([]byte("product: agiloft\n#"), make([]byte, MaxAnswersFile)...)
	if _, err := ParseAnswers(big); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("a file over 1 MiB: %v", err)
	}
	// A password's value never appears in an error.
	if _, err := ParseAnswers([]byte("test_password: " + strings.Repeat("hunter2", 40) + "\n")); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("long password: %v", err)
	}
	// What is accepted: a quoted number, YAML's own true, an empty value
	// (not answered), comments only, aliases.
	a, err := ParseAnswers([]byte("# a consultant's template\nsecret_months: \"6\"\ntest: True\napp_id:\nproduct: &p agiloft\napp_name: *p\n"))
	if err != nil || *a.SecretMonths != 6 || !*a.Test || a.AppID != "" || a.AppName != "agiloft" {
		t.Errorf("accepted forms: %+v, %v", a, err)
	}
	if a, err := ParseAnswers([]byte("# nothing yet\n")); err != nil || a.Product != "" {
		t.Errorf("comments only: %+v %v", a, err)
	}
}

// TestEveryKeyCanBeGiven: every answers key has a flag or an environment
// variable (issue 15: test_password named a --test-password flag that did
// not exist), and its field is wired both ways.
func TestEveryKeyCanBeGiven(t *testing.T) {
	flags := map[string]bool{}
	for _, k := range Keys {
		if k.Flag == "" && k.Env == "" {
			t.Errorf("%s has neither a flag nor an environment variable", k.Key)
		}
		if k.Flag != "" {
			if flags[k.Flag] || !strings.HasPrefix(k.Flag, "--") || k.Flag != "--"+strings.ReplaceAll(k.Key, "_", "-") {
				t.Errorf("%s: flag %q is a repeat or not the key's --dash-form", k.Key, k.Flag)
			}
			flags[k.Flag] = true
		}
		if FlagFor(k.Key) != k.Flag && FlagFor(k.Key) != k.Env {
			t.Errorf("FlagFor(%s) = %q", k.Key, FlagFor(k.Key))
		}
		if k.Label == "" || k.Help == "" || k.Default == "" {
			t.Errorf("%s lacks a label, help or default", k.Key)
		}
		if k.Secret && k.Flag != "" {
			t.Errorf("%s is secret but has a flag (it would land in shell history)", k.Key)
		}
		// Set then Get gives the value back, through the key's own field.
		sample := map[AnswerKind]string{StringAnswer: "x", ListAnswer: "a,b", IntAnswer: "2", BoolAnswer: "true"}[k.Kind]
		if k.Kind == EnumAnswer {
			sample = k.Choices[len(k.Choices)-1]
		}
		var a Answers
		if err := a.Set(k.Key, sample); err != nil {
			t.Errorf("Set(%s, %q): %v", k.Key, sample, err)
		}
		if got, ok := a.Get(k.Key); !ok || got != sample {
			t.Errorf("Get(%s) = %q, %v; want %q", k.Key, got, ok, sample)
		}
		for _, o := range Keys {
			if _, ok := a.Get(o.Key); ok && o.Key != k.Key {
				t.Errorf("Set(%s) also answered %s: two keys share a field", k.Key, o.Key)
			}
		}
	}
	if FlagFor("test_password") != "MAILOAUTH_TEST_PASSWORD" {
		t.Errorf("FlagFor(test_password) = %q", FlagFor("test_password"))
	}
}

func TestMerge(t *testing.T) {
	file, _ := ParseAnswers([]byte("product: agiloft\nmailboxes: a@contoso.com\nsecret_months: 6\n"))
	var flags Answers
	_ = flags.Set("mailboxes", "b@contoso.com,c@contoso.com")
	_ = flags.Set("test", "false")
	file.Merge(flags)
	if file.Product != "agiloft" || strings.Join(file.Mailboxes, ",") != "b@contoso.com,c@contoso.com" || *file.SecretMonths != 6 || *file.Test {
		t.Errorf("merged: %+v", file)
	}
}

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's answers-file table from steps.Keys")

// TestREADMEAnswersTable: README's "Answers file" table is the Keys
// table. Run `go test ./steps -run TestREADMEAnswersTable -update-readme`
// after changing a key.
func TestREADMEAnswersTable(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "| Key | Flag | Accepted | Default |")
	if start < 0 {
		t.Fatalf("README.md has no answers table (header \"| Key | Flag | Accepted | Default |\"); it should be:\n%s", answersTable())
	}
	end := start
	for end < len(readme) && strings.HasPrefix(readme[end:], "|") {
		nl := strings.IndexByte(readme[end:], '\n')
		if nl < 0 {
			end = len(readme)
			break
		}
		end += nl + 1
	}
	if got := readme[start:end]; got != answersTable() {
		if *updateREADME {
			if err := os.WriteFile("../README.md", []byte(readme[:start]+answersTable()+readme[end:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's answers table differs from steps.Keys; run go test ./steps -run TestREADMEAnswersTable -update-readme\nwant:\n%s\ngot:\n%s", answersTable(), got)
	}
}

func TestSetRefusalIsInvalidError(t *testing.T) {
	var a Answers
	err := a.Set("secret_months", "30")
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Key != "secret_months" || !strings.HasPrefix(err.Error(), "--secret-months / secret_months: ") {
		t.Errorf("Set: %v", err)
	}
}
