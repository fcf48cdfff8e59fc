package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/httptrace"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
)

// PlannedRequest is one Graph request an apply would send.
type PlannedRequest struct {
	Round int `json:"round"`
	// Change is what the request does (typed verb and object).
	Change model.Change `json:"change"`
	Method string       `json:"method"`
	URL    string       `json:"url"`
	Body   any          `json:"body,omitempty"`
}

// DryRunResult is the ordered list of every write an apply would make.
type DryRunResult struct {
	// Offline is true when nothing was read: IDs are the built-in fallbacks
	// and every object is assumed new.
	Offline  bool             `json:"offline"`
	Note     string           `json:"note"`
	Requests []PlannedRequest `json:"requests"`
	// Changes are what the run found already as wanted (model.Keep) or
	// skipped; what it would change is in Requests.
	Changes  []Change  `json:"changes"`
	Findings []Finding `json:"findings,omitempty"`
	// Manifest is requiredResourceAccess in Graph's shape, for change control.
	Manifest json.RawMessage `json:"manifest"`
}

// Placeholders stand for IDs Graph assigns during the apply.
const (
	PlaceholderAppObjectID = "{new-app-object-id}"
	PlaceholderClientID    = "{new-app-client-id}"
	PlaceholderSPID        = "{new-service-principal-id}"
)

// DryRun lists every write an apply would make, in order, changing nothing.
// It does read the tenant (pre-flight) to know what exists, so the list
// shows creates only for what is missing; use DryRunOffline to read nothing.
func DryRun(ctx context.Context, g *graphapi.Client, p Plan, st *state.State) (*DryRunResult, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.normalise()
	in, err := Preflight(ctx, g, p, st)
	if err != nil {
		return nil, err
	}
	res := plan(p, in, st, g.BaseURL())
	res.Note = "Reads were made to tell creates from updates; no change was made."
	return res, nil
}

// DryRunOffline lists the writes for an empty tenant without any request:
// permission IDs are the built-in fallbacks, resource service principal and
// user IDs are placeholders. graphBase is the cloud's GraphV1().
func DryRunOffline(p Plan, graphBase string) (*DryRunResult, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.normalise()
	in := &Inspection{grants: map[string]*permissionGrant{}, resources: map[string]*servicePrincipal{}, roleIDs: map[string]bool{}}
	for _, perm := range p.Permissions {
		spID := "{" + perm.Resource.Name + " service principal id}"
		in.resources[perm.Resource.AppID] = &servicePrincipal{ID: spID, AppID: perm.Resource.AppID}
		in.Permissions = append(in.Permissions, ResolvedPermission{Permission: perm, ID: perm.FallbackID, ResourceSPID: spID})
	}
	for _, m := range p.Mailboxes {
		in.Mailboxes = append(in.Mailboxes, Mailbox{Address: m, Found: true, UserID: "{user id of " + m + "}"})
	}
	res := plan(p, in, nil, graphBase)
	res.Offline = true
	res.Note = "Offline: nothing was read; IDs are the built-in fallbacks and every object is assumed new."
	return res, nil
}

func plan(p Plan, in *Inspection, st *state.State, base string) *DryRunResult {
	if st == nil {
		st = state.New(in.TenantID, "")
	}
	// A copy: the dry run must not touch the caller's state.
	cp := *st
	cp.Grants = map[string]state.Grant{}
	for k, v := range st.Grants {
		cp.Grants[k] = v
	}
	e := &applier{p: p, in: in, st: &cp, reg: newRegistration(in), dryRun: true}
	out := &DryRunResult{Findings: in.Findings}
	add := func(round int, ops []*op) {
		for _, o := range ops {
			out.Requests = append(out.Requests, PlannedRequest{Round: round, Change: o.req.Change, Method: o.req.Method, URL: strings.TrimRight(base, "/") + o.req.Path, Body: redactBody(o.req.Body)})
		}
	}
	if o := e.appOp(); o != nil {
		add(1, []*op{o})
	}
	if e.reg.AppObjectID == "" {
		e.reg.AppObjectID, e.reg.ClientID = PlaceholderAppObjectID, PlaceholderClientID
	}
	orphans, recovered := e.orphanOps()
	e.recovered = recovered
	add(2, orphans)
	add(2, e.round2Ops())
	if e.reg.SPID == "" {
		e.reg.SPID = PlaceholderSPID
	}
	add(3, e.round3Ops())
	out.Changes = e.reg.Changes
	out.Manifest, _ = Manifest(in.Permissions)
	return out
}

func redactBody(b any) any {
	if b == nil {
		return nil
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Sprint(b)
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return httptrace.RedactJSON(v)
}

// FallbackPermissions pairs catalog permissions with their built-in IDs
// (for manifests made without a tenant).
func FallbackPermissions(perms []catalog.Permission) []ResolvedPermission {
	out := make([]ResolvedPermission, len(perms))
	for i, p := range perms {
		out[i] = ResolvedPermission{Permission: p, ID: p.FallbackID}
	}
	return out
}

// Manifest is {"requiredResourceAccess":[...]} in Graph's (and the app
// manifest's) shape, one entry per resource, for change control.
func Manifest(perms []ResolvedPermission) ([]byte, error) {
	var rra []requiredResourceAccess
	index := map[string]int{}
	for _, p := range perms {
		i, ok := index[p.Resource.AppID]
		if !ok {
			i = len(rra)
			index[p.Resource.AppID] = i
			rra = append(rra, requiredResourceAccess{ResourceAppID: p.Resource.AppID})
		}
		if p.ID == "" {
			return nil, fmt.Errorf("manifest: %s has no ID", p.Permission)
		}
		rra[i].ResourceAccess = append(rra[i].ResourceAccess, resourceAccess{ID: p.ID, Type: string(p.Kind)})
	}
	if rra == nil {
		rra = []requiredResourceAccess{}
	}
	return json.MarshalIndent(map[string]any{"requiredResourceAccess": rra}, "", "  ")
}
