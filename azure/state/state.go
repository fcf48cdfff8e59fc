// Package state is mailoauth's record of what it made in a tenant: the ids of
// the app registration, its service principal, consent grants, role and user
// assignments, and the secret's key id, hint and expiry. It is written after
// every provisioning step, so an interrupted run resumes without making a
// second app, secret or grant, and `delete` removes exactly what is listed.
//
// It never holds a secret value, a token or a password: the types below have
// no field that could.
package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/output/safefile"
)

// Version is the file format version.
const Version = 1

// Steps a provisioning run completes, in order.
const (
	StepApp              = "app"               // app registration created or updated
	StepServicePrincipal = "service-principal" // enterprise application ensured
	StepSecret           = "secret"            // client secret added
	StepConsent          = "consent"           // oauth2PermissionGrants and app role assignments
	StepUsers            = "users"             // mailbox users assigned
	StepRequireAssign    = "require-assignment"
)

// State is the file's content.
type State struct {
	Version int    `json:"version"`
	Tenant  string `json:"tenant"`
	Cloud   string `json:"cloud"`
	Product string `json:"product,omitempty"`
	// SetupID names this setup in the tenant: what mailoauth creates
	// carries it (tags mailoauth, mailoauth-created:<id>), and it checks
	// the marker before changing or deleting anything. Made once, with the
	// state file.
	SetupID   string    `json:"setup_id,omitempty"`
	Plan      Plan      `json:"plan"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	AppObjectID string `json:"app_object_id,omitempty"`
	ClientID    string `json:"client_id,omitempty"`
	// AppCreated is true when mailoauth created the app (not found it).
	AppCreated bool   `json:"app_created,omitempty"`
	SPID       string `json:"service_principal_id,omitempty"`
	SPCreated  bool   `json:"service_principal_created,omitempty"`

	// Grants maps a resource appId to the oauth2PermissionGrant id.
	Grants map[string]Grant `json:"grants,omitempty"`
	// AppRoleAssignments are the application permissions consented.
	AppRoleAssignments []Assignment `json:"app_role_assignments,omitempty"`
	// UserAssignments are the mailbox users assigned to the app.
	UserAssignments []Assignment `json:"user_assignments,omitempty"`

	Secret *Secret `json:"secret,omitempty"`
	// PendingSecret is the display name of a client secret being added,
	// saved before the request: a run killed before the reply was kept can
	// find that secret by its name on the next run (and adopt it from the
	// custody file, or remove it: it was never handed to anyone).
	PendingSecret string `json:"pending_secret,omitempty"`
	// AddedPermissions are the permissions mailoauth added to an app it
	// did not create (delete removes exactly these, and nothing else).
	AddedPermissions []PermissionRef `json:"added_permissions,omitempty"`
	// Users are the mailbox addresses the plan named.
	Users []string `json:"users,omitempty"`
	// Steps are the completed steps (Step* constants).
	Steps []string `json:"steps,omitempty"`
	// Setup is what the product's settings are made from, so export, test
	// and a resumed setup work from this file alone. Never a secret.
	Setup *Setup `json:"setup,omitempty"`
	// Exchange is what mailoauth made or found in Exchange Online (exchange.go).
	Exchange *Exchange `json:"exchange,omitempty"`
}

// Plan is the plan's summary, for the review screen of a later run.
type Plan struct {
	DisplayName  string   `json:"display_name"`
	Audience     string   `json:"audience,omitempty"`
	Flow         string   `json:"flow,omitempty"`
	Protocols    []string `json:"protocols,omitempty"`
	Permissions  []string `json:"permissions,omitempty"`
	Platform     string   `json:"platform,omitempty"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	PublicClient bool     `json:"public_client,omitempty"`
}

// Grant is one oauth2PermissionGrant mailoauth made or extended.
type Grant struct {
	ID         string `json:"id"`
	ResourceID string `json:"resource_id"`
	Scope      string `json:"scope"`
	// Created is true when mailoauth made the grant (delete may remove it);
	// false when it only added scopes to an existing one.
	Created bool `json:"created"`
}

// Assignment is one appRoleAssignment.
type Assignment struct {
	ID          string `json:"id"`
	ResourceID  string `json:"resource_id"`
	AppRoleID   string `json:"app_role_id"`
	PrincipalID string `json:"principal_id"`
	// Name is the permission value or the user's UPN, for people.
	Name    string `json:"name,omitempty"`
	Created bool   `json:"created"`
}

// Secret describes the client secret mailoauth added; never its value.
type Secret struct {
	KeyID       string    `json:"key_id"`
	Hint        string    `json:"hint,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	EndDateTime time.Time `json:"end_date_time"`
	AddedAt     time.Time `json:"added_at"`
}

// Done reports whether a step completed.
func (s *State) Done(step string) bool {
	for _, x := range s.Steps {
		if x == step {
			return true
		}
	}
	return false
}

// MarkDone records a step once.
func (s *State) MarkDone(step string) {
	if !s.Done(step) {
		s.Steps = append(s.Steps, step)
	}
}

// The output folder (state file and exported settings together) is named
// by output/export.DefaultOutDir; the command line passes the path in.

// ErrNotFound is returned by Load when there is no state file yet.
var ErrNotFound = errors.New("no state file")

// Load reads a state file. A missing file is ErrNotFound (wrapped).
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s is not valid mailoauth state (%v); fix or remove it, or pass another --state FILE", path, err)
	}
	if s.Version > Version {
		return nil, fmt.Errorf("state file %s has format version %d; this mailoauth reads up to %d: upgrade mailoauth", path, s.Version, Version)
	}
	if s.Grants == nil {
		s.Grants = map[string]Grant{}
	}
	return &s, nil
}

// New is an empty state for a tenant and cloud, with a new setup ID.
func New(tenant, cloudName string) *State {
	now := time.Now().UTC()
	return &State{Version: Version, Tenant: tenant, Cloud: cloudName, SetupID: NewID(), CreatedAt: now, UpdatedAt: now, Grants: map[string]Grant{}}
}

// NewID is a random 12-hex-digit ID (a setup's, or a run's).
func NewID() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic("state: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Save writes the state atomically (output/safefile): a private temporary
// file (0600; owner-only on Windows) in the same private folder, synced,
// then renamed over the old one, so a crash leaves either the old or the
// new file, never half of one. A state file or folder that is a symbolic
// link is refused, not written through.
func Save(path string, s *State) error {
	if s == nil {
		return errors.New("state: nothing to save")
	}
	dir := filepath.Dir(path)
	if err := safefile.EnsureDir(dir); err != nil {
		return fmt.Errorf("state folder %s: %w", dir, err)
	}
	s.Version = Version
	s.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := safefile.WriteAtomic(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	return nil
}

// Store is one setup's state file for one run: loaded once, written by one
// writer (every save goes through it, under its lock), and its load error
// kept for whoever needs the state, never dropped.
type Store struct {
	path string
	mu   sync.Mutex
	st   *State
}

// Open loads the state file at path; a missing file is an empty store
// (State returns nil), any other failure an error.
func Open(path string) (*Store, error) {
	s := &Store{path: path}
	st, err := Load(path)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	default:
		s.st = st
	}
	return s, nil
}

// Memory is a store that is never written (dry runs, tests).
func Memory(st *State) *Store { return &Store{st: st} }

// Path is the file's path ("" for a memory store).
func (s *Store) Path() string { return s.path }

// State is the loaded or last set state; nil when there is none yet. The
// caller may change it and then Save.
func (s *Store) State() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// Set replaces the state (a new setup's first record).
func (s *Store) Set(st *State) {
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
}

// Save writes the state atomically; a memory store keeps it in memory.
func (s *Store) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		return nil
	}
	return Save(s.path, s.st)
}

// Update changes the state under the store's lock and saves it.
func (s *Store) Update(change func(*State)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return errors.New("state: nothing to update yet")
	}
	change(s.st)
	if s.path == "" {
		return nil
	}
	return Save(s.path, s.st)
}
