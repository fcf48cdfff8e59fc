package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/steps"
)

var commandNames = []string{"setup", "demo", "test", "export", "delete", "sim", "version", "completion"}

// TestHelpListsCommands: `mailoauth --help` lists every command (issue 12
// item 14: only `mailoauth help` did), and every command's help has
// examples.
func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runMain(t, context.Background(), nil, nil, "", args...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.err)
		}
		for _, c := range commandNames {
			if !strings.Contains(r.out, "\n  "+c+" ") {
				t.Errorf("%v does not list %s:\n%s", args, c, r.out)
			}
		}
	}
	for _, c := range commandNames[:7] {
		r := runMain(t, context.Background(), nil, nil, "", c, "--help")
		if r.code != ExitOK || !strings.Contains(r.out, "Examples:\n  ") || !strings.Contains(r.out, "mailoauth "+c) && c != "setup" {
			t.Errorf("%s --help: exit %d, no examples:\n%s", c, r.code, r.out)
		}
		if r.err != "" {
			t.Errorf("%s --help wrote to stderr: %s", c, r.err)
		}
	}
	// A typo is named, the nearest command suggested, the commands listed.
	r := runMain(t, context.Background(), nil, nil, "", "setpu", "--yes")
	if r.code != ExitUsage || !strings.Contains(r.err, `unknown command "setpu"`) || !strings.Contains(r.err, `did you mean "setup"?`) {
		t.Errorf("exit %d\n%s", r.code, r.err)
	}
	for _, c := range commandNames {
		if !strings.Contains(r.err, "\n  "+c+" ") {
			t.Errorf("the bad-command message does not list %s:\n%s", c, r.err)
		}
	}
}

// TestCompletion: completion scripts generate for every shell, the bash
// one loads in bash and registers the command, and completing a flag
// value offers the table's choices.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := runMain(t, context.Background(), nil, nil, "", "completion", sh)
		if r.code != ExitOK || !strings.Contains(r.out, "mailoauth") || len(r.out) < 500 {
			t.Fatalf("completion %s: exit %d, %d bytes\n%s", sh, r.code, len(r.out), r.err)
		}
		if sh != "bash" {
			continue
		}
		bash, err := exec.LookPath("bash")
		if err != nil {
			t.Fatal("bash is needed to load the completion script: ", err)
		}
		script := filepath.Join(t.TempDir(), "mailoauth.bash")
		if err := os.WriteFile(script, []byte(r.out), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", "source "+script+" && complete -p mailoauth").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "complete ") || !strings.Contains(string(out), " mailoauth") {
			t.Errorf("the bash completion does not load: %v\n%s", err, out)
		}
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "setup", "--product", ""}, []string{"extraview", "email-this-issue", "agiloft", "generic"}},
		{[]string{"__complete", "setup", "--exchange", ""}, []string{"apply", "script"}},
		{[]string{"__complete", "setup", "--cloud", ""}, []string{"global", "usgov-high", "china"}},
		{[]string{"__complete", ""}, []string{"setup", "demo", "delete"}},
		{[]string{"__complete", "setup", "--rem"}, []string{"--remove-unneeded-permissions"}},
	} {
		r := runMain(t, context.Background(), nil, nil, "", c.args...)
		for _, w := range c.want {
			if !strings.Contains(r.out, w+"\n") && !strings.Contains(r.out, w+"\t") {
				t.Errorf("%v offers no %q:\n%s", c.args, w, r.out)
			}
		}
	}
}

// TestFlagsFillOptions: the gh shape: the command fills its options
// struct from flags and hands it to the run function, which a test can
// replace.
func TestFlagsFillOptions(t *testing.T) {
	t.Parallel()
	var got *setupOptions
	cmd := newCmdSetup(IO{Getenv: env{}.get}, func(_ context.Context, o *setupOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--yes", "--out", "x", "--test-timeout", "5s", "--product", "AGILOFT", "--mailboxes", "a@contoso.com, b@contoso.com",
		"--secret-months", "6", "--test", "false", "--exchange", "script", "--limit-mailbox-access", "true", "--tenant", "contoso.onmicrosoft.com"})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	a := got.flagAnswers
	if !got.yes || got.out != "x" || got.testTimeout != 5*time.Second || got.tenant != "contoso.onmicrosoft.com" || got.cloud.name != "global" {
		t.Errorf("options: %+v", got)
	}
	if a.Product != "agiloft" || strings.Join(a.Mailboxes, "|") != "a@contoso.com|b@contoso.com" || *a.SecretMonths != 6 || *a.Test ||
		a.Exchange != "script" || !*a.LimitMailboxAccess {
		t.Errorf("answers: %+v", a)
	}
	// Every answers key with a flag is a flag of setup and demo.
	for _, c := range []*cobra.Command{newCmdSetup(IO{}, nil), newCmdDemo(IO{}, nil)} {
		for _, k := range steps.Keys {
			if k.Flag != "" && c.Flags().Lookup(strings.TrimPrefix(k.Flag, "--")) == nil {
				t.Errorf("%s has no %s flag", c.Name(), k.Flag)
			}
		}
	}
}

// TestDefaultCommandIsSetup: no command, or flags first, is setup.
func TestDefaultCommandIsSetup(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "setup", "--yes --answers a.yaml": "setup --yes --answers a.yaml", "demo --no-delay": "demo --no-delay", "--help": "--help", "help": "help"} {
		if got := strings.Join(withDefaultCommand(strings.Fields(in)), " "); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
	r := runMain(t, context.Background(), nil, nil, "", "--product", "jira", "--yes")
	if r.code != ExitUsage || !strings.Contains(r.err, "--product / product") {
		t.Errorf("flags without a command did not run setup: exit %d\n%s", r.code, r.err)
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	r := runMain(t, context.Background(), nil, nil, "", "version", "--json")
	var v BuildInfo
	decodeJSON(t, r.out, &v)
	if r.code != ExitOK || v.Version == "" || v.Go == "" || v.OS == "" || v.Arch == "" {
		t.Errorf("exit %d: %+v", r.code, v)
	}
	r = runMain(t, context.Background(), nil, nil, "", "version")
	if !strings.HasPrefix(r.out, "mailoauth "+v.Version) {
		t.Errorf("version: %q", r.out)
	}
}

// TestREADMECommands: README's "Commands" table has a row for every
// command the binary has.
func TestREADMECommands(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i := strings.Index(readme, "## Commands")
	if i < 0 {
		t.Fatal("README.md has no Commands section")
	}
	section := readme[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	root := newRootCmd(IO{})
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && !strings.Contains(section, "`mailoauth "+c.Name()) {
			t.Errorf("README's Commands table has no row for %s", c.Name())
		}
	}
}
