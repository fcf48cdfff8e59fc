package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/mailoauth/mailoauth/steps"
)

// writeSummary ends an unattended run with a few lines on stderr: what
// was created or changed, the login test's result, the files and where
// the client secret is (never its value). It is made from the same
// steps.Outcome that --json prints, so the two never disagree.
func writeSummary(w io.Writer, o steps.Outcome) {
	r := o.Result
	if r.AppID == "" && o.Export == nil {
		return // stopped before anything was made: the error says why
	}
	fmt.Fprintln(w, "\nSummary:")
	if r.AppID != "" {
		verb := "Updated"
		if r.Created {
			verb = "Created"
		}
		tenant := o.TenantName
		if tenant == "" {
			tenant = o.TenantID
		}
		fmt.Fprintf(w, "  %s app registration %q, application ID %s, in %s\n", verb, r.AppName, r.AppID, tenant)
	}
	var changed []string
	kept := 0
	for _, c := range o.Changes {
		if c.Action == "keep" {
			kept++
			continue
		}
		line := string(c.Action) + " " + c.Object // a string or model.Verb
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		changed = append(changed, line)
	}
	switch {
	case len(changed) > 0:
		fmt.Fprintf(w, "  Changed: %s", strings.Join(changed, "; "))
		if kept > 0 {
			fmt.Fprintf(w, "; %d already as needed", kept)
		}
		fmt.Fprintln(w)
	case kept > 0:
		fmt.Fprintf(w, "  Changed: nothing (%d already as needed)\n", kept)
	}
	switch {
	case o.TestError != "":
		fmt.Fprintf(w, "  Login test: %s\n", o.TestError)
	case o.Test != nil:
		ok := 0
		for _, row := range o.Test.Rows {
			if row.OK {
				ok++
			}
		}
		fmt.Fprintf(w, "  Login test: %d of %d logins worked\n", ok, len(o.Test.Rows))
		for _, row := range o.Test.Rows {
			if !row.OK {
				fmt.Fprintf(w, "    %s %s failed: %s\n", row.Protocol.Label(), row.Mailbox, row.Cause)
				if row.Fix != "" {
					fmt.Fprintf(w, "      fix: %s\n", firstLine(row.Fix))
				}
			}
		}
	default:
		fmt.Fprintln(w, "  Login test: skipped")
	}
	if e := o.Export; e != nil {
		names := make([]string, len(e.Files))
		for i, f := range e.Files {
			names[i] = filepath.Base(f)
		}
		fmt.Fprintf(w, "  Files in %s: %s\n", e.Dir, strings.Join(names, ", "))
		switch {
		case e.SecretFile != "":
			line := "  Client secret: in " + e.SecretFile + " (readable only by you)"
			if !r.SecretExpiry.IsZero() {
				line += ", expires " + r.SecretExpiry.Format("2006-01-02")
			}
			fmt.Fprintln(w, line)
		case r.SecretHint != "":
			fmt.Fprintf(w, "  Client secret %s…: its value is not in these files\n", r.SecretHint)
		}
		for _, m := range e.Manual {
			fmt.Fprintf(w, "  Still to do: %s\n", firstLine(m))
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
