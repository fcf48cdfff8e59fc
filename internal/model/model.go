// Package model is the vocabulary the UI (wizard/, steps/) and the work
// (azure/, output/, engine/) share: findings, changes with typed verbs,
// progress and wait events, device codes, mailboxes, test rows and the
// settings a product needs. It has no network imports, so the UI compiles
// without MSAL or the Graph SDK, and no package mirrors these types by
// hand.
package model

import (
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// DefaultSecretMonths is a new client secret's lifetime when none is
// given: the portal's recommended 180 days, within Microsoft's advice of
// less than 12 months (microsoft.md §14).
const DefaultSecretMonths = 6

// Severity ranks a Finding.
type Severity string

const (
	Blocker Severity = "blocker" // the setup cannot succeed until it is fixed; nothing is changed
	Warning Severity = "warning" // it may work, but probably not as wanted
	Info    Severity = "info"
)

// Rank orders severities for display: blockers first.
func (s Severity) Rank() int {
	switch s {
	case Blocker:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Finding is one pre-flight observation and what to do about it.
type Finding struct {
	Severity Severity `json:"severity"`
	// Code names the rule ("role-consent"), for scripts and tests.
	Code string `json:"code,omitempty"`
	Text string `json:"text"`
	Fix  string `json:"fix,omitempty"`
	// Ask, when set, makes the finding a yes/no question the review asks
	// before any change (its key; the answer, default no, goes back to
	// the engine as Draft.Consents[Ask]).
	Ask string `json:"ask,omitempty"`
}

func (f Finding) String() string {
	s := "[" + string(f.Severity) + "] " + f.Text
	if f.Fix != "" {
		s += " Fix: " + f.Fix
	}
	return s
}

// Verb is what a change does to its object. The review shows the verb
// ("create"), progress its gerund ("Creating"), the summary its past
// ("created"): one word, three tenses, no English parsed back.
type Verb string

const (
	Create  Verb = "create"
	Update  Verb = "update"
	Add     Verb = "add"
	Extend  Verb = "extend"
	Grant   Verb = "grant"
	Assign  Verb = "assign"
	Require Verb = "require"
	Remove  Verb = "remove"
	Delete  Verb = "delete"
	Keep    Verb = "keep" // already as wanted: nothing is sent
	Skip    Verb = "skip" // not done, with the reason in Detail
)

var verbForms = map[Verb][2]string{
	Create:  {"Creating", "created"},
	Update:  {"Updating", "updated"},
	Add:     {"Adding", "added"},
	Extend:  {"Extending", "extended"},
	Grant:   {"Granting", "granted"},
	Assign:  {"Assigning", "assigned"},
	Require: {"Requiring", "required"},
	Remove:  {"Removing", "removed"},
	Delete:  {"Deleting", "deleted"},
	Keep:    {"Keeping", "unchanged"},
	Skip:    {"Skipping", "skipped"},
}

// Gerund is the progress form: "Creating".
func (v Verb) Gerund() string {
	if f, ok := verbForms[v]; ok {
		return f[0]
	}
	return capitalize(string(v))
}

// Past is the summary form: "created" ("unchanged" for Keep).
func (v Verb) Past() string {
	if f, ok := verbForms[v]; ok {
		return f[1]
	}
	return string(v)
}

// Changes reports whether the verb changes the tenant.
func (v Verb) Changes() bool { return v != Keep && v != Skip && v != "" }

// Change is one thing that will be, or was, created or changed.
type Change struct {
	Action Verb `json:"action"`
	// Object is what is touched: "app registration \"X\"", "client secret".
	Object string `json:"object"`
	Detail string `json:"detail,omitempty"`
}

// Progress is the line shown while the change runs: "Creating app registration "X"".
func (c Change) Progress() string { return c.Action.Gerund() + " " + c.Object }

// Headline is the line shown once it ran: "Created app registration"
// ("App registration unchanged" for Keep).
func (c Change) Headline() string {
	if c.Action == Keep {
		return capitalize(c.Object) + " unchanged"
	}
	return capitalize(c.Action.Past()) + " " + c.Object
}

// Summary is the headline with the detail: "Created app registration: "X", client ID …".
func (c Change) Summary() string {
	if c.Detail == "" {
		return c.Headline()
	}
	return c.Headline() + ": " + c.Detail
}

// Event is one line of progress: an action starting or done, or a wait
// before the next attempt (Wait > 0, a countdown on screen). Every retry
// loop reports its waits with this one type.
type Event struct {
	// Action names what is being done ("Create app registration").
	Action string
	Detail string
	// Done is set when the action finished (with Err when it failed).
	Done bool
	Err  error
	// Wait > 0: the engine waits that long (for Microsoft to replicate, or
	// throttling), then tries again; Attempt is the attempt about to be
	// made (from 2) and Left what remains of the time bound.
	Wait    time.Duration
	Attempt int
	Left    time.Duration
	// Code is the refusal being waited out ("AADSTS7000215",
	// "NoBackingApplicationObject"), when known.
	Code string
}

// String is the event as one line of a log: "Creating app: waiting for
// replication (attempt 3, 4s)…".
func (e Event) String() string {
	if e.Wait <= 0 {
		if e.Detail != "" {
			return e.Action + ": " + e.Detail
		}
		return e.Action + "…"
	}
	why := e.Detail
	if why == "" {
		why = "Microsoft"
	}
	return e.Action + ": waiting for " + why + " (attempt " + itoa(e.Attempt) + ", " + e.Wait.Round(time.Millisecond).String() + ")…"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	neg := n < 0
	if neg {
		n = -n
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// DeviceCode is what a person needs to approve a device-code sign-in.
type DeviceCode struct {
	UserCode        string
	VerificationURL string
	// Message is the identity platform's own sentence.
	Message   string
	ExpiresAt time.Time
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// MailboxInfo is what the tenant says about an address.
type MailboxInfo struct {
	Address  string
	Exists   bool // a user or shared mailbox with that address exists
	Licensed bool // has an Exchange Online mailbox plan
	Shared   bool
	// DisplayName is the user's name, shown beside the address.
	DisplayName string
	Warnings    []string // e.g. "MFA is required for this user: ROPC will fail"
}

// TestRow is one protocol's login result for one mailbox.
type TestRow struct {
	Protocol catalog.Protocol `json:"protocol"`
	Mailbox  string           `json:"mailbox"`
	OK       bool             `json:"ok"`
	Duration time.Duration    `json:"duration_ns"`
	Cause    string           `json:"cause,omitempty"`
	Fix      string           `json:"fix,omitempty"`
}

// TestAttempt is one try in the history of a login test: what failed and
// which fix was applied before the next try, so a failure → fix → pass
// sequence stays on screen and on the settings sheet.
type TestAttempt struct {
	At       time.Time        `json:"at"`
	Protocol catalog.Protocol `json:"protocol"`
	Mailbox  string           `json:"mailbox"`
	OK       bool             `json:"ok"`
	Cause    string           `json:"cause,omitempty"`
	// Applied is the fix mailoauth applied after this attempt, if any.
	Applied string `json:"applied,omitempty"`
}

// TestReport is the login test's result: the final row per protocol and
// mailbox, and every attempt on the way.
type TestReport struct {
	Rows    []TestRow     `json:"rows"`
	History []TestAttempt `json:"history,omitempty"`
}

// OK reports whether every login worked.
func (r TestReport) OK() bool {
	for _, row := range r.Rows {
		if !row.OK {
			return false
		}
	}
	return len(r.Rows) > 0
}

// KeyValue is one setting on the settings sheet, in the product's words.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Secret: the setting is the client secret, and Value only says where
	// it is; a screen that shows the secret shows it under this Key.
	Secret bool `json:"secret,omitempty"`
	// Section is the heading the product's settings page puts the setting
	// under ("smtp-client"); "" when it has none.
	Section string `json:"section,omitempty"`
}
