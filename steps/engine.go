package steps

import (
	"context"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/model"
)

// The shared vocabulary lives in internal/model; these names keep the
// steps' own words for it.
type (
	DeviceCode  = model.DeviceCode
	Severity    = model.Severity
	Finding     = model.Finding
	MailboxInfo = model.MailboxInfo
	Change      = model.Change
	Verb        = model.Verb
	Event       = model.Event
	TestRow     = model.TestRow
	TestReport  = model.TestReport
	TestAttempt = model.TestAttempt
	KeyValue    = model.KeyValue
)

const (
	Blocker = model.Blocker
	Warning = model.Warning
	Info    = model.Info
)

// Engine is everything the steps need done in the world: sign-in, reading
// the tenant, provisioning, the login test and the exported files. The
// steps and the wizard never call Graph, MSAL, mail servers or the file
// system themselves; cli/ implements Engine with azure/ and output/.
//
// Every method honours ctx: when it is cancelled (Ctrl-C after the review)
// the engine stops after the action in hand, with its state file saved.
type Engine interface {
	// SignIn signs the administrator in with a device code; show is called
	// once the code is known (before waiting for approval).
	SignIn(ctx context.Context, show func(DeviceCode)) (Tenant, error)
	// Preflight checks the tenant and the draft before any change (roles,
	// licences, SMTP AUTH, EWS retirement...). A blocker stops the review.
	Preflight(ctx context.Context, d Draft) ([]Finding, error)
	// FindApps lists app registrations with exactly that display name.
	FindApps(ctx context.Context, displayName string) ([]ExistingApp, error)
	// CheckMailbox reads what the tenant knows about an address.
	CheckMailbox(ctx context.Context, address string) (MailboxInfo, error)
	// ExchangeSignIn signs in to Exchange Online (a second device code,
	// shown through show) when the draft needs Exchange-side work and its
	// mode is apply. A refused sign-in or a missing Exchange role is not an
	// error: the session says the Exchange part is left to the script.
	ExchangeSignIn(ctx context.Context, d Draft, show func(DeviceCode)) (ExchangeSession, error)
	// Review lists what Apply would create or change, changing nothing.
	Review(ctx context.Context, d Draft) ([]Change, error)
	// Apply makes the changes, reporting one Event per action. The state
	// file is saved after each action, so an interrupted Apply can resume.
	Apply(ctx context.Context, d Draft, progress func(Event)) (Result, error)
	// Test logs in to the mailbox the way the product will, per protocol,
	// waiting through replication delay (Events with Wait > 0).
	Test(ctx context.Context, r Result, t TestInput, progress func(Event)) (TestReport, error)
	// Export writes the product's settings and returns what it wrote.
	Export(ctx context.Context, r Result, o ExportInput) (ExportResult, error)
}

// Tenant is who signed in, where.
type Tenant struct {
	ID         string
	Name       string
	Domains    []string // verified domains, default first
	AdminUPN   string
	AdminRoles []string // directory role names
	// Cloud is where the tenant lives; redirect URIs and settings use its
	// hosts (login.microsoftonline.com, or the simulator's).
	Cloud cloud.Cloud
}

// ExchangeSession is the Exchange Online side of the run.
type ExchangeSession struct {
	// Needed: the draft needs Exchange-side work or reads.
	Needed bool `json:"needed"`
	// Mode is apply or script.
	Mode string `json:"mode,omitempty"`
	// Account is who signed in to Exchange Online.
	Account string `json:"account,omitempty"`
	// Left says why the Exchange part is left to exchange-setup.ps1 (""
	// when mailoauth does it).
	Left string `json:"left,omitempty"`
}

// ExistingApp is an app registration already in the tenant.
type ExistingApp struct {
	AppID       string
	ObjectID    string
	DisplayName string
	Created     time.Time
	// Managed is true when mailoauth's state file or tag says it made it.
	Managed bool
}

// Result is what Apply made. It never holds the secret's value except in
// Secret, which only the final summary shows (once) and JSON never carries.
type Result struct {
	TenantID   string `json:"tenant_id"`
	AppName    string `json:"app_name"`
	AppID      string `json:"app_id"`
	ObjectID   string `json:"object_id"`
	SPObjectID string `json:"service_principal_id,omitempty"`
	Created    bool   `json:"created"` // false: an existing app was updated
	// Secret is the new client secret's value (empty when none).
	Secret       string    `json:"-"`
	SecretHint   string    `json:"secret_hint,omitempty"` // the first characters Entra shows
	SecretExpiry time.Time `json:"secret_expires,omitempty"`
	// SecretFile is the 0600 file that holds the new secret's value from
	// the moment Graph returned it (until the settings files hold it);
	// every ending of a run names it.
	SecretFile string `json:"secret_file,omitempty"`
	// SecretUnsaved: no file could hold the new secret (a full or
	// read-only disk); the terminal must show Secret once, now.
	SecretUnsaved bool     `json:"secret_unsaved,omitempty"`
	StateFile     string   `json:"state_file,omitempty"`
	Actions       []string `json:"actions,omitempty"` // one line per completed action
}

// TestInput says which login to try.
type TestInput struct {
	Mailbox   string
	Protocols []catalog.Protocol
	// Password is the mailbox password for ROPC; never stored or logged.
	Password string `json:"-"`
	// OpenURL, when set, is how the mailbox user's browser sign-in page is
	// shown (inside the wizard's screen, never printed over it); nil
	// leaves it to the engine's own opener.
	OpenURL func(url string) error `json:"-"`
}

// ExportInput says what to write.
type ExportInput struct {
	Draft  Draft
	Tenant Tenant
	Report *TestReport // nil when the test was skipped
}

// SettingsSection is one heading of the product's settings.
type SettingsSection struct {
	Title string     `json:"title"`
	Keys  []KeyValue `json:"settings"`
}

// ExportResult is what Export wrote.
type ExportResult struct {
	Dir   string     `json:"dir"`
	Files []string   `json:"files"`
	Keys  []KeyValue `json:"settings"` // never the secret's value
	// Sections are the same settings under the product's headings
	// (Genesys: smtp-client, pop-client …).
	Sections []SettingsSection `json:"sections,omitempty"`
	// Manual lists what the administrator still has to do by hand
	// (e.g. run the Exchange Online PowerShell script).
	Manual []string `json:"manual,omitempty"`
	// SecretFile is where the secret's value was written (0600).
	SecretFile string `json:"secret_file,omitempty"`
}
