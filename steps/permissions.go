package steps

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// permissions: the API permissions the product needs for its protocols,
// each with one line of why, and admin consent.
func permissions() Step {
	return Step{
		ID:    PermissionsStep,
		Title: "Permissions",
		Help: "Adds only the permissions the chosen protocols need and grants admin consent " +
			"(portal: API permissions → Add a permission → Grant admin consent).",
		Pages: []Page{func(s *State) []Question {
			return []Question{note("API permissions", plainLines(PermissionLines(s.Draft)))}
		}},
		Summary: func(s *State) string {
			if len(s.Draft.Permissions) == 0 {
				return ""
			}
			names := make([]string, len(s.Draft.Permissions))
			for i, p := range s.Draft.Permissions {
				names[i] = p.Value
			}
			return strings.Join(names, ", ") + " + admin consent"
		},
	}
}

// PermissionLines lists each permission with its resource, kind and why.
func PermissionLines(d Draft) []string {
	var lines []string
	for _, p := range d.Permissions {
		lines = append(lines, fmt.Sprintf("%s · %s (%s): %s", p.Resource.Name, p.Value, p.Kind.Label(), p.Why))
	}
	kind := "delegated permissions: every user of the app is covered, so no one sees a consent prompt"
	if d.Flow.AppOnly() {
		kind = "application permissions: they work only once an administrator consents"
	}
	lines = append(lines, "Admin consent: granted for the whole organisation ("+kind+").")
	if hasApplication(d.Permissions, catalog.ExoFullAccessApp.Value) {
		lines = append(lines, "Note: full_access_as_app reaches every mailbox; scope it with RBAC for Applications and the EWS allow-list (shown on the settings sheet).")
	}
	return lines
}

func hasApplication(ps []catalog.Permission, value string) bool {
	for _, p := range ps {
		if p.Kind == catalog.Application && p.Value == value {
			return true
		}
	}
	return false
}
