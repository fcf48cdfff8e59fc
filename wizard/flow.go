package wizard

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

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
	m.events, m.device, m.notice, m.failure, m.running, m.signInURL = nil, nil, "", nil, "", ""
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
	}
	if m.committed {
		m.stopped = m.state.StopError(context.Canceled)
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
	state, engine, open := m.state, m.engine, m.o.OpenURL
	go func() {
		defer cancel()
		err := fn(ctx, state, engine, steps.Progress{
			DeviceCode: func(dc steps.DeviceCode) { send(deviceCodeMsg{id, dc}) },
			Event:      func(ev steps.Event) { send(eventMsg{id, ev}) },
			// The mailbox user's sign-in page: on the screen, and in the
			// browser when one opens; never printed over the screen.
			OpenURL: func(u string) error {
				send(signInURLMsg{id, u})
				if open == nil {
					return nil
				}
				if err := open(u); err != nil {
					send(noticeMsg("No browser opened (" + err.Error() + "): open the address above yourself."))
				} else {
					send(noticeMsg("Browser opened at that address."))
				}
				return nil
			},
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

// buildForm shows the current question: a note is drawn by the wizard
// (it scrolls with the body); any other question is a huh form of one
// field, so each question is answered (and validated where it is typed)
// before the next one appears.
func (m *Model) buildForm() tea.Cmd {
	q := m.pageQs[m.qi]
	if q.Kind == steps.Note {
		m.form, m.field = nil, field{q: q}
		return nil
	}
	m.field = newField(q, m.state.Initial(q), fieldLook{width: m.mainWidth()})
	m.form = huh.NewForm(huh.NewGroup(m.field.huh)).
		WithTheme(m.c.Theme).WithShowHelp(true).WithWidth(m.mainWidth())
	cmd := m.form.Init()
	m.sizeForm()
	if q.Kind == steps.Select || q.Kind == steps.MultiSelect {
		m.placeCursor(q)
	}
	return cmd
}

// sizeForm gives the form all the height it needs: the wizard's body
// scrolls, so huh must not cut the field (below a wrapped help line, or
// an option at the bottom). huh also asks the terminal with a command,
// which an embedded form (or a test terminal) may never answer.
func (m *Model) sizeForm() {
	f, _ := m.form.Update(tea.WindowSizeMsg{Width: m.c.Width, Height: 1000})
	m.form = f.(*huh.Form)
}

// placeCursor puts a select's cursor on the option it was on when this
// question was answered before (Esc back), else on the chosen value
// (select) or the first option (multi-select), with every option in
// sight: huh scrolls the options above its starting cursor out of view.
func (m *Model) placeCursor(q steps.Question) {
	target, ok := m.cursors[questionID(q)]
	if !ok && q.Kind == steps.Select {
		target = m.field.value()
	}
	keys := []tea.KeyMsg{{Type: tea.KeyHome}}
	for i := 0; i < optionIndex(q, target); i++ {
		keys = append(keys, tea.KeyMsg{Type: tea.KeyDown})
	}
	for _, k := range keys {
		f, _ := m.form.Update(k)
		m.form = f.(*huh.Form)
	}
}

func questionID(q steps.Question) string {
	if q.Key != "" {
		return q.Key
	}
	return q.Title
}

// formDone records the answer; a value the step refuses keeps the
// question open with the reason.
func (m *Model) formDone() tea.Cmd {
	q := m.field.q
	var v string
	if q.Kind != steps.Note {
		v = m.field.value()
		if m.field.hovered != nil {
			if h, ok := m.field.hovered(); ok {
				m.cursors[questionID(q)] = h
			}
		}
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
