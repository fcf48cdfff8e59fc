package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Initial is the value a question starts with: the answer given ahead
// (answers file, flags) the first time it is asked, else its default.
func (s *State) Initial(q Question) string {
	if q.Key != "" && !s.asked[q.Key] {
		if v, ok := s.Answers.Get(q.Key); ok {
			return v
		}
	}
	return q.Default
}

// Record answers a question (validated, stored) and remembers it was
// asked, so going back shows what was typed rather than the answers file.
func (s *State) Record(q Question, v string) error {
	if err := q.Answer(s, v); err != nil {
		return err
	}
	if q.Key != "" {
		if s.asked == nil {
			s.asked = map[string]bool{}
		}
		s.asked[q.Key] = true
	}
	return nil
}

// MissingError names the flag and key of a question no one can answer.
type MissingError struct {
	Key  string
	Help string
}

func (e *MissingError) Error() string {
	msg := fmt.Sprintf("%s required when not running interactively (answers key %s)", FlagFor(e.Key), e.Key)
	if e.Help != "" {
		msg += ": " + e.Help
	}
	return msg
}

func (e *MissingError) Unwrap() error { return ErrMissing }

// Asker answers one question from a prompt (accessible mode): it gets
// the question and its initial value and returns the value typed.
type Asker func(q Question, initial string) (string, error)

// RunUnattended runs every step from the answers, without a terminal:
// defaults where an answer is missing and a default exists, else an error
// naming the flag and key. Progress lines go to out (stderr); the caller
// prints the Outcome (--json) on stdout. It returns the outcome so far
// with the error.
func RunUnattended(ctx context.Context, a Answers, e Engine, out io.Writer) (Outcome, error) {
	if err := Precheck(a); err != nil {
		return Outcome{}, err
	}
	return Drive(ctx, NewState(a), e, Shell{Out: out})
}

// Shell is how Drive talks to the person: where lines go, how questions
// are asked (nil: unattended) and how the device code is shown (nil: a
// line on Out).
type Shell struct {
	Out        io.Writer
	Ask        Asker
	DeviceCode func(DeviceCode)
}

// Drive runs every step in order, writing one line per summary, event and
// note to sh.Out. With sh.Ask nil it is unattended; with an Asker (huh's
// accessible line-by-line prompts) each question is asked, and a failed
// check before the review asks the step's questions again.
func Drive(ctx context.Context, s *State, e Engine, sh Shell) (Outcome, error) {
	out, ask := sh.Out, sh.Ask
	if s.Guide == nil {
		s.Guide = GuideOf(e)
	}
	// An action may report the same step in progress more than once
	// (a retry, two layers saying it): print each line once per step.
	printed := map[string]bool{}
	p := Progress{
		DeviceCode: func(dc DeviceCode) {
			fmt.Fprintf(out, "To sign in, open %s and enter the code %s\n", dc.VerificationURL, dc.UserCode)
			if s.Guide != nil && s.Guide.SignIn != "" {
				fmt.Fprintln(out, s.Guide.SignIn)
			}
			if sh.DeviceCode != nil {
				sh.DeviceCode(dc)
			}
		},
		Event: func(ev Event) {
			line := EventLine(ev)
			if !ev.Done && ev.Err == nil && ev.Wait == 0 {
				if printed[line] {
					return
				}
				printed[line] = true
			}
			fmt.Fprintln(out, line)
		},
	}
	for _, st := range All() {
		clear(printed)
		if ask != nil {
			fmt.Fprintf(out, "\n== %s ==\n%s\n", st.Title, st.Help)
		}
		for {
			err := runStep(ctx, s, st, e, p, out, ask)
			if err == nil {
				break
			}
			var miss *MissingError
			var asking *askError
			if errors.As(err, &asking) {
				return s.Outcome(), asking.err // nobody to answer: stop, not retry
			}
			if ask == nil || st.Commits || errors.As(err, &miss) || ctx.Err() != nil || errors.Is(err, ErrDeclined) || st.Act == nil {
				return s.Outcome(), fmt.Errorf("%s: %w", st.Title, err)
			}
			fmt.Fprintf(out, "✗ %v\nPlease correct the answer.\n", err)
		}
		fmt.Fprintf(out, "✓ %s: %s\n", st.Title, st.Summary(s))
		if st.ID == SignInStep {
			for _, line := range TenantLines(s.Tenant) {
				fmt.Fprintln(out, "  "+line)
			}
			for _, f := range s.Findings {
				fmt.Fprintln(out, "  "+FindingLine(f))
			}
		}
	}
	return s.Outcome(), nil
}

func runStep(ctx context.Context, s *State, st Step, e Engine, p Progress, out io.Writer, ask Asker) error {
	if st.Prepare != nil {
		if err := st.Prepare(ctx, s, e, p); err != nil {
			return err
		}
	}
	for _, page := range st.Pages {
		for _, q := range page(s) {
			if q.Kind == Note {
				fmt.Fprintln(out, q.Title+":")
				for _, line := range strings.Split(q.Help, "\n") {
					fmt.Fprintln(out, "  "+line)
				}
				continue
			}
			v := s.Initial(q)
			if ask != nil {
				var err error
				if v, err = ask(q, v); err != nil {
					return &askError{err}
				}
			} else if v == "" && q.Key != "" && q.Check(v) != nil {
				return &MissingError{Key: q.Key, Help: keyHelp(q)}
			}
			if err := s.Record(q, v); err != nil {
				return err
			}
		}
	}
	if st.Act != nil {
		return st.Act(ctx, s, e, p)
	}
	return nil
}

// EventLine formats a progress event as one line of text.
func EventLine(ev Event) string {
	line := ev.Action
	if ev.Detail != "" {
		line += ": " + ev.Detail
	}
	switch {
	case ev.Err != nil:
		return "  ✗ " + line + ": " + ev.Err.Error()
	case ev.Wait > 0:
		return fmt.Sprintf("  … %s: waiting %s for Microsoft to replicate", line, ev.Wait.Round(time.Second))
	case ev.Done:
		return "  ✓ " + line
	}
	return "  · " + line
}

// keyHelp is the accepted form of a key, or the question's title.
func keyHelp(q Question) string {
	for _, k := range Keys {
		if k.Key == q.Key {
			return k.Help
		}
	}
	return q.Title
}

// askError is a failure of the Asker itself (input closed, aborted).
type askError struct{ err error }

func (e *askError) Error() string { return e.err.Error() }
func (e *askError) Unwrap() error { return e.err }
