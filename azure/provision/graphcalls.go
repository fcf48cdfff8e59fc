package provision

import (
	"regexp"
	"strings"
)

// GraphCall is one kind of Microsoft Graph request mailoauth makes, with
// the delegated permissions Microsoft documents for it: the call is allowed
// when the token holds every scope of any one set in AnyOf (the first set
// is the least privileged one). docs/graph-permissions.md has the sources;
// a test checks that every plan's sign-in covers every call it makes.
type GraphCall struct {
	Method string
	// Path matches the request path under /v1.0 (no query).
	Path  *regexp.Regexp
	AnyOf [][]string
	Doc   string // the row in docs/graph-permissions.md
}

const (
	ar   = "Application.Read.All"
	arw  = "Application.ReadWrite.All"
	ara  = "AppRoleAssignment.ReadWrite.All"
	dpg  = "DelegatedPermissionGrant.ReadWrite.All"
	dr   = "Directory.Read.All"
	drw  = "Directory.ReadWrite.All"
	ura  = "User.Read.All"
	rmr  = "RoleManagement.Read.Directory"
	urd  = "User.Read"
	lara = "LicenseAssignment.Read.All"
)

var (
	guid   = `[0-9a-fA-F-]{36}`
	byApp  = `\(appId='` + guid + `'\)`
	readAR = [][]string{{ar}, {arw}, {dr}, {drw}}
)

func call(method, path string, doc string, anyOf ...[]string) GraphCall {
	return GraphCall{Method: method, Path: regexp.MustCompile(`^` + path + `$`), AnyOf: anyOf, Doc: doc}
}

// GraphCalls is every Graph call mailoauth makes.
var GraphCalls = []GraphCall{
	call("GET", `/organization`, "1", []string{urd}, []string{dr}),
	// The call needs User.Read; the role objects it returns carry their
	// roleTemplateId only with one of these (limited-information rule).
	call("GET", `/me/transitiveMemberOf/microsoft\.graph\.directoryRole`, "2", []string{urd, rmr}, []string{urd, dr}, []string{urd, drw}),
	call("GET", `/servicePrincipals`+byApp, "3, 7b", readAR...),
	call("GET", `/applications`, "4a", readAR...),
	call("GET", `/applications/`+guid, "4b", readAR...),
	call("GET", `/applications`+byApp, "4b", readAR...),
	call("POST", `/applications`, "5a", []string{arw}),
	call("PATCH", `/applications/`+guid, "5b", []string{arw}),
	call("DELETE", `/applications/`+guid, "5c", []string{arw}),
	call("POST", `/applications/`+guid+`/(addPassword|removePassword)`, "6", []string{arw}, []string{drw}),
	call("POST", `/servicePrincipals`, "7a", []string{arw}, []string{drw}),
	call("GET", `/servicePrincipals/`+guid, "7b", readAR...),
	call("PATCH", `/servicePrincipals/`+guid, "7c", []string{arw}, []string{drw}),
	call("DELETE", `/servicePrincipals/`+guid, "7d", []string{arw}),
	call("GET", `/oauth2PermissionGrants`, "8a", []string{dr}, []string{dpg}, []string{drw}),
	call("GET", `/oauth2PermissionGrants/[^/]+`, "8b", []string{dr}, []string{dpg}, []string{drw}),
	call("POST", `/oauth2PermissionGrants`, "8c", []string{dpg}, []string{drw}),
	call("PATCH", `/oauth2PermissionGrants/[^/]+`, "8d", []string{dpg}, []string{drw}),
	call("DELETE", `/oauth2PermissionGrants/[^/]+`, "8e", []string{dpg}, []string{drw}),
	call("GET", `/servicePrincipals/`+guid+`/appRoleAssignments`, "9a", readAR...),
	call("GET", `/servicePrincipals/`+guid+`/appRoleAssignedTo`, "9b", readAR...),
	// Documented as the pair ARA and AR; ARW includes AR.
	call("POST", `/servicePrincipals/`+guid+`/appRoleAssignedTo`, "9c", []string{ara, ar}, []string{ara, arw}, []string{ara, dr}),
	call("DELETE", `/servicePrincipals/`+guid+`/appRoleAssignedTo/[^/]+`, "9d", []string{ara}),
	// accountEnabled needs User.Read.All (User.ReadBasic.All lacks it).
	call("GET", `/users/[^/]+`, "10a", []string{ura}, []string{dr}, []string{drw}),
	call("GET", `/users`, "10b", []string{ura}, []string{dr}, []string{drw}),
	call("GET", `/users/[^/]+/licenseDetails`, "11", []string{lara}, []string{ura}, []string{dr}, []string{drw}),
}

// CallFor finds the table's row for a request ("" path query stripped).
func CallFor(method, path string) (GraphCall, bool) {
	path = strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "/v1.0")
	for _, c := range GraphCalls {
		if c.Method == method && c.Path.MatchString(path) {
			return c, true
		}
	}
	return GraphCall{}, false
}

// Allows reports whether a token with scopes may make the call.
func (c GraphCall) Allows(scopes []string) bool {
	have := map[string]bool{}
	for _, s := range scopes {
		// Fully qualified scopes (https://graph.microsoft.com/X) count as X.
		if i := strings.LastIndex(s, "/"); i >= 0 {
			s = s[i+1:]
		}
		have[strings.ToLower(s)] = true
	}
	for _, set := range c.AnyOf {
		ok := true
		for _, s := range set {
			if !have[strings.ToLower(s)] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
