package wizard

import (
	"context"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/mailoauth/mailoauth/steps"
)

// phase is what the current step is doing.
type phase int

const (
	phasePrepare  phase = iota // Prepare running
	phaseForm                  // a page of questions
	phaseAct                   // Act running
	phaseFailed                // Prepare or Act failed: read, then Enter (again) or Esc (back)
	phaseDone                  // every step done: the summary
	phaseStopping              // Ctrl-C after the review: waiting for the action in hand
	phaseStopped               // stopped cleanly: resume/delete help
)

// Model is the wizard's bubbletea model. Drive it with tea.NewProgram (Run
// does) or teatest; read the end with Outcome.
type Model struct {
	c      Common
	o      Options
	engine steps.Engine
	ctx    context.Context
	cancel context.CancelFunc // cancels the running action
	done   chan struct{}      // closed when the program ends

	all       []steps.Step
	step      int // index in all
	page      int // index in all[step].Pages
	phase     phase
	state     *steps.State
	summaries []string // per step, cached when it finished
	committed bool     // the review's Act started: no going back
	// signInFindings are the pre-flight findings read at sign-in, and
	// tenant the tenant: copies, because View may not read the state
	// while an action changes it.
	signInFindings []steps.Finding
	tenant         steps.Tenant
	// stopped is how to resume or undo, copied when the review's changes
	// start (the state file, the cloud's flags), for a second Ctrl-C
	// that leaves before the action in hand ends.
	stopped *steps.ApplyError

	form     *huh.Form        // nil for a note (drawn by the wizard itself)
	field    field            // the question asked
	pageQs   []steps.Question // the current page's questions
	qi       int              // index of the current question in pageQs
	answered []string         // lines for the page's answered questions
	// cursors remember where a select's cursor was when it was answered,
	// so Esc back returns to the same option.
	cursors map[string]string

	// sc is the body's viewport; wide: this screen holds a value that
	// fits only without the step list.
	sc   scroller
	wide bool
	// lastHeight is the body's height in the last frame (page keys).
	lastHeight int

	spin       spinner.Model
	running    string // what the spinner says
	actionID   int    // ignores messages from an abandoned action
	events     []steps.Event
	waitUntil  time.Time
	waitAction string
	device     *steps.DeviceCode
	notice     string // one line of feedback (browser opened, approved...)
	// signInURL is the mailbox user's browser sign-in page in the login
	// test, shown on screen (never printed over it).
	signInURL string
	// browserSaid is what the browser opener wrote, caught while the
	// screen is drawn.
	browserSaid []string
	failure     error
	failedIn    failedIn
	err         error // what Outcome returns
	quitting    bool

	screenMu sync.Mutex
	screen   string // the last View, for Screen
}

// New makes the wizard's model. ctx bounds every engine call.
func New(ctx context.Context, e steps.Engine, o Options) *Model {
	if o.Out == nil {
		o = o.withDefaults()
	}
	c := newCommon(o.Out, o.NoColor)
	m := &Model{
		c: c, o: o, engine: e, ctx: ctx,
		done:    make(chan struct{}),
		all:     steps.All(),
		state:   steps.NewState(o.Answers),
		spin:    spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Styles.Current)),
		cursors: map[string]string{},
	}
	m.state.Guide = steps.GuideOf(e)
	m.summaries = make([]string, len(m.all))
	return m
}

// Outcome is what the run produced and how it ended: nil error when every
// step finished (check Outcome.LoginFailed for exit code 3), ErrAborted,
// *Stopped, or the failure that ended it.
func (m *Model) Outcome() (steps.Outcome, error) {
	switch {
	case m.err != nil || m.phase == phaseDone:
		return m.state.Outcome(), m.err
	case m.committed:
		// Ended from outside (the context) after the review.
		return m.state.Outcome(), &Stopped{Apply: m.state.StopError(context.Canceled)}
	}
	return m.state.Outcome(), ErrAborted
}

// State is the run's state (for tests and the caller's JSON).
func (m *Model) State() *steps.State { return m.state }

// Init starts the first step.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.spin.Tick, m.enterStep(0))
}

// messages from actions
type (
	deviceCodeMsg struct {
		id int
		dc steps.DeviceCode
	}
	eventMsg struct {
		id int
		ev steps.Event
	}
	actionDoneMsg struct {
		id  int
		err error
	}
	noticeMsg string
	// signInURLMsg: the login test waits for the mailbox user to sign in
	// at this address.
	signInURLMsg struct {
		id  int
		url string
	}
	// browserMsg is a line the browser opener wrote.
	browserMsg string
)

func (m *Model) close() {
	select {
	case <-m.done:
	default:
		close(m.done)
	}
	if m.cancel != nil {
		m.cancel()
	}
}

// Update handles keys, form updates and action messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		if m.form != nil {
			m.form = m.form.WithWidth(m.mainWidth())
			m.sizeForm()
		}
		return m, nil

	case tea.KeyMsg:
		if cmd, handled := m.handleKey(msg); handled {
			return m, cmd
		}
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case noticeMsg:
		m.notice = string(msg)
		return m, nil
	case signInURLMsg:
		if msg.id == m.actionID {
			m.signInURL = msg.url
		}
		return m, nil
	case browserMsg:
		m.browserSaid = append(m.browserSaid, string(msg))
		if len(m.browserSaid) > 3 {
			m.browserSaid = m.browserSaid[len(m.browserSaid)-3:]
		}
		return m, nil
	case actionMsg:
		// A message from a running action; keep listening unless it ended.
		next := listen(msg.ch, m.done)
		if _, last := msg.msg.(actionDoneMsg); last {
			next = nil
		}
		_, cmd := m.Update(msg.msg)
		return m, tea.Batch(cmd, next)
	case deviceCodeMsg:
		if msg.id == m.actionID {
			dc := msg.dc
			m.device = &dc
		}
		return m, nil
	case eventMsg:
		if msg.id == m.actionID {
			m.addEvent(msg.ev)
		}
		return m, nil
	case actionDoneMsg:
		if msg.id != m.actionID {
			return m, nil
		}
		return m, m.actionDone(msg.err)
	}
	if m.phase == phaseForm && m.form != nil {
		f, cmd := m.form.Update(msg)
		m.form = f.(*huh.Form)
		if m.form.State == huh.StateCompleted {
			return m, tea.Batch(cmd, m.formDone())
		}
		return m, cmd
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.c.Keys
	inField := m.phase == phaseForm && m.form != nil
	page := max(m.lastHeight-1, 1)
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit(), true
	case key.Matches(msg, k.PageUp):
		m.sc.scroll(-page)
		return nil, true
	case key.Matches(msg, k.PageDown):
		m.sc.scroll(page)
		return nil, true
	case !inField && key.Matches(msg, k.Up):
		m.sc.scroll(-1)
		return nil, true
	case !inField && key.Matches(msg, k.Down):
		m.sc.scroll(1)
		return nil, true
	case !inField && key.Matches(msg, k.Top):
		m.sc.scroll(-m.sc.last)
		return nil, true
	case !inField && key.Matches(msg, k.Bottom):
		m.sc.scroll(m.sc.last)
		return nil, true
	case m.phase == phaseDone || m.phase == phaseStopped:
		if key.Matches(msg, k.Finish) || msg.String() == "esc" {
			return m.finish(), true
		}
		return nil, true
	case m.phase == phaseForm && m.form == nil && msg.String() == "enter":
		return m.formDone(), true // a note: read, go on
	case key.Matches(msg, k.Back) && !m.committed:
		// Not while an action runs: it may still be changing the state.
		if m.phase == phaseForm || m.phase == phaseFailed {
			return m.back(), true
		}
		return nil, true
	case m.phase == phaseFailed && msg.String() == "enter":
		// Try again: the step's questions (or its action, if it has none).
		return m.retry(), true
	case m.device != nil && m.phase == phaseAct && m.all[m.step].SignsIn:
		switch {
		case key.Matches(msg, k.Open) && m.o.OpenURL != nil:
			return m.openURL(m.device.VerificationURL), true
		case key.Matches(msg, k.Approve) && m.o.ApproveInTerminal != nil:
			return m.approve(m.device.UserCode), true
		}
	}
	return nil, m.phase != phaseForm
}

func (m *Model) openURL(url string) tea.Cmd {
	open := m.o.OpenURL
	return func() tea.Msg {
		if err := open(url); err != nil {
			return noticeMsg("Could not open a browser (" + err.Error() + "); open " + url + " yourself.")
		}
		return noticeMsg("Browser opened at " + url + ".")
	}
}

func (m *Model) approve(code string) tea.Cmd {
	approve := m.o.ApproveInTerminal
	return func() tea.Msg {
		if err := approve(code); err != nil {
			return noticeMsg("Approval failed: " + err.Error())
		}
		return noticeMsg("Approved in the terminal.")
	}
}

// quit handles Ctrl-C: before the review nothing changed, so leave at
// once; after it, stop the action in hand and say how to resume.
func (m *Model) quit() tea.Cmd {
	switch {
	case m.phase == phaseDone:
		return m.finish()
	case m.phase == phaseStopping || m.phase == phaseStopped:
		// A second Ctrl-C: leave now; the engine saved its state already.
		// (The action may still run: read nothing from the state.)
		if m.err == nil {
			m.err = &Stopped{Apply: m.stopped}
		}
		m.quitting = true
		m.close()
		return tea.Quit
	case m.committed:
		if m.phase == phaseAct && m.cancel != nil {
			m.phase = phaseStopping
			m.cancel()
			return nil
		}
		m.stop(context.Canceled)
		return nil
	}
	m.err = ErrAborted
	m.quitting = true
	m.close()
	return tea.Quit
}

// stop shows the clean-stop screen after the review.
func (m *Model) stop(cause error) {
	m.phase = phaseStopped
	m.err = &Stopped{Apply: m.state.StopError(cause)}
	m.form = nil
}

func (m *Model) finish() tea.Cmd {
	m.quitting = true
	m.close()
	return tea.Quit
}

func (m *Model) addEvent(ev steps.Event) {
	if ev.Wait > 0 {
		m.waitUntil = time.Now().Add(ev.Wait)
		m.waitAction = ev.Action
		if ev.Detail != "" {
			m.waitAction += " (" + ev.Detail + ")"
		}
		return
	}
	m.waitUntil = time.Time{}
	if !ev.Done && ev.Err == nil {
		// In progress: the spinner's line. Its detail may be what the
		// person must do now (a mailbox user's device code in the test).
		m.running = ev.Action
		if ev.Detail != "" {
			m.running += ": " + ev.Detail
		}
		return
	}
	m.events = append(m.events, ev)
}
