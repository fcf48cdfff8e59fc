package product

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Question is one product-specific question the wizard asks and the answers
// file may answer under Key.
type Question struct {
	Key     string // answers-file key
	Prompt  string
	Help    string // what this does / what you would click in the portal
	Default string
	// Optional questions may be left empty.
	Optional bool
	// Choices, when set, are the only accepted values (shown as a select).
	Choices []string
	// List: the answer holds several values separated by semicolons or commas.
	List  bool
	check func(string) (value, note string, err error)
}

// Normalize validates an answer (empty means the default) and returns the
// value to use and a note when it changed the input in a way worth saying.
func (q Question) Normalize(s string) (value, note string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = q.Default
	}
	if s == "" {
		if q.Optional {
			return "", "", nil
		}
		return "", "", fmt.Errorf("%s: required; %s", q.Key, q.Help)
	}
	if q.check == nil {
		return s, "", nil
	}
	return q.check(s)
}

// Validate reports whether the answer is acceptable.
func (q Question) Validate(s string) error {
	_, _, err := q.Normalize(s)
	return err
}

func mailboxesQuestion(prompt, help string, max int) Question {
	return Question{
		Key: KeyMailboxes, Prompt: prompt, Help: help, List: max != 1,
		check: func(s string) (string, string, error) {
			list, err := EmailList(KeyMailboxes, s)
			if err != nil {
				return "", "", err
			}
			if len(list) == 0 {
				return "", "", fmt.Errorf("%s: required; accepted form: an email address such as helpdesk@contoso.com", KeyMailboxes)
			}
			if max > 0 && len(list) > max {
				return "", "", fmt.Errorf("%s: %d addresses given, at most %d accepted here; %s", KeyMailboxes, len(list), max, help)
			}
			return strings.Join(list, "; "), "", nil
		},
	}
}

func additionalUsersQuestion() Question {
	return Question{
		Key:      KeyAdditionalUsers,
		Prompt:   "Additional mailboxes this account reads (optional)",
		Help:     "Agiloft's Account tab \"Additional Users\": other mailbox addresses, separated by semicolons",
		Optional: true, List: true,
		check: func(s string) (string, string, error) {
			list, err := EmailList(KeyAdditionalUsers, s)
			return strings.Join(list, "; "), "", err
		},
	}
}

func protocolsQuestion(m *Method, help string) Question {
	var def []string
	for _, p := range m.DefaultProtocols {
		def = append(def, string(p))
	}
	var choices []string
	for _, p := range m.Protocols {
		choices = append(choices, string(p))
	}
	supported := append([]catalog.Protocol(nil), m.Protocols...)
	return Question{
		Key: KeyProtocols, Prompt: "Which protocols will it use?", Help: help,
		Default: strings.Join(def, ","), Choices: choices, List: true,
		check: func(s string) (string, string, error) {
			mm := Method{Protocols: supported}
			ps, err := mm.ParseProtocols(s)
			if err != nil {
				return "", "", err
			}
			var out []string
			for _, p := range ps {
				out = append(out, string(p))
			}
			return strings.Join(out, ","), "", nil
		},
	}
}

func audienceQuestion(def catalog.Audience, help string) Question {
	return Question{
		Key: KeyAudience, Prompt: "Who may sign in to the app?", Help: help,
		Default: string(def), Choices: []string{string(catalog.SingleTenant), string(catalog.MultiTenant)},
		check: func(s string) (string, string, error) {
			a, err := catalog.ParseAudience(s)
			return string(a), "", err
		},
	}
}
