package wizard

import (
	"errors"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/mailoauth/mailoauth/steps"
)

// field is one question as a huh field, bound to its answer. The
// full-screen wizard and the accessible line-by-line mode both build their
// fields here, so a question looks, defaults and validates the same in
// both.
type field struct {
	q     steps.Question
	huh   huh.Field
	value func() string
	// hovered is the option under a select's cursor (nil for others).
	hovered func() (string, bool)
}

// fieldLook is how a field is drawn.
type fieldLook struct {
	// width pre-wraps the title and help (full screen): huh would cut
	// words at '.', '-' and ','; 0 leaves them (accessible: the screen
	// reader's terminal wraps).
	width int
	// accessible: an empty line keeps the offered value.
	accessible bool
	// hide: a password's typing is not echoed (a terminal is there).
	hide bool
}

// newField builds the field of a question (not a Note: the screens show
// notes themselves) with its initial value.
func newField(q steps.Question, initial string, look fieldLook) field {
	title, help := q.Title, q.Help
	if look.width > 0 {
		// huh's field frame ("┃ ") takes two columns.
		title, help = wrapText(title, look.width-2), wrapText(help, look.width-2)
	}
	if look.accessible {
		help = "" // printed above the prompt, with the default
	}
	f := field{q: q}
	switch q.Kind {
	case steps.Confirm:
		b := initial == "true"
		f.huh = huh.NewConfirm().Key(q.Key).Title(title).Description(help).
			Affirmative("Yes").Negative("No").Value(&b)
		f.value = func() string { return strconv.FormatBool(b) }
	case steps.Select:
		v := initial
		sel := huh.NewSelect[string]().Key(q.Key).Title(title).Description(help).
			Options(options(q, nil)...).Value(&v)
		f.huh, f.hovered = sel, sel.Hovered
		f.value = func() string { return v }
	case steps.MultiSelect:
		chosen := steps.SplitList(initial)
		l := append([]string(nil), chosen...)
		ms := huh.NewMultiSelect[string]().Key(q.Key).Title(title).Description(help).
			Options(options(q, chosen)...).Value(&l).
			Validate(func(v []string) error { return screenError(q, q.Check(strings.Join(v, ","))) })
		f.huh, f.hovered = ms, ms.Hovered
		f.value = func() string { return strings.Join(l, ",") }
	default:
		v := initial
		in := huh.NewInput().Key(q.Key).Title(title).Description(help).Value(&v).
			Validate(func(s string) error {
				if look.accessible && strings.TrimSpace(s) == "" && initial != "" {
					return screenError(q, q.Check(initial)) // Enter keeps the offered value
				}
				return screenError(q, q.Check(s))
			})
		if q.Kind == steps.Password && (look.hide || !look.accessible) {
			in = in.EchoMode(huh.EchoModePassword)
		}
		f.huh = in
		f.value = func() string {
			if look.accessible && strings.TrimSpace(v) == "" {
				return initial
			}
			return v
		}
	}
	return f
}

func options(q steps.Question, chosen []string) []huh.Option[string] {
	opts := make([]huh.Option[string], len(q.Options))
	for i, o := range q.Options {
		opts[i] = huh.NewOption(o.Label, o.Value).Selected(contains(chosen, o.Value))
	}
	return opts
}

// screenError words a refused value for the screen: the field is on
// screen, so its answers key ("callback_url: ") is left out.
func screenError(q steps.Question, err error) error {
	if err == nil || q.Key == "" {
		return err
	}
	if msg := err.Error(); strings.HasPrefix(msg, q.Key+": ") {
		return errors.New(strings.TrimPrefix(msg, q.Key+": "))
	}
	return err
}

// defaultLine says what Enter keeps (accessible mode shows no field).
func defaultLine(q steps.Question, initial string) string {
	if q.Kind == steps.MultiSelect {
		return "Type an option's number to tick or untick it; 0 keeps the ticked ones."
	}
	if initial == "" {
		return ""
	}
	switch q.Kind {
	case steps.Password:
		return "Press Enter to keep the password filled in (it is not shown)."
	case steps.Select:
		for _, o := range q.Options {
			if o.Value == initial {
				return "Press Enter to keep: " + o.Label
			}
		}
	case steps.Text, steps.Number:
		return "Press Enter to keep: " + initial
	}
	return ""
}

// optionIndex is the position of value among a select's options (0 when
// absent).
func optionIndex(q steps.Question, value string) int {
	for i, o := range q.Options {
		if o.Value == value {
			return i
		}
	}
	return 0
}
