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
	out, err := steps.Drive(ctx, s, e, sh)
	var ae *steps.ApplyError
	switch {
	case err == nil:
		m := New(ctx, e, o)
		m.state, m.phase = s, phaseDone
		fmt.Fprintln(o.Out)
		fmt.Fprint(o.Out, m.summaryView(true))
	case errors.Is(err, steps.ErrDeclined):
		err = fmt.Errorf("%w: %w", ErrAborted, steps.ErrDeclined)
	case errors.As(err, &ae) && ae.Interrupted():
		err = &Stopped{Apply: ae}
		fmt.Fprintln(o.Out, strings.Join(append(ae.ResumeHelp(), ae.SecretLines()...), "\n"))
	case errors.Is(err, ErrAborted) || errors.Is(err, huh.ErrUserAborted) || errors.Is(err, context.Canceled):
		err = ErrAborted
	}
	return out, err
}

func accessibleForm(o Options, f huh.Field) *huh.Form {
	return huh.NewForm(huh.NewGroup(f)).WithAccessible(true).WithInput(o.In).WithOutput(o.Out).WithTheme(huh.ThemeBase())
}

// askAccessible asks one question line by line, validated as typed.
func askAccessible(o Options, q steps.Question, initial string) (string, error) {
	title := q.Title
	if q.Help != "" {
		fmt.Fprintln(o.Out, q.Help)
	}
	var f huh.Field
	var get func() string
	switch q.Kind {
	case steps.Confirm:
		b := initial == "true"
		f = huh.NewConfirm().Title(title).Value(&b)
		get = func() string { return fmt.Sprint(b) }
	case steps.Select:
		v := initial
		var opts []huh.Option[string]
		for _, op := range q.Options {
			opts = append(opts, huh.NewOption(op.Label, op.Value))
		}
		f = huh.NewSelect[string]().Title(title).Options(opts...).Value(&v)
		get = func() string { return v }
	case steps.MultiSelect:
		chosen := steps.SplitList(initial)
		l := append([]string(nil), chosen...)
		var opts []huh.Option[string]
		for _, op := range q.Options {
			opts = append(opts, huh.NewOption(op.Label, op.Value).Selected(contains(chosen, op.Value)))
		}
		f = huh.NewMultiSelect[string]().Title(title).Options(opts...).Value(&l).
			Validate(func(v []string) error { return q.Check(strings.Join(v, ",")) })
		get = func() string { return strings.Join(l, ",") }
	default:
		v := initial
		// huh checks the raw line; an empty line takes the offered value.
		in := huh.NewInput().Title(title).Value(&v).Validate(func(s string) error {
			if strings.TrimSpace(s) == "" && initial != "" {
				return q.Check(initial)
			}
			return q.Check(s)
		})
		if _, tty := o.In.(*os.File); q.Kind == steps.Password && tty {
			in = in.EchoMode(huh.EchoModePassword)
		}
		f = in
		get = func() string { return v }
	}
	if err := accessibleForm(o, f).Run(); err != nil {
		return "", err
	}
	return get(), nil
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
