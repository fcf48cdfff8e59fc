package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// test: log in to every mailbox the way the product will, through the
// replication delay, and explain any failure with its fix.
func test() Step {
	return Step{
		ID:    TestStep,
		Title: "Test",
		Help: "Logs in to each mailbox over each protocol exactly as the product will and explains failures " +
			"(portal: none: this is what you would otherwise find out in the product).",
		Pages: []Page{testPage, testLoginPage},
		Act: func(ctx context.Context, s *State, e Engine, p Progress) error {
			defer func() { s.passwords = nil }()
			if !s.RunTest {
				s.Report = nil
				return nil
			}
			s.TestError = ""
			rep := TestReport{}
			for _, mb := range s.TestMailboxes {
				pw := s.passwords[mb]
				if s.Draft.Flow == catalog.ROPC && pw == "" {
					continue // no password given: this mailbox is not tested
				}
				in := TestInput{Mailbox: mb, Protocols: s.Draft.Protocols, Password: pw, OpenURL: p.OpenURL}
				r, err := e.Test(ctx, s.Result, in, p.Event)
				switch {
				case err != nil && ctx.Err() != nil:
					return err // stopped: the run ends here, resumable
				case err != nil:
					// The app exists now: still export its settings, and say
					// the test could not run (the caller exits with code 3).
					s.TestError = "the login test could not run: " + err.Error()
					if len(s.TestMailboxes) > 1 {
						s.TestError = "the login test of " + mb + " could not run: " + err.Error()
					}
					s.Report = &rep
					return nil
				}
				rep.Rows = append(rep.Rows, r.Rows...)
				rep.History = append(rep.History, r.History...)
			}
			s.Report = &rep
			return nil
		},
		Summary: func(s *State) string {
			switch {
			case s.TestError != "":
				return "could not run"
			case s.Report != nil:
				ok := 0
				for _, r := range s.Report.Rows {
					if r.OK {
						ok++
					}
				}
				return fmt.Sprintf("%d of %d logins worked (%s)", ok, len(s.Report.Rows), strings.Join(testedMailboxes(*s.Report), ", "))
			case s.Applied && !s.RunTest:
				return "skipped"
			}
			return ""
		},
	}
}

// testedMailboxes are the mailboxes of a report's rows, in order.
func testedMailboxes(r TestReport) []string {
	var out []string
	seen := map[string]bool{}
	for _, row := range r.Rows {
		if !seen[row.Mailbox] {
			seen[row.Mailbox] = true
			out = append(out, row.Mailbox)
		}
	}
	return out
}

func testPage(s *State) []Question {
	def := "true"
	if s.Answers.Test != nil && !*s.Answers.Test {
		def = "false"
	}
	help := "Recommended: it waits through Microsoft's replication delay and tells you what is still missing."
	if n := len(s.Draft.AllMailboxes()); n > 1 {
		help = fmt.Sprintf("Recommended: it tests all %d mailboxes, waits through Microsoft's replication delay and tells you what is still missing.", n)
	}
	return []Question{{
		Key:   "test",
		Title: "Test the login now?",
		Help:  help,
		Kind:  Confirm, Default: def,
		Set: func(s *State, v string) error {
			s.RunTest = v == "true"
			return nil
		},
	}}
}

// testLoginPage tests every mailbox; a product that sends the user's
// password (ROPC) needs each mailbox's password, used once.
func testLoginPage(s *State) []Question {
	if !s.RunTest {
		return nil
	}
	all := s.Draft.AllMailboxes()
	s.TestMailboxes = all
	s.TestMailbox = ""
	if len(all) > 0 {
		s.TestMailbox = all[0]
	}
	if s.Draft.Flow != catalog.ROPC {
		return nil
	}
	var qs []Question
	for i, mb := range all {
		q := Question{
			Title: "Password of " + mb + " (for this test only)",
			Help:  "The product sends it with every login (ROPC); mailoauth uses it once and never stores it.",
			Kind:  Password,
			Set: func(s *State, v string) error {
				if s.passwords == nil {
					s.passwords = map[string]string{}
				}
				s.passwords[mb] = v
				return nil
			},
		}
		if len(all) == 1 {
			q.Title = "Mailbox password (for this test only)"
		}
		if i == 0 {
			q.Key = "test_password"
			q.Validate = func(v string) error {
				if v == "" {
					return fmt.Errorf("enter the mailbox password, or go back and skip the test")
				}
				return nil
			}
		} else {
			q.Help += " Leave it empty to test only the mailboxes above."
		}
		if pw := s.Guide.password(mb); pw != "" {
			q.Default = pw
			q.Help += " Demo: the seeded password of " + mb + " is filled in; press Enter."
		}
		qs = append(qs, q)
	}
	return qs
}
