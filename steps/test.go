package steps

import (
	"context"
	"fmt"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// test: log in to the mailbox the way the product will, through the
// replication delay, and explain any failure with its fix.
func test() Step {
	return Step{
		ID:    TestStep,
		Title: "Test",
		Help: "Logs in to the mailbox over each protocol exactly as the product will and explains failures " +
			"(portal: none: this is what you would otherwise find out in the product).",
		Pages: []Page{testPage, testLoginPage},
		Act: func(ctx context.Context, s *State, e Engine, p Progress) error {
			defer func() { s.password = "" }()
			if !s.RunTest {
				s.Report = nil
				return nil
			}
			s.TestError = ""
			r, err := e.Test(ctx, s.Result, TestInput{Mailbox: s.TestMailbox, Protocols: s.Draft.Protocols, Password: s.password}, p.Event)
			switch {
			case err != nil && ctx.Err() != nil:
				return err // stopped: the run ends here, resumable
			case err != nil:
				// The app exists now: still export its settings, and say
				// the test could not run (the caller exits with code 3).
				s.TestError = "the login test could not run: " + err.Error()
				s.Report = &TestReport{}
				return nil
			}
			s.Report = &r
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
				return fmt.Sprintf("%d of %d logins worked (%s)", ok, len(s.Report.Rows), s.TestMailbox)
			case s.Applied && !s.RunTest:
				return "skipped"
			}
			return ""
		},
	}
}

func testPage(s *State) []Question {
	def := "true"
	if s.Answers.Test != nil && !*s.Answers.Test {
		def = "false"
	}
	return []Question{{
		Key:   "test",
		Title: "Test the login now?",
		Help:  "Recommended: it waits through Microsoft's replication delay and tells you what is still missing.",
		Kind:  Confirm, Default: def,
		Set: func(s *State, v string) error {
			s.RunTest = v == "true"
			return nil
		},
	}}
}

func testLoginPage(s *State) []Question {
	if !s.RunTest {
		return nil
	}
	all := s.Draft.AllMailboxes()
	var qs []Question
	if len(all) > 1 {
		opts := make([]Option, len(all))
		for i, m := range all {
			opts[i] = Option{Value: m, Label: m}
		}
		qs = append(qs, Question{
			Title: "Which mailbox?", Kind: Select, Options: opts, Default: all[0],
			Set: func(s *State, v string) error { s.TestMailbox = v; return nil },
		})
	} else if len(all) == 1 {
		s.TestMailbox = all[0]
	}
	if s.Draft.Flow == catalog.ROPC {
		qs = append(qs, Question{
			Key:   "test_password",
			Title: "Mailbox password (for this test only)",
			Help:  "The product sends it with every login (ROPC); mailoauth uses it once and never stores it.",
			Kind:  Password,
			Validate: func(v string) error {
				if v == "" {
					return fmt.Errorf("enter the mailbox password, or go back and skip the test")
				}
				return nil
			},
			Set: func(s *State, v string) error { s.password = v; return nil },
		})
	}
	return qs
}
