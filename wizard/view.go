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

const sideWidth = 36

func (m *Model) mainWidth() int {
	w := m.c.Width - sideWidth - 4
	if w < 40 {
		w = 40
	}
	return w
}

// View draws the side panel and the current step.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	main := lipgloss.NewStyle().Width(m.mainWidth()).Render(m.mainView())
	side := m.c.Styles.Side.Width(sideWidth).Height(lipgloss.Height(main)).Render(m.sideView())
	v := lipgloss.JoinHorizontal(lipgloss.Top, side, main) + "\n" + m.footer()
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

// sideView lists the steps: done (with its summary), current, to do.
func (m *Model) sideView() string {
	s := m.c.Styles
	var b strings.Builder
	title := m.o.Title
	if title == "" {
		title = "mailoauth setup"
	}
	b.WriteString(s.Title.Render(title) + "\n\n")
	for i, st := range m.all {
		switch {
		case i < m.step || m.phase == phaseDone:
			b.WriteString(s.Done.Render("✓ "+st.Title) + "\n")
			if sum := m.summaries[i]; sum != "" {
				for _, line := range strings.Split(firstLines(sum, sideWidth-6, 2), "\n") {
					b.WriteString("    " + s.Summary.Render(line) + "\n")
				}
			}
		case i == m.step:
			b.WriteString(s.Current.Render("› "+st.Title) + "\n")
		default:
			b.WriteString(s.Todo.Render("· "+st.Title) + "\n")
		}
	}
	return b.String()
}

func (m *Model) mainView() string {
	s := m.c.Styles
	var b strings.Builder
	if m.phase == phaseDone {
		b.WriteString(s.Title.Render("Done") + "\n\n")
		b.WriteString(m.summaryView(true))
		b.WriteString("\n" + s.Dim.Render("Press Enter to finish.") + "\n")
		return b.String()
	}
	st := m.all[m.step]
	fmt.Fprintf(&b, "%s\n%s\n\n", s.Title.Render(fmt.Sprintf("Step %d of %d · %s", m.step+1, len(m.all), st.Title)),
		s.Help.Render(wrap(st.Help, m.mainWidth())))
	if t := m.tenant; t.ID != "" && m.step > 0 {
		b.WriteString(s.Dim.Render(truncate(t.Name+" · "+t.ID+" · "+strings.Join(t.Domains, ", "), m.mainWidth())) + "\n")
		if st.ID == steps.ProductStep {
			// The sign-in's pre-flight findings, on the first screen after it.
			for _, f := range m.signInFindings {
				b.WriteString(findingStyle(s, f).Render(wrap(steps.FindingLine(f), m.mainWidth())) + "\n")
			}
		}
		b.WriteString("\n")
	}
	switch m.phase {
	case phasePrepare:
		b.WriteString(m.spin.View() + " Checking the tenant…\n")
	case phaseForm:
		for _, line := range m.answered {
			b.WriteString(s.Dim.Render(truncate(line, m.mainWidth())) + "\n")
		}
		if len(m.answered) > 0 {
			b.WriteString("\n")
		}
		if m.failure != nil {
			b.WriteString(s.Error.Render(wrap("✗ "+m.failure.Error(), m.mainWidth())) + "\n\n")
		}
		if m.form != nil {
			b.WriteString(m.form.View())
		}
	case phaseAct, phaseStopping:
		b.WriteString(m.actView())
	case phaseFailed:
		b.WriteString(m.eventsView())
		b.WriteString(s.Error.Render(wrap("✗ "+m.failure.Error(), m.mainWidth())) + "\n\n")
		var ae *steps.ApplyError
		if errors.As(m.failure, &ae) {
			b.WriteString(strings.Join(ae.ResumeHelp(), "\n") + "\n\n")
			if lines := ae.SecretLines(); len(lines) > 0 {
				b.WriteString(s.Warn.Render(strings.Join(lines, "\n")) + "\n\n")
			}
		}
		if m.committed {
			b.WriteString(s.Dim.Render("Press Enter to quit.") + "\n")
		} else {
			b.WriteString(s.Dim.Render("Enter: try again · Esc: back to change an answer") + "\n")
		}
	case phaseStopped:
		b.WriteString(m.eventsView())
		b.WriteString(s.Warn.Render("Stopped. The changes made so far are saved in the state file.") + "\n\n")
		var st *Stopped
		if errors.As(m.err, &st) {
			b.WriteString(strings.Join(st.Apply.ResumeHelp(), "\n") + "\n\n")
			if lines := st.Apply.SecretLines(); len(lines) > 0 {
				b.WriteString(s.Warn.Render(strings.Join(lines, "\n")) + "\n\n")
			}
		}
		b.WriteString(s.Dim.Render("Press Enter to quit.") + "\n")
	}
	return b.String()
}

// actView shows a running action: the device code, one line per finished
// action, the spinner and the replication countdown.
func (m *Model) actView() string {
	s := m.c.Styles
	var b strings.Builder
	if m.device != nil && m.all[m.step].ID == steps.SignInStep {
		b.WriteString("Open " + s.Title.Render(m.device.VerificationURL) + " and enter the code:\n\n")
		b.WriteString(s.Code.Render(spaced(m.device.UserCode)) + "\n\n")
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
			b.WriteString(s.Dim.Render(strings.Join(hints, " · ")) + "\n")
		}
		if m.notice != "" {
			b.WriteString(m.notice + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(m.eventsView())
	if m.phase == phaseStopping {
		b.WriteString(m.spin.View() + " Stopping after the action in hand…\n")
		return b.String()
	}
	if left := time.Until(m.waitUntil); left > 0 {
		what := m.waitAction
		if !strings.Contains(strings.ToLower(what), "replicat") {
			what = "Waiting for Microsoft to replicate: " + what
		}
		fmt.Fprintf(&b, "%s %s · next try in %ds\n", m.spin.View(), what, int(left.Seconds()+0.999))
	} else {
		what := m.running
		if what == "" {
			what = "Working"
			if m.all[m.step].ID == steps.SignInStep {
				what = "Waiting for you to sign in"
			}
		}
		b.WriteString(m.spin.View() + " " + wrap(what+"…", m.mainWidth()-2) + "\n")
	}
	return b.String()
}

func (m *Model) eventsView() string {
	s := m.c.Styles
	var b strings.Builder
	for _, ev := range m.events {
		line := ev.Action
		if ev.Detail != "" {
			line += ": " + ev.Detail
		}
		if ev.Err != nil {
			b.WriteString(s.Error.Render(wrap("✗ "+line+": "+ev.Err.Error(), m.mainWidth())) + "\n")
		} else {
			b.WriteString(s.Done.Render("✓") + " " + line + "\n")
		}
	}
	if len(m.events) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// summaryView is the end: what was made, the test table, the settings,
// the secret (once, on the screen only when withSecret) and what is left
// to do by hand.
func (m *Model) summaryView(withSecret bool) string {
	st := m.state
	s := m.c.Styles
	var b strings.Builder
	verb := "Updated"
	if st.Result.Created {
		verb = "Created"
	}
	fmt.Fprintf(&b, "%s app %q (%s) in %s (%s).\n\n", verb, st.Draft.AppName, st.Result.AppID, st.Tenant.Name, st.Tenant.ID)
	if st.TestError != "" {
		b.WriteString(s.Error.Render(wrap("✗ "+st.TestError, m.mainWidth())) + "\n\n")
	} else if st.Report != nil {
		b.WriteString(ResultTable(*st.Report, s) + "\n")
	}
	if x := st.Export; x != nil {
		for _, kv := range x.Keys {
			fmt.Fprintf(&b, "%-24s %s\n", kv.Key+":", kv.Value)
		}
		if st.Result.Secret != "" {
			if withSecret {
				fmt.Fprintf(&b, "%-24s %s\n", "Client secret value:", s.Secret.Render(st.Result.Secret))
				b.WriteString(s.Warn.Render("Copy it now: it is shown only this once.") + "\n")
			}
			if x.SecretFile != "" {
				fmt.Fprintf(&b, "%-24s %s (0600)\n", "Secret written to:", x.SecretFile)
			}
		}
		b.WriteString("\nFiles written:\n")
		for _, f := range x.Files {
			b.WriteString("  " + f + "\n")
		}
		if len(x.Manual) > 0 {
			b.WriteString("\nStill to do by hand:\n")
			for i, line := range x.Manual {
				fmt.Fprintf(&b, "  %d. %s\n", i+1, line)
			}
		}
	}
	return b.String()
}

// finalText is what stays on the terminal after the alt-screen closes:
// the summary without the secret's value (it was shown once).
func (m *Model) finalText() string {
	if m.phase != phaseDone {
		return ""
	}
	return m.summaryView(false)
}

// ResultTable renders the login test: one row per protocol, then the
// cause and fix of each failure.
func ResultTable(r steps.TestReport, s Styles) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %-28s %-6s %8s\n", "Protocol", "Mailbox", "Result", "Time")
	for _, row := range r.Rows {
		res := s.OK.Render("ok    ")
		if !row.OK {
			res = s.Error.Render("failed")
		}
		fmt.Fprintf(&b, "%-18s %-28s %s %8s\n", row.Protocol.Label(), truncate(row.Mailbox, 28), res, row.Duration.Round(time.Millisecond))
	}
	for _, row := range r.Rows {
		if row.OK {
			continue
		}
		fmt.Fprintf(&b, "\n%s: %s\n", row.Protocol.Label(), row.Cause)
		if row.Fix != "" {
			b.WriteString("  Fix: " + row.Fix + "\n")
		}
	}
	return b.String()
}

func (m *Model) footer() string {
	var keys []string
	switch {
	case m.phase == phaseDone || m.phase == phaseStopped:
		keys = []string{"enter finish"}
	case m.committed:
		keys = []string{"ctrl+c stop after the action in hand"}
	default:
		keys = []string{"esc back", "ctrl+c quit (nothing is changed before the review)"}
	}
	return m.c.Styles.Dim.Render(strings.Join(keys, " · "))
}

func findingStyle(s Styles, f steps.Finding) lipgloss.Style {
	switch f.Severity {
	case steps.Blocker:
		return s.Error
	case steps.Warning:
		return s.Warn
	}
	return s.Dim
}

// firstLines word-wraps s to width and keeps at most n lines; a word
// longer than a line is cut with "…".
func firstLines(s string, width, n int) string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		w = truncate(w, width)
		switch {
		case cur == "":
			cur = w
		case len([]rune(cur))+1+len([]rune(w)) <= width:
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
		lines = lines[:n]
		lines[n-1] = truncate(lines[n-1]+" …", width)
	}
	return strings.Join(lines, "\n")
}

func spaced(code string) string {
	return strings.Join(strings.Split(code, ""), " ")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func wrap(s string, width int) string {
	return lipgloss.NewStyle().Width(width).Render(s)
}
