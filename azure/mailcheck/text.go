package mailcheck

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as a result table (protocol, mailbox, result,
// time, step, cause) followed by each failure's reply and fix, for
// `mailoauth test` without --json. It never prints a token or secret: the
// report holds none.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROTOCOL\tMAILBOX\tRESULT\tTIME\tSTEP\tCAUSE")
	for _, c := range r.Checks {
		result, cause := "ok", c.Detail
		if !c.OK {
			result = "FAILED"
			if c.Explanation != nil {
				cause = c.Explanation.Title
			}
		}
		proto := string(c.Protocol)
		if c.Protocol != "" {
			proto = c.Protocol.Label()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", proto, c.Mailbox, result, c.Duration.Round(time.Millisecond), c.Step, cause)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range r.Failed() {
		fmt.Fprintf(w, "\n%s %s failed at %s\n", c.Protocol.Label(), c.Mailbox, c.Step)
		if c.Reply != "" {
			fmt.Fprintf(w, "  Server said: %s\n", c.Reply)
		}
		x := c.Explanation
		if x == nil {
			continue
		}
		fmt.Fprintf(w, "  Cause: %s\n  Fix: %s\n", x.Cause, x.Fix)
		if x.FixCommand != "" {
			fmt.Fprintf(w, "  Run in Exchange Online PowerShell:\n    %s\n", strings.ReplaceAll(x.FixCommand, "\n", "\n    "))
		}
		if x.FixAction != "" {
			fmt.Fprintf(w, "  mailoauth can do this for you: %s\n", x.FixAction)
		}
		for _, m := range c.Mismatches {
			fmt.Fprintf(w, "  Token: %s\n", m)
		}
		for _, alt := range x.Alternatives {
			fmt.Fprintf(w, "  Other possible cause: %s. %s Fix: %s\n", alt.Title, alt.Cause, alt.Fix)
			if alt.FixCommand != "" {
				fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(alt.FixCommand, "\n", "\n    "))
			}
		}
	}
	for _, ch := range r.Changes {
		fmt.Fprintf(w, "\nNote: %s\n", ch)
	}
	return nil
}

// CauseText is a failed check's cause in one paragraph, with the server's
// reply; "" when the check passed. For result tables (steps.TestRow).
func (c Check) CauseText() string {
	if c.OK || c.Explanation == nil {
		return ""
	}
	s := c.Explanation.Title + ": " + c.Explanation.Cause
	if c.Reply != "" {
		s += " (server: " + c.Reply + ")"
	}
	return s
}

// FixText is a failed check's fix followed by its command lines, then the
// alternatives' fixes; "" when the check passed.
func (c Check) FixText() string {
	if c.OK || c.Explanation == nil {
		return ""
	}
	x := c.Explanation
	var b strings.Builder
	b.WriteString(x.Fix)
	if x.FixCommand != "" {
		b.WriteString("\n" + x.FixCommand)
	}
	for _, alt := range x.Alternatives {
		b.WriteString("\nIf that is not it: " + alt.Title + ". " + alt.Fix)
		if alt.FixCommand != "" {
			b.WriteString("\n" + alt.FixCommand)
		}
	}
	return b.String()
}
