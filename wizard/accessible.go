package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/mailoauth/mailoauth/steps"
)

// runAccessible runs the same steps with huh's accessible prompts: one
// question per line, no alt-screen, no redraws (screen readers, TERM=dumb).
func runAccessible(ctx context.Context, e steps.Engine, o Options) (steps.Outcome, error) {
	s := steps.NewState(o.Answers)
	lines := &lineReader{r: o.In}
	tty := o.In
	o.In = lines
	sh := steps.Shell{
		Out: o.Out,
		Ask: func(q steps.Question, initial string) (string, error) {
			if err := ctx.Err(); err != nil || lines.eof {
				return "", ErrAborted
			}
			if q.Kind == steps.Password {
				if _, ok := tty.(interface{ Fd() uintptr }); ok {
					o := o
					o.In = tty
					return askAccessible(o, q, initial)
				}
			}
			v, err := askAccessible(o, q, initial)
			if lines.eof {
				return "", ErrAborted // input ended: nobody is there to answer
			}
			return v, err
		},
		DeviceCode: func(dc steps.DeviceCode) {
			if o.OpenURL != nil {
				if err := o.OpenURL(dc.VerificationURL); err != nil {
					fmt.Fprintf(o.Out, "Could not open a browser (%v); open the address yourself.\n", err)
				}
			}
			if o.ApproveInTerminal != nil {
				ok := true
				f := huh.NewConfirm().Title("Approve this sign-in here (simulated tenant)?").Value(&ok)
				if err := accessibleForm(o, f).Run(); err == nil && ok {
					if err := o.ApproveInTerminal(dc.UserCode); err != nil {
						fmt.Fprintf(o.Out, "Approval failed: %v\n", err)
					}
				}
			}
		},
	}
	restore := catchBrowserOutput(func(line string) { fmt.Fprintln(o.Out, "The browser opener said: "+line) })
	out, err := steps.Drive(ctx, s, e, sh)
	restore()
	var ae *steps.ApplyError
	switch {
	case err == nil:
		m := New(ctx, e, o)
		m.state, m.phase = s, phaseDone
		fmt.Fprintln(o.Out)
		fmt.Fprint(o.Out, m.summaryText(true, 1000)) // unwrapped: the reader's terminal wraps
	case errors.Is(err, steps.ErrDeclined):
		err = fmt.Errorf("%w: %w", ErrAborted, steps.ErrDeclined)
	case errors.As(err, &ae) && ae.Interrupted():
		err = &Stopped{Apply: ae}
		fmt.Fprintln(o.Out, strings.Join(append(ae.ResumeHelp(), ae.SecretLines()...), "\n"))
	case errors.Is(err, ErrAborted) || errors.Is(err, huh.ErrUserAborted) || errors.Is(err, context.Canceled):
		err = ErrAborted
	}
	if line := nothingChanged(err); line != "" {
		fmt.Fprintln(o.Out, line)
	}
	return out, err
}

func accessibleForm(o Options, f huh.Field) *huh.Form {
	return huh.NewForm(huh.NewGroup(f)).WithAccessible(true).WithInput(o.In).WithOutput(o.Out).WithTheme(huh.ThemeBase())
}

// askAccessible asks one question line by line, validated as typed, with
// its help and what Enter keeps printed first.
func askAccessible(o Options, q steps.Question, initial string) (string, error) {
	if q.Help != "" {
		fmt.Fprintln(o.Out, q.Help)
	}
	if line := defaultLine(q, initial); line != "" {
		fmt.Fprintln(o.Out, line)
	}
	_, tty := o.In.(*os.File)
	f := newField(q, initial, fieldLook{accessible: true, hide: tty})
	if err := accessibleForm(o, f.huh).Run(); err != nil {
		return "", err
	}
	return f.value(), nil
}

// lineReader hands out at most one line per Read, so that each of huh's
// accessible prompts (which wrap the input in a new bufio.Scanner) reads
// its own line and leaves the rest for the next prompt.
type lineReader struct {
	r   io.Reader
	eof bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := l.r.Read(p[n : n+1])
		n += k
		if err != nil {
			if errors.Is(err, io.EOF) {
				l.eof = true
			}
			return n, err
		}
		if k == 1 && p[n-1] == '\n' {
			break
		}
	}
	return n, nil
}
