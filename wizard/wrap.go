package wizard

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// wrapText word-wraps plain text to width. Lines break only at spaces, so
// a URL, GUID, flag or permission name is never cut: a word that does not
// fit on the current line starts the next one (a long value ends up on a
// line of its own). Continuation lines keep the paragraph's indent unless
// the word then would not fit. Only a word wider than the whole screen is
// cut, at the screen's edge: nothing else can show it.
func wrapText(s string, width int) string {
	return strings.Join(wrapLines(s, width), "\n")
}

// wrapLines is wrapText as lines.
func wrapLines(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, wrapParagraph(para, width)...)
	}
	return out
}

func wrapParagraph(para string, width int) []string {
	trimmed := strings.TrimLeft(para, " ")
	indent := para[:len(para)-len(trimmed)]
	if ansi.StringWidth(indent) >= width/2 {
		indent = ""
	}
	words, gaps := splitWords(trimmed)
	if len(words) == 0 {
		return []string{""}
	}
	var out []string
	cur, curW := "", -1 // curW < 0: no line started
	for i, w := range words {
		ww := ansi.StringWidth(w)
		if curW >= 0 {
			gap := gaps[i]
			if curW+len(gap)+ww <= width {
				cur += gap + w
				curW += len(gap) + ww
				continue
			}
			out = append(out, cur) // break here; the gap goes with it
		}
		// w starts a line: with the indent if it fits, else without, else
		// cut at the edge.
		lead := indent
		if curW < 0 {
			lead = indent // the paragraph's first line keeps its indent
		}
		if ansi.StringWidth(lead)+ww > width {
			lead = ""
		}
		for ww > width {
			out = append(out, ansi.Truncate(w, width, ""))
			w = ansi.TruncateLeft(w, width, "")
			ww = ansi.StringWidth(w)
		}
		cur, curW = lead+w, ansi.StringWidth(lead)+ww
	}
	return append(out, cur)
}

// splitWords splits s at runs of spaces, keeping each run (gaps[i] is the
// run before words[i]), so aligned columns keep their spacing.
func splitWords(s string) (words, gaps []string) {
	gap := ""
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			words, gaps = append(words, s[:i]), append(gaps, gap)
			gap = ""
		}
		s = s[i:]
		j := 0
		for j < len(s) && s[j] == ' ' {
			j++
		}
		gap += s[:j]
		s = s[j:]
	}
	return words, gaps
}

// hangLines wraps s with its lines after the first indented by hang
// (when the words still fit).
func hangLines(s string, hang, width int) []string {
	lines := wrapLines(s, width)
	if len(lines) < 2 || hang >= width/2 || !strings.HasPrefix(s, lines[0]) {
		return lines
	}
	rest := strings.TrimLeft(s[len(lines[0]):], " ")
	if strings.HasPrefix(rest, "\n") {
		return lines // the first line was the whole first paragraph
	}
	return append([]string{lines[0]}, wrapLines(strings.Repeat(" ", hang)+rest, width)...)
}

// longestWord is the width of the widest word in s: a layout that is
// narrower cuts it.
func longestWord(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		n = max(n, ansi.StringWidth(w))
	}
	return n
}

// keyValueLines shows "Key: value" on one line when it fits, else the
// value on its own line below the key (never cut inside the value).
func keyValueLines(key, value string, keyWidth, width int) []string {
	line := key + ":"
	if pad := keyWidth - ansi.StringWidth(line); pad > 0 {
		line += strings.Repeat(" ", pad)
	}
	if ansi.StringWidth(line)+1+ansi.StringWidth(value) <= width {
		return []string{line + " " + value}
	}
	out := []string{key + ":"}
	return append(out, wrapLines("  "+value, width)...)
}

// elide keeps the words of s that fit in width, in order, and ends with
// "…" when some did not: no word is ever cut.
func elide(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	out := ""
	for _, w := range strings.Fields(s) {
		next := w
		if out != "" {
			next = out + " " + w
		}
		if ansi.StringWidth(next)+2 > width {
			break
		}
		out = next
	}
	if out == "" {
		return "…"
	}
	return out + " …"
}
