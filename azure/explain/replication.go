package explain

import (
	"net/http"
	"strings"
)

// Replication is one refusal that Microsoft's replication right after a
// change explains, and that waiting (internal/retry) may therefore cure.
type Replication struct {
	// Service is "graph" (a Graph error code or detail code) or "token"
	// (an AADSTS code at the token endpoint).
	Service string
	Code    string
	// NamedObjectOnly: only when the request names an object created
	// moments ago (a 404 otherwise means it does not exist).
	NamedObjectOnly bool
	Why             string
}

// ReplicationCodes is the one table of refusals waited out as replication
// (microsoft.md §4 "Eventual consistency", §8).
var ReplicationCodes = []Replication{
	{"graph", "NoBackingApplicationObject", false, "a new app is not yet replicated to where service principals are made"},
	{"graph", "Request_ResourceNotFound", true, "an object created moments ago is not yet readable everywhere"},
	{"token", "700016", false, "a new app is not yet known to the token endpoint"},
	{"token", "7000215", false, "a new client secret is not yet known to the token endpoint"},
	{"token", "65001", false, "new admin consent is not yet known to the token endpoint"},
}

// IsReplication reports whether a Graph or token refusal is in the table.
func IsReplication(service, code string, namesNewObject bool) bool {
	for _, r := range ReplicationCodes {
		if r.Service == service && r.Code == code && (!r.NamedObjectOnly || namesNewObject) {
			return true
		}
	}
	return false
}

// GraphReplication reports whether a Graph error is replication delay:
// the table's codes, the NoBackingApplicationObject messages Graph sends
// without details, and (for requests naming a new object) the 400 form of
// "does not exist or one of its queried reference-property objects are not
// present".
func GraphReplication(g *GraphError, namesNewObject bool) bool {
	if g == nil {
		return false
	}
	if IsReplication("graph", g.Code, namesNewObject) || IsReplication("graph", g.DetailCode, namesNewObject) {
		return true
	}
	if g.Status != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(g.Message)
	if strings.Contains(m, "does not reference a valid application object") || strings.Contains(m, "backing application of the service principal") {
		return true
	}
	return namesNewObject && strings.Contains(m, "does not exist or one of its queried reference-property objects are not present")
}
