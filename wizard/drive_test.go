package wizard

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/mailoauth/mailoauth/steps"
)

// The drive helpers below run the wizard in teatest and act like a
// person at the keyboard: wait until a question is on the screen, then
// type and press Enter. They read Model.Screen (the last frame, colour
// stripped) instead of teatest's byte stream, so a wait never misses a
// frame that an earlier wait consumed. They take any steps.Engine: the
// integrator can drive the real engine on the simulated tenant with the
// same scripts.

// driver is one running wizard.
type driver struct {
	t  *testing.T
	tm *teatest.TestModel
	m  *Model
}

func startWizard(t *testing.T, e steps.Engine, o Options) *driver {
	t.Helper()
	return startWizardSized(t, e, o, 130, 60)
}

// startWizardSized is startWizard in a terminal of that size.
func startWizardSized(t *testing.T, e steps.Engine, o Options, width, height int) *driver {
	t.Helper()
	if o.Out == nil {
		o.Out = &strings.Builder{} // the Common renderer's writer; teatest owns the real output
	}
	o.NoColor = true
	m := New(context.Background(), e, o)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height))
	return &driver{t: t, tm: tm, m: m}
}

// waitFor polls the screen until ok, failing with the screen after 10s.
func (d *driver) waitFor(what string, ok func(screen string) bool) string {
	d.t.Helper()
	return d.waitWithin(10*time.Second, what, ok)
}

// waitWithin polls the screen until ok, failing with the screen after limit.
func (d *driver) waitWithin(limit time.Duration, what string, ok func(screen string) bool) string {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := d.m.Screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitQuestion waits until the question titled title is the one asked
// (on screen, and not among the answered ✓ lines).
func (d *driver) waitQuestion(title string) string {
	d.t.Helper()
	return d.waitFor("question "+title, func(s string) bool {
		return strings.Contains(s, title) && !strings.Contains(s, "✓ "+title)
	})
}

// waitText waits until text is on the screen.
func (d *driver) waitText(text string) string {
	d.t.Helper()
	return d.waitFor(text, func(s string) bool { return strings.Contains(s, text) })
}

func (d *driver) key(k tea.KeyType) { d.tm.Send(tea.KeyMsg{Type: k}) }
func (d *driver) enter()            { d.key(tea.KeyEnter) }
func (d *driver) esc()              { d.key(tea.KeyEsc) }
func (d *driver) ctrlC()            { d.key(tea.KeyCtrlC) }
func (d *driver) runes(s string)    { d.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }

// answer waits for the question and answers it: "" accepts the offered
// value; "select:Label" moves the cursor to that option; "clear:text"
// empties the field first; "key:n" presses that key alone (y/n on a
// confirmation); anything else is typed.
func (d *driver) answer(title, value string) {
	d.t.Helper()
	d.waitQuestion(title)
	switch {
	case strings.HasPrefix(value, "key:"):
		d.runes(strings.TrimPrefix(value, "key:"))
		return
	case strings.HasPrefix(value, "select:"):
		d.selectOption(strings.TrimPrefix(value, "select:"))
	case strings.HasPrefix(value, "clear:"):
		for i := 0; i < 80; i++ {
			d.key(tea.KeyBackspace)
		}
		d.tm.Type(strings.TrimPrefix(value, "clear:"))
	case value != "":
		d.tm.Type(value)
	}
	d.enter()
}

// selectOption moves a select's cursor ("> ") to the option label.
func (d *driver) selectOption(label string) {
	d.t.Helper()
	for i := 0; i < 12; i++ {
		cur := cursorLine(d.m.Screen())
		if strings.Contains(cur, label) {
			return
		}
		d.key(tea.KeyDown)
		d.waitFor("cursor to move from "+cur, func(s string) bool { return cursorLine(s) != cur })
	}
	d.t.Fatalf("option %q not found; screen:\n%s", label, d.m.Screen())
}

func cursorLine(screen string) string {
	for _, line := range strings.Split(screen, "\n") {
		if i := strings.Index(line, "> "); i >= 0 {
			return strings.TrimSpace(line[i:])
		}
	}
	return ""
}

// signIn waits for the device code and approves it in the terminal.
func (d *driver) signIn() {
	d.t.Helper()
	d.waitText("W X Y Z - 1 2 3 4")
	d.runes("a")
}

// qa is one question of a script: its title and the answer (see answer).
type qa struct{ title, value string }

// finish waits for the end screen, presses Enter and returns the model.
func (d *driver) finish() *Model {
	d.t.Helper()
	d.waitText("Press Enter to finish.")
	d.enter()
	return d.tm.FinalModel(d.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

// script is a new user's answers for one product: the product (and
// method) choice, the typed answers, and Enter for every default.
func script(product, method string, typed ...qa) []qa {
	s := []qa{{"Which product will read or send the mail?", "select:" + product}}
	if method != "" {
		s = append(s, qa{"sign in?", "select:" + method})
	}
	return append(s, typed...)
}
