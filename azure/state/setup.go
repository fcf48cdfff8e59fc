package state

import (
	"time"

	"github.com/mailoauth/mailoauth/internal/model"
)

// Setup is the product-side record of a run: the answers that are not part
// of the app registration itself. It holds no secret and no password.
type Setup struct {
	// Method is the product's method ("client-secret", "auth-code", ...).
	Method string `json:"method,omitempty"`
	// Answers are the product's own answers by answers-file key
	// (extraview_url, callback_url, redirect_uri).
	Answers         map[string]string `json:"answers,omitempty"`
	Mailboxes       []string          `json:"mailboxes,omitempty"`
	AdditionalUsers []string          `json:"additional_users,omitempty"`
	// TenantDomains are the verified domains, initial first where known.
	TenantDomains []string `json:"tenant_domains,omitempty"`
	// InitialDomain is the domain Graph marks isInitial (*.onmicrosoft.com).
	InitialDomain string `json:"initial_domain,omitempty"`
	SecretMonths  int    `json:"secret_months,omitempty"`
	// RequireAssignment records the answer, for a resumed run.
	RequireAssignment bool `json:"require_assignment,omitempty"`
	// Permissions are the permissions as the tenant resolved them.
	Permissions []PermissionRef `json:"permissions,omitempty"`
	// ScopedAway are application permissions removed from the app because
	// RBAC for Applications limits the same access to the mailboxes; a
	// re-run does not add them back.
	ScopedAway []PermissionRef `json:"scoped_away,omitempty"`
	// LastTest is the last login test's result (never a token, secret or
	// password): what the settings sheet shows and `status` reports.
	LastTest *TestRecord `json:"last_test,omitempty"`
	// LastPassed is when a login test last passed for every protocol.
	LastPassed time.Time `json:"last_passed,omitempty"`
}

// TestRecord is one run of the login test.
type TestRecord struct {
	At     time.Time        `json:"at"`
	Report model.TestReport `json:"report"`
}

// RecordTest keeps a login test's result.
func (s *Setup) RecordTest(at time.Time, r model.TestReport) {
	s.LastTest = &TestRecord{At: at.UTC(), Report: r}
	if r.OK() {
		s.LastPassed = at.UTC()
	}
}

// PermissionRef is one permission with the ID the tenant published for it.
type PermissionRef struct {
	ResourceAppID string `json:"resource_app_id"`
	Kind          string `json:"type"` // Scope (delegated) or Role (application)
	Value         string `json:"value"`
	ID            string `json:"id,omitempty"`
}
