package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/steps"
)

// A re-run keeps the secret an earlier run added (mailoauth never removes
// secrets unasked), but Entra shows a secret's value only once. The value
// lives on in the setup's own settings.json (0600): recoveredSecret reads
// it back, accepting it only when its key ID is the one the state records,
// so the login test and the rewritten files keep a working secret.
func (e *Live) recoveredSecret(d steps.Draft, st *state.State) (string, bool) {
	return SecretFromFolder(e.outDirFor(d.AppName), st)
}

// SecretFromFolder reads the client secret a setup wrote into dir — its
// custody file or settings.json — if its key ID is the one the state file
// records.
func SecretFromFolder(dir string, st *state.State) (string, bool) {
	if st == nil || st.Secret == nil || st.Secret.KeyID == "" {
		return "", false
	}
	if v, ok := readCustody(filepath.Join(dir, SecretFileName), st.Secret.KeyID); ok {
		return v, true
	}
	raw, err := os.ReadFile(filepath.Join(dir, export.SettingsJSON))
	if err != nil {
		return "", false
	}
	var f struct {
		Secret   string `json:"client_secret"`
		Included bool   `json:"client_secret_included"`
		KeyID    string `json:"client_secret_id"`
	}
	if json.Unmarshal(raw, &f) != nil || !f.Included || f.Secret == "" || !strings.EqualFold(f.KeyID, st.Secret.KeyID) {
		return "", false
	}
	return f.Secret, true
}

// needsNewSecret: the state records a secret whose value is nowhere to be
// read again (the files were deleted, or written with --no-secret). Without
// it the product cannot sign in and the files would carry a placeholder, so
// a new secret is added; the old one stays until the admin removes it.
func (e *Live) needsNewSecret(d steps.Draft) bool {
	if !d.NeedsSecret {
		return false
	}
	st, err := e.stateOf(d)
	if err != nil || st == nil || st.Secret == nil {
		// An unreadable state file stops the run at pre-flight, which
		// reports its error; here it only means "no secret to keep".
		return false
	}
	_, ok := e.recoveredSecret(d, st)
	return !ok
}
