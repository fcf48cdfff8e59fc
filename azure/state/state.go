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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	Version   int       `json:"version"`
	Tenant    string    `json:"tenant"`
	Cloud     string    `json:"cloud"`
	Product   string    `json:"product,omitempty"`
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
	// Users are the mailbox addresses the plan named.
	Users []string `json:"users,omitempty"`
	// Steps are the completed steps (Step* constants).
	Steps []string `json:"steps,omitempty"`
	// Setup is what the product's settings are made from, so export, test
	// and a resumed setup work from this file alone. Never a secret.
	Setup *Setup `json:"setup,omitempty"`
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

// New is an empty state for a tenant and cloud.
func New(tenant, cloudName string) *State {
	now := time.Now().UTC()
	return &State{Version: Version, Tenant: tenant, Cloud: cloudName, CreatedAt: now, UpdatedAt: now, Grants: map[string]Grant{}}
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
