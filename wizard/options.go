// Package wizard is mailoauth's terminal UI: a side panel with the steps,
// the current step's questions (huh forms), spinners and one line per
// action while the engine works, a countdown through Microsoft's
// replication delay, the login test table and the final summary. It draws
// on Options.Out (stderr); the caller prints results on stdout and maps
// the returned error to the exit code. It never calls Microsoft itself:
// everything goes through a steps.Engine.
package wizard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/pkg/browser"

	"github.com/mailoauth/mailoauth/steps"
)

// Options configure the wizard.
type Options struct {
	// OpenURL opens the device-login page (pkg/browser in cli/), and the
	// mailbox user's sign-in page in the login test, which the screen
	// shows as well; nil hides the "Enter opens the browser" hint.
	OpenURL func(url string) error
	// ApproveInTerminal approves the sign-in without a browser (the demo's
	// simulated tenant); nil hides the offer.
	ApproveInTerminal func(userCode string) error
	// Accessible runs huh's line-by-line prompts for screen readers: no
	// alt-screen, no redraws.
	Accessible bool
	// NoColor drops colour; NO_COLOR and TERM=dumb are honoured too.
	NoColor bool
	// Out is where the wizard draws (stderr). Nil means os.Stderr.
	Out io.Writer
	// In is the keyboard (stdin). Nil means os.Stdin.
	In io.Reader
	// Answers given ahead (answers file, flags) are the initial values.
	Answers steps.Answers
	// Title heads the step list; "" = "mailoauth setup".
	Title string
}

// ErrAborted is returned when the administrator quits before any change
// was made (exit code 130).
var ErrAborted = errors.New("aborted: nothing was changed")

// Stopped is returned when the administrator stopped after the review:
// changes were made and saved in the state file. It matches ErrAborted
// with errors.Is (exit code 130), unwraps to its *steps.ApplyError, and
// says how to resume or undo.
type Stopped struct {
	Apply *steps.ApplyError
}

// Unwrap gives the ApplyError (state file, resume help).
func (s *Stopped) Unwrap() error { return s.Apply }

func (s *Stopped) Error() string {
	return "stopped after the review; " + strings.Join(s.Apply.ResumeHelp(), "; ")
}

// Is makes errors.Is(err, ErrAborted) true.
func (s *Stopped) Is(target error) bool { return target == ErrAborted }

func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = os.Stderr
	}
	if o.In == nil {
		o.In = os.Stdin
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		o.NoColor = true
	}
	if os.Getenv("TERM") == "dumb" {
		// A dumb terminal cannot redraw: use the line-by-line mode.
		o.Accessible = true
	}
	return o
}

// Run runs the wizard to the end and returns what was done. Errors:
// ErrAborted (or a *Stopped after the review), steps.ErrDeclined, or the
// step's own failure.
func Run(ctx context.Context, e steps.Engine, o Options) (steps.Outcome, error) {
	o = o.withDefaults()
	if o.Accessible {
		return runAccessible(ctx, e, o)
	}
	m := New(ctx, e, o)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithOutput(o.Out), tea.WithInput(o.In), tea.WithContext(ctx))
	// Nothing may write over the screen while it is drawn: what the
	// browser opener says (xdg-open without a browser) is shown inside it.
	restore := catchBrowserOutput(func(line string) { p.Send(browserMsg(line)) })
	final, err := p.Run()
	restore()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return steps.Outcome{}, fmt.Errorf("terminal UI: %w", err)
	}
	fm := final.(*Model)
	fm.close()
	out, rerr := fm.Outcome()
	// The last screen leaves with the alt-screen; repeat what must stay:
	// the summary (without the secret's value), or how to resume.
	var ae *steps.ApplyError
	switch {
	case rerr == nil:
		fmt.Fprint(o.Out, fm.finalText())
	case errors.As(rerr, &ae):
		fmt.Fprintln(o.Out, strings.Join(ae.ResumeHelp(), "\n"))
	default:
		if line := nothingChanged(rerr); line != "" {
			fmt.Fprintln(o.Out, line)
		}
	}
	return out, rerr
}

// nothingChanged is the line left on the terminal when the run ended
// before the review's changes: the administrator may wonder.
func nothingChanged(err error) string {
	var st *Stopped
	switch {
	case errors.As(err, &st):
		return "" // after the review: the resume lines say what to do
	case errors.Is(err, steps.ErrDeclined):
		return "The changes were not approved: nothing was changed in the tenant."
	case errors.Is(err, ErrAborted):
		return "Stopped before the review's changes: nothing was changed in the tenant."
	}
	return ""
}

// catchBrowserOutput sends each line pkg/browser's opener writes (its
// Stdout and Stderr) to show, instead of the terminal, until restore is
// called.
func catchBrowserOutput(show func(string)) (restore func()) {
	oldOut, oldErr := browser.Stdout, browser.Stderr
	w := &lineWriter{emit: show}
	browser.Stdout, browser.Stderr = w, w
	return func() { browser.Stdout, browser.Stderr = oldOut, oldErr }
}

// lineWriter hands out whole non-empty lines.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	var lines []string
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			lines = append(lines, line)
		}
		l.buf = l.buf[i+1:]
	}
	l.mu.Unlock()
	for _, line := range lines {
		l.emit(line)
	}
	return len(p), nil
}
