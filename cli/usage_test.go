package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageErrors: bad command-line input exits 2 with a message naming
// the flag (or key) and the accepted form, before anything is changed.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badKey, []byte("product: generic\nmailbox: helpdesk@contoso.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string // all must appear on stderr
	}{
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "Commands:"}},
		{"unknown flag", []string{"setup", "--frob"}, []string{"unknown flag --frob", "mailoauth setup --help"}},
		{"unknown flag on test", []string{"test", "--nope"}, []string{"unknown flag --nope", "mailoauth test --help"}},
		{"flag without value", []string{"setup", "--out"}, []string{"--out needs a value"}},
		{"bad duration", []string{"test", "--timeout", "soon"}, []string{`--timeout: "soon"`, "accepted form: a duration"}},
		{"bad bool", []string{"setup", "--yes=maybe"}, []string{`--yes: "maybe"`, "accepted form: true or false"}},
		{"bad test answer", []string{"setup", "--test", "maybe"}, []string{`--test: "maybe"`, "accepted form: true or false"}},
		{"stray argument", []string{"setup", "--yes", "generic"}, []string{`unexpected argument "generic"`, "flags start with --"}},
		{"stray argument on export", []string{"export", "state.json"}, []string{`unexpected argument "state.json"`}},
		{"bad cloud", []string{"setup", "--cloud", "mars"}, []string{"--cloud", `"mars"`, "accepted: global, usgov-high, usgov-dod, china, custom"}},
		{"bad imap", []string{"setup", "--cloud", "custom", "--imap", "imap.example.com"}, []string{"--imap", "accepted form: host:port"}},
		{"bad imap port", []string{"setup", "--cloud", "custom", "--imap", "127.0.0.1:99999"}, []string{"--imap", "1 to 65535"}},
		{"http authority", []string{"setup", "--cloud", "custom", "--authority", "http://login.example.com"}, []string{"--authority", "accepted form: https://"}},
		{"bad tenant", []string{"setup", "--tenant", "not a tenant!"}, []string{"--tenant", "accepted form: 00000000-0000-0000-0000-000000000000 or contoso.onmicrosoft.com"}},
		{"bad client id", []string{"setup", "--client-id", "graph-cli"}, []string{"--client-id", "accepted form: a GUID"}},
		{"bad secret months", []string{"setup", "--secret-months", "twelve"}, []string{"--secret-months", "accepted form: a whole number of months, 1 to 24"}},
		{"unknown answers key", []string{"setup", "--yes", "--answers", badKey}, []string{"--answers", `unknown key "mailbox"`, "mailboxes"}},
		{"missing answers file", []string{"setup", "--yes", "--answers", filepath.Join(dir, "nope.yaml")}, []string{"--answers"}},
		{"delete bad tenant", []string{"delete", "--tenant", "not a tenant!", "--yes"}, []string{"--tenant", "accepted form"}},
		{"export without state", []string{"export"}, []string{"--state"}},
		{"test with missing state file", []string{"test", "--state", filepath.Join(dir, "state.json")}, []string{"--state", "no state file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runMain(t, context.Background(), nil, nil, "", c.args...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, ExitUsage, r.err)
			}
			for _, w := range c.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.err)
				}
			}
			if strings.Count(r.err, "\n") > 3 && c.name != "unknown command" {
				t.Errorf("a usage error should be a line or two, not the flag list:\n%s", r.err)
			}
			if r.out != "" {
				t.Errorf("stdout not empty on a usage error:\n%s", r.out)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"setup", "--help"}, {"version"}} {
		r := runMain(t, context.Background(), nil, nil, "", args...)
		if r.code != ExitOK {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.err)
		}
	}
}
