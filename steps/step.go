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
	ExchangeStep    ID = "exchange"
	UsersStep       ID = "users"
	ReviewStep      ID = "review"
	TestStep        ID = "test"
	ExportStep      ID = "export"
)

// Progress receives what an action shows while it runs. Any func may be
// nil.
type Progress struct {
	DeviceCode func(DeviceCode)
	Event      func(Event)
	// OpenURL shows an address a person must open (the mailbox user's
	// sign-in page in the login test) inside the shell that runs the
	// steps, and may open the browser; nil leaves it to the engine.
	OpenURL func(url string) error
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
	// SignsIn marks a step whose Act shows a device code to approve.
	SignsIn bool
	// Commits marks the step whose Act changes the tenant (the review):
	// after it, Esc no longer goes back and Ctrl-C stops cleanly.
	Commits bool
}

// All returns the steps in order.
func All() []Step {
	return []Step{
		signIn(), productStep(), register(), platform(), permissions(),
		secret(), exchangeStep(), users(), review(), test(), export(),
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
	// Help is one line under the title (for a Note, its body as text).
	Help string
	// Body is a Note's lines, each with what it is, so a screen can style
	// warnings apart from changes; Help holds the same text.
	Body    []Line
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
	return &FieldError{Key: q.Key, Label: q.Title, Err: err}
}

// FieldError is a refused answer. Its Error names the flag and the
// answers key (what an unattended run's author types); AdminText names the
// field's label instead (what the person at the screen sees).
type FieldError struct {
	Key   string // answers key; "" for a wizard-only question
	Label string // the question's title
	Err   error
}

func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Label + ": " + e.Err.Error()
	}
	return FlagFor(e.Key) + " / " + e.Key + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// AdminText is err for the screen: a refused answer is named by its
// field's label, not by its flag and key.
func AdminText(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var fe *FieldError
	if errors.As(err, &fe) {
		msg = strings.Replace(msg, fe.Error(), fe.Label+": "+fe.Err.Error(), 1)
	}
	return msg
}

// LineKind says what a line of a note is.
type LineKind int

const (
	LinePlain     LineKind = iota
	LineChange             // something that will be created or changed
	LineUnchanged          // already as wanted: nothing is sent
	LineCaution            // a warning: it may not work as wanted
	LineStop               // a blocker: the setup cannot succeed yet
	LineAside              // a note or hint, read if useful
)

// Line is one line of a note.
type Line struct {
	Kind LineKind
	Text string
}

// note is a Note question with styled lines; Help carries the same text
// for the line-by-line shells.
func note(title string, body []Line) Question {
	texts := make([]string, len(body))
	for i, l := range body {
		texts[i] = l.Text
	}
	return Question{Title: title, Kind: Note, Body: body, Help: strings.Join(texts, "\n")}
}

func plainLines(texts []string) []Line {
	out := make([]Line, len(texts))
	for i, t := range texts {
		out[i] = Line{Kind: LinePlain, Text: t}
	}
	return out
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
