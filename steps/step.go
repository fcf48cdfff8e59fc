// Package steps holds the wizard's steps, one file per step, mirroring the
// vendor documents: sign in, product, register, platform, permissions,
// secret, users, review, test, export. A step is the questions it asks
// (defaults from the product and the tenant, validation), the action it
// takes through an Engine, and a summary line.
//
// The same steps run in three shells: the terminal UI (wizard/), huh's
// accessible line-by-line mode, and RunUnattended (answers file and flags,
// no terminal). Nothing here draws on a screen or talks to Microsoft.
package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// ID names a step.
type ID string

const (
	SignInStep      ID = "signin"
	ProductStep     ID = "product"
	RegisterStep    ID = "register"
	PlatformStep    ID = "platform"
	PermissionsStep ID = "permissions"
	SecretStep      ID = "secret"
	UsersStep       ID = "users"
	ReviewStep      ID = "review"
	TestStep        ID = "test"
	ExportStep      ID = "export"
)

// Progress receives what an action shows while it runs. Either func may
// be nil.
type Progress struct {
	DeviceCode func(DeviceCode)
	Event      func(Event)
}

// Action does a step's work through the engine.
type Action func(ctx context.Context, s *State, e Engine, p Progress) error

// Page is one screen of questions; it is built from the state when shown,
// so it can depend on earlier answers. An empty page is skipped.
type Page func(s *State) []Question

// Step is one step of the setup.
type Step struct {
	ID    ID
	Title string
	// Help is "what this does / what you would click in the portal".
	Help string
	// Prepare runs before the questions (e.g. look for an existing app).
	Prepare Action
	Pages   []Page
	// Act runs after the questions; an error returns to the questions
	// (before the review) so the answer can be corrected.
	Act Action
	// Summary is the one line shown in the side panel once done.
	Summary func(s *State) string
	// Commits marks the step whose Act changes the tenant (the review):
	// after it, Esc no longer goes back and Ctrl-C stops cleanly.
	Commits bool
}

// All returns the steps in order.
func All() []Step {
	return []Step{
		signIn(), productStep(), register(), platform(), permissions(),
		secret(), users(), review(), test(), export(),
	}
}

// Kind is how a question is answered.
type Kind int

const (
	Text        Kind = iota // typed, validated
	Password                // typed, hidden, never stored
	Number                  // typed digits
	Confirm                 // yes / no
	Select                  // one of Options
	MultiSelect             // some of Options (comma-joined value)
	Note                    // nothing to answer: information to read
)

// Option is one choice of a Select or MultiSelect.
type Option struct {
	Value string
	Label string
}

// Question is one thing a step asks. Values travel as strings: lists
// comma-joined, booleans "true"/"false", numbers in decimal.
type Question struct {
	// Key is the answers key ("callback_url"); its flag is FlagFor(Key).
	// Empty for wizard-only questions (notes, the review's confirmation).
	Key   string
	Title string
	// Help is one line under the title (for a Note, its body).
	Help    string
	Kind    Kind
	Options []Option
	// Default is the value offered; for typed questions without one the
	// answer is required.
	Default string
	// Validate checks a typed value where it is typed; nil accepts all.
	Validate func(string) error
	// Set stores a valid value in the state.
	Set func(s *State, v string) error
}

// Check validates a value for the question, whatever its kind.
func (q Question) Check(v string) error {
	switch q.Kind {
	case Select:
		if !q.hasOption(v) {
			return fmt.Errorf("%q is not accepted; accepted: %s", v, q.optionValues())
		}
	case MultiSelect:
		items := SplitList(v)
		if len(items) == 0 {
			return fmt.Errorf("choose at least one; accepted: %s", q.optionValues())
		}
		for _, it := range items {
			if !q.hasOption(it) {
				return fmt.Errorf("%q is not accepted; accepted: %s", it, q.optionValues())
			}
		}
	case Confirm:
		if v != "true" && v != "false" {
			return fmt.Errorf("%q is not accepted; accepted: true, false", v)
		}
	}
	if q.Validate != nil {
		return q.Validate(v)
	}
	return nil
}

func (q Question) hasOption(v string) bool {
	for _, o := range q.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func (q Question) optionValues() string {
	vs := make([]string, len(q.Options))
	for i, o := range q.Options {
		vs[i] = o.Value
	}
	return strings.Join(vs, ", ")
}

// Answer validates v and stores it, naming the key in the error.
func (q Question) Answer(s *State, v string) error {
	if err := q.Check(v); err != nil {
		return q.fieldError(err)
	}
	if q.Set == nil {
		return nil
	}
	if err := q.Set(s, v); err != nil {
		return q.fieldError(err)
	}
	return nil
}

func (q Question) fieldError(err error) error {
	if q.Key == "" {
		return fmt.Errorf("%s: %w", q.Title, err)
	}
	return fmt.Errorf("%s / %s: %w", FlagFor(q.Key), q.Key, err)
}

// ErrMissing is wrapped by the error for a question without an answer
// when no one can be asked.
var ErrMissing = errors.New("required when not running interactively")

func labelProtocols(ps []catalog.Protocol) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Label()
	}
	return strings.Join(s, ", ")
}
