package steps

import (
	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Draft is the setup the administrator chose, resolved against the
// product profile: everything the engine needs to plan, review and apply,
// without looking the product up again.
type Draft struct {
	Product     string       `json:"product"`
	ProductName string       `json:"product_name"`
	Method      string       `json:"method"`
	MethodLabel string       `json:"method_label,omitempty"`
	Flow        catalog.Flow `json:"flow"`
	AppName     string       `json:"app_name"`
	// AppID is an existing app registration to update; empty creates one.
	AppID     string             `json:"app_id,omitempty"`
	Audience  catalog.Audience   `json:"audience"`
	Protocols []catalog.Protocol `json:"protocols"`
	// ProductAnswers holds the product's own questions by answers key
	// (extraview_url, callback_url, redirect_uri).
	ProductAnswers map[string]string    `json:"product_answers,omitempty"`
	Platform       catalog.Platform     `json:"platform"`
	RedirectURIs   []string             `json:"redirect_uris,omitempty"`
	PublicClient   bool                 `json:"public_client"` // "Allow public client flows"
	Permissions    []catalog.Permission `json:"-"`
	NeedsSecret    bool                 `json:"needs_secret"`
	SecretMonths   int                  `json:"secret_months,omitempty"`
	// Mailboxes are the product's mailbox addresses; AssignUsers says
	// whether they are assigned to the enterprise application.
	Mailboxes         []string `json:"mailboxes,omitempty"`
	AdditionalUsers   []string `json:"additional_users,omitempty"`
	AssignUsers       bool     `json:"assign_users"`
	RequireAssignment bool     `json:"require_assignment"`
	// Exchange is apply (mailoauth makes the Exchange Online changes) or
	// script (exchange-setup.ps1 is left to the admin).
	Exchange string `json:"exchange,omitempty"`
	// LimitMailboxAccess limits an app-only app to its mailboxes with RBAC
	// for Applications.
	LimitMailboxAccess bool `json:"limit_mailbox_access,omitempty"`
	// Consents are the admin's answers to the review's yes/no questions
	// (Finding.Ask), by key.
	Consents map[string]bool `json:"consents,omitempty"`
	// Notes are the product's warnings, notes and corrections to its
	// vendor document (the settings sheet prints them).
	Notes []string `json:"notes,omitempty"`
	// Warnings are the cautions that apply to this product, method and
	// protocol choice: the review shows them, apart from the changes.
	Warnings []string `json:"-"`
}

// AllMailboxes is Mailboxes then AdditionalUsers, without repeats.
func (d Draft) AllMailboxes() []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range append(append([]string(nil), d.Mailboxes...), d.AdditionalUsers...) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// State is one run of the steps: the answers given ahead, what the tenant
// said, the draft, and what the actions produced.
type State struct {
	// Answers were given ahead (answers file, flags); they are the
	// defaults in the wizard and the values in an unattended run.
	Answers Answers

	// Guide is the demo's help where a person would need it; nil on a
	// real tenant.
	Guide *Guide

	Tenant   Tenant
	Findings []Finding
	// Exchange is the Exchange Online side of the run.
	Exchange ExchangeSession
	// SignInFindings are the pre-flight findings read at sign-in; the
	// review repeats only what is new since.
	SignInFindings []Finding
	Draft          Draft
	// Existing are apps that already carry the chosen name.
	Existing []ExistingApp
	// createAnyway: the administrator chose a new app despite a namesake.
	createAnyway bool
	Mailboxes    []MailboxInfo
	Changes      []Change
	// approved: the review was confirmed.
	approved bool
	Applied  bool
	Result   Result

	RunTest bool
	// TestMailbox is the first mailbox tested; TestMailboxes all of them.
	TestMailbox   string
	TestMailboxes []string
	Report        *TestReport
	// TestError says why the login test could not run at all.
	TestError string
	Export    *ExportResult

	// asked holds the keys answered in this run.
	asked map[string]bool
	// passwords are the mailbox passwords for the ROPC login test, by
	// mailbox: kept only until the test ran, never written anywhere.
	passwords map[string]string
}

// NewState starts a run from answers given ahead.
func NewState(a Answers) *State {
	return &State{Answers: a, Draft: Draft{ProductAnswers: map[string]string{}}}
}

// Outcome is the JSON-able result of a whole run (--json): what was made,
// the files written and the test results. It never carries the secret.
type Outcome struct {
	TenantID   string `json:"tenant_id"`
	TenantName string `json:"tenant_name,omitempty"`
	Draft      Draft  `json:"setup"`
	// Permissions are the permissions granted, e.g. "Office 365 Exchange
	// Online IMAP.AccessAsUser.All (Delegated)".
	Permissions []string      `json:"permissions,omitempty"`
	Findings    []Finding     `json:"findings,omitempty"`
	Changes     []Change      `json:"changes,omitempty"`
	Result      Result        `json:"result"`
	Test        *TestReport   `json:"test,omitempty"`
	TestError   string        `json:"test_error,omitempty"`
	Export      *ExportResult `json:"export,omitempty"`
}

// LoginFailed reports whether the login test ran and failed (exit code 3).
func (o Outcome) LoginFailed() bool { return o.TestError != "" || o.Test != nil && !o.Test.OK() }

// Outcome summarises the state for --json.
func (s *State) Outcome() Outcome {
	var perms []string
	for _, p := range s.Draft.Permissions {
		perms = append(perms, p.String())
	}
	return Outcome{
		Permissions: perms,
		TenantID:    s.Tenant.ID,
		TenantName:  s.Tenant.Name,
		Draft:       s.Draft,
		Findings:    s.Findings,
		Changes:     s.Changes,
		Result:      s.Result,
		TestError:   s.TestError,
		Test:        s.Report,
		Export:      s.Export,
	}
}
