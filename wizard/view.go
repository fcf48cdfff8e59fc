package wizard

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/mailoauth/mailoauth/steps"
)

// The frame: the step list on the left when the terminal is wide enough,
// then on the right a header that never scrolls (the step, its help line,
// the tenant), the body (the question, the progress or the results) in a
// viewport that scrolls, and a footer with the keys of the moment.

const (
	sideWidth = 36
	// sideFrame is the side panel's padding, border and margin.
	sideFrame = 4
	// minSideLayout: narrower terminals (80 columns) give the whole width
	// to the current step.
	minSideLayout = 100
)

// sideShown reports whether the step list is drawn: on a wide terminal,
// unless the screen holds a value (a URL, a command) that would fit only
// without it.
func (m *Model) sideShown() bool {
	return m.c.Width >= minSideLayout && !m.wide
}

func (m *Model) mainWidth() int {
	w := m.c.Width - 1
	if m.sideShown() {
		w = m.c.Width - sideWidth - sideFrame
	}
	return max(w, 20)
}

// View draws the frame.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	// A value wider than the column beside the step list, but not wider
	// than the screen, gets the whole screen: it is never cut. (Laid out
	// at the whole width first, so that no value is cut yet.)
	m.wide = true
	blocks := m.bodyBlocks()
	if m.c.Width >= minSideLayout {
		n := blocksLongestWord(blocks)
		if n <= m.c.Width-sideWidth-sideFrame || n > m.c.Width-1 {
			m.wide = false
			blocks = m.bodyBlocks()
		}
	}
	w := m.mainWidth()
	header := m.headerLines(w)
	body, focus := m.renderBlocks(blocks, w)
	keys := m.keyLines()
	height := max(m.c.Height-len(header)-len(keys), 3)
	overflow := len(body) > height
	if overflow {
		height = max(height-1, 3) // a line says there is more
	}
	m.sc.fit(m.screenKey(), len(body), height, m.anchor(body, focus, height))
	m.lastHeight = height
	visible := body[m.sc.offset:min(len(body), m.sc.offset+height)]
	footer := keys
	if overflow {
		footer = append([]string{m.scrollLine(w, len(body), height)}, keys...)
	}
	mainLines := append(append(append([]string(nil), header...), visible...), make([]string, height-len(visible))...)
	for i, l := range mainLines {
		if ansi.StringWidth(l) > w {
			mainLines[i] = ansi.Truncate(l, w, "") // never wrapped by the terminal
		}
	}
	frame := strings.Join(mainLines, "\n")
	if m.sideShown() {
		side := m.c.Styles.Side.Width(sideWidth).Height(len(mainLines)).MaxHeight(len(mainLines)).Render(m.sideView(len(mainLines)))
		frame = lipgloss.JoinHorizontal(lipgloss.Top, side, frame)
	}
	v := frame + "\n" + strings.Join(footer, "\n")
	m.screenMu.Lock()
	m.screen = v
	m.screenMu.Unlock()
	return v
}

// Screen is the last frame drawn, without colour codes. Tests and the
// demo's recorder read it from another goroutine while the program runs.
func (m *Model) Screen() string {
	m.screenMu.Lock()
	defer m.screenMu.Unlock()
	return ansi.Strip(m.screen)
}

// block is a piece of the body: text to wrap and style, or lines already
// laid out (a huh form, the device-code box).
type block struct {
	text  string
	style *lipgloss.Style
	// hang indents the lines after the first (a change's verb column).
	hang int
	// laidOut: the lines are drawn as they are.
	laidOut bool
	// focus marks where the thing to look at starts (the question, the
	// error): the viewport shows it first.
	focus bool
}

func textBlock(text string, style *lipgloss.Style) block { return block{text: text, style: style} }

var blank = block{text: ""}

func blocksLongestWord(bs []block) int {
	n := 0
	for _, b := range bs {
		n = max(n, longestWord(ansi.Strip(b.text)))
	}
	return n
}

// renderBlocks wraps and styles the blocks to width; focus is the first
// line of the first focus block (-1: none).
func (m *Model) renderBlocks(bs []block, width int) ([]string, int) {
	var lines []string
	focus := -1
	for _, b := range bs {
		if b.focus && focus < 0 {
			focus = len(lines)
		}
		var ls []string
		switch {
		case b.laidOut:
			ls = strings.Split(strings.TrimRight(b.text, "\n"), "\n")
		case b.hang > 0:
			ls = hangLines(b.text, b.hang, width)
		default:
			ls = wrapLines(b.text, width)
		}
		for _, l := range ls {
			if b.style != nil && l != "" {
				l = b.style.Render(l)
			}
			lines = append(lines, l)
		}
	}
	return lines, focus
}

// anchor is where the viewport starts on a new screen: the question (all
// of it, and as much as fits above it), the top of results, the end of a
// growing progress list.
func (m *Model) anchor(lines []string, focus, height int) int {
	last := max(len(lines)-height, 0)
	switch m.phase {
	case phaseAct, phaseStopping:
		if m.device != nil && m.all[m.step].SignsIn {
			return 0 // the code first
		}
		if focus >= 0 {
			return min(focus, last) // the page to open first
		}
		return last
	case phaseForm:
		if focus < 0 || m.form == nil {
			return min(max(focus, 0), last) // a note: from its top
		}
		if len(lines)-focus <= height {
			return last // the whole question, and what fits above it
		}
		return min(focus, last)
	}
	return 0
}

// scroller is the body's viewport position.
type scroller struct {
	offset int
	// manual: the person scrolled; keep their place until the screen
	// changes.
	manual bool
	key    string
	last   int // the largest offset, as of the last frame
}

func (s *scroller) fit(key string, total, height, anchor int) {
	if key != s.key {
		s.key, s.manual = key, false
	}
	s.last = max(total-height, 0)
	if !s.manual {
		s.offset = anchor
	}
	s.offset = min(max(s.offset, 0), s.last)
}

func (s *scroller) scroll(by int) {
	s.manual = true
	s.offset = min(max(s.offset+by, 0), s.last)
}

// screenKey names what the body shows: a new one starts at its anchor.
func (m *Model) screenKey() string {
	return fmt.Sprint(m.step, "/", m.page, "/", m.qi, "/", m.phase, "/", m.c.Width, "x", m.c.Height)
}

// headerLines are the lines that never scroll: the step, its help, the
// tenant.
func (m *Model) headerLines(w int) []string {
	s := m.c.Styles
	var lines []string
	if m.phase == phaseDone {
		lines = append(lines, s.Title.Render(m.titled("Done")))
		return append(lines, "")
	}
	st := m.all[m.step]
	lines = append(lines, s.Title.Render(m.titled(fmt.Sprintf("Step %d of %d · %s", m.step+1, len(m.all), st.Title))))
	for _, l := range wrapLines(st.Help, w) {
		lines = append(lines, s.Help.Render(l))
	}
	if t := m.tenant; t.ID != "" && m.step > 0 {
		lines = append(lines, s.Dim.Render(fitParts(w, t.Name, t.ID, strings.Join(t.Domains, ", "))))
	}
	return append(lines, "")
}

// titled adds the run's title to a header line when the step list (which
// shows it) is hidden and it fits.
func (m *Model) titled(line string) string {
	if m.sideShown() {
		return line
	}
	if t := m.title(); ansi.StringWidth(line)+3+ansi.StringWidth(t) <= m.mainWidth() {
		return line + " · " + t
	}
	return line
}

func (m *Model) title() string {
	if m.o.Title == "" {
		return "mailoauth setup"
	}
	return m.o.Title
}

// fitParts joins the parts with " · " while they fit, leaving out
// whole parts rather than cutting one (a GUID stays whole).
func fitParts(w int, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		next := p
		if out != "" {
			next = out + " · " + p
		}
		if ansi.StringWidth(next) > w {
			continue
		}
		out = next
	}
	return out
}

// sideView lists the steps: done (with its summary), current, to do; it
// drops the summaries that do not fit in height.
func (m *Model) sideView(height int) string {
	s := m.c.Styles
	summaryLines := 2
	need := func(n int) int {
		lines := 2 + len(m.all)
		for i := range m.all {
			if (i < m.step || m.phase == phaseDone) && m.summaries[i] != "" {
				lines += len(strings.Split(firstLines(m.summaries[i], sideWidth-6, n), "\n"))
			}
		}
		return lines
	}
	for summaryLines > 0 && need(summaryLines) > height {
		summaryLines--
	}
	var b strings.Builder
	b.WriteString(s.Title.Render(elide(m.title(), sideWidth)) + "\n\n")
	for i, st := range m.all {
		switch {
		case i < m.step || m.phase == phaseDone:
			b.WriteString(s.Done.Render("✓ "+st.Title) + "\n")
			if sum := m.summaries[i]; sum != "" && summaryLines > 0 {
				for _, line := range strings.Split(firstLines(sum, sideWidth-6, summaryLines), "\n") {
					b.WriteString("    " + s.Summary.Render(line) + "\n")
				}
			}
		case i == m.step:
			b.WriteString(s.Current.Render("› "+st.Title) + "\n")
		default:
			b.WriteString(s.Todo.Render("· "+st.Title) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// bodyBlocks is what the body shows in the current phase.
func (m *Model) bodyBlocks() []block {
	s := &m.c.Styles
	var bs []block
	if m.phase == phaseDone {
		return m.summaryBlocks(true, m.mainWidth())
	}
	st := m.all[m.step]
	if st.ID == steps.ProductStep && m.page == 0 && m.qi == 0 && len(m.signInFindings) > 0 {
		// The sign-in's pre-flight findings, on the first screen after it.
		for _, f := range m.signInFindings {
			bs = append(bs, textBlock(steps.FindingLine(f), findingStyle(s, f)))
		}
		bs = append(bs, blank)
	}
	switch m.phase {
	case phasePrepare:
		bs = append(bs, textBlock(m.spin.View()+" Checking the tenant…", nil))
	case phaseForm:
		for _, line := range m.answered {
			bs = append(bs, textBlock(line, &s.Dim))
		}
		if len(m.answered) > 0 {
			bs = append(bs, blank)
		}
		if m.failure != nil {
			bs = append(bs, block{text: "✗ " + steps.AdminText(m.failure), style: &s.Error, focus: true}, blank)
		}
		switch {
		case m.form != nil:
			bs = append(bs, block{text: m.form.View(), laidOut: true, focus: true})
		case len(m.pageQs) > 0:
			bs = append(bs, m.noteBlocks(m.pageQs[m.qi])...)
		}
	case phaseAct, phaseStopping:
		bs = append(bs, m.actBlocks()...)
	case phaseFailed:
		bs = append(bs, block{text: "✗ " + steps.AdminText(m.failure), style: &s.Error, focus: true}, blank)
		var ae *steps.ApplyError
		if errors.As(m.failure, &ae) {
			bs = append(bs, m.stopBlocks(ae)...)
		}
		if m.committed {
			bs = append(bs, textBlock("Press Enter to quit.", &s.Dim))
		} else {
			bs = append(bs, textBlock("Enter: try again · Esc: back to change an answer", &s.Dim))
		}
		bs = append(bs, m.eventBlocks(true)...)
	case phaseStopped:
		bs = append(bs, textBlock("Stopped. The changes made so far are saved in the state file.", &s.Warn), blank)
		var stp *Stopped
		if errors.As(m.err, &stp) {
			bs = append(bs, m.stopBlocks(stp.Apply)...)
		}
		bs = append(bs, textBlock("Press Enter to quit.", &s.Dim))
		bs = append(bs, m.eventBlocks(true)...)
	}
	return bs
}

// stopBlocks say how to resume or undo, and hand over a secret made
// before the stop.
func (m *Model) stopBlocks(ae *steps.ApplyError) []block {
	s := &m.c.Styles
	var bs []block
	// The secret first: Microsoft shows it only this once.
	if lines := ae.SecretLines(); len(lines) > 0 {
		for _, line := range lines {
			bs = append(bs, textBlock(line, &s.Warn))
		}
		bs = append(bs, blank)
	}
	for _, line := range ae.ResumeHelp() {
		bs = append(bs, textBlock(line, nil))
	}
	return append(bs, blank)
}

// noteBlocks show a note: its title, its lines styled by kind, and how to
// go on.
func (m *Model) noteBlocks(q steps.Question) []block {
	s := &m.c.Styles
	bs := []block{{text: q.Title, style: &s.Title, focus: true}}
	body := q.Body
	if body == nil && q.Help != "" {
		for _, t := range strings.Split(q.Help, "\n") {
			body = append(body, steps.Line{Text: t})
		}
	}
	for _, l := range body {
		b := textBlock(l.Text, lineStyle(s, l.Kind))
		switch l.Kind {
		case steps.LineChange, steps.LineUnchanged:
			b.hang = 8 // under the object, right of the verb
		case steps.LineCaution, steps.LineStop, steps.LineAside:
			b.hang = 2
		}
		bs = append(bs, b)
	}
	return append(bs, blank, textBlock("Enter: continue", &s.Dim))
}

func lineStyle(s *Styles, k steps.LineKind) *lipgloss.Style {
	switch k {
	case steps.LineUnchanged, steps.LineAside:
		return &s.Dim
	case steps.LineCaution:
		return &s.Warn
	case steps.LineStop:
		return &s.Error
	}
	return nil
}

// actBlocks show a running action: the device code, one line per
// finished action, the spinner and the replication countdown.
func (m *Model) actBlocks() []block {
	s := &m.c.Styles
	var bs []block
	if m.device != nil && m.all[m.step].SignsIn {
		bs = append(bs, textBlock("Open "+m.device.VerificationURL+" and enter the code:", nil), blank)
		bs = append(bs, block{text: s.Code.Render(spaced(m.device.UserCode)), laidOut: true}, blank)
		if g := m.state.Guide; g != nil && g.SignIn != "" {
			bs = append(bs, textBlock(g.SignIn, &s.Warn))
		}
		var hints []string
		if m.o.OpenURL != nil {
			hints = append(hints, "Enter: open the browser")
		}
		if m.o.ApproveInTerminal != nil {
			hints = append(hints, "a: approve here (simulated tenant)")
		}
		if !m.device.ExpiresAt.IsZero() {
			hints = append(hints, "the code expires at "+m.device.ExpiresAt.Format("15:04"))
		}
		if len(hints) > 0 {
			bs = append(bs, textBlock(strings.Join(hints, " · "), &s.Dim))
		}
		if m.notice != "" {
			bs = append(bs, textBlock(m.notice, nil))
		}
		bs = append(bs, blank)
	}
	if m.signInURL != "" {
		bs = append(bs, block{text: "Sign in as the mailbox user in a browser on this computer, at:", focus: true},
			textBlock(m.signInURL, &s.Title))
		if m.notice != "" {
			bs = append(bs, textBlock(m.notice, &s.Dim))
		}
		bs = append(bs, blank)
	}
	for _, line := range m.browserSaid {
		// One line each: the address it names is on the screen already.
		bs = append(bs, textBlock(elide("The browser opener said: "+line, m.mainWidth()), &s.Dim))
	}
	bs = append(bs, m.eventBlocks(false)...)
	if m.phase == phaseStopping {
		return append(bs, textBlock(m.spin.View()+" Stopping after the action in hand…", nil))
	}
	if left := time.Until(m.waitUntil); left > 0 {
		what := m.waitAction
		if !strings.Contains(strings.ToLower(what), "replicat") {
			what = "Waiting for Microsoft to replicate: " + what
		}
		return append(bs, textBlock(fmt.Sprintf("%s %s · next try in %ds", m.spin.View(), what, int(left.Seconds()+0.999)), nil))
	}
	what := m.running
	if what == "" {
		what = "Working"
		if m.all[m.step].SignsIn {
			what = "Waiting for you to sign in"
		}
	}
	return append(bs, textBlock(m.spin.View()+" "+what+"…", nil))
}

// eventBlocks are the finished actions, one line each (after, for a
// failure or stop: under a heading, below what to do).
func (m *Model) eventBlocks(after bool) []block {
	s := &m.c.Styles
	if len(m.events) == 0 {
		return nil
	}
	var bs []block
	if after {
		bs = append(bs, blank, textBlock("Done before this:", &s.Dim))
	}
	for _, ev := range m.events {
		line := ev.Action
		if ev.Detail != "" {
			line += ": " + ev.Detail
		}
		if ev.Err != nil {
			bs = append(bs, textBlock("✗ "+line+": "+ev.Err.Error(), &s.Error))
		} else {
			bs = append(bs, textBlock("✓ "+line, nil))
		}
	}
	if !after {
		bs = append(bs, blank)
	}
	return bs
}

// summaryBlocks are the end: the test's result and the secret first (they
// must be on the first screenful), then what was made, the test table with
// every failure's cause and fix and the test's history, the settings, the
// files and what is left to do by hand. withSecret: the secret's value is
// shown (on the screen, once; not in what stays on the terminal).
func (m *Model) summaryBlocks(withSecret bool, width int) []block {
	st := m.state
	s := &m.c.Styles
	var bs []block
	switch r := st.Report; {
	case st.TestError != "":
		bs = append(bs, textBlock("✗ "+st.TestError, &s.Error))
	case r != nil:
		ok := 0
		for _, row := range r.Rows {
			if row.OK {
				ok++
			}
		}
		line := fmt.Sprintf("Login test: %d of %d logins worked (%s)", ok, len(r.Rows), strings.Join(mailboxesOf(*r), ", "))
		if ok == len(r.Rows) && ok > 0 {
			bs = append(bs, textBlock("✓ "+line+".", &s.OK))
		} else {
			bs = append(bs, textBlock("✗ "+line+": the causes and fixes are below.", &s.Error))
		}
	case st.Applied && !st.RunTest:
		bs = append(bs, textBlock("Login test: skipped (run mailoauth test later).", &s.Dim))
	}
	x := st.Export
	secretKey := ""
	if x != nil {
		for _, kv := range x.Keys {
			if kv.Secret {
				secretKey = kv.Key
			}
		}
	}
	if withSecret && st.Result.Secret != "" {
		bs = append(bs, blank, textBlock("Client secret value (shown only this once: copy it now):", &s.Warn),
			textBlock("  "+st.Result.Secret, &s.Secret))
		if secretKey != "" {
			bs = append(bs, textBlock(fmt.Sprintf("It goes into %s's %q field.", st.Draft.ProductName, secretKey), nil))
		}
	}
	if x != nil && x.SecretFile != "" && st.Result.Secret != "" {
		bs = append(bs, textBlock("Secret written to "+x.SecretFile+" (0600: only you can read it).", nil))
	}
	bs = append(bs, blank)
	verb := "Updated"
	if st.Result.Created {
		verb = "Created"
	}
	bs = append(bs, textBlock(fmt.Sprintf("%s app %q (%s) in %s (%s).", verb, st.Draft.AppName, st.Result.AppID, st.Tenant.Name, st.Tenant.ID), nil), blank)
	if r := st.Report; r != nil && len(r.Rows) > 0 {
		bs = append(bs, m.testBlocks(*r, width)...)
	}
	if x != nil {
		if len(x.Keys) > 0 {
			bs = append(bs, textBlock("Settings for "+st.Draft.ProductName+", in its own words:", &s.Title))
		}
		section := ""
		for i, k := range x.Keys {
			if k.Section != section && k.Section != "" {
				section = k.Section
				if i > 0 {
					bs = append(bs, blank)
				}
				bs = append(bs, textBlock(section, &s.Help))
			}
			v := k.Value
			if k.Secret && withSecret && st.Result.Secret != "" {
				v = "the client secret value above"
			}
			bs = append(bs, block{text: strings.Join(keyValueLines(k.Key, v, keyWidth(x.Keys), width), "\n"), laidOut: true})
		}
		if len(x.Keys) > 0 {
			bs = append(bs, blank)
		}
		bs = append(bs, textBlock("Files written:", &s.Title))
		for _, f := range x.Files {
			bs = append(bs, textBlock("  "+f, nil))
		}
		if len(x.Manual) > 0 {
			bs = append(bs, blank, textBlock("Still to do by hand:", &s.Title))
			for i, line := range x.Manual {
				bs = append(bs, textBlock(fmt.Sprintf("  %d. %s", i+1, line), nil))
			}
		}
	}
	return bs
}

// mailboxesOf are the mailboxes a report tested, in order.
func mailboxesOf(r steps.TestReport) []string {
	var out []string
	for _, row := range r.Rows {
		if !contains(out, row.Mailbox) {
			out = append(out, row.Mailbox)
		}
	}
	return out
}

// keyWidth aligns the settings' values: the longest key, up to a limit
// (a longer key has its value after it, or below).
func keyWidth(kvs []steps.KeyValue) int {
	w := 0
	for _, kv := range kvs {
		if n := ansi.StringWidth(kv.Key) + 1; n <= 28 {
			w = max(w, n)
		}
	}
	return w
}

// testBlocks are the login test: the table, each failure's cause and fix,
// and, when an attempt failed on the way, every attempt with the fix
// applied after it.
func (m *Model) testBlocks(r steps.TestReport, width int) []block {
	s := &m.c.Styles
	bs := []block{textBlock("Login test", &s.Title), {text: ResultTable(r, *s, width), laidOut: true}}
	for _, row := range r.Rows {
		if row.OK {
			continue
		}
		bs = append(bs, blank, textBlock(row.Protocol.Label()+" · "+row.Mailbox+" failed: "+row.Cause, &s.Error))
		if row.Fix != "" {
			bs = append(bs, textBlock("  Fix: "+row.Fix, nil))
		}
	}
	failedOnTheWay := false
	for _, a := range r.History {
		if !a.OK {
			failedOnTheWay = true
		}
	}
	if failedOnTheWay {
		bs = append(bs, blank, textBlock("How the test went, attempt by attempt:", &s.Title))
		for _, a := range r.History {
			result := "ok"
			if !a.OK {
				result = "failed: " + a.Cause
			}
			line := fmt.Sprintf("  %s %s · %s: %s", a.At.Local().Format("15:04:05"), a.Protocol.Label(), a.Mailbox, result)
			style := &s.OK
			if !a.OK {
				style = &s.Error
			}
			bs = append(bs, textBlock(line, style))
			if a.Applied != "" {
				bs = append(bs, textBlock("    then applied: "+a.Applied, nil))
			}
		}
	}
	return append(bs, blank)
}

// finalText is what stays on the terminal after the alt-screen closes:
// the summary without the secret's value (it was shown once).
func (m *Model) finalText() string {
	if m.phase != phaseDone {
		return ""
	}
	return m.summaryText(false, max(m.c.Width-1, 40))
}

// summaryText is the summary as text, wrapped to width.
func (m *Model) summaryText(withSecret bool, width int) string {
	lines, _ := m.renderBlocks(m.summaryBlocks(withSecret, width), width)
	return strings.Join(lines, "\n") + "\n"
}

// ResultTable renders the login test: one row per protocol and mailbox.
// The mailbox column is as wide as the longest address (never cut); when
// a row does not fit in width, each row is one line of " · "-separated
// fields instead.
func ResultTable(r steps.TestReport, s Styles, width int) string {
	mw := len("Mailbox")
	for _, row := range r.Rows {
		mw = max(mw, ansi.StringWidth(row.Mailbox))
	}
	result := func(row steps.TestRow) string {
		if row.OK {
			return s.OK.Render("ok    ")
		}
		return s.Error.Render("failed")
	}
	var b strings.Builder
	if 18+1+mw+1+6+1+8 > width {
		for _, row := range r.Rows {
			fmt.Fprintf(&b, "%s · %s · %s · %s\n", row.Protocol.Label(), row.Mailbox, strings.TrimSpace(result(row)), row.Duration.Round(time.Millisecond))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%-18s %-*s %-6s %8s\n", "Protocol", mw, "Mailbox", "Result", "Time")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "%-18s %-*s %s %8s\n", row.Protocol.Label(), mw, row.Mailbox, result(row), row.Duration.Round(time.Millisecond))
	}
	return b.String()
}

// keyLines are the keys of the moment.
func (m *Model) keyLines() []string {
	var keys []string
	switch {
	case m.phase == phaseDone:
		keys = []string{"Press Enter to finish."}
	case m.phase == phaseStopped:
		keys = []string{"enter quit"}
	case m.phase == phaseFailed && m.committed:
		keys = []string{"enter quit"}
	case m.committed:
		keys = []string{"ctrl+c stop after the action in hand"}
	case m.phase == phaseForm && m.form == nil:
		keys = []string{"enter continue", "esc back", "ctrl+c quit (nothing is changed before the review)"}
	default:
		keys = []string{"esc back", "ctrl+c quit (nothing is changed before the review)"}
	}
	var lines []string
	for _, l := range wrapLines(strings.Join(keys, " · "), m.c.Width-1) {
		lines = append(lines, m.c.Styles.Dim.Render(l))
	}
	return lines
}

// scrollLine says what is above and below the body's viewport, and the
// keys that scroll it (a field keeps ↑/↓ for its options).
func (m *Model) scrollLine(w, total, height int) string {
	scroll := "↑/↓ pgup/pgdn: scroll"
	if m.phase == phaseForm && m.form != nil {
		scroll = "pgup/pgdn: scroll"
	}
	var where []string
	if m.sc.offset > 0 {
		where = append(where, fmt.Sprintf("↑ %d lines above", m.sc.offset))
	}
	if below := total - height - m.sc.offset; below > 0 {
		where = append(where, fmt.Sprintf("↓ %d more below", below))
	}
	return m.c.Styles.Warn.Render(elide(strings.Join(append(where, scroll), " · "), w))
}

func findingStyle(s *Styles, f steps.Finding) *lipgloss.Style {
	switch f.Severity {
	case steps.Blocker:
		return &s.Error
	case steps.Warning:
		return &s.Warn
	}
	return &s.Dim
}

// firstLines word-wraps s to width and keeps at most n lines, ending with
// "…" when some is left out; a word longer than a line is left out rather
// than cut.
func firstLines(s string, width, n int) string {
	var lines []string
	cur := ""
	cut := false
	for _, w := range strings.Fields(s) {
		if ansi.StringWidth(w) > width {
			cut = true
			continue
		}
		switch {
		case cur == "":
			cur = w
		case ansi.StringWidth(cur)+1+ansi.StringWidth(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > n {
		lines, cut = lines[:n], true
	}
	if cut && len(lines) > 0 {
		lines[len(lines)-1] = elide(lines[len(lines)-1]+" …", width)
	} else if cut {
		lines = []string{"…"}
	}
	return strings.Join(lines, "\n")
}

func spaced(code string) string {
	return strings.Join(strings.Split(code, ""), " ")
}
