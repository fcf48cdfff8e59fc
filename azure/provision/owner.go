package provision

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/state"
)

// What mailoauth creates carries its marker, so that a later run, status
// or delete can check ownership instead of trusting a state file someone
// may have edited (issue 10: "Ownership"). The marker is Microsoft's own
// place for it: the application's and service principal's tags and notes;
// a client secret's displayName names the run that added it.

// TagMailoauth marks every object mailoauth created, in any setup.
const TagMailoauth = "mailoauth"

// CreatedTag marks the objects one setup created.
func CreatedTag(setupID string) string { return "mailoauth-created:" + setupID }

// tagPortalApp makes a service principal created through Graph show in the
// portal's "Enterprise applications" list, as one made in the portal does
// (Graph servicePrincipal resource, tags).
const tagPortalApp = "WindowsAzureActiveDirectoryIntegratedApp"

// ownerTags are the tags of an object this setup creates.
func ownerTags(setupID string) []string { return []string{TagMailoauth, CreatedTag(setupID)} }

// ownerNotes is the application's notes: what made it and why the tags matter.
func ownerNotes(p Plan, setupID string) string {
	product := p.Product
	if product == "" {
		product = "a mail product"
	}
	return fmt.Sprintf("Made by mailoauth for %s (setup %s). mailoauth checks the tags %q and %q before it changes or deletes this app: keep them.", product, setupID, TagMailoauth, CreatedTag(setupID))
}

// hasTag reports whether tags holds tag.
func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

// createdBy reports whether an object's tags say this setup created it.
func createdBy(tags []string, st *state.State) bool {
	return st != nil && st.SetupID != "" && hasTag(tags, CreatedTag(st.SetupID))
}

// secretName is the displayName of a client secret this run adds: the
// product's name for it, the date and a run ID, so a secret whose reply was
// lost can be found again by that exact name.
func secretName(base string, now time.Time) string {
	return fmt.Sprintf("%s %s (run %s)", base, now.UTC().Format("2006-01-02"), state.NewID()[:6])
}

// SecretCustody keeps a new client secret's value the moment Graph returns
// it, before anything else can fail (the state file records only its key
// ID), and gives it back to a run resumed after a kill.
type SecretCustody interface {
	// Keep stores the value (a 0600 file in the setup's folder). An error
	// means nobody holds the secret: Apply removes it again.
	Keep(s *Secret) error
	// Recall returns a kept value by key ID.
	Recall(keyID string) (string, bool)
}
