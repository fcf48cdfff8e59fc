package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"github.com/mailoauth/mailoauth/steps"
)

// failedIn records which part of a step failed, for retry.
type failedIn int

const (
	failedPrepare failedIn = iota
	failedAct
)

// actionMsg wraps a message from a running action with the channel to
// listen on next.
type actionMsg struct {
	ch  chan tea.Msg
	msg tea.Msg
}

// enterStep starts step i: Prepare, then its first page.
func (m *Model) enterStep(i int) tea.Cmd {
	m.step, m.page = i, 0
	m.events, m.device, m.notice, m.failure, m.running = nil, nil, "", nil, ""
	m.form = nil
	if i >= len(m.all) {
		m.phase = phaseDone
		return nil
	}
	st := m.all[i]
	if st.Prepare != nil {
		return m.runAction(st.Prepare, phasePrepare)
	}
	return m.showPage(0)
}

// showPage shows the first page from p on that has questions, or runs
// the step's action when none is left.
func (m *Model) showPage(p int) tea.Cmd {
	st := m.all[m.step]
	for ; p < len(st.Pages); p++ {
		qs := st.Pages[p](m.state)
		if len(qs) == 0 {
			continue
		}
		m.page, m.pageQs, m.qi, m.answered = p, qs, 0, nil
		m.phase = phaseForm
		return m.buildForm()
	}
	m.page = len(st.Pages)
	return m.runAct()
}

func (m *Model) runAct() tea.Cmd {
	st := m.all[m.step]
	m.form = nil
	if st.Act == nil {
		return m.completeStep()
	}
	if st.Commits {
		m.committed = true
		m.appName = m.state.Draft.AppName
	}
	return m.runAction(st.Act, phaseAct)
}

func (m *Model) completeStep() tea.Cmd {
	m.summaries[m.step] = m.all[m.step].Summary(m.state)
	if m.all[m.step].ID == steps.SignInStep {
		m.signInFindings = append([]steps.Finding(nil), m.state.Findings...)
		m.tenant = m.state.Tenant
	}
	return m.enterStep(m.step + 1)
}

// runAction runs a step action in the background; its device code,
// events and end arrive as messages.
func (m *Model) runAction(fn steps.Action, ph phase) tea.Cmd {
	m.actionID++
	id := m.actionID
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel = cancel
	m.phase = ph
	m.running = ""
	ch := make(chan tea.Msg, 16)
	done := m.done
	send := func(msg tea.Msg) {
		select {
		case ch <- msg:
		case <-done:
		}
	}
	state, engine := m.state, m.engine
	go func() {
		defer cancel()
		err := fn(ctx, state, engine, steps.Progress{
			DeviceCode: func(dc steps.DeviceCode) { send(deviceCodeMsg{id, dc}) },
			Event:      func(ev steps.Event) { send(eventMsg{id, ev}) },
		})
		send(actionDoneMsg{id, err})
	}()
	return listen(ch, done)
}

func listen(ch chan tea.Msg, done chan struct{}) tea.Cmd {
	return func() tea.Msg {
		select {
		case msg := <-ch:
			return actionMsg{ch: ch, msg: msg}
		case <-done:
			return nil
		}
	}
}

// actionDone moves on after Prepare or Act ended.
func (m *Model) actionDone(err error) tea.Cmd {
	m.running = ""
	m.waitUntil = m.waitUntil.AddDate(-1, 0, 0)
	switch {
	case m.phase == phaseStopping:
		if err == nil {
			err = context.Canceled
		}
		m.stop(err)
		return nil
	case err == nil && m.phase == phasePrepare:
		return m.showPage(0)
	case err == nil:
		return m.completeStep()
	case errors.Is(err, steps.ErrDeclined):
		m.err = fmt.Errorf("%w: %w", ErrAborted, steps.ErrDeclined)
		return m.finish()
	case m.committed && errors.Is(err, context.Canceled):
		m.stop(err)
		return nil
	}
	m.failure = err
	m.failedIn = failedAct
	if m.phase == phasePrepare {
		m.failedIn = failedPrepare
	}
	m.phase = phaseFailed
	if m.committed {
		// After the review there is no going back: the failure ends the
		// run, with the state file to resume from.
		m.err = err
	}
	return nil
}

// retry runs the failed part of the step again.
func (m *Model) retry() tea.Cmd {
	if m.committed {
		return m.finish()
	}
	m.failure = nil
	if m.failedIn == failedPrepare {
		return m.enterStep(m.step)
	}
	return m.showPage(0)
}

// back shows the previous question: on this page, or the last question
// of an earlier page or step (never before the review's changes).
func (m *Model) back() tea.Cmd {
	m.failure, m.events, m.device = nil, nil, nil
	if m.phase == phaseForm && m.qi > 0 {
		m.qi--
		m.answered = m.answered[:m.qi]
		return m.buildForm()
	}
	step, page := m.step, m.page
	if m.phase == phaseFailed && m.failedIn == failedPrepare {
		page = 0
	}
	for {
		page--
		for page < 0 {
			step--
			if step < 0 {
				return m.reshow() // nothing earlier to change
			}
			page = len(m.all[step].Pages) - 1
		}
		if qs := m.all[step].Pages[page](m.state); len(qs) > 0 {
			m.step, m.page, m.pageQs = step, page, qs
			m.qi, m.answered = len(qs)-1, nil
			for _, q := range qs[:m.qi] {
				m.answered = append(m.answered, answeredLine(q, m.state.Initial(q)))
			}
			m.phase = phaseForm
			return m.buildForm()
		}
	}
}

// reshow stays where Esc cannot go further back.
func (m *Model) reshow() tea.Cmd {
	if m.phase == phaseForm {
		return nil
	}
	return m.enterStep(m.step)
}

// boundField ties a form field's value to its question.
type boundField struct {
	q    steps.Question
	str  *string
	b    *bool
	list *[]string
}

func (f boundField) value() string {
	switch {
	case f.b != nil:
		if *f.b {
			return "true"
		}
		return "false"
	case f.list != nil:
		return strings.Join(*f.list, ",")
	case f.str != nil:
		return *f.str
	}
	return ""
}

// buildForm makes the huh form of the current question: one field per
// form, so each question is answered (and validated where it is typed)
// before the next one appears.
func (m *Model) buildForm() tea.Cmd {
	q := m.pageQs[m.qi]
	initial := m.state.Initial(q)
	bf := boundField{q: q}
	var field huh.Field
	switch q.Kind {
	case steps.Note:
		field = huh.NewNote().Title(q.Title).Description(escapeNote(q.Help)).Next(true).NextLabel("Continue")
	case steps.Confirm:
		b := initial == "true"
		bf.b = &b
		field = huh.NewConfirm().Key(q.Key).Title(q.Title).Description(q.Help).
			Affirmative("Yes").Negative("No").Value(bf.b)
	case steps.Select:
		s := initial
		bf.str = &s
		var opts []huh.Option[string]
		for _, o := range q.Options {
			opts = append(opts, huh.NewOption(o.Label, o.Value))
		}
		field = huh.NewSelect[string]().Key(q.Key).Title(q.Title).Description(q.Help).
			Options(opts...).Value(bf.str).Height(m.fieldHeight(q))
	case steps.MultiSelect:
		chosen := steps.SplitList(initial)
		l := append([]string(nil), chosen...)
		bf.list = &l
		var opts []huh.Option[string]
		for _, o := range q.Options {
			opts = append(opts, huh.NewOption(o.Label, o.Value).Selected(contains(chosen, o.Value)))
		}
		field = huh.NewMultiSelect[string]().Key(q.Key).Title(q.Title).Description(q.Help).
			Options(opts...).Value(bf.list).Height(m.fieldHeight(q)).
			Validate(func(v []string) error { return q.Check(strings.Join(v, ",")) })
	default:
		s := initial
		bf.str = &s
		in := huh.NewInput().Key(q.Key).Title(q.Title).Description(q.Help).Value(bf.str).
			Validate(q.Check)
		if q.Kind == steps.Password {
			in = in.EchoMode(huh.EchoModePassword)
		}
		field = in
	}
	m.field = bf
	m.form = huh.NewForm(huh.NewGroup(field)).
		WithTheme(m.c.Theme).WithShowHelp(true).WithWidth(m.mainWidth())
	cmd := m.form.Init()
	// Size the form now: it asks the terminal with a command, which an
	// embedded form (or a test terminal) may never answer; until then huh
	// cuts the field below a wrapped description.
	f, _ := m.form.Update(tea.WindowSizeMsg{Width: m.c.Width, Height: max(m.c.Height, 40)})
	m.form = f.(*huh.Form)
	if q.Kind == steps.MultiSelect {
		// huh starts the cursor on the first chosen option and scrolls the
		// ones above it out of sight; start at the top instead.
		f, _ = m.form.Update(tea.KeyMsg{Type: tea.KeyHome})
		m.form = f.(*huh.Form)
	}
	return cmd
}

// fieldHeight fits a select's title, wrapped description and every
// option, so no option hides below a scroll.
func (m *Model) fieldHeight(q steps.Question) int {
	w := m.mainWidth() - 2 // huh's "┃ " margin
	h := lipgloss.Height(wrap(q.Title, w)) + len(q.Options) + 1
	if q.Help != "" {
		h += lipgloss.Height(wrap(q.Help, w))
	}
	return h
}

// formDone records the answer; a value the step refuses keeps the
// question open with the reason.
func (m *Model) formDone() tea.Cmd {
	q := m.field.q
	v := m.field.value()
	if q.Kind != steps.Note {
		if err := m.state.Record(q, v); err != nil {
			m.failure = err
			return m.buildForm()
		}
	}
	m.failure = nil
	m.answered = append(m.answered, answeredLine(q, v))
	if m.qi+1 < len(m.pageQs) {
		m.qi++
		return m.buildForm()
	}
	return m.showPage(m.page + 1)
}

// answeredLine shows an answered question above the next one; hidden
// values stay hidden.
func answeredLine(q steps.Question, v string) string {
	switch q.Kind {
	case steps.Note:
		return "✓ " + q.Title
	case steps.Password:
		v = "••••••••"
	case steps.Select:
		for _, o := range q.Options {
			if o.Value == v {
				v = o.Label
			}
		}
	case steps.Confirm:
		v = map[string]string{"true": "Yes", "false": "No"}[v]
	}
	return "✓ " + q.Title + ": " + v
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// escapeNote keeps huh's note markup (_italic_, *bold*, `code`) from
// eating permission names like full_access_as_app.
func escapeNote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "_", `\_`, "*", `\*`, "`", "\\`")
	return r.Replace(s)
}
