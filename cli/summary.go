package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
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

// writeStop says, after an unattended run was stopped, whether anything
// was changed and how to resume or undo it.
func writeStop(w io.Writer, err error) {
	var ae *steps.ApplyError
	if !errors.As(err, &ae) {
		fmt.Fprintln(w, "mailoauth: stopped before any change: nothing was changed in the tenant.")
		return
	}
	fmt.Fprintln(w, "mailoauth: stopped after the review; what was done so far is in the state file.")
	for _, line := range ae.ResumeHelp() {
		fmt.Fprintln(w, "  "+line)
	}
}

// writeSecretCustody names the file that holds a new client secret when a
// run ends without success (the settings files may not hold it), and, when
// no file could hold it and a person watches the terminal, shows the value
// once: Microsoft never shows it again.
func writeSecretCustody(io IO, o steps.Outcome, err error, unattended bool) {
	r := o.Result
	var ae *steps.ApplyError
	if errors.As(err, &ae) && !unattended {
		return // the wizard's stop screen handed it over
	}
	switch {
	case r.SecretUnsaved && r.Secret != "" && io.Interactive:
		fmt.Fprintf(io.Err, "\nThe new client secret could not be written to any file. Copy it now (Microsoft shows it only once):\n  %s\n", r.Secret)
	case r.SecretFile != "" && fileExists(r.SecretFile):
		fmt.Fprintf(io.Err, "\nThe new client secret's value is in %s (only you can read it).\n", r.SecretFile)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
