package wizard

import (
	"io"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Common is what every part of the screen shares: the size, the styles
// and the keys. It is passed around instead of living in globals.
type Common struct {
	Width, Height int
	Styles        Styles
	Keys          KeyMap
	// Theme is the forms' theme, matching Styles.
	Theme *huh.Theme
}

// Styles are the lipgloss styles of the screen.
type Styles struct {
	Title, Help, Done, Current, Todo, Summary, Error, Warn, OK, Dim, Code, Box, Secret, Side lipgloss.Style
}

// plainTheme is the forms' theme without colour (NO_COLOR, TERM=dumb):
// with colours gone, the chosen button of a Yes/No question is marked in
// text, "[Yes]  No ", so the two never look the same.
func plainTheme() *huh.Theme {
	t := huh.ThemeBase()
	mark := lipgloss.Border{Left: "[", Right: "]"}
	for _, fs := range []*huh.FieldStyles{&t.Focused, &t.Blurred} {
		fs.FocusedButton = lipgloss.NewStyle().Border(mark, false, true, false, true).MarginRight(1)
		fs.BlurredButton = lipgloss.NewStyle().Padding(0, 1).MarginRight(1)
	}
	return t
}

// KeyMap are the wizard's own keys (the forms keep huh's).
type KeyMap struct {
	Back, Quit, Open, Approve, Finish key.Binding
	// The body's viewport: pages always; lines, top and bottom where no
	// field needs the arrows.
	PageUp, PageDown, Up, Down, Top, Bottom key.Binding
}

func newKeyMap() KeyMap {
	return KeyMap{
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Quit:    key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open the browser")),
		Approve: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve here")),
		Finish:  key.NewBinding(key.WithKeys("enter", "q"), key.WithHelp("enter", "finish")),

		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "scroll down")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓", "scroll down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end", "bottom")),
	}
}

// newCommon builds the shared parts for output w; noColor drops colour
// (NO_COLOR, TERM=dumb) but keeps the layout.
func newCommon(w io.Writer, noColor bool) Common {
	r := lipgloss.NewRenderer(w)
	theme := huh.ThemeCharm()
	if noColor {
		r.SetColorProfile(termenv.Ascii)
		theme = plainTheme()
	}
	accent := lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}
	green := lipgloss.AdaptiveColor{Light: "#02BA84", Dark: "#02BF87"}
	red := lipgloss.AdaptiveColor{Light: "#FF4672", Dark: "#ED567A"}
	yellow := lipgloss.AdaptiveColor{Light: "#B8860B", Dark: "#F0C674"}
	dim := lipgloss.AdaptiveColor{Light: "#808080", Dark: "#7A7A7A"}
	s := Styles{
		Title:   r.NewStyle().Bold(true).Foreground(accent),
		Help:    r.NewStyle().Italic(true).Foreground(dim),
		Done:    r.NewStyle().Foreground(green),
		Current: r.NewStyle().Bold(true).Foreground(accent),
		Todo:    r.NewStyle().Foreground(dim),
		Summary: r.NewStyle().Foreground(dim),
		Error:   r.NewStyle().Foreground(red),
		Warn:    r.NewStyle().Foreground(yellow),
		OK:      r.NewStyle().Foreground(green),
		Dim:     r.NewStyle().Foreground(dim),
		Code:    r.NewStyle().Bold(true).Padding(1, 4).Border(lipgloss.RoundedBorder()).BorderForeground(accent),
		Box:     r.NewStyle().Padding(0, 1).Border(lipgloss.NormalBorder()).BorderForeground(dim),
		Secret:  r.NewStyle().Bold(true).Foreground(yellow),
		Side:    r.NewStyle().PaddingRight(2).MarginRight(1).Border(lipgloss.NormalBorder(), false, true, false, false).BorderForeground(dim),
	}
	return Common{Width: 100, Height: 30, Styles: s, Keys: newKeyMap(), Theme: theme}
}
