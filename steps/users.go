package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailoauth/mailoauth/internal/validate"
)

// users: the mailboxes the product uses, checked against the tenant, and
// whether only assigned users may sign in.
func users() Step {
	return Step{
		ID:    UsersStep,
		Title: "Users",
		Help: "Names the mailboxes the product signs in to and checks them in the tenant " +
			"(portal: Enterprise applications → the app → Users and groups → Add user; Properties → Assignment required).",
		Pages: []Page{usersPage},
		Act: func(ctx context.Context, s *State, e Engine, _ Progress) error {
			s.Mailboxes = nil
			for _, addr := range s.Draft.AllMailboxes() {
				info, err := e.CheckMailbox(ctx, addr)
				if err != nil {
					return fmt.Errorf("checking %s failed: %w", addr, err)
				}
				switch {
				case !info.Exists:
					return mailboxError(s, addr, fmt.Errorf("%s is not a user or shared mailbox in %s; check the spelling or create the mailbox first",
						addr, tenantLabel(s.Tenant)))
				case !info.Licensed && !info.Shared:
					return mailboxError(s, addr, fmt.Errorf("%s has no Exchange Online licence, so it has no mailbox; assign a licence with Exchange Online (Plan 1 or 2) in the Microsoft 365 admin center",
						addr))
				}
				s.Mailboxes = append(s.Mailboxes, info)
			}
			return nil
		},
		Summary: func(s *State) string {
			all := s.Draft.AllMailboxes()
			if len(all) == 0 {
				return ""
			}
			out := strings.Join(all, ", ")
			if s.Draft.AssignUsers {
				out += " · assigned"
				if s.Draft.RequireAssignment {
					out += ", assignment required"
				}
			}
			return out
		},
	}
}

func usersPage(s *State) []Question {
	d := s.Draft
	_, m, ok := chosen(s)
	if !ok {
		return nil
	}
	var qs []Question
	for _, key := range []string{"mailboxes", "additional_users"} {
		pq, found := m.Question(key)
		if !found {
			continue
		}
		q := productQuestion(s, pq, func(s *State, v string) error {
			if key == "additional_users" {
				s.Draft.AdditionalUsers = SplitList(v)
			} else {
				s.Draft.Mailboxes = SplitList(v)
			}
			return nil
		})
		if d.AssignUsers && key == "mailboxes" {
			q.Help += "; each is assigned to the enterprise application"
		}
		if key == "mailboxes" {
			guideMailbox(s, &q)
		}
		qs = append(qs, q)
	}
	if len(qs) == 0 {
		// A method without a mailbox question still needs one for the test.
		qs = append(qs, Question{
			Key: "mailboxes", Title: "Mailbox addresses",
			Help: "The mailbox(es) the product signs in to. Separate several with commas.",
			Kind: Text, Default: strings.Join(d.Mailboxes, ", "), Validate: ValidateAddresses,
			Set: func(s *State, v string) error {
				s.Draft.Mailboxes = SplitList(v)
				return nil
			},
		})
		guideMailbox(s, &qs[0])
	}
	if d.AssignUsers {
		qs = append(qs, Question{
			Key:   "require_assignment",
			Title: "Only assigned users may sign in?",
			Help:  "Yes keeps everyone else out (they get AADSTS50105); the mailboxes above are assigned either way.",
			Kind:  Confirm, Default: strconv.FormatBool(d.RequireAssignment),
			Set: func(s *State, v string) error {
				s.Draft.RequireAssignment = v == "true"
				return nil
			},
		})
	}
	return qs
}

// ValidateAddresses accepts one or more e-mail addresses separated by
// commas, semicolons or spaces (internal/validate's rule, as provisioning).
func ValidateAddresses(v string) error {
	list, err := validate.EmailList(v)
	if err == nil && len(list) == 0 {
		return fmt.Errorf("enter at least one address, e.g. helpdesk@contoso.com")
	}
	return err
}

// ValidateAddress accepts a bare address like name@example.com.
func ValidateAddress(v string) error { return validate.Email(v) }

// guideMailbox offers the demo's mailbox and names its seeded users.
func guideMailbox(s *State, q *Question) {
	g := s.Guide
	if g == nil {
		return
	}
	if q.Default == "" && len(s.Draft.Mailboxes) == 0 {
		q.Default = g.Mailbox
	}
	if g.MailboxHelp != "" {
		q.Help += ". " + g.MailboxHelp
	}
}

// mailboxError names the mailbox field that holds addr: the additional
// users' when it is one of those, else the mailboxes'.
func mailboxError(s *State, addr string, err error) error {
	key := "mailboxes"
	for _, a := range s.Draft.AdditionalUsers {
		if a == addr && !contains(s.Draft.Mailboxes, addr) {
			key = "additional_users"
		}
	}
	label := "Mailbox addresses"
	if _, m, ok := chosen(s); ok {
		if pq, found := m.Question(key); found {
			label = pq.Prompt
		}
	}
	return &FieldError{Key: key, Label: label, Err: err}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
