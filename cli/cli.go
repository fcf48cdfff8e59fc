// Package cli is mailoauth's command line, on cobra as the GitHub CLI is:
// one file per command, each an options struct filled from flags and a
// run function that tests call directly (newCmdX takes the run function,
// so a test can check what the flags filled in without running it). It is
// the only package that wires the simulated tenant to the tool.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes (README "Exit codes").
const (
	ExitOK         = 0
	ExitError      = 1
	ExitUsage      = 2
	ExitTestFailed = 3
	ExitAborted    = 130
)

// IO is where a command reads and writes. The TUI and progress go to Err;
// results go to Out, so `mailoauth ... --json > result.json` stays clean.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Interactive is true when stdin and stderr are terminals, so the
	// wizard may prompt; otherwise every answer must come from flags or an
	// answers file.
	Interactive bool
	Getenv      func(string) string
}

// StdIO is the process's own terminal.
func StdIO() IO {
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Interactive: term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:      os.Getenv,
	}
}

// UsageError is bad command-line input: exit code 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// ErrAborted is the user stopping the run (Ctrl-C, Esc on the first step).
var ErrAborted = errors.New("aborted")

// errStopReported is a stop whose screen or lines already said what was
// and was not changed: exit 130 without another word.
var errStopReported = fmt.Errorf("%w (reported)", ErrAborted)

// ErrTestFailed means everything was set up but a login check failed.
var ErrTestFailed = errors.New("the login test failed")

func init() {
	// Started from Explorer (a double-click on mailoauth.exe), run the
	// wizard in the console Windows opens instead of cobra's "this is a
	// command-line tool" notice: that is how many admins will start it.
	cobra.MousetrapHelpText = ""
	// Commands are listed in the order a first-time admin meets them.
	cobra.EnableCommandSorting = false
}

// Main runs one command and returns the process exit code. With no
// command, or flags first, the command is setup.
func Main(ctx context.Context, args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = os.Getenv
	}
	root := newRootCmd(io)
	root.SetArgs(withDefaultCommand(args))
	return exitCode(io, root.ExecuteContext(ctx))
}

// withDefaultCommand makes setup the command when none is given
// (`mailoauth`, `mailoauth --answers a.yaml --yes`); `mailoauth --help`
// stays the list of commands.
func withDefaultCommand(args []string) []string {
	if len(args) == 0 {
		return []string{"setup"}
	}
	if first := args[0]; strings.HasPrefix(first, "-") && first != "-h" && first != "--help" {
		return append([]string{"setup"}, args...)
	}
	return args
}

func exitCode(io IO, err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(io.Err, "mailoauth: %s\n", ue.Msg)
		return ExitUsage
	case errors.Is(err, errStopReported):
		return ExitAborted
	case errors.Is(err, ErrAborted) || errors.Is(err, context.Canceled):
		fmt.Fprintln(io.Err, "mailoauth: stopped.")
		return ExitAborted
	case errors.Is(err, ErrTestFailed):
		fmt.Fprintf(io.Err, "mailoauth: %v\n", err)
		return ExitTestFailed
	}
	fmt.Fprintf(io.Err, "mailoauth: %v\n", err)
	return ExitError
}

// newRootCmd is `mailoauth` with every command under it.
func newRootCmd(io IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "mailoauth",
		Short: "Set up OAuth2 mailbox access in Microsoft 365 for a business product",
		Long: "mailoauth sets up OAuth2 mailbox access in Microsoft 365 for a business product (ExtraView, Email This Issue,\n" +
			"Genesys, Agiloft, Monitor ERP, or any IMAP/POP/SMTP/EWS/Graph client): it registers the Entra ID app after one\n" +
			"device-code sign-in, proves a real mailbox login the way the product logs in, and writes the product's settings.\n\n" +
			"With no command, mailoauth runs setup.",
		Example: "  mailoauth                                   # the wizard on your tenant (same as: mailoauth setup)\n" +
			"  mailoauth demo                              # the wizard on the built-in simulated tenant\n" +
			"  mailoauth setup --answers customer.yaml --yes --json > result.json\n" +
			"  mailoauth test --out mailoauth-out/agiloft-mail-oauth2 --wait 10m",
		SilenceErrors: true,
		SilenceUsage:  true,
		// `mailoauth setpu --yes` is a misspelt command, not a bad flag.
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
		Args:               unknownCommand,
		RunE:               func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(flagError)
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.HiddenDefaultCmd = false
	root.AddCommand(
		newCmdSetup(io, nil),
		newCmdDemo(io, nil),
		newCmdTest(io, nil),
		newCmdExport(io, nil),
		newCmdDelete(io, nil),
		newCmdSim(io, nil),
		newCmdVersion(io, nil),
	)
	return root
}

// unknownCommand: `mailoauth frobnicate` names it, suggests the nearest
// command and lists them all (exit 2).
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return &UsageError{Msg: msg + "\n\n" + commandList(cmd) + "\nRun 'mailoauth --help' for more, 'mailoauth <command> --help' for a command's flags."}
}

// commandList is the "Commands:" block of a usage error.
func commandList(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("Commands:\n")
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			fmt.Fprintf(&b, "  %-11s %s\n", c.Name(), c.Short)
		}
	}
	return b.String()
}
