// Package cli is mailoauth's command line: one file per command, each an
// options struct filled from flags and a run function that tests call
// directly (the GitHub CLI's shape). It is the only package that wires the
// simulated tenant to the tool.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

// ErrTestFailed means everything was set up but a login check failed.
var ErrTestFailed = errors.New("the login test failed")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io IO) error
}

func commands() []command {
	return []command{
		{"setup", "run the wizard against your Microsoft 365 tenant (the default command)", runSetup},
		{"demo", "run the same wizard against a built-in simulated tenant (no Microsoft account needed)", runDemo},
		{"test", "prove a mailbox login the way the product will log in, from the state file", runTest},
		{"export", "write the product's settings again from the state file", runExport},
		{"delete", "remove from the tenant exactly what mailoauth created (from the state file)", runDelete},
		{"sim", "serve the simulated Microsoft 365 tenant on 127.0.0.1 in the foreground", runSim},
		{"version", "print the version", runVersion},
	}
}

// Version is set at build time with -ldflags "-X github.com/mailoauth/mailoauth/cli.Version=…".
var Version = "dev"

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = os.Getenv
	}
	name := "setup"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "--help" || name == "-h" {
		printUsage(io.Out)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(io, c.run(ctx, args, io))
		}
	}
	fmt.Fprintf(io.Err, "mailoauth: unknown command %q\n\n", name)
	printUsage(io.Err)
	return ExitUsage
}

func exitCode(io IO, err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errHelpShown):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(io.Err, "mailoauth: %s\n", ue.Msg)
		return ExitUsage
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

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "mailoauth sets up OAuth2 mailbox access in Microsoft 365 for a business product.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: mailoauth [command] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'mailoauth <command> --help' for its flags.")
}

func runVersion(_ context.Context, _ []string, io IO) error {
	fmt.Fprintf(io.Out, "mailoauth %s\n", Version)
	return nil
}
